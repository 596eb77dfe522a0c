package snapshot_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"statusd.io/statusd/pkg/snapshot"
)

func TestNewObject(t *testing.T) {
	created := time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		content map[string]any
		want    snapshot.Object
		labels  map[string]string
		ref     string
		id      string
		gv      schema.GroupVersion
	}{
		{
			name: "pod with owners and a controller",
			content: map[string]any{
				"apiVersion": "v1", "kind": "Pod",
				"metadata": map[string]any{
					"namespace": "shop", "name": "web-1", "uid": "pod-1",
					"labels":            map[string]any{"app": "web", "replicas": int64(3)},
					"creationTimestamp": "2026-03-01T11:00:00Z",
					"deletionTimestamp": created.Add(time.Hour),
					"ownerReferences": []any{
						map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "name": "cfg", "uid": "cm-1"},
						map[string]any{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web", "uid": "rs-1", "controller": true, "blockOwnerDeletion": true},
						map[string]any{"kind": "Thing", "name": "no-uid", "controller": true},
						"junk",
					},
				},
				"spec": map[string]any{"nodeName": "node-a"},
			},
			want: snapshot.Object{
				APIVersion: "v1", Kind: "Pod", Namespace: "shop", Name: "web-1", UID: "pod-1", Node: "node-a",
				Owners:     []string{"cm-1", "rs-1"},
				Controller: "rs-1",
				Created:    created,
				Deleting:   created.Add(time.Hour),
			},
			labels: map[string]string{"app": "web"},
			ref:    "Pod/shop/web-1", id: "pod-1", gv: schema.GroupVersion{Version: "v1"},
		},
		{
			name: "owner that is not the controller",
			content: map[string]any{
				"apiVersion": "batch/v1", "kind": "Job",
				"metadata": map[string]any{
					"namespace": "batch", "name": "nightly", "uid": "job-1",
					"ownerReferences": []any{map[string]any{"kind": "CronJob", "uid": "cj-1", "controller": false}},
				},
			},
			want: snapshot.Object{APIVersion: "batch/v1", Kind: "Job", Namespace: "batch", Name: "nightly", UID: "job-1", Owners: []string{"cj-1"}},
			ref:  "Job/batch/nightly", id: "job-1", gv: schema.GroupVersion{Group: "batch", Version: "v1"},
		},
		{
			name: "node is on itself",
			content: map[string]any{
				"apiVersion": "v1", "kind": "Node",
				"metadata": map[string]any{"name": "node-a", "uid": "node-1", "labels": map[string]any{}},
				"spec":     map[string]any{"nodeName": "ignored"},
			},
			want:   snapshot.Object{APIVersion: "v1", Kind: "Node", Name: "node-a", UID: "node-1", Node: "node-a"},
			labels: map[string]string{},
			ref:    "Node/node-a", id: "node-1", gv: schema.GroupVersion{Version: "v1"},
		},
		{
			name: "namespace",
			content: map[string]any{
				"apiVersion": "v1", "kind": "Namespace",
				"metadata": map[string]any{"name": "shop", "labels": map[string]any{"team": "web"}},
			},
			want:   snapshot.Object{APIVersion: "v1", Kind: "Namespace", Name: "shop"},
			labels: map[string]string{"team": "web"},
			ref:    "Namespace/shop", id: "Namespace/shop", gv: schema.GroupVersion{Version: "v1"},
		},
		{
			name:    "missing metadata",
			content: map[string]any{"apiVersion": "v1", "kind": "Pod"},
			want:    snapshot.Object{APIVersion: "v1", Kind: "Pod"},
			ref:     "Pod/", id: "Pod/", gv: schema.GroupVersion{Version: "v1"},
		},
		{
			name: "metadata of the wrong types",
			content: map[string]any{
				"apiVersion": 1, "kind": true,
				"metadata": map[string]any{"name": 7, "labels": []any{"a"}, "ownerReferences": "x", "creationTimestamp": int64(5)},
				"spec":     "none",
			},
			want: snapshot.Object{},
			ref:  "/", id: "/",
		},
		{
			name:    "bad timestamps are zero",
			content: map[string]any{"kind": "Pod", "metadata": map[string]any{"name": "p", "creationTimestamp": "yesterday"}},
			want:    snapshot.Object{Kind: "Pod", Name: "p"},
			ref:     "Pod/p", id: "Pod/p",
		},
		{
			name:    "nil content",
			content: nil,
			want:    snapshot.Object{},
			ref:     "/", id: "/",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := snapshot.NewObject(tt.content)
			assert.Equal(t, tt.content, o.Content)
			assert.Equal(t, tt.want.APIVersion, o.APIVersion)
			assert.Equal(t, tt.want.Kind, o.Kind)
			assert.Equal(t, tt.want.Namespace, o.Namespace)
			assert.Equal(t, tt.want.Name, o.Name)
			assert.Equal(t, tt.want.UID, o.UID)
			assert.Equal(t, tt.want.Node, o.Node)
			assert.Equal(t, tt.labels, o.LabelMap())
			assert.Equal(t, tt.want.Owners, o.Owners)
			assert.Equal(t, tt.want.Controller, o.Controller)
			assert.True(t, tt.want.Created.Equal(o.Created), "created %v, want %v", o.Created, tt.want.Created)
			assert.True(t, tt.want.Deleting.Equal(o.Deleting), "deleting %v, want %v", o.Deleting, tt.want.Deleting)
			assert.Equal(t, tt.ref, o.Ref())
			assert.Equal(t, tt.id, o.ID())
			assert.Equal(t, tt.gv, o.GroupVersion())
		})
	}
}

