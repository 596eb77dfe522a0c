package prune

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func obj(tb testing.TB, s string) map[string]any {
	tb.Helper()
	var m map[string]any
	require.NoError(tb, json.Unmarshal([]byte(s), &m))
	return m
}

func TestApply(t *testing.T) {
	const pod = `{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": {"name": "a", "namespace": "ns", "labels": {"app": "x"},
			"managedFields": [{"manager": "kubelet"}],
			"annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}", "keep": "me"}},
		"spec": {"nodeName": "n1", "restartPolicy": "Always",
			"containers": [{"name": "c", "image": "i", "env": [{"name": "A", "value": "1"}]},
			               {"name": "d", "image": "j"}]},
		"status": {"phase": "Running", "podIP": "10.0.0.1",
			"conditions": [{"type": "Ready", "status": "True", "message": "long"}],
			"containerStatuses": [{"name": "c", "state": {"running": {"startedAt": "x"}}}]}
	}`
	always := `{"apiVersion": "v1", "kind": "Pod",
		"metadata": {"name": "a", "namespace": "ns", "labels": {"app": "x"}},
		"spec": {"nodeName": "n1"}}`
	const meta = `{"metadata": {"name": "a", "generateName": "a-", "namespace": "ns", "uid": "u1", "resourceVersion": "7", "generation": 3,
		"creationTimestamp": "2026-01-01T00:00:00Z", "deletionTimestamp": "2026-01-02T00:00:00Z", "finalizers": ["f"],
		"labels": {"app": "x", "tier": "web"},
		"annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}", "team": "shop", "big": "x"},
		"ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "o1", "controller": true, "blockOwnerDeletion": true},
			{"apiVersion": "batch/v1", "kind": "Job", "name": "j", "uid": "o2"}],
		"managedFields": [{"manager": "kubelet"}]}}`
	cases := []struct {
		name string
		tree string
		in   string
		want string
	}{
		{name: "empty tree keeps what is always kept", tree: `{}`, in: pod, want: always},
		{
			name: "a leaf field", tree: `{status{phase*}}`, in: pod,
			want: `{"apiVersion": "v1", "kind": "Pod",
				"metadata": {"name": "a", "namespace": "ns", "labels": {"app": "x"}},
				"spec": {"nodeName": "n1"}, "status": {"phase": "Running"}}`,
		},
		{
			name: "lists are transparent and keep every element", tree: `{spec{containers{name*}}}`, in: pod,
			want: `{"apiVersion": "v1", "kind": "Pod",
				"metadata": {"name": "a", "namespace": "ns", "labels": {"app": "x"}},
				"spec": {"nodeName": "n1", "containers": [{"name": "c"}, {"name": "d"}]}}`,
		},
		{
			name: "presence keeps an empty map", tree: `{status{conditions}}`, in: pod,
			want: `{"apiVersion": "v1", "kind": "Pod",
				"metadata": {"name": "a", "namespace": "ns", "labels": {"app": "x"}},
				"spec": {"nodeName": "n1"}, "status": {"conditions": [{}]}}`,
		},
		{
			name: "an iterated list applies children to elements", tree: `{status{conditions~{type*}}}`, in: pod,
			want: `{"apiVersion": "v1", "kind": "Pod",
				"metadata": {"name": "a", "namespace": "ns", "labels": {"app": "x"}},
				"spec": {"nodeName": "n1"}, "status": {"conditions": [{"type": "Ready"}]}}`,
		},
		{
			name: "an iterated map is kept whole", tree: `{status{containerStatuses{state~}}}`, in: pod,
			want: `{"apiVersion": "v1", "kind": "Pod",
				"metadata": {"name": "a", "namespace": "ns", "labels": {"app": "x"}},
				"spec": {"nodeName": "n1"}, "status": {"containerStatuses": [{"state": {"running": {"startedAt": "x"}}}]}}`,
		},
		{
			name: "spec read with nodeName kept", tree: `{spec{restartPolicy*}}`, in: pod,
			want: `{"apiVersion": "v1", "kind": "Pod",
				"metadata": {"name": "a", "namespace": "ns", "labels": {"app": "x"}},
				"spec": {"nodeName": "n1", "restartPolicy": "Always"}}`,
		},
		{
			name: "spec whole", tree: `{spec*}`, in: `{"spec": {"a": 1, "nodeName": "n"}, "status": {}}`,
			want: `{"spec": {"a": 1, "nodeName": "n"}}`,
		},
		{
			name: "no nodeName, spec unread: spec goes", tree: `{}`, in: `{"spec": {"a": 1}, "kind": "Node"}`,
			want: `{"kind": "Node"}`,
		},
		{
			name: "root All keeps everything but managed fields", tree: `*`,
			in:   `{"metadata": {"managedFields": [], "name": "a"}, "x": {"y": [1, 2]}}`,
			want: `{"metadata": {"name": "a"}, "x": {"y": [1, 2]}}`,
		},
		{
			name: "annotations left empty go", tree: `{}`,
			in:   `{"metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"}}}`,
			want: `{"metadata": {}}`,
		},
		{
			name: "metadata keeps identity, labels, owners' UIDs and times; the rest only when read", tree: `{}`, in: meta,
			want: `{"metadata": {"name": "a", "namespace": "ns", "uid": "u1", "resourceVersion": "7",
				"creationTimestamp": "2026-01-01T00:00:00Z", "deletionTimestamp": "2026-01-02T00:00:00Z",
				"labels": {"app": "x", "tier": "web"},
				"ownerReferences": [{"uid": "o1", "controller": true}, {"uid": "o2"}]}}`,
		},
		{
			name: "an annotation read is kept, the others go", tree: `{metadata{annotations{team*}}}`, in: meta,
			want: `{"metadata": {"name": "a", "namespace": "ns", "uid": "u1", "resourceVersion": "7",
				"creationTimestamp": "2026-01-01T00:00:00Z", "deletionTimestamp": "2026-01-02T00:00:00Z",
				"labels": {"app": "x", "tier": "web"}, "annotations": {"team": "shop"},
				"ownerReferences": [{"uid": "o1", "controller": true}, {"uid": "o2"}]}}`,
		},
		{
			name: "owner reference fields read join the UIDs", tree: `{metadata{ownerReferences~{kind*,name*},finalizers*}}`, in: meta,
			want: `{"metadata": {"name": "a", "namespace": "ns", "uid": "u1", "resourceVersion": "7",
				"creationTimestamp": "2026-01-01T00:00:00Z", "deletionTimestamp": "2026-01-02T00:00:00Z",
				"labels": {"app": "x", "tier": "web"}, "finalizers": ["f"],
				"ownerReferences": [{"uid": "o1", "controller": true, "kind": "ReplicaSet", "name": "rs"}, {"uid": "o2", "kind": "Job", "name": "j"}]}}`,
		},
		{
			name: "annotations ranged over are kept whole but last-applied", tree: `{metadata{annotations~}}`, in: meta,
			want: `{"metadata": {"name": "a", "namespace": "ns", "uid": "u1", "resourceVersion": "7",
				"creationTimestamp": "2026-01-01T00:00:00Z", "deletionTimestamp": "2026-01-02T00:00:00Z",
				"labels": {"app": "x", "tier": "web"}, "annotations": {"team": "shop", "big": "x"},
				"ownerReferences": [{"uid": "o1", "controller": true}, {"uid": "o2"}]}}`,
		},
		{
			name: "metadata read whole keeps all but managed fields and last-applied", tree: `{metadata*}`, in: meta,
			want: `{"metadata": {"name": "a", "namespace": "ns", "uid": "u1", "resourceVersion": "7", "generateName": "a-", "generation": 3,
				"creationTimestamp": "2026-01-01T00:00:00Z", "deletionTimestamp": "2026-01-02T00:00:00Z", "finalizers": ["f"],
				"labels": {"app": "x", "tier": "web"}, "annotations": {"team": "shop", "big": "x"},
				"ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "o1", "controller": true, "blockOwnerDeletion": true},
					{"apiVersion": "batch/v1", "kind": "Job", "name": "j", "uid": "o2"}]}}`,
		},
		{
			name: "managed fields read are kept", tree: `{metadata{managedFields~{manager*}}}`,
			in:   `{"metadata": {"name": "a", "managedFields": [{"manager": "kubelet", "fieldsV1": {}}]}}`,
			want: `{"metadata": {"name": "a", "managedFields": [{"manager": "kubelet"}]}}`,
		},
		{
			name: "metadata that is not a map is kept", tree: `{}`, in: `{"metadata": "odd"}`,
			want: `{"metadata": "odd"}`,
		},
		{
			name: "missing fields stay missing", tree: `{status{phase*,podIP*}}`, in: `{"status": {}}`,
			want: `{"status": {}}`,
		},
		{
			name: "scalars where maps were expected are kept", tree: `{status{phase{x*}}}`, in: `{"status": {"phase": "Running"}, "spec": "odd"}`,
			want: `{"status": {"phase": "Running"}}`,
		},
		{
			name: "lists of lists", tree: `{a{b*}}`, in: `{"a": [[{"b": 1, "c": 2}], [3]]}`,
			want: `{"a": [[{"b": 1}], [3]]}`,
		},
		{
			name: "quoted keys", tree: `{metadata,data{"a key"*}}`, in: `{"data": {"a key": 1, "b": 2}}`,
			want: `{"data": {"a key": 1}}`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tree := MustParse(tc.tree)
			in := obj(t, tc.in)
			before := obj(t, tc.in)
			got := tree.Apply(in)
			assert.Equal(t, obj(t, tc.want), got)
			assert.Equal(t, before, in, "Apply must not modify its input")
			assert.Equal(t, got, tree.Apply(got), "idempotent")
		})
	}
}

