package suppress_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/snapshot"
	"statusd.io/statusd/pkg/suppress"
)

// joinCatalog watches every resource the joins read, one source each.
func joinCatalog() *catalog.Catalog {
	src := func(group, resource string) catalog.Source {
		return catalog.Source{Group: group, Version: "v1", Resource: resource}
	}
	return &catalog.Catalog{Sources: map[string]catalog.Source{
		"pods":         src("", "pods"),
		"services":     src("", "services"),
		"slices":       src("discovery.k8s.io", "endpointslices"),
		"pvcs":         src("", "persistentvolumeclaims"),
		"pvs":          src("", "persistentvolumes"),
		"replicaSets":  src("apps", "replicasets"),
		"deployments":  src("apps", "deployments"),
		"statefulSets": src("apps", "statefulsets"),
		"daemonSets":   src("apps", "daemonsets"),
		"jobs":         src("batch", "jobs"),
		"cronJobs":     src("batch", "cronjobs"),
		"configMaps":   src("", "configmaps"),
		"nodes":        src("", "nodes"),
	}}
}

// world is a cluster's objects, one YAML document each, with ownerReferences
// written as "owner: Kind/uid" for brevity (see decodeWorld).
const world = `
kind: Deployment
apiVersion: apps/v1
metadata: {namespace: shop, name: web, uid: d-web}
---
kind: ReplicaSet
apiVersion: apps/v1
metadata: {namespace: shop, name: web-6f7, uid: rs-web-new}
owner: Deployment/d-web
---
kind: ReplicaSet
apiVersion: apps/v1
metadata: {namespace: shop, name: web-5c4, uid: rs-web-old}
owner: Deployment/d-web
---
kind: Pod
apiVersion: v1
metadata: {namespace: shop, name: web-6f7-a, uid: p-web-a, labels: {app: web}}
owner: ReplicaSet/rs-web-new
spec: {volumes: [{name: data, persistentVolumeClaim: {claimName: web-data}}, {name: scratch, ephemeral: {volumeClaimTemplate: {spec: {}}}}, {name: cfg, configMap: {name: web}}]}
---
kind: Pod
apiVersion: v1
metadata: {namespace: shop, name: web-5c4-b, uid: p-web-b, labels: {app: web}}
owner: ReplicaSet/rs-web-old
---
kind: Deployment
apiVersion: apps/v1
metadata: {namespace: shop, name: api, uid: d-api}
---
kind: Pod
apiVersion: v1
metadata: {namespace: shop, name: api-7d8-a, uid: p-api-a, labels: {app: api}}
owner: ReplicaSet/rs-api-missing
---
kind: Pod
apiVersion: v1
metadata: {namespace: shop, name: api-7d8-b, uid: p-api-b, labels: {app: api}}
owner: ReplicaSet/rs-api-missing
---
kind: StatefulSet
apiVersion: apps/v1
metadata: {namespace: shop, name: db, uid: sts-db}
---
kind: Pod
apiVersion: v1
metadata: {namespace: shop, name: db-0, uid: p-db-0, labels: {app: db}}
owner: StatefulSet/sts-db
spec: {volumes: [{name: data, persistentVolumeClaim: {claimName: data-db-0}}]}
---
kind: DaemonSet
apiVersion: apps/v1
metadata: {namespace: kube-system, name: agent, uid: ds-agent}
---
kind: Pod
apiVersion: v1
metadata: {namespace: kube-system, name: agent-x, uid: p-agent-x}
owner: DaemonSet/ds-agent
---
kind: CronJob
apiVersion: batch/v1
metadata: {namespace: shop, name: report, uid: cj-report}
---
kind: Job
apiVersion: batch/v1
metadata: {namespace: shop, name: report-29001, uid: job-report}
owner: CronJob/cj-report
---
kind: Pod
apiVersion: v1
metadata: {namespace: shop, name: report-29001-q, uid: p-report}
owner: Job/job-report
---
kind: Job
apiVersion: batch/v1
metadata: {namespace: shop, name: migrate, uid: job-migrate}
---
kind: Pod
apiVersion: v1
metadata: {namespace: shop, name: migrate-z, uid: p-migrate}
owner: Job/job-migrate
---
# An operator's resource above a Deployment: the chain goes on through it.
kind: Deployment
apiVersion: apps/v1
metadata: {namespace: ml, name: llm, uid: d-llm}
owner: Workspace/ws-llm
---
kind: ReplicaSet
apiVersion: apps/v1
metadata: {namespace: ml, name: llm-1, uid: rs-llm}
owner: Deployment/d-llm
---
kind: Pod
apiVersion: v1
metadata: {namespace: ml, name: llm-1-a, uid: p-llm}
owner: ReplicaSet/rs-llm
---
# A pod in another namespace naming shop's ReplicaSet by UID: owner
# references never cross namespaces.
kind: Pod
apiVersion: v1
metadata: {namespace: other, name: forged, uid: p-forged, labels: {app: web}}
owner: ReplicaSet/rs-web-new
spec: {volumes: [{name: data, persistentVolumeClaim: {claimName: web-data}}]}
---
kind: Deployment
apiVersion: apps/v1
metadata: {namespace: other, name: web, uid: d-other-web}
---
kind: Service
apiVersion: v1
metadata: {namespace: shop, name: web, uid: s-web}
spec: {selector: {app: web}}
---
kind: EndpointSlice
apiVersion: discovery.k8s.io/v1
metadata: {namespace: shop, name: web-abc, uid: es-web, labels: {kubernetes.io/service-name: web}}
endpoints:
- targetRef: {kind: Pod, namespace: shop, name: web-6f7-a, uid: p-web-a}
- targetRef: {kind: Pod, namespace: shop, name: web-5c4-b, uid: p-web-b-recreated}
- targetRef: {kind: Pod, namespace: other, name: forged, uid: p-forged}
---
kind: Service
apiVersion: v1
metadata: {namespace: shop, name: api, uid: s-api}
spec: {selector: {app: api}}
---
kind: Service
apiVersion: v1
metadata: {namespace: shop, name: external, uid: s-external}
spec: {}
---
kind: EndpointSlice
apiVersion: discovery.k8s.io/v1
metadata: {namespace: shop, name: db-1, uid: es-db, labels: {kubernetes.io/service-name: db}}
endpoints:
- targetRef: {kind: Pod, name: db-0}
---
kind: Service
apiVersion: v1
metadata: {namespace: shop, name: db, uid: s-db}
spec: {selector: {app: db}}
---
kind: PersistentVolumeClaim
apiVersion: v1
metadata: {namespace: shop, name: web-data, uid: pvc-web}
---
kind: PersistentVolumeClaim
apiVersion: v1
metadata: {namespace: shop, name: web-6f7-a-scratch, uid: pvc-scratch}
owner: Pod/p-web-a
---
kind: PersistentVolumeClaim
apiVersion: v1
metadata: {namespace: other, name: web-data, uid: pvc-other-web}
---
kind: PersistentVolume
apiVersion: v1
metadata: {name: pv-1, uid: pv-1}
spec: {claimRef: {namespace: shop, name: web-data}}
---
kind: PersistentVolume
apiVersion: v1
metadata: {name: pv-free, uid: pv-free}
spec: {}
---
kind: ConfigMap
apiVersion: v1
metadata: {namespace: shop, name: web, uid: cm-web}
---
kind: Node
apiVersion: v1
metadata: {name: node-a, uid: node-a}
`

