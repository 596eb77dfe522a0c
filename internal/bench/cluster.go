package bench

import (
	"fmt"
	"time"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/snapshot"
)

// Now is the time of every generated snapshot. Objects are created relative
// to it, so grace windows measured from creation have passed.
var Now = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

// ClusterVersion is the generated cluster's Kubernetes version.
const ClusterVersion = "v1.36.3"

// Proportions of a generated cluster, per pod count: one node per
// PodsPerNode pods, one add-on namespace per PodsPerAddon pods, AddonPods
// pods in each add-on namespace, and WorkloadPods pods per workload
// namespace (the rest of the pods).
const (
	PodsPerNode  = 30
	PodsPerAddon = 60
	AddonPods    = 10
	WorkloadPods = 100
	// replicasPerDeployment is the size of every generated Deployment.
	replicasPerDeployment = 10
)

// Fault rates: one object in every N has the fault. They are primes, so
// faults do not line up with each other or with namespaces.
const (
	everyNodePressure   = 53
	everyNodeNotReady   = 97
	everyAddonFailed    = 23
	everyAddonStuck     = 41
	everyPVCPending     = 31
	everyPodPending     = 211
	everyPodUnscheduled = 61
	everyPodCrashLoop   = 67
)

// addonTypes are the shipped catalogue's add-on types, in rotation.
var addonTypes = []string{"jupyterhub", "kuberay", "model-provider"}

// Cluster generates the objects of a cluster with pods pods and everything
// else in proportion (see the constants above), as the API server would
// serve them: int64 numbers, RFC 3339 timestamps. It is deterministic: the
// same pods give the same objects.
//
// The cluster has flux-system (helm-controller, source-controller and two
// more controllers, all available), kube-system with CoreDNS, pods/60
// add-on namespaces iaas-addon-<type>-<id> each with a HelmRelease (mostly
// Ready=True, a few InstallFailed or stuck reconciling), a Deployment, a
// Service whose port the catalogue watches and a PVC (a few Pending), and
// workload namespaces with Deployments and Services. Pods are mostly Running
// and Ready, with a few Pending, Unschedulable or in CrashLoopBackOff; nodes
// are mostly Ready, with a few under pressure or NotReady.
//
// Model-provider pods (app=vllm) have metrics pages scraped every minute for
// the last ScrapeWindow, as the vllmMetrics source would have scraped them.
func Cluster(pods int) *snapshot.File {
	g := &gen{}
	nodes := max(pods/PodsPerNode, 1)
	g.nodes = nodes
	for n := range nodes {
		g.node(n)
	}
	g.namespace("kube-system")
	g.deployment("kube-system", "coredns", map[string]any{"k8s-app": "kube-dns"}, 2)
	g.namespace("flux-system")
	for _, c := range []string{"helm-controller", "source-controller", "kustomize-controller", "notification-controller"} {
		g.deployment("flux-system", c, map[string]any{"app": c}, 1)
	}
	addons := pods / PodsPerAddon
	for a := range addons {
		g.addon(a)
	}
	for w := 0; g.pods < pods; w++ {
		ns := fmt.Sprintf("team-%d", w)
		g.namespace(ns)
		for d := 0; d < WorkloadPods/replicasPerDeployment && g.pods < pods; d++ {
			name := fmt.Sprintf("app-%d", d)
			g.deployment(ns, name, map[string]any{"app": name}, min(replicasPerDeployment, pods-g.pods))
			g.service(ns, name, map[string]any{"app": name}, 8080)
		}
	}
	return &snapshot.File{
		Kind: snapshot.FileKind, Time: Now.Format(time.RFC3339),
		Cluster: snapshot.Cluster{Version: ClusterVersion},
		Objects: g.objs, Metrics: g.scrapes,
	}
}

// ScrapeWindow is how far back a generated cluster's metrics go: longer
// than the shipped catalogue's longest metrics window.
const ScrapeWindow = 6 * time.Minute

// Snapshot assembles the sources of cat from cluster at Now, with
// snapshot.Assemble: every object goes to each source that selects it
// (Builder.Select), exactly as live informers would select it, and every
// resource cat names is served. It panics on a cluster that does not
// assemble, which is a bug of this package's generator.
func Snapshot(cat *catalog.Catalog, cluster *snapshot.File) *snapshot.Snapshot {
	snap, err := snapshot.Assemble(cat, cluster, Now)
	if err != nil {
		panic("bench: generated cluster does not assemble: " + err.Error())
	}
	return snap
}

