// Package loadgen builds and drives the simulated cluster that make scale
// and make chaos run statusd on: the local control plane tuned for
// thousands of kwok pods, Flux's controllers, add-on namespaces each with a
// HelmRelease and Deployments, churn (pods deleted and recreated, releases
// failing and recovering), and the readings both runs take (metrics pages,
// histograms, a process's memory, the machine and its load).
//
// It lives in internal/ because only statusd's own measurement programs
// use it.
package loadgen

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"statusd.io/statusd/internal/fixtures"
	"statusd.io/statusd/internal/testenv"
)

// ControlPlane returns how a run starts the local control plane with nodes
// kwok nodes, large enough that the scheduler never runs out of room.
//
// testenv's defaults suit tests of a few pods. At thousands of pods they
// throttle the simulation itself: each of kube-controller-manager's
// controllers may send 20 requests a second (the ReplicaSet controller's
// pod creations, its Events and its status updates share one client),
// kube-scheduler 50 (a binding and an Event per pod), and kwok renews every
// node's Lease every 10 seconds (100 writes a second for 1,000 nodes).
// kube-scheduler also looks at 42% of 1,000 nodes for every pod and, to
// spread each owner's pods by default, counts the matching pods on every
// node, which costs more per pod the more pods there are (70% of its CPU at
// 10,000 pods). With tune the run lifts the client limits, has the
// scheduler stop at 10% of the nodes (100 feasible ones) and drop the
// default spreading (placement does not matter to statusd), renews Leases
// every 150 seconds and lets every component's heap grow to five times its
// live size between collections (GOGC=400; the apiserver spent a tenth of
// its CPU collecting). The ReplicaSet and Deployment controllers keep their
// 5 workers: with 20 each, they wrote a status update for nearly every pod
// that started (some 115 writes a second against 15 with 5) and the cluster
// filled no faster. statusd still watches every pod created, scheduled,
// started and deleted through the apiserver.
func ControlPlane(nodes int, tune bool) testenv.Options {
	o := testenv.Options{
		Nodes: nodes, NodeCPU: "64", NodeMemory: "256Gi", NodePods: 250,
		StartTimeout: 10 * time.Minute, Logger: slog.New(slog.DiscardHandler),
	}
	if !tune {
		return o
	}
	o.ControllerManagerArgs = []string{"--kube-api-qps=500", "--kube-api-burst=1000"}
	o.SchedulerQPS, o.SchedulerBurst = 500, 1000
	o.SchedulerPercentageOfNodesToScore = 10
	o.SchedulerNoDefaultSpread = true
	o.NodeLeaseDuration = 10 * time.Minute
	o.GOGC = 400
	return o
}

// Cluster creates and drives a run's add-on namespaces. Namespace i is
// "iaas-addon-<Name>-<i>" (the shipped catalogue's add-on namespaces) with
// HelmRelease "<Name>-<i>"; everything it creates carries the label
// app.kubernetes.io/part-of=<PartOf>, so the run finds it again.
type Cluster struct {
	// Client creates namespaces, Deployments and pods; Dynamic creates
	// and patches HelmReleases.
	Client  kubernetes.Interface
	Dynamic dynamic.Interface
	// Name names the add-ons (such as "scale").
	Name string
	// PartOf is the value of the app.kubernetes.io/part-of label.
	PartOf string
}

// Prepare returns the cluster of add-ons called name on the API server
// cfg reaches, with the HelmRelease CRD and Flux's controllers in place:
// where both the scale and the chaos run start. cs may speak a faster
// content type than cfg; the dynamic client speaks JSON over cfg.
func Prepare(ctx context.Context, cs kubernetes.Interface, cfg *rest.Config, name, partOf string) (*Cluster, error) {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("dynamic client: %w", err)
	}
	if err := fixtures.CreateHelmReleaseCRD(ctx, dyn); err != nil {
		return nil, err
	}
	c := &Cluster{Client: cs, Dynamic: dyn, Name: name, PartOf: partOf}
	if err := c.CreateFlux(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// Namespace is add-on i's namespace.
func (c *Cluster) Namespace(i int) string { return fmt.Sprintf("iaas-addon-%s-%04d", c.Name, i) }

// Release is add-on i's HelmRelease.
func (c *Cluster) Release(i int) string { return fmt.Sprintf("%s-%04d", c.Name, i) }

// CreateFlux creates Flux's helm-controller and source-controller, healthy,
// in flux-system.
func (c *Cluster) CreateFlux(ctx context.Context) error {
	if _, err := c.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "flux-system"}}, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create namespace flux-system: %w", err)
	}
	for _, name := range []string{"helm-controller", "source-controller"} {
		if _, err := c.Client.AppsV1().Deployments("flux-system").Create(ctx, c.Deployment(name, 1), metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create deployment flux-system/%s: %w", name, err)
		}
	}
	return nil
}

// Deployment is a Deployment of replicas small pods that every kwok node
// can run.
func (c *Cluster) Deployment(name string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": name, "app.kubernetes.io/part-of": c.PartOf}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "app", Image: "registry.example/" + name + ":" + c.Name,
					Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
						corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("32Mi"),
					}},
				}}},
			},
		},
	}
}

// CreateAddons creates add-on namespaces from (inclusive) to to
// (exclusive) with CreateAddon, workers at a time; the first error stops
// the rest.
func (c *Cluster) CreateAddons(ctx context.Context, from, to, pods, replicas, workers int) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				if err := c.CreateAddon(ctx, i, pods, replicas); err != nil {
					cancel(err)
				}
			}
		})
	}