// decodeWorld reads world, dropping the documents whose UID is in drop.
func decodeWorld(tb testing.TB, text string, drop ...string) []map[string]any {
	tb.Helper()
	var out []map[string]any
	for _, doc := range strings.Split(text, "\n---\n") {
		var m map[string]any
		require.NoError(tb, yaml.Unmarshal([]byte(doc), &m))
		md := m["metadata"].(map[string]any)
		if uid, _ := md["uid"].(string); slices.Contains(drop, uid) {
			continue
		}
		if o, ok := m["owner"].(string); ok {
			kind, uid, _ := strings.Cut(o, "/")
			md["ownerReferences"] = []any{
				map[string]any{"kind": "Other", "uid": "not-the-controller"},
				map[string]any{"kind": kind, "uid": uid, "controller": true},
			}
			delete(m, "owner")
		}
		out = append(out, m)
	}
	return out
}

func buildWorld(tb testing.TB, c *catalog.Catalog, objs []map[string]any) *snapshot.Snapshot {
	tb.Helper()
	b := snapshot.NewBuilder(time.Unix(0, 0), snapshot.ServedDefault(c, snapshot.Cluster{}))
	b.Select(c, objs, nil)
	return b.Build()
}

// find returns the object of kind namespace/name in s.
func find(tb testing.TB, s *snapshot.Snapshot, ref string) *snapshot.Object {
	tb.Helper()
	for _, name := range s.Sets() {
		for _, o := range s.Set(name).Objects() {
			if o.Ref() == ref {
				return o
			}
		}
	}
	tb.Fatalf("no object %s", ref)
	return nil
}

