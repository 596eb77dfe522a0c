package sources

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"statusd.io/statusd/internal/liveheap"
	"statusd.io/statusd/internal/testenv"
	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/prune"
	"statusd.io/statusd/pkg/snapshot"
)

// informerOf returns the running informer of the pods in ns with label
// selector sel.
func informerOf(s *Sources, ns, sel string) *informer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.informers[informerKey{gvr: podsGVR, namespace: ns, selector: sel}]
}

// cachedPod returns the cached content of pod ns/name in i, or nil.
func cachedPod(i *informer, ns, name string) map[string]any {
	var out map[string]any
	i.each(func(o *snapshot.Object) {
		if o.Namespace == ns && o.Name == name {
			out = o.Map()
		}
	})
	return out
}

func has(obj map[string]any, path ...string) bool {
	_, found, _ := unstructured.NestedFieldNoCopy(obj, path...)
	return found
}

// TestPrunedCaches checks, against the API server, that the watch caches
// keep only the fields given (plus what Apply always keeps), that a metrics
// source's cache keeps what the scraper reads, and that a reload reading a
// new field restarts only the informer concerned, whose cache then has it.
func TestPrunedCaches(t *testing.T) {
	checkLeaks(t)
	env := testenv.Shared()
	client := env.Client()
	// Registered before newNamespace's cleanup, so it runs after the
	// namespace's deletion: the namespace controller LISTs what the
	// namespace holds, which later tests count as LIST requests.
	var ns string
	t.Cleanup(func() {
		deadline := time.Now().Add(waitTimeout)
		for time.Now().Before(deadline) {
			_, err := client.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return
			}
			time.Sleep(poll)
		}
		t.Errorf("namespace %s not deleted within %s", ns, waitTimeout)
	})
	ns = newNamespace(t, client, nil)
	scrapedPod(t, client, ns, "model-0", map[string]string{"app": "model"}, 9100)
	c := cat(map[string]catalog.Source{
		"pods": {Version: "v1", Resource: "pods", Namespaces: catalog.Namespaces{Names: []string{ns}}},
		"model": {Namespaces: catalog.Namespaces{Names: []string{ns}}, Metrics: &catalog.Scrape{
			Selector: "app=model", Port: catalog.IntOrString{Str: "metrics"},
			Interval: catalog.Duration{D: time.Minute}, Timeout: catalog.Duration{D: time.Second},
		}},
	})
	fields := map[string]*prune.Tree{"pods": prune.MustParse(`{status{phase*}}`)}
	s := runWith(t, env.Config(), c, fields, Options{ManualScrape: true})
	pods, model := informerOf(s, ns, ""), informerOf(s, ns, "app=model")
	require.NotNil(t, pods)
	require.NotNil(t, model)

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		o := cachedPod(pods, ns, "model-0")
		if assert.NotNil(c, o) {
			assert.Equal(c, "Running", o["status"].(map[string]any)["phase"])
		}
	}, waitTimeout, poll)
	t.Run("an object source keeps what is read", func(t *testing.T) {
		o := cachedPod(pods, ns, "model-0")
		assert.Equal(t, map[string]any{"phase": "Running"}, o["status"], "status.podIP is not read")
		assert.False(t, has(o, "spec"), "spec is not read and the pod has no node")
		assert.Equal(t, "Pod", o["kind"])
		assert.Equal(t, "model", o["metadata"].(map[string]any)["labels"].(map[string]any)["app"])
		assert.False(t, has(o, "metadata", "managedFields"))
	})
	t.Run("a metrics source keeps what the scraper reads", func(t *testing.T) {
		o := cachedPod(model, ns, "model-0")
		require.NotNil(t, o)
		assert.True(t, has(o, "status", "podIP"))
		containers := o["spec"].(map[string]any)["containers"].([]any)
		assert.Equal(t, map[string]any{"ports": []any{map[string]any{"name": "metrics", "containerPort": int64(9100), "protocol": "TCP"}}}, containers[0])
		targets := s.targets()
		require.Len(t, targets, 1)
		assert.Equal(t, "http://127.0.0.1:9100/metrics", targets[0].url)
	})
	t.Run("the same fields keep the informers", func(t *testing.T) {
		lists := s.Stats().Lists
		s.discover() // the periodic rediscovery reconciles too
		same := map[string]*prune.Tree{"pods": prune.MustParse(`{status{phase*}}`)}
		require.NoError(t, s.Apply(c, same))
		assert.Equal(t, lists, s.Stats().Lists)
		assert.Same(t, pods, informerOf(s, ns, ""))
		assert.Same(t, model, informerOf(s, ns, "app=model"))
	})
	t.Run("a reload that reads a new field refills the cache", func(t *testing.T) {
		more := map[string]*prune.Tree{"pods": prune.MustParse(`{spec{containers{image*}},status{phase*}}`)}
		require.NoError(t, s.Apply(c, more))
		restarted := informerOf(s, ns, "")
		assert.NotSame(t, pods, restarted, "the pods informer keeps other fields now")
		assert.Same(t, model, informerOf(s, ns, "app=model"), "the metrics source's fields did not change")
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			o := cachedPod(restarted, ns, "model-0")
			if assert.NotNil(c, o) && assert.True(c, has(o, "spec", "containers")) {
				assert.Equal(c, []any{map[string]any{"image": "registry.invalid/server:1"}}, o["spec"].(map[string]any)["containers"])
			}
		}, waitTimeout, poll)
		assert.Equal(t, snapshot.StatusReady, s.Status()["pods"].Status)
	})
	t.Run("nil fields keep whole objects", func(t *testing.T) {
		require.NoError(t, s.Apply(c, nil))
		whole := informerOf(s, ns, "")
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			o := cachedPod(whole, ns, "model-0")
			if assert.NotNil(c, o) {
				assert.True(c, has(o, "status", "podIP"))
				assert.True(c, has(o, "spec", "schedulerName"))
				assert.False(c, has(o, "metadata", "managedFields"))
			}
		}, waitTimeout, poll)
	})
}

