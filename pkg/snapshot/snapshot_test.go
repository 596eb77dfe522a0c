package snapshot_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/labels"

	"statusd.io/statusd/internal/cpuclock"
	"statusd.io/statusd/pkg/snapshot"
)

func newPod(ns, name, uid, node string, lbls map[string]any, owners ...string) *snapshot.Object {
	var refs []any
	for i, o := range owners {
		refs = append(refs, map[string]any{"kind": "ReplicaSet", "uid": o, "controller": i == 0})
	}
	md := map[string]any{"namespace": ns, "name": name, "uid": uid, "labels": lbls}
	if refs != nil {
		md["ownerReferences"] = refs
	}
	return snapshot.NewObject(map[string]any{
		"apiVersion": "v1", "kind": "Pod", "metadata": md,
		"spec": map[string]any{"nodeName": node},
	})
}

// testSnapshot has pods in two namespaces, on two nodes, under two
// ReplicaSets, added out of order.
func testSnapshot(t *testing.T) *snapshot.Snapshot {
	t.Helper()
	b := snapshot.NewBuilder(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), snapshot.Cluster{Version: "v1.36.3", Resources: []string{"v1/pods", "v1/nodes"}})
	b.Add("pods",
		newPod("shop", "web-2", "w2", "node-b", map[string]any{"app": "web", "tier": "front"}, "rs-web"),
		newPod("shop", "web-1", "w1", "node-a", map[string]any{"app": "web", "tier": "front"}, "rs-web"),
		newPod("shop", "db-0", "d0", "node-a", map[string]any{"app": "db", "tier": "back"}),
		newPod("batch", "job-1", "j1", "", map[string]any{"app": "job"}, "job-uid", "extra-owner"),
		newPod("admin", "web-1", "aw1", "node-b", map[string]any{"app": "web"}),
	)
	b.Add("nodes", snapshot.NewObject(map[string]any{"apiVersion": "v1", "kind": "Node", "metadata": map[string]any{"name": "node-a", "uid": "na"}}))
	b.SetStatus("secrets", snapshot.StatusForbidden, "forbidden")
	b.AddMetrics(&snapshot.PodMetrics{Namespace: "shop", Name: "web-1"})
	return b.Build()
}

func TestSnapshot(t *testing.T) {
	s := testSnapshot(t)
	assert.Equal(t, []string{"nodes", "pods", "secrets"}, s.Sets())
	assert.Nil(t, s.Set("missing"))
	assert.True(t, s.HasResource("v1/pods"))
	assert.False(t, s.HasResource("v1/secrets"))
	assert.Equal(t, "v1.36.3", s.Cluster.Version)
	assert.Equal(t, []string{"shop/web-1"}, s.MetricsTargets())
	assert.NotNil(t, s.Metrics("shop", "web-1"))
	assert.Nil(t, s.Metrics("shop", "web-2"))

	sec := s.Set("secrets")
	assert.Equal(t, snapshot.StatusForbidden, sec.Status)
	assert.Equal(t, "forbidden", sec.Err)
	assert.Equal(t, 0, sec.Len())
	assert.Equal(t, snapshot.StatusReady, s.Set("pods").Status, "a source never given a status is ready")
}

func TestSetIndexes(t *testing.T) {
	pods := testSnapshot(t).Set("pods")
	tests := []struct {
		name string
		got  []*snapshot.Object
		want []string
	}{
		{name: "Objects sorted by namespace and name", got: pods.Objects(), want: []string{"Pod/admin/web-1", "Pod/batch/job-1", "Pod/shop/db-0", "Pod/shop/web-1", "Pod/shop/web-2"}},
		{name: "InNamespace", got: pods.InNamespace("shop"), want: []string{"Pod/shop/db-0", "Pod/shop/web-1", "Pod/shop/web-2"}},
		{name: "InNamespace unknown", got: pods.InNamespace("nope"), want: []string{}},
		{name: "OnNode", got: pods.OnNode("node-a"), want: []string{"Pod/shop/db-0", "Pod/shop/web-1"}},
		{name: "OnNode empty never matches an unscheduled pod", got: pods.OnNode(""), want: []string{}},
		{name: "OwnedBy", got: pods.OwnedBy("rs-web"), want: []string{"Pod/shop/web-1", "Pod/shop/web-2"}},
		{name: "OwnedBy a non-controller owner", got: pods.OwnedBy("extra-owner"), want: []string{"Pod/batch/job-1"}},
		{name: "OwnedBy unknown", got: pods.OwnedBy("nope"), want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, keys(tt.got))
		})
	}
	assert.Equal(t, 5, pods.Len())
}