// joined reports whether cause and symptom share a key under kind.
func joined(j *suppress.Joiner, kind catalog.JoinKind, cause, symptom *snapshot.Object) bool {
	ck := j.Keys(kind, cause, true)
	for _, k := range j.Keys(kind, symptom, false) {
		if k != "" && slices.Contains(ck, k) {
			return true
		}
	}
	return false
}

func TestJoinerJoins(t *testing.T) {
	tests := []struct {
		name            string
		kind            catalog.JoinKind
		cause, symptom  string
		drop            []string // UIDs left out of the snapshot
		want            bool
		withoutServices bool // no Service or EndpointSlice source
	}{
		// sameWorkload: through controller ownerReferences, by UID.
		{name: "Deployment and its pod through the ReplicaSet", kind: catalog.JoinSameWorkload, cause: "Deployment/shop/web", symptom: "Pod/shop/web-6f7-a", want: true},
		{name: "Deployment and a pod of its old ReplicaSet", kind: catalog.JoinSameWorkload, cause: "Deployment/shop/web", symptom: "Pod/shop/web-5c4-b", want: true},
		{name: "pod and its Deployment, the other way", kind: catalog.JoinSameWorkload, cause: "Pod/shop/web-6f7-a", symptom: "Deployment/shop/web", want: true},
		{name: "ReplicaSet and its pod", kind: catalog.JoinSameWorkload, cause: "ReplicaSet/shop/web-6f7", symptom: "Pod/shop/web-6f7-a", want: true},
		{name: "ReplicaSet and its Deployment", kind: catalog.JoinSameWorkload, cause: "ReplicaSet/shop/web-6f7", symptom: "Deployment/shop/web", want: true},
		{name: "pods of one Deployment are one workload", kind: catalog.JoinSameWorkload, cause: "Pod/shop/web-5c4-b", symptom: "Pod/shop/web-6f7-a", want: true},
		{name: "another Deployment's pod", kind: catalog.JoinSameWorkload, cause: "Deployment/shop/api", symptom: "Pod/shop/web-6f7-a", want: false},
		{name: "missing intermediate ReplicaSet: no join to the Deployment", kind: catalog.JoinSameWorkload, cause: "Deployment/shop/web", symptom: "Pod/shop/web-6f7-a", drop: []string{"rs-web-new"}, want: false},
		{name: "missing intermediate ReplicaSet: the old ReplicaSet's pods still join", kind: catalog.JoinSameWorkload, cause: "Deployment/shop/web", symptom: "Pod/shop/web-5c4-b", drop: []string{"rs-web-new"}, want: true},
		{name: "missing ReplicaSet: its pods still join each other", kind: catalog.JoinSameWorkload, cause: "Pod/shop/api-7d8-a", symptom: "Pod/shop/api-7d8-b", want: true},
		{name: "missing ReplicaSet: never guessed from the name", kind: catalog.JoinSameWorkload, cause: "Deployment/shop/api", symptom: "Pod/shop/api-7d8-a", want: false},
		{name: "StatefulSet and its pod", kind: catalog.JoinSameWorkload, cause: "StatefulSet/shop/db", symptom: "Pod/shop/db-0", want: true},
		{name: "DaemonSet and its pod", kind: catalog.JoinSameWorkload, cause: "DaemonSet/kube-system/agent", symptom: "Pod/kube-system/agent-x", want: true},
		{name: "Job and its pod", kind: catalog.JoinSameWorkload, cause: "Job/shop/migrate", symptom: "Pod/shop/migrate-z", want: true},
		{name: "CronJob and its pod through the Job", kind: catalog.JoinSameWorkload, cause: "CronJob/shop/report", symptom: "Pod/shop/report-29001-q", want: true},
		{name: "CronJob without its Job in the snapshot", kind: catalog.JoinSameWorkload, cause: "CronJob/shop/report", symptom: "Pod/shop/report-29001-q", drop: []string{"job-report"}, want: false},
		{name: "a CronJob's Job and its pod", kind: catalog.JoinSameWorkload, cause: "Job/shop/report-29001", symptom: "Pod/shop/report-29001-q", want: true},
		{name: "four levels: an operator's resource above the Deployment", kind: catalog.JoinSameWorkload, cause: "Deployment/ml/llm", symptom: "Pod/ml/llm-1-a", want: true},
		{name: "ephemeral volume's claim belongs to its pod's workload", kind: catalog.JoinSameWorkload, cause: "Deployment/shop/web", symptom: "PersistentVolumeClaim/shop/web-6f7-a-scratch", want: true},
		{name: "cross-namespace: a pod naming another namespace's ReplicaSet", kind: catalog.JoinSameWorkload, cause: "Deployment/shop/web", symptom: "Pod/other/forged", want: false},
		{name: "cross-namespace: the ReplicaSet itself", kind: catalog.JoinSameWorkload, cause: "ReplicaSet/shop/web-6f7", symptom: "Pod/other/forged", want: false},
		{name: "cross-namespace: a same-named Deployment", kind: catalog.JoinSameWorkload, cause: "Deployment/other/web", symptom: "Pod/shop/web-6f7-a", want: false},
		{name: "cluster-scoped objects are in no workload", kind: catalog.JoinSameWorkload, cause: "Node/node-a", symptom: "Node/node-a", want: false},
		{name: "a ConfigMap is not its namesake's workload", kind: catalog.JoinSameWorkload, cause: "ConfigMap/shop/web", symptom: "Pod/shop/web-6f7-a", want: false},

		// sameService: EndpointSlice targetRefs, selectors until a slice exists.
		{name: "Service and a pod its slice targets", kind: catalog.JoinSameService, cause: "Service/shop/web", symptom: "Pod/shop/web-6f7-a", want: true},
		{name: "a pod the slice targets by another UID (recreated)", kind: catalog.JoinSameService, cause: "Service/shop/web", symptom: "Pod/shop/web-5c4-b", want: false},
		{name: "pod and its Service, the other way", kind: catalog.JoinSameService, cause: "Pod/shop/web-6f7-a", symptom: "Service/shop/web", want: true},
		{name: "EndpointSlice and its Service", kind: catalog.JoinSameService, cause: "Service/shop/web", symptom: "EndpointSlice/shop/web-abc", want: true},
		{name: "EndpointSlice and its pod", kind: catalog.JoinSameService, cause: "EndpointSlice/shop/web-abc", symptom: "Pod/shop/web-6f7-a", want: true},
		{name: "targetRef by name without UID", kind: catalog.JoinSameService, cause: "Service/shop/db", symptom: "Pod/shop/db-0", want: true},
		{name: "cross-namespace targetRef never joins", kind: catalog.JoinSameService, cause: "Service/shop/web", symptom: "Pod/other/forged", want: false},
		{name: "selector but no slice yet: the pods it selects", kind: catalog.JoinSameService, cause: "Service/shop/api", symptom: "Pod/shop/api-7d8-a", want: true},
		{name: "selector but no slice yet: not another app's pods", kind: catalog.JoinSameService, cause: "Service/shop/api", symptom: "Pod/shop/web-6f7-a", want: false},
		{name: "once a slice exists it decides over the selector", kind: catalog.JoinSameService, cause: "Service/shop/web", symptom: "Pod/shop/web-5c4-b", want: false},
		{name: "no slice source at all: selectors decide", kind: catalog.JoinSameService, cause: "Service/shop/web", symptom: "Pod/shop/web-5c4-b", drop: []string{"es-web", "es-db"}, want: true},
		{name: "a Service without selector and no slice has no pods", kind: catalog.JoinSameService, cause: "Service/shop/external", symptom: "Pod/shop/web-6f7-a", want: false},
		{name: "a Deployment has no Service", kind: catalog.JoinSameService, cause: "Deployment/shop/web", symptom: "Pod/shop/web-6f7-a", want: false},
		{name: "a pod behind a Service joins itself", kind: catalog.JoinSameService, cause: "Pod/shop/web-6f7-a", symptom: "Pod/shop/web-6f7-a", want: true},
		{name: "pods without a slice source or Services", kind: catalog.JoinSameService, cause: "Pod/shop/api-7d8-a", symptom: "Pod/shop/api-7d8-b", withoutServices: true, want: false},

		// sameVolumeClaim: spec.volumes, ephemeral claims, claimRef.
		{name: "claim and the pod mounting it", kind: catalog.JoinSameVolumeClaim, cause: "PersistentVolumeClaim/shop/web-data", symptom: "Pod/shop/web-6f7-a", want: true},
		{name: "generic ephemeral volume's claim and its pod", kind: catalog.JoinSameVolumeClaim, cause: "PersistentVolumeClaim/shop/web-6f7-a-scratch", symptom: "Pod/shop/web-6f7-a", want: true},
		{name: "claim and its bound volume", kind: catalog.JoinSameVolumeClaim, cause: "PersistentVolume/pv-1", symptom: "PersistentVolumeClaim/shop/web-data", want: true},
		{name: "bound volume and the pod mounting its claim", kind: catalog.JoinSameVolumeClaim, cause: "PersistentVolume/pv-1", symptom: "Pod/shop/web-6f7-a", want: true},
		{name: "an unbound volume", kind: catalog.JoinSameVolumeClaim, cause: "PersistentVolume/pv-free", symptom: "Pod/shop/web-6f7-a", want: false},
		{name: "cross-namespace: a same-named claim", kind: catalog.JoinSameVolumeClaim, cause: "PersistentVolumeClaim/other/web-data", symptom: "Pod/shop/web-6f7-a", want: false},
		{name: "cross-namespace: the other namespace's pod", kind: catalog.JoinSameVolumeClaim, cause: "PersistentVolumeClaim/shop/web-data", symptom: "Pod/other/forged", want: false},
		{name: "a pod mounting another claim", kind: catalog.JoinSameVolumeClaim, cause: "PersistentVolumeClaim/shop/web-data", symptom: "Pod/shop/db-0", want: false},
		{name: "a pod without volumes", kind: catalog.JoinSameVolumeClaim, cause: "PersistentVolumeClaim/shop/web-data", symptom: "Pod/shop/web-5c4-b", want: false},
		{name: "a ConfigMap volume's namesake claim", kind: catalog.JoinSameVolumeClaim, cause: "ConfigMap/shop/web", symptom: "Pod/shop/web-6f7-a", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := joinCatalog()
			if tt.withoutServices {
				delete(c.Sources, "services")
				delete(c.Sources, "slices")
			}
			s := buildWorld(t, c, decodeWorld(t, world, tt.drop...))
			j := suppress.NewJoiner(c, s)
			cause, symptom := find(t, s, tt.cause), find(t, s, tt.symptom)
			assert.Equal(t, tt.want, joined(j, tt.kind, cause, symptom), "cause keys %v, symptom keys %v",
				j.Keys(tt.kind, cause, true), j.Keys(tt.kind, symptom, false))
		})
	}
}