func TestApplyNilKeepsEverything(t *testing.T) {
	var tree *Tree
	in := obj(t, `{"metadata": {"managedFields": []}, "x": 1}`)
	assert.Equal(t, in, tree.Apply(in))
}

func TestParseString(t *testing.T) {
	cases := []struct{ in, want string }{
		{in: `{}`, want: `{}`},
		{in: `*`, want: `*`},
		{in: `nil`, want: `nil`},
		{in: `~`, want: `~`},
		{in: ` { b , a* } `, want: `{a*,b}`},
		{in: `{status{conditions~{type*,status*},phase*}}`, want: `{status{conditions~{status*,type*},phase*}}`},
		{in: `{"x y"*,"nil",""}`, want: `{"","nil","x y"*}`},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			tree, err := Parse(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.want, tree.String())
			again, err := Parse(tree.String())
			require.NoError(t, err)
			assert.True(t, tree.Equal(again))
		})
	}
	for _, bad := range []string{`{`, `{a`, `{a,a}`, `{a}}`, `{a b}`, `{"a}`, `{{}}`, `{a*{b}}`} {
		t.Run("bad "+bad, func(t *testing.T) {
			_, err := Parse(bad)
			require.ErrorIs(t, err, ErrSyntax)
		})
	}
}

func TestUnionAndEqual(t *testing.T) {
	cases := []struct {
		name  string
		trees []string
		want  string
	}{
		{name: "none", want: `{}`},
		{name: "disjoint", trees: []string{`{a*}`, `{b{c*}}`}, want: `{a*,b{c*}}`},
		{name: "All wins", trees: []string{`{a{b*}}`, `{a*}`}, want: `{a*}`},
		{name: "iterated adds up", trees: []string{`{a~}`, `{a{b*}}`}, want: `{a~{b*}}`},
		{name: "nil wins", trees: []string{`{a*}`, `nil`}, want: `nil`},
		{name: "root All", trees: []string{`*`, `{a}`}, want: `*`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var trees []*Tree
			for _, s := range tc.trees {
				trees = append(trees, MustParse(s))
			}
			u := Union(trees...)
			assert.Equal(t, tc.want, u.String())
			assert.True(t, u.Equal(MustParse(tc.want)))
			if u != nil {
				assert.True(t, u.Equal(u.Clone()))
			}
		})
	}
	assert.False(t, MustParse(`{a}`).Equal(MustParse(`{a*}`)))
	assert.False(t, MustParse(`{a}`).Equal(nil))
	assert.False(t, MustParse(`{a~}`).Equal(MustParse(`{a}`)))
}