func TestSetGet(t *testing.T) {
	s := testSnapshot(t)
	tests := []struct {
		name      string
		source    string
		namespace string
		objName   string
		uid       string
		want      string // Ref, or empty for nil
	}{
		{name: "namespaced by name", source: "pods", namespace: "shop", objName: "web-1", want: "Pod/shop/web-1"},
		{name: "same name in another namespace", source: "pods", namespace: "admin", objName: "web-1", want: "Pod/admin/web-1"},
		{name: "namespaced without namespace", source: "pods", objName: "web-1"},
		{name: "cluster-scoped", source: "nodes", objName: "node-a", want: "Node/node-a"},
		{name: "missing", source: "pods", namespace: "shop", objName: "nope"},
		{name: "by UID", source: "pods", uid: "j1", want: "Pod/batch/job-1"},
		{name: "by unknown UID", source: "pods", uid: "zzz"},
		{name: "by empty UID", source: "pods", uid: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o *snapshot.Object
			if tt.objName != "" {
				o = s.Set(tt.source).Get(tt.namespace, tt.objName)
			} else {
				o = s.Set(tt.source).ByUID(tt.uid)
			}
			if tt.want == "" {
				assert.Nil(t, o)
				return
			}
			require.NotNil(t, o)
			assert.Equal(t, tt.want, o.Ref())
		})
	}
}

func TestSetSelect(t *testing.T) {
	pods := testSnapshot(t).Set("pods")
	tests := []struct {
		name     string
		ns       string
		selector string
		want     []string
	}{
		{name: "everything in one namespace", ns: "shop", selector: "", want: []string{"Pod/shop/db-0", "Pod/shop/web-1", "Pod/shop/web-2"}},
		{name: "everything everywhere", selector: "", want: []string{"Pod/admin/web-1", "Pod/batch/job-1", "Pod/shop/db-0", "Pod/shop/web-1", "Pod/shop/web-2"}},
		{name: "equality in one namespace", ns: "shop", selector: "app=web", want: []string{"Pod/shop/web-1", "Pod/shop/web-2"}},
		{name: "equality across namespaces", selector: "app=web", want: []string{"Pod/admin/web-1", "Pod/shop/web-1", "Pod/shop/web-2"}},
		{name: "double equals", selector: "app==db", want: []string{"Pod/shop/db-0"}},
		{name: "two equalities", selector: "app=web,tier=front", want: []string{"Pod/shop/web-1", "Pod/shop/web-2"}},
		{name: "equality that matches nothing", selector: "app=nope", want: []string{}},
		{name: "equality on a missing key", ns: "shop", selector: "missing=x", want: []string{}},
		{name: "equality in a namespace without matches", ns: "batch", selector: "app=web", want: []string{}},
		{name: "set with one value", selector: "app in (db)", want: []string{"Pod/shop/db-0"}},
		{name: "set with two values", selector: "app in (db,job)", want: []string{"Pod/batch/job-1", "Pod/shop/db-0"}},
		{name: "set in one namespace", ns: "shop", selector: "app in (db,job)", want: []string{"Pod/shop/db-0"}},
		{name: "notin", selector: "app notin (web)", want: []string{"Pod/batch/job-1", "Pod/shop/db-0"}},
		{name: "not equal across namespaces", selector: "app!=web", want: []string{"Pod/batch/job-1", "Pod/shop/db-0"}},
		{name: "not equal in one namespace", ns: "shop", selector: "app!=web", want: []string{"Pod/shop/db-0"}},
		{name: "exists", selector: "tier", want: []string{"Pod/shop/db-0", "Pod/shop/web-1", "Pod/shop/web-2"}},
		{name: "does not exist", selector: "!tier", want: []string{"Pod/admin/web-1", "Pod/batch/job-1"}},
		{name: "equality and negation", selector: "app=web,!tier", want: []string{"Pod/admin/web-1"}},
		{name: "unknown namespace", ns: "nope", selector: "", want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sel, err := labels.Parse(tt.selector)
			require.NoError(t, err)
			assert.Equal(t, tt.want, keys(pods.Select(tt.ns, sel)))
		})
	}
	assert.Empty(t, pods.Select("", labels.Nothing()), "Nothing selects nothing")
}