// TestJoinerOwnerIndexIsLazy: the owner chains are indexed one namespace
// at a time, when a join first asks about an object there, so the keys an
// object gets must not depend on which namespaces were asked about before,
// nor outlive the snapshot: each tick's Joiner sees that tick's objects.
func TestJoinerOwnerIndexIsLazy(t *testing.T) {
	// A ReplicaSet in another namespace holding the UID a shop pod names.
	const dup = world + `
---
kind: ReplicaSet
apiVersion: apps/v1
metadata: {namespace: other, name: web-dup, uid: rs-dup}
owner: Deployment/d-other-web
---
kind: Pod
apiVersion: v1
metadata: {namespace: shop, name: web-dup-a, uid: p-web-dup-a}
owner: ReplicaSet/rs-dup`
	type ask struct {
		ref  string
		want string // the sameWorkload key
	}
	tests := []struct {
		name string
		// ticks are the asks of successive ticks, each on its own
		// snapshot (drop, by tick) and Joiner.
		ticks [][]ask
		drop  [][]string
	}{
		{
			name: "the namespace of the owner first: another namespace's pod naming it never joins",
			ticks: [][]ask{{
				{"Pod/shop/web-6f7-a", "shop/d-web"},
				{"Pod/other/forged", "other/rs-web-new"},
				{"Deployment/other/web", "other/d-other-web"},
			}},
		},
		{
			name: "the other namespace first",
			ticks: [][]ask{{
				{"Pod/other/forged", "other/rs-web-new"},
				{"Pod/shop/web-6f7-a", "shop/d-web"},
			}},
		},
		{
			name: "an owner's UID held in another namespace is not followed, whichever is indexed first",
			ticks: [][]ask{
				{{"Pod/shop/web-dup-a", "shop/rs-dup"}, {"Pod/other/forged", "other/rs-web-new"}},
				{{"Pod/other/forged", "other/rs-web-new"}, {"Pod/shop/web-dup-a", "shop/rs-dup"}},
			},
		},
		{
			name: "a namespace asked about twice in a tick keeps its index",
			ticks: [][]ask{{
				{"Pod/shop/web-6f7-a", "shop/d-web"},
				{"Pod/shop/report-29001-q", "shop/cj-report"},
				{"Pod/shop/web-5c4-b", "shop/d-web"},
			}},
		},
		{
			name: "a ReplicaSet added between ticks is seen",
			ticks: [][]ask{
				{{"Pod/shop/web-6f7-a", "shop/rs-web-new"}},
				{{"Pod/shop/web-6f7-a", "shop/d-web"}},
			},
			drop: [][]string{{"rs-web-new"}, nil},
		},
		{
			name: "a ReplicaSet removed between ticks is gone",
			ticks: [][]ask{
				{{"Pod/shop/web-6f7-a", "shop/d-web"}},
				{{"Pod/shop/web-6f7-a", "shop/rs-web-new"}},
			},
			drop: [][]string{nil, {"rs-web-new"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := joinCatalog()
			for i, asks := range tt.ticks {
				var drop []string
				if i < len(tt.drop) {
					drop = tt.drop[i]
				}
				s := buildWorld(t, c, decodeWorld(t, dup, drop...))
				j := suppress.NewJoiner(c, s)
				for _, a := range asks {
					assert.Equal(t, []string{a.want}, j.Keys(catalog.JoinSameWorkload, find(t, s, a.ref), false), "tick %d: %s", i+1, a.ref)
				}
			}
		})
	}
}

// TestJoinerConcurrentReaders: readers sharing a Joiner (a tick and an
// explain) index namespaces concurrently and agree with a lone reader.
func TestJoinerConcurrentReaders(t *testing.T) {
	c := joinCatalog()
	s := buildWorld(t, c, decodeWorld(t, world))
	refs := []string{"Pod/shop/web-6f7-a", "Pod/other/forged", "Pod/ml/llm-1-a", "Pod/kube-system/agent-x", "Pod/shop/report-29001-q"}
	objs := map[string]*snapshot.Object{}
	want := map[string][]string{}
	for _, ref := range refs {
		objs[ref] = find(t, s, ref)
		want[ref] = suppress.NewJoiner(c, s).Keys(catalog.JoinSameWorkload, objs[ref], false)
	}
	j := suppress.NewJoiner(c, s)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for k := range refs {
				ref := refs[(i+k)%len(refs)]
				assert.Equal(t, want[ref], j.Keys(catalog.JoinSameWorkload, objs[ref], false), ref)
			}
		})
	}
	wg.Wait()
}

