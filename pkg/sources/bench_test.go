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
		o := snapshot.NewCompactObject(u.Object)
		i.set(o)
	}
	s.informers[key] = i
	return s
}

// BenchmarkSnapshot measures a tick's snapshot over n cached pods. With
// churn=0 nothing changed since the last tick; with churn=100, 100 pods
// were updated, deleted or created since, as on a busy cluster, which
// costs the informer a patch of its sorted objects.
func BenchmarkSnapshot(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 30_000} {
		for _, churn := range []int{0, 100} {
			b.Run(fmt.Sprintf("pods=%d/churn=%d", n, churn), func(b *testing.B) {
				s := cachedSources(b, n)
				i := s.informers[s.sources["pods"].keys(true)[0]]
				// Prepared objects: the benchmark measures the snapshot,
				// not decoding.
				objs := make([]*snapshot.Object, 0, n)
				i.each(func(o *snapshot.Object) { objs = append(objs, o) })
				now := time.Now()
				s.Snapshot(now) // the first list's sort
				b.ReportAllocs()
				next := 0
				for b.Loop() {
					for range churn {
						o := objs[next%n]
						next++
						switch next % 10 {
						case 0: // a pod deleted and another created
							i.delete(objectKey(o))
							i.set(snapshot.NewObject(map[string]any{"metadata": map[string]any{"namespace": o.Namespace, "name": o.Name + "-new"}}))
						case 1:
							i.delete(nameKey{o.Namespace, o.Name + "-new"})
							i.set(o)
						default: // a status update
							i.set(o)
						}
					}
					snap := s.Snapshot(now)
					if l := snap.Set("pods").Len(); l < n-churn || l > n+churn {
						b.Fatalf("snapshot of %d pods, want %d", l, n)
					}
				}
			})
		}
	}
}
