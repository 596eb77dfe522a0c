package suppress_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/snapshot"
	"statusd.io/statusd/pkg/suppress"
)

func object(content map[string]any) *snapshot.Object { return snapshot.NewObject(content) }

var (
	pod = object(map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{
			"namespace": "shop", "name": "web-1", "uid": "pod-uid",
			"ownerReferences": []any{
				map[string]any{"kind": "ConfigMap", "uid": "cm-uid"},
				map[string]any{"kind": "ReplicaSet", "uid": "rs-uid", "controller": true},
			},
		},
		"spec": map[string]any{"nodeName": "node-a"},
	})
	unscheduled = object(map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"namespace": "shop", "name": "web-2", "uid": "pod2-uid"},
	})
	replicaSet = object(map[string]any{
		"apiVersion": "apps/v1", "kind": "ReplicaSet",
		"metadata": map[string]any{
			"namespace": "shop", "name": "web", "uid": "rs-uid",
			"ownerReferences": []any{map[string]any{"kind": "Deployment", "uid": "deploy-uid", "controller": true}},
		},
	})
	node = object(map[string]any{
		"apiVersion": "v1", "kind": "Node",
		"metadata": map[string]any{"name": "node-a", "uid": "node-uid"},
	})
	namespace = object(map[string]any{
		"apiVersion": "v1", "kind": "Namespace",
		"metadata": map[string]any{"name": "shop", "uid": "ns-uid"},
	})
	noUID = object(map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"namespace": "shop", "name": "settings"},
	})
)

func TestNamedKeys(t *testing.T) {
	tests := []struct {
		name    string
		kind    catalog.JoinKind
		obj     *snapshot.Object
		asCause bool
		want    []string
	}{
		{name: "sameSubject by UID", kind: catalog.JoinSameSubject, obj: pod, want: []string{"pod-uid"}},
		{name: "sameSubject without UID uses the ref", kind: catalog.JoinSameSubject, obj: noUID, asCause: true, want: []string{"ConfigMap/shop/settings"}},
		{name: "sameNamespace of a pod", kind: catalog.JoinSameNamespace, obj: pod, asCause: true, want: []string{"shop"}},
		{name: "sameNamespace of a Namespace is itself as cause", kind: catalog.JoinSameNamespace, obj: namespace, asCause: true, want: []string{"shop"}},
		{name: "sameNamespace of a Namespace is itself as symptom", kind: catalog.JoinSameNamespace, obj: namespace, want: []string{"shop"}},
		{name: "sameNamespace of a cluster-scoped object", kind: catalog.JoinSameNamespace, obj: node, want: nil},
		{name: "sameNode of a scheduled pod", kind: catalog.JoinSameNode, obj: pod, want: []string{"node-a"}},
		{name: "sameNode of a Node is itself", kind: catalog.JoinSameNode, obj: node, asCause: true, want: []string{"node-a"}},
		{name: "sameNode of a pod with no node", kind: catalog.JoinSameNode, obj: unscheduled, want: nil},
		{name: "sameNode of a namespaced non-pod", kind: catalog.JoinSameNode, obj: replicaSet, asCause: true, want: nil},
		{name: "sameOwner cause has its UID and controller", kind: catalog.JoinSameOwner, obj: replicaSet, asCause: true, want: []string{"rs-uid", "deploy-uid"}},
		{name: "sameOwner symptom has its controller only", kind: catalog.JoinSameOwner, obj: pod, want: []string{"rs-uid"}},
		{name: "sameOwner cause pod has its UID and controller", kind: catalog.JoinSameOwner, obj: pod, asCause: true, want: []string{"pod-uid", "rs-uid"}},
		{name: "sameOwner symptom without controller", kind: catalog.JoinSameOwner, obj: unscheduled, want: nil},
		{name: "sameOwner cause without UID or controller", kind: catalog.JoinSameOwner, obj: noUID, asCause: true, want: nil},
		{name: "cluster as cause", kind: catalog.JoinCluster, obj: node, asCause: true, want: []string{suppress.ClusterKey}},
		{name: "cluster as symptom", kind: catalog.JoinCluster, obj: pod, want: []string{suppress.ClusterKey}},
		{name: "key joins have no named keys", kind: catalog.JoinKey, obj: pod, asCause: true, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, suppress.NamedKeys(tt.kind, tt.obj, tt.asCause))
		})
	}
}

// added is one Index.Add call.
type added struct {
	edge  int // into the test's edges
	keys  []string
	cause suppress.Cause
}