// TestJoinerSkipsUnreadableSources: a forbidden source's objects are not
// trusted, so the chain through it ends as if they were absent.
func TestJoinerSkipsUnreadableSources(t *testing.T) {
	c := joinCatalog()
	b := snapshot.NewBuilder(time.Unix(0, 0), snapshot.ServedDefault(c, snapshot.Cluster{}))
	b.Select(c, decodeWorld(t, world), map[string]snapshot.SourceState{"replicaSets": {Status: snapshot.StatusForbidden, Error: "forbidden"}})
	s := b.Build()
	j := suppress.NewJoiner(c, s)
	assert.False(t, joined(j, catalog.JoinSameWorkload, find(t, s, "Deployment/shop/web"), find(t, s, "Pod/shop/web-6f7-a")))
}

// TestJoinerOwnerCycle: a cycle of controller references ends at the depth
// bound instead of looping.
func TestJoinerOwnerCycle(t *testing.T) {
	cyc := `
kind: ReplicaSet
apiVersion: apps/v1
metadata: {namespace: ns, name: a, uid: a}
owner: ReplicaSet/b
---
kind: ReplicaSet
apiVersion: apps/v1
metadata: {namespace: ns, name: b, uid: b}
owner: ReplicaSet/a
---
kind: Pod
apiVersion: v1
metadata: {namespace: ns, name: p, uid: p}
owner: ReplicaSet/a`
	c := joinCatalog()
	s := buildWorld(t, c, decodeWorld(t, cyc))
	j := suppress.NewJoiner(c, s)
	keys := j.Keys(catalog.JoinSameWorkload, find(t, s, "Pod/ns/p"), false)
	require.Len(t, keys, 1)
	assert.Contains(t, []string{"ns/a", "ns/b"}, keys[0])
}

