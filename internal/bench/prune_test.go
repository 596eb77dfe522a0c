package bench

import (
	"context"
	"encoding/json"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"statusd.io/statusd/internal/liveheap"
	"statusd.io/statusd/pkg/engine"
	"statusd.io/statusd/pkg/snapshot"
)

// comparable renders findings as JSON, for readable diffs.
func comparable(tb testing.TB, fs []*engine.Finding) []string {
	tb.Helper()
	out := make([]string, 0, len(fs))
	for _, f := range fs {
		b, err := json.Marshal(f)
		require.NoError(tb, err)
		out = append(out, string(b))
	}
	return out
}

// TestPrunedFindings is the soundness check of cel.Catalog.Fields over the
// shipped catalogue: ticks over a generated cluster whose objects are
// trimmed to the fields find exactly what ticks over whole objects find
// (reasons, subjects, states, messages, errors, timers, suppression, and
// even the CEL cost, which decides cost-limit errors), through the grace
// windows to firing.
func TestPrunedFindings(t *testing.T) {
	src, cat := shipped(t)
	fields := cat.Fields()
	for _, name := range []string{"pods", "nodes", "addonPods", "helmreleases"} {
		require.NotNil(t, fields[name], "the shipped catalogue's %s must be prunable", name)
		require.False(t, fields[name].IsAll(), "the shipped catalogue reads only part of %s", name)
	}
	cluster := Cluster(3_000)

	whole := engine.New(cat, engine.Options{})
	trimmed := engine.New(cat, engine.Options{})
	ctx := context.Background()
	var firing int
	for _, d := range []time.Duration{0, time.Minute, 5 * time.Minute, 20 * time.Minute, 2 * time.Hour} {
		at := Now.Add(d)
		full, err := snapshot.Assemble(src, cluster, at)
		require.NoError(t, err)
		want := whole.Tick(ctx, full)
		got := trimmed.Tick(ctx, snapshot.Trim(full, fields))
		require.NotEmpty(t, want.Findings)
		assert.Equal(t, comparable(t, want.Findings), comparable(t, got.Findings), "findings at +%s", d)
		assert.Equal(t, comparable(t, want.Resolved), comparable(t, got.Resolved), "resolved at +%s", d)
		for _, f := range want.Findings {
			if f.State == engine.Firing {
				firing++
			}
		}
	}
	assert.Positive(t, firing, "the ticks must reach firing findings")
}

// TestPruneSavesMemory reports what a generated pod costs whole and
// trimmed to the shipped catalogue's pods tree.
func TestPruneSavesMemory(t *testing.T) {
	src, cat := shipped(t)
	tree := cat.Fields()["pods"]
	snap := Snapshot(src, Cluster(3_000))
	pods := snap.Set("pods").Objects()
	size := func(objs []map[string]any) int {
		b, err := json.Marshal(objs)
		require.NoError(t, err)
		return len(b)
	}
	var whole, trimmed []map[string]any
	for _, o := range pods {
		whole = append(whole, o.Content)
		trimmed = append(trimmed, tree.Apply(o.Content))
	}
	w, p := size(whole), size(trimmed)
	t.Logf("generated pods as JSON: %d bytes whole, %d trimmed to %s (%.0f%% saved)", w/len(pods), p/len(pods), tree, 100*(1-float64(p)/float64(w)))
	assert.Less(t, p, w)
}

// BenchmarkTickMemory reports what the evaluator keeps on the objects of a
// 10,000-pod cluster trimmed as the watch caches trim it: heap bytes per
// object in the steady state, after a first tick and a second over the
// same objects (the wrappers of the maps and lists the second tick read,
// those it did not being dropped by cel.Forget, the remembered gate
// outcomes and the engine's state; pkg/cel tree.go and memo.go), beyond
// the objects themselves, which TestPruneSavesMemory in pkg/sources
// measures.
func BenchmarkTickMemory(b *testing.B) {
	src, cat := shipped(b)
	trimmed := snapshot.Trim(Snapshot(src, cachedCluster(10_000)), cat.Fields())
	objects := 0
	for _, name := range trimmed.Sets() {
		objects += trimmed.Set(name).Len()
	}
	var kept uint64
	for b.Loop() {
		b.StopTimer()
		fresh := snapshot.Trim(trimmed, cat.Fields()) // new objects, nothing kept on them
		before := liveheap.Bytes()
		b.StartTimer()
		e := engine.New(cat, engine.Options{})
		e.Tick(context.Background(), fresh)
		e.Tick(context.Background(), resnapshot(fresh))
		b.StopTimer()
		kept = liveheap.Bytes() - before
		runtime.KeepAlive(e)
		runtime.KeepAlive(fresh)
		b.StartTimer()
	}
	b.ReportMetric(float64(kept)/float64(objects), "kept-B/object")
	b.ReportMetric(float64(objects), "objects")
}
