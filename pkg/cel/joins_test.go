package cel_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/snapshot"
	"statusd.io/statusd/pkg/suppress"
)

// joinSources declares, on lines 4 to 13, a source of every resource the
// resource joins read or refuse.
const joinSources = "sources:\n" +
	"  pods: {version: v1, resource: pods}\n" +
	"  deploys: {group: apps, version: v1, resource: deployments}\n" +
	"  rs: {group: apps, version: v1, resource: replicasets}\n" +
	"  cronjobs: {group: batch, version: v1, resource: cronjobs}\n" +
	"  services: {version: v1, resource: services}\n" +
	"  slices: {group: discovery.k8s.io, version: v1, resource: endpointslices}\n" +
	"  pvcs: {version: v1, resource: persistentvolumeclaims}\n" +
	"  pvs: {version: v1, resource: persistentvolumes}\n" +
	"  configMaps: {version: v1, resource: configmaps}\n" +
	"  nodes: {version: v1, resource: nodes}\n"

func TestResourceJoinsChecked(t *testing.T) {
	// edge writes cause C over subject with an edge to symptom S over
	// symptom; the edge is on line 20 (after the sources and "reasons:").
	edge := func(subject, symptom, join string) string {
		return "reasons:\n" +
			"- name: C\n  subject: " + subject + "\n  summary: s\n  when: \"true\"\n  suppresses: [{reason: S, join: " + join + "}]\n" +
			"- {name: S, subject: " + symptom + ", summary: s, when: 'true'}\n"
	}
	without := func(source string) string {
		var kept []string
		for _, l := range strings.SplitAfter(joinSources, "\n") {
			if !strings.HasPrefix(l, "  "+source+":") {
				kept = append(kept, l)
			}
		}
		return strings.Join(kept, "")
	}
	tests := []struct {
		name    string
		sources string
		body    string
		want    []string
	}{
		{name: "sameWorkload Deployment to pods", body: edge("deploys", "pods", "sameWorkload")},
		{name: "sameWorkload pods to Deployment", body: edge("pods", "deploys", "sameWorkload")},
		{name: "sameService Service to pods", body: edge("services", "pods", "sameService")},
		{name: "sameService pods to slices", body: edge("pods", "slices", "sameService")},
		{name: "sameVolumeClaim claim to pods", body: edge("pvcs", "pods", "sameVolumeClaim")},
		{name: "sameVolumeClaim volume to claim", body: edge("pvs", "pvcs", "sameVolumeClaim")},
		{
			name: "sameService from a ConfigMap", body: edge("configMaps", "pods", "sameService"),
			want: []string{`t.yaml:20:16: reason C: suppresses[S].join: sameService cannot produce a key for the cause C's subject "configMaps" (v1/configmaps): configmaps have no Service: sameService keys a Service by itself, a pod by the EndpointSlices that target it, an EndpointSlice by its kubernetes.io/service-name label, so the edge never matches`},
		},
		{
			name: "sameVolumeClaim to a Deployment", body: edge("pvcs", "deploys", "sameVolumeClaim"),
			want: []string{`t.yaml:20:16: reason C: suppresses[S].join: sameVolumeClaim cannot produce a key for the symptom S's subject "deploys" (apps/v1/deployments): deployments.apps mount no claim: sameVolumeClaim keys a PersistentVolumeClaim by itself, a pod by the claims of its volumes, a PersistentVolume by its claimRef, so the edge never matches`},
		},
		{
			name: "sameWorkload from a Service", body: edge("services", "pods", "sameWorkload"),
			want: []string{`t.yaml:20:16: reason C: suppresses[S].join: sameWorkload cannot produce a key for the cause C's subject "services" (v1/services): services are not in a workload's owner chain (Deployment → ReplicaSet → Pod, StatefulSet, DaemonSet or Job → Pod, CronJob → Job → Pod), so the edge never matches`},
		},
		{
			name: "sameWorkload from a Node", body: edge("nodes", "pods", "sameWorkload"),
			want: []string{`t.yaml:20:16: reason C: suppresses[S].join: sameWorkload cannot produce a key for the cause C's subject "nodes" (v1/nodes): nodes are not in a workload's owner chain (Deployment → ReplicaSet → Pod, StatefulSet, DaemonSet or Job → Pod, CronJob → Job → Pod), so the edge never matches`},
		},
		{
			name: "sameWorkload Deployment to pods without ReplicaSets", sources: without("rs"), body: edge("deploys", "pods", "sameWorkload"),
			want: []string{`t.yaml:19:16: reason C: suppresses[S].join: sameWorkload between deployments.apps and pods reads replicasets.apps (a pod reaches its Deployment through its ReplicaSet), but the catalogue has no source of them, so the edge never matches; declare one (sources: {replicasets: {group: apps, version: v1, resource: replicasets}})`},
		},
		{
			name: "sameWorkload CronJob to pods without Jobs", body: edge("cronjobs", "pods", "sameWorkload"),
			want: []string{`t.yaml:20:16: reason C: suppresses[S].join: sameWorkload between cronjobs.batch and pods reads jobs.batch (a pod reaches its CronJob through its Job), but the catalogue has no source of them, so the edge never matches; declare one (sources: {jobs: {group: batch, version: v1, resource: jobs}})`},
		},
		{
			name: "sameService Service to pods without slices", sources: without("slices"), body: edge("services", "pods", "sameService"),
			want: []string{`t.yaml:19:16: reason C: suppresses[S].join: sameService between services and pods reads endpointslices.discovery.k8s.io (a pod is joined to its Services through the EndpointSlices that target it), but the catalogue has no source of them, so the edge never matches; declare one (sources: {endpointslices: {group: discovery.k8s.io, version: v1, resource: endpointslices}})`},
		},
		{name: "sameWorkload Deployment to ReplicaSets needs nothing more", sources: without("rs") + "  rs2: {group: apps, version: v1, resource: replicasets}\n", body: edge("deploys", "rs2", "sameWorkload")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sources := tt.sources
			if sources == "" {
				sources = joinSources
			}
			// Typing is not what these cases test: these checks need only
			// the sources' resources and scope.
			_, errs := cel.Compile(parse(t, sources+tt.body), cel.Options{})
			var got []string
			for _, e := range errs {
				if e.Warning || e.Note {
					continue
				}
				got = append(got, e.Head())
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

// joinWorld is a Deployment with a pod through its ReplicaSet, behind a
// Service, mounting a claim and an ephemeral volume, each object carrying
// fields no join reads.
const joinWorld = `
kind: Deployment
apiVersion: apps/v1
metadata: {namespace: shop, name: web, uid: d-web}
spec: {replicas: 3, template: {spec: {containers: [{name: web, image: web:1}]}}}
status: {availableReplicas: 1}
---
kind: ReplicaSet
apiVersion: apps/v1
metadata: {namespace: shop, name: web-1, uid: rs-web, ownerReferences: [{kind: Deployment, uid: d-web, controller: true}]}
spec: {replicas: 3}
---
kind: Pod
apiVersion: v1
metadata: {namespace: shop, name: web-1-a, uid: p-web, labels: {app: web}, ownerReferences: [{kind: ReplicaSet, uid: rs-web, controller: true}]}
spec:
  nodeName: n1
  containers: [{name: web, image: web:1}]
  volumes: [{name: data, persistentVolumeClaim: {claimName: data, readOnly: true}}, {name: tmp, ephemeral: {volumeClaimTemplate: {spec: {accessModes: [ReadWriteOnce]}}}}]
status: {phase: Running}
---
kind: Service
apiVersion: v1
metadata: {namespace: shop, name: web, uid: s-web}
spec: {selector: {app: web}, ports: [{port: 80}]}
---
kind: Service
apiVersion: v1
metadata: {namespace: shop, name: new, uid: s-new}
spec: {selector: {app: web}, ports: [{port: 80}]}
---
kind: EndpointSlice
apiVersion: discovery.k8s.io/v1
metadata: {namespace: shop, name: web-x, uid: es-web, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
endpoints: [{addresses: [10.0.0.1], conditions: {ready: true}, targetRef: {kind: Pod, namespace: shop, name: web-1-a, uid: p-web}}]
ports: [{port: 80}]
---
kind: PersistentVolumeClaim
apiVersion: v1
metadata: {namespace: shop, name: data, uid: pvc-data}
spec: {volumeName: pv-1}
---
kind: PersistentVolume
apiVersion: v1
metadata: {name: pv-1, uid: pv-1}
spec: {capacity: {storage: 1Gi}, claimRef: {kind: PersistentVolumeClaim, namespace: shop, name: data, uid: pvc-data}}
`

// TestJoinKeysSurviveTrimming: the watch caches keep only what Fields
// says, and the joins' keys over the trimmed, compact objects are the keys
// over whole ones.
func TestJoinKeysSurviveTrimming(t *testing.T) {
	body := joinSources + "reasons:\n" +
		"- {name: W, subject: deploys, summary: s, when: 'true', suppresses: [{reason: P, join: sameWorkload}]}\n" +
		"- {name: V, subject: services, summary: s, when: 'true', suppresses: [{reason: P, join: sameService}]}\n" +
		"- {name: C, subject: pvs, summary: s, when: 'true', suppresses: [{reason: P, join: sameVolumeClaim}]}\n" +
		"- {name: P, subject: pods, summary: s, when: 'true'}\n" +
		"- {name: R, subject: rs, summary: s, when: 'true'}\n" +
		"- {name: L, subject: slices, summary: s, when: 'true'}\n" +
		"- {name: Q, subject: pvcs, summary: s, when: 'true'}\n" +
		"- {name: X, subject: cronjobs, summary: s, when: 'true'}\n" +
		"- {name: Y, subject: configMaps, summary: s, when: 'true'}\n" +
		"- {name: Z, subject: nodes, summary: s, when: 'true'}\n"
	c := compile(t, body, cel.Options{})
	trees := c.Fields()
	var whole []map[string]any
	for _, doc := range strings.Split(joinWorld, "\n---\n") {
		var m map[string]any
		require.NoError(t, yaml.Unmarshal([]byte(doc), &m))
		whole = append(whole, m)
	}
	build := func(trim bool) *snapshot.Snapshot {
		b := snapshot.NewBuilder(time.Unix(0, 0), snapshot.ServedDefault(c.Source, snapshot.Cluster{}))
		if !trim {
			b.Select(c.Source, whole, nil)
			return b.Build()
		}
		// What the watch caches hold: each source's objects pruned to its
		// tree and kept compact.
		for _, name := range c.Source.SourceNames() {
			src := c.Source.Sources[name]
			b.Select(&catalog.Catalog{Sources: map[string]catalog.Source{name: src}}, nil, nil)
			for _, m := range whole {
				o := snapshot.NewObject(m)
				if o.GroupVersion().Group != src.Group || snapshot.ResourceFor(o.Kind) != src.Resource {
					continue
				}
				b.Add(name, snapshot.NewCompactObject(trees[name].Apply(m)))
			}
		}
		return b.Build()
	}
	full, trimmed := build(false), build(true)
	jf, jt := suppress.NewJoiner(c.Source, full), suppress.NewJoiner(c.Source, trimmed)
	kinds := []catalog.JoinKind{catalog.JoinSameWorkload, catalog.JoinSameService, catalog.JoinSameVolumeClaim}
	checked := 0
	for _, name := range full.Sets() {
		for _, o := range full.Set(name).Objects() {
			ot := trimmed.Set(name).Get(o.Namespace, o.Name)
			require.NotNil(t, ot, "%s in %s", o.Ref(), name)
			for _, k := range kinds {
				want := jf.Keys(k, o, false)
				assert.Equal(t, want, jt.Keys(k, ot, false), "%s %s", k, o.Ref())
				checked += len(want)
			}
		}
	}
	// The world is built so that every join has keys to compare: the pod
	// has one per join and more, the others theirs.
	assert.GreaterOrEqual(t, checked, 12)
	pod := full.Set("pods").Get("shop", "web-1-a")
	assert.Equal(t, []string{"shop/data", "shop/web-1-a-tmp"}, jf.Keys(catalog.JoinSameVolumeClaim, pod, false))
	assert.Equal(t, []string{"shop/new", "shop/web"}, jf.Keys(catalog.JoinSameService, pod, false))
	assert.Equal(t, []string{"shop/d-web"}, jf.Keys(catalog.JoinSameWorkload, pod, false))
}