// shippedPodsTree returns the tree the cluster-wide pods informer trims to
// under the shipped catalogue: the union over every source it serves
// (pods, addonPods, ...), as reconcile computes it.
func shippedPodsTree(tb testing.TB) *prune.Tree {
	tb.Helper()
	src, errs := catalog.Load("../../rules")
	require.NoError(tb, errs.Err())
	compiled, errs := cel.Compile(src, cel.Options{})
	require.NoError(tb, errs.Err())
	s := newSources(Options{})
	require.NoError(tb, s.Apply(src, compiled.Fields()))
	// Discovery serves every resource; only the pods informer matters here.
	namespaced := map[string]bool{"v1/pods": true}
	for _, cs := range src.Sources {
		namespaced[cs.GVR()] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.disc = discovered{done: true, namespaced: namespaced}
	tree, ok := s.wanted()[informerKey{gvr: podsGVR}]
	require.True(tb, ok, "the shipped catalogue watches every pod")
	require.NotNil(tb, tree, "the shipped catalogue's pods must be prunable")
	return tree
}

// TestPruneSavesMemory measures what a cached pod (testdata/pod.json, a
// real pod of the local control plane) costs decoded, trimmed of managed
// fields as before, trimmed to what the shipped catalogue reads, parsed
// into a snapshot.Object, and as the informers now hold it (trimmed, in
// compact form, with the key and resource version client-go reads), and
// holds the catalogue's trimming to half of what the managed-fields trim
// keeps, and the compact form to half of the trimmed one.
func TestPruneSavesMemory(t *testing.T) {
	const n = 2000
	tree := shippedPodsTree(t)
	data := readPod(t)
	// measure returns the live heap per pod of what keep returns for n
	// decoded pods.
	measure := func(keep func(*unstructured.Unstructured) any) uint64 {
		base := liveheap.Bytes()
		kept := make([]any, n)
		for i := range kept {
			kept[i] = keep(decodePod(t, data))
		}
		used := liveheap.Bytes() - base
		runtime.KeepAlive(kept)
		return used / n
	}
	raw := measure(func(u *unstructured.Unstructured) any { return u })
	trimmed := measure(func(u *unstructured.Unstructured) any { _, _ = trim(u); return u })
	pruned := measure(func(u *unstructured.Unstructured) any { u.Object = tree.Apply(u.Object); return u })
	prunedParsed := measure(func(u *unstructured.Unstructured) any {
		u.Object = tree.Apply(u.Object)
		return []any{u, snapshot.NewObject(u.Object)}
	})
	held := measure(func(u *unstructured.Unstructured) any {
		return &cached{obj: snapshot.NewCompactObject(tree.Apply(u.Object)), rv: u.GetResourceVersion()}
	})
	t.Logf("heap bytes per cached pod: decoded %d, managed fields trimmed %d, trimmed to the shipped catalogue's fields %d (%.0f%% less than managed fields trimmed), and parsed %d; as the informers hold it (compact) %d",
		raw, trimmed, pruned, 100*(1-float64(pruned)/float64(trimmed)), prunedParsed, held)
	t.Logf("the shipped catalogue's pods informer keeps %s", tree)
	assert.Less(t, pruned, trimmed/2)
	assert.Less(t, held, prunedParsed/2)
}

// BenchmarkPrune measures the transform that trims a decoded pod to the
// shipped catalogue's fields, the cost added to every watch event; compare
// BenchmarkTrim, the managed-fields trim it replaces.
func BenchmarkPrune(b *testing.B) {
	tree := shippedPodsTree(b)
	u := decodePod(b, readPod(b))
	b.ReportAllocs()
	for b.Loop() {
		_ = tree.Apply(u.Object)
	}
}
