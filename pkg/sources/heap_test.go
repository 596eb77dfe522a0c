package sources

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/cache"

	"statusd.io/statusd/internal/liveheap"
	"statusd.io/statusd/pkg/prune"
)

// podTemplates are the pods the heap benchmark caches: a Deployment's pod
// as the scale run's kwok nodes run it (testdata/kwok-pod.json, most of
// the pods of a large cluster) and a typical add-on's model server with
// more labels, annotations, probes and two containers
// (testdata/pod.json).
var podTemplates = []string{"testdata/kwok-pod.json", "testdata/kwok-pod.json", "testdata/pod.json"}

// podStream returns a function that makes the JSON of the n-th of many
// distinct pods, as the API server would serve them in a LIST: each
// template in turn, with its own name, uid, resource version, node and
// pod-template-hash.
func podStream(tb testing.TB) func(n int) []byte {
	tb.Helper()
	templates := make([]map[string]any, len(podTemplates))
	for i, p := range podTemplates {
		data, err := os.ReadFile(p)
		require.NoError(tb, err)
		require.NoError(tb, json.Unmarshal(data, &templates[i]))
	}
	return func(n int) []byte {
		t := templates[n%len(templates)]
		md := t["metadata"].(map[string]any)
		md["name"] = fmt.Sprintf("app-%d-7d9c5b8f6d-%05x", n%10, n)
		md["namespace"] = fmt.Sprintf("iaas-addon-scale-%04d", n/30)
		md["uid"] = fmt.Sprintf("0b6f1c9e-3f2a-4d8e-%04x-%012x", n%65536, n)
		md["resourceVersion"] = fmt.Sprint(1_000_000 + n)
		md["labels"].(map[string]any)["pod-template-hash"] = fmt.Sprintf("%010x", n/10)
		t["spec"].(map[string]any)["nodeName"] = fmt.Sprintf("kwok-node-%d", n%1000)
		data, err := json.Marshal(t)
		require.NoError(tb, err)
		return data
	}
}

// cacheThroughInformer runs n pods through what a watch cache does with
// each object of its first LIST: decode (the unstructured JSON scheme
// client-go's dynamic client uses), the informer's transform with the
// shipped catalogue's pods tree, client-go's store (keyed by
// namespace/name) and statusd's informer map, and a snapshot's sorted
// slice. It returns what is kept, for the caller to measure.
func cacheThroughInformer(tb testing.TB, tree *prune.Tree, n int, pod func(int) []byte) (cache.Indexer, *informer) {
	tb.Helper()
	s := newSources(Options{})
	i := newInformer(informerKey{gvr: podsGVR})
	s.trees[i.key] = tree
	transform := s.transform(i)
	store := cache.NewIndexer(cache.DeletionHandlingMetaNamespaceKeyFunc, cache.Indexers{})
	for k := range n {
		obj, err := kruntime.Decode(unstructured.UnstructuredJSONScheme, pod(k))
		require.NoError(tb, err)
		c, err := transform(obj)
		require.NoError(tb, err)
		require.NoError(tb, store.Add(c))
		s.put(i, c)
	}
	i.sortedObjects()
	return store, i
}

// heapProfile names a file BenchmarkCachedPodHeap writes a heap profile
// to while the pods are cached, for go tool pprof -sample_index=inuse_space
// (-memprofile writes one when the benchmark has dropped them).
var heapProfile = flag.String("heapprofile", "", "write a heap profile of the cached pods to this file")

func writeHeapProfile(tb testing.TB, path string) {
	tb.Helper()
	f, err := os.Create(path)
	require.NoError(tb, err)
	defer func() { require.NoError(tb, f.Close()) }()
	require.NoError(tb, pprof.WriteHeapProfile(f))
}

// maxPodHeap bounds the live heap a cached pod costs. Issue 17 asked for
// 3 KB; since objects are held as one byte encoding (pkg/compact) a pod
// costs 918 B here and 943 B in BenchmarkCachedPodHeap (go1.26, amd64),
// and the bound is that with a margin of over 15%, so that it does not
// flake and a change that costs memory per object shows.
const maxPodHeap = 1100

// TestCachedPodHeap holds a cached pod, decoded, trimmed to the shipped
// catalogue's fields and stored as the informers store it, to maxPodHeap.
func TestCachedPodHeap(t *testing.T) {
	const n = 3000
	pod := podStream(t)
	tree := shippedPodsTree(t)
	warm, warmInf := cacheThroughInformer(t, tree, 10, pod)
	base := liveheap.Bytes()
	store, i := cacheThroughInformer(t, tree, n, pod)
	perPod := (liveheap.Bytes() - base) / n
	runtime.KeepAlive(store)
	runtime.KeepAlive(i)
	runtime.KeepAlive(warm)
	runtime.KeepAlive(warmInf)
	require.Len(t, i.sortedObjects(), n)
	t.Logf("live heap per cached pod: %d bytes", perPod)
	assert.LessOrEqual(t, perPod, uint64(maxPodHeap))
}

// BenchmarkCachedPodHeap reports the live heap a cached pod costs, in
// B/pod: what remains after garbage collection of caching 10,000 distinct
// realistic pods through the real decode, trim and store path
// (cacheThroughInformer), divided by their number. TestCachedPodHeap
// holds it to maxPodHeap.
func BenchmarkCachedPodHeap(b *testing.B) {
	const n = 10_000
	pod := podStream(b)
	tree := shippedPodsTree(b)
	// A first few pods register what decoding registers once (types,
	// interned keys), which is no pod's cost.
	warm, warmInf := cacheThroughInformer(b, tree, 10, pod)
	var perPod float64
	for b.Loop() {
		b.StopTimer()
		base := liveheap.Bytes()
		b.StartTimer()
		store, i := cacheThroughInformer(b, tree, n, pod)
		b.StopTimer()
		perPod = float64(liveheap.Bytes()-base) / n
		if *heapProfile != "" {
			writeHeapProfile(b, *heapProfile)
		}
		runtime.KeepAlive(store)
		runtime.KeepAlive(i)
		b.StartTimer()
	}
	runtime.KeepAlive(warm)
	runtime.KeepAlive(warmInf)
	b.ReportMetric(perPod, "B/pod")
}