func TestJoinerKeepsNamedKeys(t *testing.T) {
	c := joinCatalog()
	s := buildWorld(t, c, decodeWorld(t, world))
	j := suppress.NewJoiner(c, s)
	for _, kind := range []catalog.JoinKind{catalog.JoinSameSubject, catalog.JoinSameNamespace, catalog.JoinSameNode, catalog.JoinSameOwner, catalog.JoinCluster} {
		o := find(t, s, "Pod/shop/web-6f7-a")
		assert.Equal(t, suppress.NamedKeys(kind, o, true), j.Keys(kind, o, true), kind)
	}
}

func TestSideProblem(t *testing.T) {
	tests := []struct {
		kind catalog.JoinKind
		res  suppress.Resource
		want string // a fragment; "" for none
	}{
		{catalog.JoinSameWorkload, suppress.Resource{Group: "apps", Resource: "deployments"}, ""},
		{catalog.JoinSameWorkload, suppress.Resource{Resource: "pods"}, ""},
		{catalog.JoinSameWorkload, suppress.Resource{Group: "kaito.sh", Resource: "workspaces"}, ""},
		{catalog.JoinSameWorkload, suppress.Resource{Resource: "services"}, "not in a workload's owner chain"},
		{catalog.JoinSameService, suppress.Resource{Resource: "configmaps"}, "configmaps have no Service"},
		{catalog.JoinSameService, suppress.Resource{Group: "discovery.k8s.io", Resource: "endpointslices"}, ""},
		{catalog.JoinSameService, suppress.Resource{Group: "example.com", Resource: "widgets"}, "have no Service"},
		{catalog.JoinSameVolumeClaim, suppress.Resource{Resource: "persistentvolumes"}, ""},
		{catalog.JoinSameVolumeClaim, suppress.Resource{Group: "apps", Resource: "statefulsets"}, "statefulsets.apps mount no claim"},
		{catalog.JoinSameNode, suppress.Resource{Resource: "configmaps"}, ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%s", tt.kind, tt.res), func(t *testing.T) {
			got := suppress.SideProblem(tt.kind, tt.res)
			if tt.want == "" {
				assert.Empty(t, got)
				return
			}
			assert.Contains(t, got, tt.want)
		})
	}
}