// gen accumulates a cluster's objects.
type gen struct {
	objs    []map[string]any
	scrapes []snapshot.Scrape
	nodes   int
	pods    int
	uids    int
}

func (g *gen) uid() string {
	g.uids++
	return fmt.Sprintf("00000000-0000-0000-0000-%012d", g.uids)
}

func ts(d time.Duration) string { return Now.Add(-d).Format(time.RFC3339) }

func cond(typ, status, reason, msg string, since time.Duration) map[string]any {
	c := map[string]any{"type": typ, "status": status, "lastTransitionTime": ts(since)}
	if reason != "" {
		c["reason"] = reason
	}
	if msg != "" {
		c["message"] = msg
	}
	return c
}

func (g *gen) meta(ns, name string, labels map[string]any) map[string]any {
	m := map[string]any{"name": name, "uid": g.uid(), "creationTimestamp": ts(48 * time.Hour)}
	if ns != "" {
		m["namespace"] = ns
	}
	if labels != nil {
		m["labels"] = labels
	}
	return m
}

func (g *gen) node(n int) {
	ready := cond("Ready", "True", "KubeletReady", "kubelet is posting ready status", 48*time.Hour)
	if n%everyNodeNotReady == everyNodeNotReady-1 {
		ready = cond("Ready", "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status.", 20*time.Minute)
	}
	memory := cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "", 48*time.Hour)
	if n%everyNodePressure == everyNodePressure-1 {
		memory = cond("MemoryPressure", "True", "KubeletHasInsufficientMemory", "kubelet has insufficient memory available", 15*time.Minute)
	}
	name := fmt.Sprintf("node-%d", n)
	g.objs = append(g.objs, map[string]any{
		"apiVersion": "v1", "kind": "Node",
		"metadata": g.meta("", name, map[string]any{"kubernetes.io/hostname": name, "node.kubernetes.io/instance-type": "Standard_D8s_v5"}),
		"spec":     map[string]any{"providerID": "azure:///" + name},
		"status": map[string]any{
			"conditions": []any{
				memory,
				cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "", 48*time.Hour),
				cond("PIDPressure", "False", "KubeletHasSufficientPID", "", 48*time.Hour),
				ready,
			},
			"capacity":    map[string]any{"cpu": "8", "memory": "32Gi", "pods": "110"},
			"allocatable": map[string]any{"cpu": "7800m", "memory": "28Gi", "pods": "110"},
			"nodeInfo":    map[string]any{"kubeletVersion": ClusterVersion},
		},
	})
}

func (g *gen) namespace(name string) {
	g.objs = append(g.objs, map[string]any{
		"apiVersion": "v1", "kind": "Namespace",
		"metadata": g.meta("", name, map[string]any{"kubernetes.io/metadata.name": name}),
		"status":   map[string]any{"phase": "Active"},
	})
}

