package sources

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/snapshot"
)

// cachedSources returns Sources whose pods source holds n cached pods
// (copies of the fixture in 100 namespaces on 50 nodes) as if its informer
// had synced, without an API server: Snapshot reads only the caches.
func cachedSources(tb testing.TB, n int) *Sources {
	tb.Helper()
	s := newSources(Options{})
	src, err := compile("pods", catalog.Source{Version: "v1", Resource: "pods"})
	require.NoError(tb, err)
	s.sources["pods"] = src
	s.disc = discovered{done: true, version: "v1.36.3", namespaced: map[string]bool{"v1/pods": true}, resources: []string{"v1/pods"}}
	key := src.keys(true)[0]
	i := newInformer(key)
	i.synced = func() bool { return true }
	data := readPod(tb)
	for n := range n {
		u := decodePod(tb, data)
		_, _ = trim(u)
		ns := fmt.Sprintf("ns-%d", n%100)
		u.SetNamespace(ns)
		u.SetName(fmt.Sprintf("pod-%d", n))
		u.SetUID(types.UID(fmt.Sprintf("uid-%d", n)))
		u.SetLabels(map[string]string{"app": fmt.Sprintf("app-%d", n%500), "tier": "web"})
		require.NoError(tb, unstructured.SetNestedField(u.Object, fmt.Sprintf("node-%d", n%50), "spec", "nodeName"))
		i.objects[objectKey(u)] = snapshot.NewObject(u.Object)
	}
	s.informers[key] = i
	return s
}

// BenchmarkSnapshot measures a tick's snapshot over 10,000 cached pods: the
// pointer copy from the cache and the snapshot's indexes (by namespace,
// node, owner, label, name and UID).
func BenchmarkSnapshot(b *testing.B) {
	s := cachedSources(b, 10_000)
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		snap := s.Snapshot(now)
		if snap.Set("pods").Len() != 10_000 {
			b.Fatal("wrong snapshot")
		}
	}
}