func TestNeeds(t *testing.T) {
	pods := suppress.Resource{Resource: "pods"}
	deploy := suppress.Resource{Group: "apps", Resource: "deployments"}
	rs := suppress.Resource{Group: "apps", Resource: "replicasets"}
	cron := suppress.Resource{Group: "batch", Resource: "cronjobs"}
	svc := suppress.Resource{Resource: "services"}
	tests := []struct {
		name string
		kind catalog.JoinKind
		a, b suppress.Resource
		want []string
	}{
		{"Deployment to pods reads ReplicaSets", catalog.JoinSameWorkload, deploy, pods, []string{"replicasets.apps"}},
		{"pods to Deployment reads ReplicaSets", catalog.JoinSameWorkload, pods, deploy, []string{"replicasets.apps"}},
		{"Deployment to ReplicaSets reads nothing more", catalog.JoinSameWorkload, deploy, rs, nil},
		{"CronJob to pods reads Jobs", catalog.JoinSameWorkload, cron, pods, []string{"jobs.batch"}},
		{"Service to pods reads EndpointSlices", catalog.JoinSameService, svc, pods, []string{"endpointslices.discovery.k8s.io"}},
		{"Service to Service reads nothing more", catalog.JoinSameService, svc, svc, nil},
		{"claims read nothing more", catalog.JoinSameVolumeClaim, pods, pods, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for r := range suppress.Needs(tt.kind, tt.a, tt.b) {
				got = append(got, r.String())
			}
			slices.Sort(got)
			assert.Equal(t, tt.want, got)
		})
	}
}