// addon writes add-on a: its namespace, HelmRelease, Deployment with pods,
// Service and PVC.
func (g *gen) addon(a int) {
	typ := addonTypes[a%len(addonTypes)]
	instance := fmt.Sprintf("%s-%05d", typ, a)
	ns := "iaas-addon-" + instance
	g.namespace(ns)

	conds := []any{cond("Ready", "True", "InstallSucceeded", "Helm install succeeded", 47*time.Hour)}
	switch {
	case a%everyAddonFailed == everyAddonFailed-1:
		conds = []any{
			cond("Ready", "False", "InstallFailed", "Helm install failed for release "+ns+"/"+instance+": context deadline exceeded", 30*time.Minute),
			cond("Stalled", "True", "RetriesExceeded", "Failed to install after 1 attempt(s)", 30*time.Minute),
		}
	case a%everyAddonStuck == everyAddonStuck-1:
		conds = []any{
			cond("Reconciling", "True", "Progressing", "Running 'upgrade' action with timeout of 5m0s", 40*time.Minute),
			cond("Ready", "Unknown", "Progressing", "Running 'upgrade' action with timeout of 5m0s", 40*time.Minute),
		}
	}
	g.objs = append(g.objs, map[string]any{
		"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
		"metadata": g.meta(ns, instance, map[string]any{"addons.statusd.io/type": typ}),
		"spec": map[string]any{
			"interval": "10m",
			"chart":    map[string]any{"spec": map[string]any{"chart": typ, "version": "1.2.3", "sourceRef": map[string]any{"kind": "HelmRepository", "name": "addons", "namespace": "flux-system"}}},
		},
		"status": map[string]any{"conditions": conds, "observedGeneration": int64(1)},
	})

	app := map[string]any{"app": typ, "app.kubernetes.io/instance": instance}
	if typ == "model-provider" {
		app["app"] = "vllm"
	}
	g.deployment(ns, typ, app, AddonPods)
	svc, port := "proxy-public", int64(80)
	switch typ {
	case "kuberay":
		svc, port = instance+"-head-svc", 8265
	case "model-provider":
		svc, port = "vllm", 8000
	}
	g.service(ns, svc, app, port)

	phase := "Bound"
	if a%everyPVCPending == everyPVCPending-1 {
		phase = "Pending"
	}
	g.objs = append(g.objs, map[string]any{
		"apiVersion": "v1", "kind": "PersistentVolumeClaim",
		"metadata": g.meta(ns, "data", nil),
		"spec": map[string]any{
			"accessModes": []any{"ReadWriteOnce"}, "storageClassName": "managed-csi",
			"resources": map[string]any{"requests": map[string]any{"storage": "10Gi"}},
		},
		"status": map[string]any{"phase": phase},
	})
}

func (g *gen) service(ns, name string, selector map[string]any, port int64) {
	g.objs = append(g.objs, map[string]any{
		"apiVersion": "v1", "kind": "Service",
		"metadata": g.meta(ns, name, nil),
		"spec": map[string]any{
			"type": "ClusterIP", "clusterIP": "10.0.0.1", "selector": selector,
			"ports": []any{map[string]any{"name": "http", "port": port, "protocol": "TCP", "targetPort": port}},
		},
	})
}

// deployment writes a Deployment with replicas pods, owned through a
// ReplicaSet as the controllers would own them.
func (g *gen) deployment(ns, name string, labels map[string]any, replicas int) {
	md := g.meta(ns, name, labels)
	hash := "5d4f8b7c9"
	rs := name + "-" + hash
	rsUID := g.uid()
	podLabels := map[string]any{"pod-template-hash": hash}
	for k, v := range labels {
		podLabels[k] = v
	}
	ready := int64(0)
	first := len(g.objs)
	g.objs = append(g.objs, nil) // the Deployment, once its pods are counted
	for i := range replicas {
		if g.pod(ns, fmt.Sprintf("%s-%s-%05d", name, hash, i), podLabels, rs, rsUID) {
			ready++
		}
	}
	conds := []any{cond("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.", 47*time.Hour)}
	if ready < int64(replicas) {
		conds = []any{cond("Available", "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability.", 20*time.Minute)}
	}
	g.objs[first] = map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": md,
		"spec": map[string]any{
			"replicas": int64(replicas),
			"selector": map[string]any{"matchLabels": labels},
			"template": map[string]any{"metadata": map[string]any{"labels": labels}},
		},
		"status": map[string]any{
			"replicas": int64(replicas), "readyReplicas": ready, "availableReplicas": ready,
			"unavailableReplicas": int64(replicas) - ready, "conditions": conds,
		},
	}
}