feed:
	for i := from; i < to; i++ {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return context.Cause(ctx)
}

// CreateAddon creates add-on namespace i with its installed HelmRelease and
// Deployments of pods pods in all, replicas each.
func (c *Cluster) CreateAddon(ctx context.Context, i, pods, replicas int) error {
	ns := c.Namespace(i)
	if _, err := c.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{"app.kubernetes.io/part-of": c.PartOf}}}, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create namespace %s: %w", ns, err)
	}
	if err := fixtures.CreateHelmRelease(ctx, c.Dynamic, ns, c.Release(i), c.Name, ReadyConditions()); err != nil {
		return err
	}
	for d := 0; pods > 0; d++ {
		n := min(pods, replicas)
		pods -= n
		if _, err := c.Client.AppsV1().Deployments(ns).Create(ctx, c.Deployment(fmt.Sprintf("app-%d", d), int32(n)), metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create deployment %s/app-%d: %w", ns, d, err)
		}
	}
	return nil
}

// ReadyConditions are an installed HelmRelease's conditions.
func ReadyConditions() []any {
	return []any{
		fixtures.Condition("Ready", "True", "InstallSucceeded", "Helm install succeeded"),
		fixtures.Condition("Released", "True", "InstallSucceeded", "Helm install succeeded"),
	}
}

// FailedConditions are the conditions of a HelmRelease whose install
// failed, with why in the message.
func FailedConditions(why string) []any {
	return []any{
		fixtures.Condition("Ready", "False", "InstallFailed", "Helm install failed: "+why),
		fixtures.Condition("Stalled", "True", "RetriesExceeded", "Failed to install after 1 attempt(s)"),
	}
}

// SetReleaseStatus writes add-on i's HelmRelease conditions with one status
// merge patch, as helm-controller would.
func (c *Cluster) SetReleaseStatus(ctx context.Context, i int, conds []any) error {
	patch := &unstructured.Unstructured{Object: map[string]any{"status": map[string]any{"observedGeneration": int64(1), "conditions": conds}}}
	body, err := patch.MarshalJSON()
	if err != nil {
		return fmt.Errorf("encode status patch: %w", err)
	}
	_, err = c.Dynamic.Resource(fixtures.HelmReleases).Namespace(c.Namespace(i)).Patch(ctx, c.Release(i), types.MergePatchType, body, metav1.PatchOptions{}, "status")
	if err != nil {
		return fmt.Errorf("patch status of HelmRelease %s: %w", c.Namespace(i), err)
	}
	return nil
}

// WaitAvailable waits until the run's Deployments have want available
// replicas in add-on namespaces, saying how far it got every 30 seconds.
func (c *Cluster) WaitAvailable(ctx context.Context, want int, timeout time.Duration, say func(string, ...any)) (avail int, err error) {
	began := time.Now()
	deadline := began.Add(timeout)
	last := began
	for {
		// From the watch cache (resourceVersion 0), which spares the
		// apiserver a read of thousands of Deployments from etcd every
		// two seconds while it is busiest.
		list, err := c.Client.AppsV1().Deployments("").List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/part-of=" + c.PartOf, ResourceVersion: "0"})
		if err != nil {
			return avail, fmt.Errorf("list deployments: %w", err)
		}
		avail = 0
		for _, d := range list.Items {
			if strings.HasPrefix(d.Namespace, "iaas-addon-") {
				avail += int(d.Status.AvailableReplicas)
			}
		}
		if avail >= want {
			return avail, nil
		}
		if time.Since(last) > 30*time.Second {
			say("  %d of %d pods available (load average %.1f)", avail, want, LoadAverage())
			last = time.Now()
		}
		if time.Now().After(deadline) {
			return avail, fmt.Errorf("only %d of %d pods available after %s", avail, want, timeout)
		}
		select {
		case <-ctx.Done():
			return avail, fmt.Errorf("wait for pods: %w", ctx.Err())
		case <-time.After(2 * time.Second):
		}
	}
}

// CountPods counts the run's pods in add-on namespaces.
func (c *Cluster) CountPods(ctx context.Context) (int, error) {
	n := 0
	opts := metav1.ListOptions{Limit: 5000, LabelSelector: "app.kubernetes.io/part-of=" + c.PartOf}
	for {
		list, err := c.Client.CoreV1().Pods("").List(ctx, opts)
		if err != nil {
			return 0, fmt.Errorf("list pods: %w", err)
		}
		for _, p := range list.Items {
			if strings.HasPrefix(p.Namespace, "iaas-addon-") {
				n++
			}
		}
		if list.Continue == "" {
			return n, nil
		}
		opts.Continue = list.Continue
	}
}

// ChurnPods deletes random pods of the first namespaces add-on namespaces
// at rate per second until ctx ends; their Deployments recreate them and
// kwok runs them again.
func (c *Cluster) ChurnPods(ctx context.Context, namespaces int, rate float64) (deleted, errs int) {
	if rate <= 0 || namespaces <= 0 {
		<-ctx.Done()
		return 0, 0
	}
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return deleted, errs
		case <-tick.C:
		}
		ns := c.Namespace(rand.IntN(namespaces))
		list, err := c.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{ResourceVersion: "0"})
		if err != nil || len(list.Items) == 0 {
			errs++
			continue
		}
		p := list.Items[rand.IntN(len(list.Items))]
		if err := c.Client.CoreV1().Pods(ns).Delete(ctx, p.Name, metav1.DeleteOptions{}); err != nil {
			errs++
			continue
		}
		deleted++
	}
}