// BenchmarkJoinerWorkloadKeys is the cost of sameWorkload keys over a
// snapshot of 5,000 Deployments' pods: the owner index is built once per
// snapshot, then each key is a few map look-ups.
func BenchmarkJoinerWorkloadKeys(b *testing.B) {
	c := joinCatalog()
	var objs []map[string]any
	for i := range 5000 {
		ns := fmt.Sprintf("ns-%d", i%50)
		d, rs, p := fmt.Sprintf("d-%d", i), fmt.Sprintf("rs-%d", i), fmt.Sprintf("p-%d", i)
		owned := func(kind, name, uid, owner string) map[string]any {
			md := map[string]any{"namespace": ns, "name": name, "uid": uid}
			if owner != "" {
				md["ownerReferences"] = []any{map[string]any{"uid": owner, "controller": true}}
			}
			return map[string]any{"apiVersion": map[string]string{"Pod": "v1"}[kind] + map[string]string{"Deployment": "apps/v1", "ReplicaSet": "apps/v1"}[kind], "kind": kind, "metadata": md}
		}
		objs = append(objs, owned("Deployment", d, d, ""), owned("ReplicaSet", rs, rs, d), owned("Pod", p, p, rs))
	}
	s := buildWorld(b, c, objs)
	pods := s.Set("pods").Objects()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		j := suppress.NewJoiner(c, s)
		for _, o := range pods {
			if len(j.Keys(catalog.JoinSameWorkload, o, false)) != 1 {
				b.Fatal("no key")
			}
		}
	}
}
