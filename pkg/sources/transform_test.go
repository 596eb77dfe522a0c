package sources

import (
	"os"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/cache"

	"statusd.io/statusd/internal/liveheap"
	"statusd.io/statusd/pkg/snapshot"
)

// testdata/pod.json is a pod of a two-container Deployment as the local
// control plane serves it (kube-controller-manager created it, kwok wrote
// its status), so its managedFields are those of a real pod.

// decodePod decodes the pod fixture the way the dynamic client decodes a
// watch event.
func decodePod(tb testing.TB, data []byte) *unstructured.Unstructured {
	tb.Helper()
	obj, err := kruntime.Decode(unstructured.UnstructuredJSONScheme, data)
	require.NoError(tb, err)
	return obj.(*unstructured.Unstructured)
}

func readPod(tb testing.TB) []byte {
	tb.Helper()
	data, err := os.ReadFile("testdata/pod.json")
	require.NoError(tb, err)
	return data
}

func TestTrim(t *testing.T) {
	lastApplied := "kubectl.kubernetes.io/last-applied-configuration"
	cases := []struct {
		name string
		in   any
		want any
	}{
		{
			name: "managed fields and last-applied go, the rest stays",
			in: &unstructured.Unstructured{Object: map[string]any{
				"metadata": map[string]any{
					"name":          "a",
					"managedFields": []any{map[string]any{"manager": "kubectl"}},
					"annotations":   map[string]any{lastApplied: "{}", "keep": "me"},
				},
				"spec": map[string]any{"x": int64(1)},
			}},
			want: &unstructured.Unstructured{Object: map[string]any{
				"metadata": map[string]any{"name": "a", "annotations": map[string]any{"keep": "me"}},
				"spec":     map[string]any{"x": int64(1)},
			}},
		},
		{
			name: "annotations left empty go",
			in: &unstructured.Unstructured{Object: map[string]any{
				"metadata": map[string]any{"name": "a", "annotations": map[string]any{lastApplied: "{}"}},
			}},
			want: &unstructured.Unstructured{Object: map[string]any{"metadata": map[string]any{"name": "a"}}},
		},
		{
			name: "no metadata",
			in:   &unstructured.Unstructured{Object: map[string]any{"kind": "X"}},
			want: &unstructured.Unstructured{Object: map[string]any{"kind": "X"}},
		},
		{
			name: "a tombstone passes through",
			in:   cache.DeletedFinalStateUnknown{Key: "ns/a"},
			want: cache.DeletedFinalStateUnknown{Key: "ns/a"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := trim(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			again, err := trim(got)
			require.NoError(t, err)
			assert.Equal(t, tc.want, again, "idempotent")
		})
	}
}

// TestTrimSavesMemory measures what a cached pod costs before and after
// the transform, and with the snapshot.Object parsed from it, and holds the
// saving to at least a quarter.
func TestTrimSavesMemory(t *testing.T) {
	const n = 2000
	data := readPod(t)
	base := liveheap.Bytes()
	pods := make([]*unstructured.Unstructured, n)
	for i := range pods {
		pods[i] = decodePod(t, data)
	}
	raw := liveheap.Bytes() - base
	for _, p := range pods {
		_, _ = trim(p)
	}
	trimmed := liveheap.Bytes() - base
	objs := make([]*snapshot.Object, n)
	for i, p := range pods {
		objs[i] = snapshot.NewObject(p.Object)
	}
	parsed := liveheap.Bytes() - base
	runtime.KeepAlive(pods)
	runtime.KeepAlive(objs)

	t.Logf("bytes per cached pod: decoded %d, trimmed %d (%.0f%% saved), trimmed and parsed %d",
		raw/n, trimmed/n, 100*(1-float64(trimmed)/float64(raw)), parsed/n)
	assert.Less(t, trimmed, raw*3/4)
}

// BenchmarkTrim measures the transform on a decoded pod, the cost added to
// every watch event.
func BenchmarkTrim(b *testing.B) {
	u := decodePod(b, readPod(b))
	md := u.Object["metadata"].(map[string]any)
	managed := md["managedFields"]
	b.ReportAllocs()
	for b.Loop() {
		md["managedFields"] = managed
		_, _ = trim(u)
	}
}