func TestIndexMatch(t *testing.T) {
	reasons := []string{"NodeDown", "NamespaceGone", "PodCrash", "Other"}
	edges := []suppress.Edge{
		{Cause: "NodeDown", Symptom: "PodCrash", Join: "sameNode"},
		{Cause: "NamespaceGone", Symptom: "PodCrash", Join: "sameNamespace"},
		{Cause: "NodeDown", Symptom: "NamespaceGone", Join: "cluster"},
	}
	g, cycles := suppress.NewGraph(reasons, edges)
	require.Empty(t, cycles)

	nodeDown := func(subject string, st suppress.State, prio int) suppress.Cause {
		return suppress.Cause{Reason: "NodeDown", Subject: subject, State: st, Priority: prio}
	}
	nsGone := func(subject string, st suppress.State, prio int) suppress.Cause {
		return suppress.Cause{Reason: "NamespaceGone", Subject: subject, State: st, Priority: prio}
	}
	// The symptom's keys: node-a under sameNode, shop under sameNamespace.
	symptomKeys := func(e suppress.Edge) []string {
		switch e.Join {
		case "sameNode":
			return []string{"node-a"}
		case "sameNamespace":
			return []string{"shop"}
		}
		return []string{suppress.ClusterKey}
	}

	tests := []struct {
		name    string
		add     []added
		symptom string
		keys    func(suppress.Edge) []string
		want    suppress.Cause
		found   bool
		// asked, when not nil, are the joins whose symptom keys Match
		// must ask for: only those of edges with a cause.
		asked []string
	}{
		{
			name:    "nothing indexed",
			symptom: "PodCrash", keys: symptomKeys,
			asked: []string{},
		},
		{
			name:    "only the edges with a cause are asked for keys",
			add:     []added{{1, []string{"shop"}, nsGone("Namespace/shop", suppress.Pending, 1)}},
			symptom: "PodCrash", keys: symptomKeys,
			want: nsGone("Namespace/shop", suppress.Pending, 1), found: true,
			asked: []string{"sameNamespace"},
		},
		{
			name:    "an edge whose cause had only empty keys is not asked",
			add:     []added{{0, []string{""}, nodeDown("Node/x", suppress.Firing, 1)}},
			symptom: "PodCrash", keys: symptomKeys,
			asked: []string{},
		},
		{
			name: "every edge with a cause is asked",
			add: []added{
				{0, []string{"node-b"}, nodeDown("Node/node-b", suppress.Firing, 1)},
				{1, []string{"shop"}, nsGone("Namespace/shop", suppress.Pending, 1)},
			},
			symptom: "PodCrash", keys: symptomKeys,
			want: nsGone("Namespace/shop", suppress.Pending, 1), found: true,
			asked: []string{"sameNode", "sameNamespace"},
		},
		{
			name:    "a cause of another symptom's edge is not asked",
			add:     []added{{2, []string{suppress.ClusterKey}, nodeDown("Node/node-a", suppress.Firing, 1)}},
			symptom: "PodCrash", keys: symptomKeys,
			asked: []string{},
		},
		{
			name:    "one firing cause on the same key",
			add:     []added{{0, []string{"node-a"}, nodeDown("Node/node-a", suppress.Firing, 1)}},
			symptom: "PodCrash", keys: symptomKeys,
			want: nodeDown("Node/node-a", suppress.Firing, 1), found: true,
		},
		{
			name:    "a cause on another key does not join",
			add:     []added{{0, []string{"node-b"}, nodeDown("Node/node-b", suppress.Firing, 1)}},
			symptom: "PodCrash", keys: symptomKeys,
		},
		{
			name:    "a cause indexed for another symptom does not join",
			add:     []added{{2, []string{suppress.ClusterKey}, nodeDown("Node/node-a", suppress.Firing, 1)}},
			symptom: "PodCrash", keys: symptomKeys,
		},
		{
			name:    "a reason with no incoming edges",
			add:     []added{{0, []string{"node-a"}, nodeDown("Node/node-a", suppress.Firing, 1)}},
			symptom: "Other", keys: symptomKeys,
		},
		{
			name:    "empty cause keys never join",
			add:     []added{{0, []string{""}, nodeDown("Node/x", suppress.Firing, 1)}},
			symptom: "PodCrash", keys: func(suppress.Edge) []string { return []string{""} },
		},
		{
			name:    "empty symptom key does not match an empty cause key",
			add:     []added{{0, []string{"", "node-a"}, nodeDown("Node/node-a", suppress.Firing, 1)}},
			symptom: "PodCrash", keys: func(suppress.Edge) []string { return []string{""} },
		},
		{
			name:    "no symptom keys",
			add:     []added{{0, []string{"node-a"}, nodeDown("Node/node-a", suppress.Firing, 1)}},
			symptom: "PodCrash", keys: func(suppress.Edge) []string { return nil },
		},
		{
			name: "firing beats pending of higher priority",
			add: []added{
				{1, []string{"shop"}, nsGone("Namespace/shop", suppress.Pending, 9)},
				{0, []string{"node-a"}, nodeDown("Node/node-a", suppress.Firing, 1)},
			},
			symptom: "PodCrash", keys: symptomKeys,
			want: nodeDown("Node/node-a", suppress.Firing, 1), found: true,
		},
		{
			name: "firing beats pending on one key, in either order",
			add: []added{
				{0, []string{"node-a"}, nodeDown("Node/a", suppress.Firing, 1)},
				{0, []string{"node-a"}, nodeDown("Node/b", suppress.Pending, 5)},
			},
			symptom: "PodCrash", keys: symptomKeys,
			want: nodeDown("Node/a", suppress.Firing, 1), found: true,
		},
		{
			name: "pending cause when nothing fires",
			add: []added{
				{1, []string{"shop"}, nsGone("Namespace/shop", suppress.Pending, 1)},
			},
			symptom: "PodCrash", keys: symptomKeys,
			want: nsGone("Namespace/shop", suppress.Pending, 1), found: true,
		},
		{
			name: "higher priority wins between firing causes",
			add: []added{
				{0, []string{"node-a"}, nodeDown("Node/node-a", suppress.Firing, 1)},
				{1, []string{"shop"}, nsGone("Namespace/shop", suppress.Firing, 2)},
			},
			symptom: "PodCrash", keys: symptomKeys,
			want: nsGone("Namespace/shop", suppress.Firing, 2), found: true,
		},
		{
			name: "reason name breaks a priority tie",
			add: []added{
				{0, []string{"node-a"}, nodeDown("Node/node-a", suppress.Firing, 3)},
				{1, []string{"shop"}, nsGone("Namespace/shop", suppress.Firing, 3)},
			},
			symptom: "PodCrash", keys: symptomKeys,
			want: nsGone("Namespace/shop", suppress.Firing, 3), found: true,
		},
		{
			name: "subject breaks a reason tie",
			add: []added{
				{0, []string{"node-a"}, nodeDown("Node/z", suppress.Firing, 3)},
				{0, []string{"node-a"}, nodeDown("Node/m", suppress.Firing, 3)},
				{0, []string{"node-a"}, nodeDown("Node/q", suppress.Firing, 3)},
			},
			symptom: "PodCrash", keys: symptomKeys,
			want: nodeDown("Node/m", suppress.Firing, 3), found: true,
		},
		{
			name: "a cause under several keys",
			add: []added{
				{1, []string{"other", "shop"}, nsGone("Namespace/shop", suppress.Firing, 1)},
			},
			symptom: "PodCrash", keys: symptomKeys,
			want: nsGone("Namespace/shop", suppress.Firing, 1), found: true,
		},
		{
			name: "a symptom with several keys on one edge",
			add: []added{
				{0, []string{"node-b"}, nodeDown("Node/node-b", suppress.Firing, 1)},
			},
			symptom: "PodCrash", keys: func(suppress.Edge) []string { return []string{"node-a", "node-b"} },
			want: nodeDown("Node/node-b", suppress.Firing, 1), found: true,
		},
		{
			name: "cluster edge into another symptom",
			add: []added{
				{2, []string{suppress.ClusterKey}, nodeDown("Node/node-a", suppress.Pending, 1)},
			},
			symptom: "NamespaceGone", keys: symptomKeys,
			want: nodeDown("Node/node-a", suppress.Pending, 1), found: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix := suppress.NewIndex(g)
			for _, a := range tt.add {
				ix.Add(edges[a.edge], a.keys, a.cause)
			}
			asked := []string{}
			got, found := ix.Match(tt.symptom, func(e suppress.Edge) []string {
				asked = append(asked, e.Join)
				return tt.keys(e)
			})
			assert.Equal(t, tt.found, found)
			assert.Equal(t, tt.want, got)
			if tt.asked != nil {
				assert.ElementsMatch(t, tt.asked, asked)
			}
		})
	}
}

func BenchmarkIndexMatch(b *testing.B) {
	e := suppress.Edge{Cause: "NodeDown", Symptom: "PodCrash", Join: "sameNode"}
	g, cycles := suppress.NewGraph([]string{"NodeDown", "PodCrash"}, []suppress.Edge{e})
	require.Empty(b, cycles)
	ix := suppress.NewIndex(g)
	const causes = 10000
	for i := range causes {
		ix.Add(e, []string{fmt.Sprintf("node-%d", i)}, suppress.Cause{Reason: "NodeDown", Subject: fmt.Sprintf("Node/node-%d", i), State: suppress.Firing})
	}
	keys := make([][]string, causes)
	for i := range keys {
		keys[i] = []string{fmt.Sprintf("node-%d", i)}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		k := keys[i%causes]
		if _, ok := ix.Match("PodCrash", func(suppress.Edge) []string { return k }); !ok {
			b.Fatal("no match")
		}
		i++
	}
}