func TestChildUnderAll(t *testing.T) {
	tree := New()
	tree.At("a").SetAll()
	tree.At("a", "b").SetIterated()
	assert.Equal(t, `{a*}`, tree.String())
}

// FuzzApply checks that Apply never panics on any JSON object, never
// modifies its input, and is idempotent, for trees parsed from the second
// input.
func FuzzApply(f *testing.F) {
	f.Add(`{"metadata": {"name": "a", "managedFields": []}, "spec": {"nodeName": "n", "x": [1, {"y": 2}]}}`, `{spec{x{y*}}}`)
	f.Add(`{"status": {"conditions": [{"type": "Ready"}]}}`, `{status{conditions~{type*}}}`)
	f.Add(`{"a": {"b": {"c": [[{"d": null}]]}}}`, `{a~{b{c{d}}}}`)
	f.Add(`{"spec": [1, 2]}`, `{spec{a}}`)
	f.Add(`{}`, `*`)
	f.Fuzz(func(t *testing.T, data, treeText string) {
		var in map[string]any
		if json.Unmarshal([]byte(data), &in) != nil {
			return
		}
		tree, err := Parse(treeText)
		if err != nil {
			tree = New()
		}
		var before map[string]any
		require.NoError(t, json.Unmarshal([]byte(data), &before))
		once := tree.Apply(in)
		assert.Equal(t, before, in, "input modified")
		assert.Equal(t, once, tree.Apply(once), "not idempotent")
		if tree != nil {
			again, err := Parse(tree.String())
			require.NoError(t, err)
			assert.True(t, tree.Equal(again), "String does not round-trip")
		}
	})
}