// TestObjectLabels checks that label selectors read an object's labels the
// same whether it is held decoded or compact, that a label whose value is
// not a string is absent, and that an object without labels has none.
func TestObjectLabels(t *testing.T) {
	content := func() map[string]any {
		return map[string]any{"kind": "Pod", "metadata": map[string]any{"name": "p", "labels": map[string]any{"app": "web", "tier": "", "replicas": int64(3)}}}
	}
	for _, tc := range []struct {
		name string
		obj  *snapshot.Object
	}{
		{"decoded", snapshot.NewObject(content())},
		{"compact", snapshot.NewCompactObject(content())},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ls := tc.obj.Labels()
			v, ok := ls.Lookup("app")
			assert.True(t, ok)
			assert.Equal(t, "web", v)
			assert.True(t, ls.Has("tier"), "an empty value is a label")
			assert.False(t, ls.Has("replicas"), "a value that is not a string is no label")
			assert.Empty(t, ls.Get("missing"))
			assert.Equal(t, map[string]string{"app": "web", "tier": ""}, tc.obj.LabelMap())
			for sel, want := range map[string]bool{"app=web": true, "app=web,tier=": true, "app!=web": false, "replicas": false, "!replicas": true} {
				s, err := labels.Parse(sel)
				require.NoError(t, err)
				assert.Equal(t, want, s.Matches(ls), sel)
			}
		})
	}
	none := snapshot.NewCompactObject(map[string]any{"kind": "Pod", "metadata": map[string]any{"name": "p"}})
	assert.False(t, none.Labels().Has("app"))
	assert.Nil(t, none.LabelMap())
}

func TestObjectCached(t *testing.T) {
	o := snapshot.NewObject(map[string]any{"kind": "Pod"})
	assert.Nil(t, o.Cached())
	assert.True(t, o.CompareAndSwapCached(nil, "converted"))
	assert.Equal(t, "converted", o.Cached())
	assert.False(t, o.CompareAndSwapCached(nil, "again"), "a second evaluator keeps the first one's cache")
	assert.Equal(t, "converted", o.Cached())
}

func TestResourceFor(t *testing.T) {
	tests := []struct {
		kind, want string
	}{
		{"Pod", "pods"},
		{"Endpoints", "endpoints"},
		{"EndpointSlice", "endpointslices"},
		{"Ingress", "ingresses"},
		{"IngressClass", "ingressclasses"},
		{"NetworkPolicy", "networkpolicies"},
		{"GatewayClass", "gatewayclasses"},
		{"Gateway", "gateways"},
		{"HTTPRoute", "httproutes"},
		{"StorageClass", "storageclasses"},
		{"Deployment", "deployments"},
		{"DaemonSet", "daemonsets"},
		{"PersistentVolumeClaim", "persistentvolumeclaims"},
		{"Node", "nodes"},
		{"Namespace", "namespaces"},
		{"HelmRelease", "helmreleases"},
		{"Mesh", "meshes"},
		{"Box", "boxes"},
		{"Patch", "patches"},
		{"Y", "ys"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			assert.Equal(t, tt.want, snapshot.ResourceFor(tt.kind))
		})
	}
}
