package main

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"statusd.io/statusd/internal/testenv"
)

// TestLintKubeconfig types a custom resource from the schema a real API
// server serves for its installed CRD: the same CRD lint otherwise reads
// with --crd.
func TestLintKubeconfig(t *testing.T) {
	env := testenv.Shared()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dyn, err := dynamic.NewForConfig(env.Config())
	require.NoError(t, err)
	data, err := os.ReadFile("testdata/lint/crd-widgets.yaml")
	require.NoError(t, err)
	var obj map[string]any
	require.NoError(t, yaml.Unmarshal(data, &obj))
	crds := dyn.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"})
	_, err = crds.Create(ctx, &unstructured.Unstructured{Object: obj}, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = crds.Delete(context.Background(), "widgets.example.com", metav1.DeleteOptions{})
	})
	// The schema is served once the CRD is established.
	var out string
	require.Eventually(t, func() bool {
		var stdout, stderr bytes.Buffer
		run([]string{"lint", "rules", "--kubeconfig", env.KubeconfigPath(), "testdata/lint/typed.yaml"}, &stdout, &stderr)
		out = stdout.String()
		return !bytes.Contains(stdout.Bytes(), []byte(`source "widgets": no schema known`))
	}, 30*time.Second, 500*time.Millisecond, "the served schema never typed widgets")
	assert.Contains(t, out, `reason Untyped: when: undefined field 'anything'; the fields here are color, size`)
	assert.Contains(t, out, `reason Misspelt: when: undefined field 'replicaz'; did you mean "replicas"?`)
}