// BenchmarkApply trims a pod with two containers to what the shipped
// catalogue reads of pods, roughly: the cost added to each watch event.
func BenchmarkApply(b *testing.B) {
	in := obj(b, `{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": {"name": "a", "namespace": "ns", "labels": {"app": "x"}, "uid": "u",
			"managedFields": [{"manager": "kubelet", "fieldsV1": {"f:status": {}}}]},
		"spec": {"nodeName": "n1", "restartPolicy": "Always", "serviceAccountName": "sa",
			"containers": [{"name": "c", "image": "i", "env": [{"name": "A", "value": "1"}], "ports": [{"name": "http", "containerPort": 80}]},
			               {"name": "d", "image": "j", "resources": {"limits": {"cpu": "1"}}}],
			"volumes": [{"name": "v", "configMap": {"name": "cm"}}]},
		"status": {"phase": "Running", "podIP": "10.0.0.1", "qosClass": "Burstable",
			"conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "t"}, {"type": "PodScheduled", "status": "True"}],
			"containerStatuses": [{"name": "c", "ready": true, "restartCount": 0, "image": "i", "imageID": "x", "containerID": "y",
				"state": {"running": {"startedAt": "x"}}, "lastState": {}}]}
	}`)
	tree := MustParse(`{spec{containers{name*,ports*}},status{conditions~{lastTransitionTime*,message*,reason*,status*,type*},containerStatuses~{name*,lastState*,state*},phase*,podIP*,reason*}}`)
	b.ReportAllocs()
	for b.Loop() {
		_ = tree.Apply(in)
	}
}
