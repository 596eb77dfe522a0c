package main

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"statusd.io/statusd/internal/fixtures"
	"statusd.io/statusd/internal/testenv"
	"statusd.io/statusd/pkg/apischema"
	"statusd.io/statusd/pkg/lint"
)

var (
	widgets      = apischema.GVR{Group: "example.com", Version: "v1", Resource: "widgets"}
	helmReleases = apischema.GVR{Group: fixtures.HelmReleases.Group, Version: fixtures.HelmReleases.Version, Resource: fixtures.HelmReleases.Resource}
)

// installCRDs installs the fixture CRDs (those make demo and the daemon's
// tests install) and the test's widgets CRD, waits until the cluster's
// /openapi/v3 publishes their schemas (which lags behind serving them),
// and removes them when the test ends, waiting until they are gone so that
// later tests may install them again.
func installCRDs(t *testing.T) {
	t.Helper()
	env := testenv.Shared()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dyn, err := dynamic.NewForConfig(env.Config())
	require.NoError(t, err)
	data, err := os.ReadFile("testdata/lint/crd-widgets.yaml")
	require.NoError(t, err)
	var obj map[string]any
	require.NoError(t, yaml.Unmarshal(data, &obj))
	crds := dyn.Resource(fixtures.CRDs)
	// An earlier test (the daemon's with the shipped catalogue) may have
	// installed the HelmRelease CRD and left it; it stays then.
	created := []string{"widgets.example.com"}
	_, err = crds.Get(ctx, "helmreleases.helm.toolkit.fluxcd.io", metav1.GetOptions{})
	haveHR := err == nil
	if !haveHR {
		require.True(t, apierrors.IsNotFound(err), "%v", err)
		created = append(created, "helmreleases.helm.toolkit.fluxcd.io")
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for _, name := range created {
			err := crds.Delete(ctx, name, metav1.DeleteOptions{})
			if apierrors.IsNotFound(err) {
				continue
			}
			assert.NoError(t, err)
			assert.Eventually(t, func() bool {
				_, err := crds.Get(ctx, name, metav1.GetOptions{})
				return apierrors.IsNotFound(err)
			}, 30*time.Second, 100*time.Millisecond, "CRD %s not removed", name)
		}
	})
	_, err = crds.Create(ctx, &unstructured.Unstructured{Object: obj}, metav1.CreateOptions{})
	require.NoError(t, err)
	if !haveHR {
		require.NoError(t, fixtures.CreateHelmReleaseCRD(ctx, dyn))
	}
	dc, err := discovery.NewDiscoveryClientForConfig(env.Config())
	require.NoError(t, err)
	cluster := apischema.NewCluster(dc)
	require.Eventually(t, func() bool {
		view := cluster.Refresh()
		for _, r := range []apischema.GVR{widgets, helmReleases} {
			if _, err := view.ResourceSchema(r); err != nil {
				return false
			}
		}
		return true
	}, 30*time.Second, 200*time.Millisecond, "the cluster never published the CRDs' schemas")
}

