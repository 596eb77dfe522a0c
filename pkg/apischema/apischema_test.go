package apischema_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"statusd.io/statusd/pkg/apischema"
)

func TestBuiltin(t *testing.T) {
	b, err := apischema.Builtin()
	require.NoError(t, err)
	tests := []struct {
		name       string
		gvr        apischema.GVR
		namespaced bool
		// path leads to a property; alwaysSet is whether Kubernetes
		// serves it even at its zero value.
		path      []string
		alwaysSet bool
	}{
		{name: "pod-phase-set-on-create", gvr: apischema.GVR{Version: "v1", Resource: "pods"}, namespaced: true, path: []string{"status", "phase"}, alwaysSet: true},
		{name: "pod-node-name-omitted", gvr: apischema.GVR{Version: "v1", Resource: "pods"}, namespaced: true, path: []string{"spec", "nodeName"}},
		{name: "deployment-replicas-defaulted", gvr: apischema.GVR{Group: "apps", Version: "v1", Resource: "deployments"}, namespaced: true, path: []string{"spec", "replicas"}, alwaysSet: true},
		{name: "deployment-available-omitted", gvr: apischema.GVR{Group: "apps", Version: "v1", Resource: "deployments"}, namespaced: true, path: []string{"status", "availableReplicas"}},
		{name: "node-cluster-scoped", gvr: apischema.GVR{Version: "v1", Resource: "nodes"}, path: []string{"spec", "unschedulable"}},
		{name: "endpoints-irregular-plural", gvr: apischema.GVR{Version: "v1", Resource: "endpoints"}, namespaced: true, path: []string{"subsets"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := b.ResourceSchema(tt.gvr)
			require.NoError(t, err)
			for _, p := range tt.path {
				prop, ok := s.Properties[p]
				require.True(t, ok, "no property %s", p)
				s = &prop
			}
			_, marked := s.Extensions[apischema.ExtAlwaysSet]
			assert.Equal(t, tt.alwaysSet, marked)
			ns, known := b.Namespaced(tt.gvr)
			assert.True(t, known)
			assert.Equal(t, tt.namespaced, ns)
		})
	}
	_, err = b.ResourceSchema(apischema.GVR{Group: "example.com", Version: "v1", Resource: "widgets"})
	assert.ErrorIs(t, err, apischema.ErrNotFound)
}

func TestLoadCRDs(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
		return p
	}
	good := write("crd.yaml", `apiVersion: v1
kind: ConfigMap
metadata: {name: skipped}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Cluster
  names: {plural: widgets, kind: Widget}
  versions:
  - name: v1
    served: true
    schema: {openAPIV3Schema: {type: object, properties: {spec: {type: object, properties: {size: {type: integer}}}}}}
`)
	c, err := apischema.LoadCRDs(good)
	require.NoError(t, err)
	s, err := c.ResourceSchema(apischema.GVR{Group: "example.com", Version: "v1", Resource: "widgets"})
	require.NoError(t, err)
	assert.Contains(t, s.Properties, "spec")
	assert.Contains(t, s.Properties["metadata"].Properties, "name", "metadata is typed as every served object's")
	ns, known := c.Namespaced(apischema.GVR{Group: "example.com", Version: "v1", Resource: "widgets"})
	assert.True(t, known)
	assert.False(t, ns)

	_, err = apischema.LoadCRDs(write("none.yaml", "apiVersion: v1\nkind: ConfigMap\n"))
	require.ErrorContains(t, err, "no CustomResourceDefinition with a schema in this file")
	_, err = apischema.LoadCRDs(write("broken.yaml", "kind: [\n"))
	require.ErrorContains(t, err, "document 1")
	_, err = apischema.LoadCRDs(filepath.Join(dir, "missing.yaml"))
	assert.ErrorContains(t, err, "read CRD file")
}