func TestBuildDuplicates(t *testing.T) {
	first := newPod("shop", "web-1", "old", "node-a", map[string]any{"v": "1"})
	second := newPod("shop", "web-1", "new", "node-b", map[string]any{"v": "2"})
	tests := []struct {
		name string
		objs []*snapshot.Object
	}{
		{name: "adjacent", objs: []*snapshot.Object{first, second}},
		{name: "with others between", objs: []*snapshot.Object{newPod("shop", "a", "a", "", nil), first, newPod("shop", "z", "z", "", nil), newPod("admin", "web-1", "x", "", nil), second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := snapshot.NewBuilder(time.Time{}, snapshot.Cluster{})
			b.Add("pods", tt.objs...)
			pods := b.Build().Set("pods")
			var web []*snapshot.Object
			for _, o := range pods.Objects() {
				if o.Key() == "shop/web-1" {
					web = append(web, o)
				}
			}
			require.Len(t, web, 1, "duplicates keep one")
			assert.Same(t, second, web[0], "the last listed wins")
			assert.Same(t, second, pods.Get("shop", "web-1"))
			assert.Same(t, second, pods.ByUID("new"))
			assert.Equal(t, []string{"Pod/shop/web-1"}, keys(pods.OnNode("node-b")))
			assert.Empty(t, pods.OnNode("node-a"), "the dropped duplicate is in no index")
			sel, err := labels.Parse("v")
			require.NoError(t, err)
			assert.Equal(t, []*snapshot.Object{second}, pods.Select("shop", sel))
		})
	}
}

// benchPods returns n pods in 50 namespaces on 100 nodes, 10 to a
// ReplicaSet, out of order as a snapshot file may list them.
func benchPods(n int) []*snapshot.Object {
	objs := make([]*snapshot.Object, n)
	for i := range objs {
		objs[i] = newPod(fmt.Sprintf("ns-%d", i%50), fmt.Sprintf("pod-%d", i), fmt.Sprintf("uid-%d", i),
			fmt.Sprintf("node-%d", i%100), map[string]any{"app": fmt.Sprintf("app-%d", i%200), "tier": "web"}, fmt.Sprintf("rs-%d", i/10))
	}
	return objs
}

var benchSizes = []int{1_000, 10_000, 30_000, 100_000}

// BenchmarkBuild measures Build over pods added out of order, as from a
// snapshot file: the cost is the sort.
func BenchmarkBuild(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("objects=%d", n), func(b *testing.B) {
			objs := benchPods(n)
			b.ReportAllocs()
			cpu := cpuclock.Start()
			for b.Loop() {
				bu := snapshot.NewBuilder(time.Time{}, snapshot.Cluster{})
				bu.Add("pods", objs...)
				if bu.Build().Set("pods").Len() != n {
					b.Fatal("lost pods")
				}
			}
			cpu.Report(b)
		})
	}
}

// BenchmarkBuildSorted measures Build over pods already in order, as live
// informers give them (AddSorted): a tick's snapshot.
func BenchmarkBuildSorted(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("objects=%d", n), func(b *testing.B) {
			objs := benchPods(n)
			slices.SortFunc(objs, snapshot.Compare)
			b.ReportAllocs()
			cpu := cpuclock.Start()
			for b.Loop() {
				bu := snapshot.NewBuilder(time.Time{}, snapshot.Cluster{})
				bu.AddSorted("pods", objs)
				if bu.Build().Set("pods").Len() != n {
					b.Fatal("lost pods")
				}
			}
			cpu.Report(b)
		})
	}
}

// BenchmarkBuildIndexes measures Build over sorted pods followed by one
// query of every look-up, which builds every index: a tick whose
// expressions ask everything of a set.
func BenchmarkBuildIndexes(b *testing.B) {
	sel, err := labels.Parse("app=app-1")
	require.NoError(b, err)
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("objects=%d", n), func(b *testing.B) {
			objs := benchPods(n)
			slices.SortFunc(objs, snapshot.Compare)
			b.ReportAllocs()
			cpu := cpuclock.Start()
			for b.Loop() {
				bu := snapshot.NewBuilder(time.Time{}, snapshot.Cluster{})
				bu.AddSorted("pods", objs)
				set := bu.Build().Set("pods")
				if set.Get("ns-1", "pod-1") == nil || set.ByUID("uid-1") == nil || len(set.OnNode("node-1")) == 0 ||
					len(set.OwnedBy("rs-0")) == 0 || len(set.InNamespace("ns-1")) == 0 || len(set.Select("", sel)) == 0 {
					b.Fatal("lost pods")
				}
			}
			cpu.Report(b)
		})
	}
}