// TestLintKubeconfig types custom resources from the schemas a real API
// server serves for its installed CRDs (the same CRD lint otherwise reads
// with --crd), with every CRD the fixtures install.
func TestLintKubeconfig(t *testing.T) {
	installCRDs(t)
	kubeconfig := testenv.Shared().KubeconfigPath()
	tests := []struct {
		name string
		args []string
		exit int
		// want and notWant are lines (or parts of lines) of stdout.
		want, notWant []string
	}{
		{
			// The shipped catalogue reads HelmReleases, whose CRD preserves
			// unknown fields at its root: they stay dynamic, with a note,
			// and nothing else is said.
			name: "shipped-catalogue-clean", args: []string{"--fatal-warnings", "../../rules/catalog.yaml"}, exit: lint.ExitOK,
			want: []string{
				`source "helmreleases": the schema of helm.toolkit.fluxcd.io/v2/helmreleases preserves unknown fields at its top (x-kubernetes-preserve-unknown-fields), so its objects may have any field and stay dynamic`,
				`../../rules/catalog.yaml: ok: `,
			},
			notWant: []string{`no schema known for helm.toolkit.fluxcd.io/v2/helmreleases`, "warning:", "undefined field"},
		},
		{
			// A misspelt field of a custom resource is caught from the
			// served schema; a subtree that preserves unknown fields stays
			// dynamic.
			name: "crd-typed-from-the-cluster", args: []string{"testdata/lint/typed.yaml"}, exit: lint.ExitErrors,
			want: []string{
				`testdata/lint/typed.yaml:51:21: reason Untyped: when: undefined field 'anything'; the fields here are color, size, values`,
				`testdata/lint/typed.yaml:16:21: reason Misspelt: when: undefined field 'replicaz'; did you mean "replicas"?`,
			},
			notWant: []string{"reason FreeForm", `no schema known for example.com/v1/widgets`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"lint", "rules", "--kubeconfig", kubeconfig}, tt.args...), &stdout, &stderr)
			out := stdout.String() + stderr.String()
			assert.Equal(t, tt.exit, code, out)
			for _, w := range tt.want {
				assert.Contains(t, out, w)
			}
			for _, w := range tt.notWant {
				assert.NotContains(t, out, w)
			}
		})
	}
}

// TestClusterSchemasFollowCRDs: a refreshed view of the cluster's schemas
// sees a CRD's changed schema; a view keeps what it read, so one catalogue
// load is typed against one state of the cluster.
func TestClusterSchemasFollowCRDs(t *testing.T) {
	installCRDs(t)
	env := testenv.Shared()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dc, err := discovery.NewDiscoveryClientForConfig(env.Config())
	require.NoError(t, err)
	cluster := apischema.NewCluster(dc)
	fields := func(r apischema.Resolver) []string {
		s, err := r.ResourceSchema(widgets)
		require.NoError(t, err)
		spec := s.Properties["spec"]
		var out []string
		for f := range spec.Properties {
			out = append(out, f)
		}
		return out
	}
	before := cluster.Refresh()
	assert.ElementsMatch(t, []string{"size", "color", "values"}, fields(before))

	// The CRD gains a field, as an upgraded operator's CRD does.
	dyn, err := dynamic.NewForConfig(env.Config())
	require.NoError(t, err)
	crd, err := dyn.Resource(fixtures.CRDs).Get(ctx, "widgets.example.com", metav1.GetOptions{})
	require.NoError(t, err)
	versions, _, err := unstructured.NestedSlice(crd.Object, "spec", "versions")
	require.NoError(t, err)
	v0 := versions[0].(map[string]any)
	props := v0["schema"].(map[string]any)["openAPIV3Schema"].(map[string]any)["properties"].(map[string]any)["spec"].(map[string]any)["properties"].(map[string]any)
	props["shape"] = map[string]any{"type": "string"}
	require.NoError(t, unstructured.SetNestedSlice(crd.Object, versions, "spec", "versions"))
	_, err = dyn.Resource(fixtures.CRDs).Update(ctx, crd, metav1.UpdateOptions{})
	require.NoError(t, err)

	require.Eventually(t, func() bool {
		return len(fields(cluster.Refresh())) == 4
	}, 30*time.Second, 200*time.Millisecond, "a refreshed view never saw the new field")
	assert.ElementsMatch(t, []string{"size", "color", "values", "shape"}, fields(cluster.Refresh()))
	assert.ElementsMatch(t, []string{"size", "color", "values"}, fields(before), "a view keeps the schemas it read")

	// A group version that is not served is no schema, not an error.
	_, err = cluster.Refresh().ResourceSchema(apischema.GVR{Group: "nowhere.example.com", Version: "v1", Resource: "things"})
	assert.ErrorIs(t, err, apischema.ErrNotFound)
}