// pod writes one pod and reports whether it is ready. Which fault it has,
// if any, depends only on how many pods came before it.
func (g *gen) pod(ns, name string, labels map[string]any, rs, rsUID string) bool {
	n := g.pods
	g.pods++
	md := g.meta(ns, name, labels)
	md["ownerReferences"] = []any{map[string]any{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs, "uid": rsUID, "controller": true}}
	container := map[string]any{
		"name": "main", "image": "registry.example.com/" + rs + ":1.0",
		"resources": map[string]any{"requests": map[string]any{"cpu": "100m", "memory": "128Mi"}, "limits": map[string]any{"memory": "512Mi"}},
	}
	spec := map[string]any{"containers": []any{container}, "nodeName": fmt.Sprintf("node-%d", n%g.nodes)}
	status := map[string]any{
		"phase": "Running", "startTime": ts(47 * time.Hour), "podIP": "10.244.0.1",
		"conditions": []any{
			cond("PodScheduled", "True", "", "", 47*time.Hour),
			cond("Initialized", "True", "", "", 47*time.Hour),
			cond("ContainersReady", "True", "", "", 47*time.Hour),
			cond("Ready", "True", "", "", 47*time.Hour),
		},
		"containerStatuses": []any{map[string]any{
			"name": "main", "image": container["image"], "ready": true, "started": true, "restartCount": int64(0),
			"state": map[string]any{"running": map[string]any{"startedAt": ts(47 * time.Hour)}},
		}},
	}
	ready := true
	switch {
	case n%everyPodUnscheduled == everyPodUnscheduled-1:
		delete(spec, "nodeName")
		md["creationTimestamp"] = ts(20 * time.Minute)
		status = map[string]any{
			"phase": "Pending",
			"conditions": []any{cond("PodScheduled", "False", "Unschedulable",
				"0/100 nodes are available: 100 Insufficient cpu. preemption: 0/100 nodes are available: 100 No preemption victims found for incoming pod.", 20*time.Minute)},
		}
		ready = false
	case n%everyPodPending == everyPodPending-1:
		md["creationTimestamp"] = ts(15 * time.Minute)
		status = map[string]any{
			"phase": "Pending",
			"conditions": []any{
				cond("PodScheduled", "True", "", "", 15*time.Minute),
				cond("Ready", "False", "ContainersNotReady", "containers with unready status: [main]", 15*time.Minute),
			},
			"containerStatuses": []any{map[string]any{
				"name": "main", "image": container["image"], "ready": false, "restartCount": int64(0),
				"state": map[string]any{"waiting": map[string]any{"reason": "ContainerCreating"}},
			}},
		}
		ready = false
	case n%everyPodCrashLoop == everyPodCrashLoop-1:
		status["conditions"] = []any{
			cond("PodScheduled", "True", "", "", 47*time.Hour),
			cond("Ready", "False", "ContainersNotReady", "containers with unready status: [main]", 30*time.Minute),
		}
		status["containerStatuses"] = []any{map[string]any{
			"name": "main", "image": container["image"], "ready": false, "restartCount": int64(12),
			"state":     map[string]any{"waiting": map[string]any{"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting failed container"}},
			"lastState": map[string]any{"terminated": map[string]any{"reason": "Error", "exitCode": int64(1), "finishedAt": ts(3 * time.Minute)}},
		}}
		ready = false
	}
	g.objs = append(g.objs, map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": md, "spec": spec, "status": status,
	})
	if labels["app"] == "vllm" {
		g.vllmScrapes(ns+"/"+name, n)
	}
	return ready
}

// vllmScrapes adds a vLLM metrics page every minute over ScrapeWindow: a
// short queue and fast requests, so the model reasons are false.
func (g *gen) vllmScrapes(pod string, n int) {
	for m := ScrapeWindow; m >= 0; m -= time.Minute {
		reqs := int64(n%50) + int64((ScrapeWindow-m)/time.Minute)*20
		text := fmt.Sprintf(`# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{model_name="phi-4"} %d
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{model_name="phi-4"} 3
# TYPE vllm:e2e_request_latency_seconds histogram
vllm:e2e_request_latency_seconds_bucket{model_name="phi-4",le="1.0"} %d
vllm:e2e_request_latency_seconds_bucket{model_name="phi-4",le="5.0"} %d
vllm:e2e_request_latency_seconds_bucket{model_name="phi-4",le="30.0"} %d
vllm:e2e_request_latency_seconds_bucket{model_name="phi-4",le="+Inf"} %d
vllm:e2e_request_latency_seconds_sum{model_name="phi-4"} %d
vllm:e2e_request_latency_seconds_count{model_name="phi-4"} %d
`, n%3, reqs/2, reqs, reqs, reqs, reqs, reqs)
		g.scrapes = append(g.scrapes, snapshot.Scrape{Pod: pod, Source: "vllmMetrics", At: ts(m), Text: text})
	}
}
