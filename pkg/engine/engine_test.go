package engine

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/series"
	"statusd.io/statusd/pkg/snapshot"
)

var t0 = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

func compileFile(t testing.TB, path string) *cel.Catalog {
	t.Helper()
	src, errs := catalog.Load(path)
	require.NoError(t, errs.Err())
	c, errs := cel.Compile(src, cel.Options{})
	require.NoError(t, errs.Err())
	return c
}

// world is a small cluster whose state a test changes between ticks.
type world struct {
	nodeReady   map[string]bool
	pods        map[string]map[string]string // name → labels
	podNode     map[string]string
	metrics     map[string]*snapshot.PodMetrics
	podsFailing bool // the pods source is forbidden
}

func newWorld() *world {
	return &world{
		nodeReady: map[string]bool{"n1": true},
		pods:      map[string]map[string]string{},
		podNode:   map[string]string{},
		metrics:   map[string]*snapshot.PodMetrics{},
	}
}

func (w *world) snapshot(at time.Time) *snapshot.Snapshot {
	b := snapshot.NewBuilder(at, snapshot.Cluster{Version: "v1.36.3"})
	for name, ready := range w.nodeReady {
		st := "True"
		if !ready {
			st = "False"
		}
		b.Add("nodes", snapshot.NewObject(map[string]any{
			"apiVersion": "v1", "kind": "Node",
			"metadata": map[string]any{"name": name, "uid": "node-" + name},
			"status":   map[string]any{"conditions": []any{map[string]any{"type": "Ready", "status": st}}},
		}))
	}
	b.SetStatus("pods", snapshot.StatusReady, "")
	if w.podsFailing {
		b.SetStatus("pods", snapshot.StatusForbidden, "pods is forbidden: cannot list")
	} else {
		for name, ls := range w.pods {
			labels := map[string]any{}
			for k, v := range ls {
				labels[k] = v
			}
			b.Add("pods", snapshot.NewObject(map[string]any{
				"apiVersion": "v1", "kind": "Pod",
				"metadata": map[string]any{"name": name, "namespace": "ns", "uid": "pod-" + name, "labels": labels},
				"spec":     map[string]any{"nodeName": w.podNode[name]},
			}))
		}
	}
	for _, pm := range w.metrics {
		b.AddMetrics(pm)
	}
	return b.Build()
}

func (w *world) scrape(t *testing.T, pod string, at time.Time, text, failure string) {
	t.Helper()
	pm, ok := w.metrics[pod]
	if !ok {
		var err error
		pm, err = snapshot.NewPodMetrics("ns", pod, "scraped", series.Options{})
		require.NoError(t, err)
		w.metrics[pod] = pm
	}
	require.NoError(t, snapshot.Record(pm, at, text, failure))
}

func state(res *Result, reason, subject string) State {
	if f := res.Find(reason, subject); f != nil {
		return f.State
	}
	for _, f := range res.Resolved {
		if f.Reason == reason && f.Subject.String() == subject {
			return Resolved
		}
	}
	return ""
}

func TestGraceFiresAfterWindowWhateverTheTickTimes(t *testing.T) {
	cat := compileFile(t, "testdata/engine.yaml")
	tests := []struct {
		name  string
		ticks []time.Duration // offsets of ticks after the condition turns true
		want  []State
	}{
		{"punctual ticks", []time.Duration{0, time.Minute, 4 * time.Minute, 5 * time.Minute}, []State{Pending, Pending, Pending, Firing}},
		{"jittered ticks straddle the boundary", []time.Duration{0, 1*time.Minute + 7*time.Second, 4*time.Minute + 59*time.Second, 5*time.Minute + 3*time.Second}, []State{Pending, Pending, Pending, Firing}},
		{"one late tick after a long gap", []time.Duration{0, 17 * time.Minute}, []State{Pending, Firing}},
		{"tick just short of the boundary", []time.Duration{0, 5*time.Minute - time.Millisecond}, []State{Pending, Pending}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld()
			w.nodeReady["n1"] = false
			e := New(cat, Options{})
			for i, off := range tc.ticks {
				res := e.Tick(context.Background(), w.snapshot(t0.Add(off)))
				require.Equal(t, tc.want[i], state(res, "NodeDown", "Node/n1"), "tick %d at +%s", i, off)
			}
		})
	}
}

func TestGraceRestartsWhenConditionStopsHolding(t *testing.T) {
	cat := compileFile(t, "testdata/engine.yaml")
	w := newWorld()
	e := New(cat, Options{})
	w.nodeReady["n1"] = false
	e.Tick(context.Background(), w.snapshot(t0))
	w.nodeReady["n1"] = true
	res := e.Tick(context.Background(), w.snapshot(t0.Add(4*time.Minute)))
	require.Empty(t, state(res, "NodeDown", "Node/n1"))
	w.nodeReady["n1"] = false
	res = e.Tick(context.Background(), w.snapshot(t0.Add(6*time.Minute)))
	require.Equal(t, Pending, state(res, "NodeDown", "Node/n1"), "the window starts again at +6m")
	res = e.Tick(context.Background(), w.snapshot(t0.Add(10*time.Minute)))
	require.Equal(t, Pending, state(res, "NodeDown", "Node/n1"))
	res = e.Tick(context.Background(), w.snapshot(t0.Add(11*time.Minute)))
	require.Equal(t, Firing, state(res, "NodeDown", "Node/n1"))
}

func TestClearNeedsAnUnbrokenFalseWindow(t *testing.T) {
	cat := compileFile(t, "testdata/engine.yaml")
	w := newWorld()
	w.pods["p"] = map[string]string{"slow": "true"}
	e := New(cat, Options{})
	ctx := context.Background()
	e.Tick(ctx, w.snapshot(t0))
	res := e.Tick(ctx, w.snapshot(t0.Add(time.Minute)))
	require.Equal(t, Firing, state(res, "PodSlow", "Pod/ns/p"))

	w.pods["p"] = map[string]string{}
	res = e.Tick(ctx, w.snapshot(t0.Add(2*time.Minute)))
	f := res.Find("PodSlow", "Pod/ns/p")
	require.NotNil(t, f)
	require.Equal(t, Firing, f.State, "still firing while it clears")
	require.Equal(t, t0.Add(4*time.Minute), f.ClearsAt)

	// A true tick inside the clear window restarts it.
	w.pods["p"] = map[string]string{"slow": "true"}
	e.Tick(ctx, w.snapshot(t0.Add(3*time.Minute)))
	w.pods["p"] = map[string]string{}
	res = e.Tick(ctx, w.snapshot(t0.Add(4*time.Minute+30*time.Second)))
	require.Equal(t, Firing, state(res, "PodSlow", "Pod/ns/p"))
	res = e.Tick(ctx, w.snapshot(t0.Add(6*time.Minute+29*time.Second)))
	require.Equal(t, Firing, state(res, "PodSlow", "Pod/ns/p"))
	res = e.Tick(ctx, w.snapshot(t0.Add(6*time.Minute+31*time.Second)))
	require.Len(t, res.Resolved, 1)
	r := res.Resolved[0]
	require.Equal(t, "PodSlow", r.Reason)
	require.Equal(t, 5*time.Minute+31*time.Second, r.Duration, "fired from +1m to +6m31s")
	require.True(t, r.WasPublished)
}

func TestUnknownHoldsAFiringReason(t *testing.T) {
	cat := compileFile(t, "testdata/engine.yaml")
	w := newWorld()
	w.pods["srv"] = map[string]string{"app": "server"}
	e := New(cat, Options{})
	ctx := context.Background()

	w.scrape(t, "srv", t0, "queue_depth 50\n", "")
	res := e.Tick(ctx, w.snapshot(t0))
	f := res.Find("PodQueueFull", "Pod/ns/srv")
	require.NotNil(t, f)
	require.Equal(t, Firing, f.State)
	require.Equal(t, "queue depth 50", f.Message)

	// The scrape fails for longer than the clear window: the reason is
	// held, never resolved, because a failed scrape is not evidence of
	// recovery.
	for i := 1; i <= 5; i++ {
		at := t0.Add(time.Duration(i) * 30 * time.Second)
		w.scrape(t, "srv", at, "", "connection refused")
		res = e.Tick(ctx, w.snapshot(at))
		f = res.Find("PodQueueFull", "Pod/ns/srv")
		require.NotNil(t, f, "tick %d", i)
		require.Equal(t, Firing, f.State)
		require.True(t, f.Held)
		require.Contains(t, f.Err, "connection refused")
		require.Empty(t, res.Resolved)
	}

	// Real evidence of recovery: false for the clear window.
	w.scrape(t, "srv", t0.Add(3*time.Minute), "queue_depth 1\n", "")
	res = e.Tick(ctx, w.snapshot(t0.Add(3*time.Minute)))
	require.Equal(t, Firing, state(res, "PodQueueFull", "Pod/ns/srv"))
	w.scrape(t, "srv", t0.Add(4*time.Minute), "queue_depth 0\n", "")
	res = e.Tick(ctx, w.snapshot(t0.Add(4*time.Minute)))
	require.Equal(t, Resolved, state(res, "PodQueueFull", "Pod/ns/srv"))
}

func TestUnknownNeverFiresAndIsReported(t *testing.T) {
	cat := compileFile(t, "testdata/engine.yaml")
	w := newWorld()
	w.pods["srv"] = map[string]string{}
	e := New(cat, Options{})
	// No metrics at all for this pod: Unknown, with the reason why.
	res := e.Tick(context.Background(), w.snapshot(t0))
	f := res.Find("PodQueueFull", "Pod/ns/srv")
	require.NotNil(t, f)
	require.Equal(t, Unknown, f.State)
	require.Contains(t, f.Err, "not scraped")
	require.False(t, f.Published)
}

func TestPendingCauseHoldsSymptomThenSuppressesIt(t *testing.T) {
	cat := compileFile(t, "testdata/engine.yaml")
	w := newWorld()
	w.nodeReady["n1"] = false
	w.pods["p"] = map[string]string{"broken": "true"}
	w.podNode["p"] = "n1"
	w.pods["elsewhere"] = map[string]string{"broken": "true"}
	w.podNode["elsewhere"] = "n2"
	e := New(cat, Options{})
	ctx := context.Background()

	for _, off := range []time.Duration{0, 2 * time.Minute, 4*time.Minute + 59*time.Second} {
		res := e.Tick(ctx, w.snapshot(t0.Add(off)))
		require.Equal(t, Pending, state(res, "NodeDown", "Node/n1"), "+%s", off)
		f := res.Find("PodBroken", "Pod/ns/p")
		require.NotNil(t, f)
		require.Equal(t, Pending, f.State, "+%s: the symptom waits for its cause", off)
		require.False(t, f.Published)
		require.NotNil(t, f.HeldBy)
		require.Equal(t, "NodeDown", f.HeldBy.Reason)
		// A pod on another node is not joined and fires at once.
		require.Equal(t, Firing, state(res, "PodBroken", "Pod/ns/elsewhere"))
	}
	res := e.Tick(ctx, w.snapshot(t0.Add(6*time.Minute)))
	require.Equal(t, Firing, state(res, "NodeDown", "Node/n1"))
	f := res.Find("PodBroken", "Pod/ns/p")
	require.Equal(t, Suppressed, f.State)
	require.Equal(t, "NodeDown", f.SuppressedBy.Reason)
	require.Equal(t, "Node/n1", f.SuppressedBy.Subject.String())
	require.False(t, f.Published)

	// The node recovers; after its clear window the pod's own fault shows.
	w.nodeReady["n1"] = true
	res = e.Tick(ctx, w.snapshot(t0.Add(7*time.Minute)))
	require.Equal(t, Suppressed, state(res, "PodBroken", "Pod/ns/p"), "the cause still fires while it clears")
	res = e.Tick(ctx, w.snapshot(t0.Add(8*time.Minute)))
	require.Equal(t, Resolved, state(res, "NodeDown", "Node/n1"))
	f = res.Find("PodBroken", "Pod/ns/p")
	require.Equal(t, Firing, f.State)
	require.True(t, f.Published)
}

func TestSymptomReleasedWhenPendingCauseStopsHolding(t *testing.T) {
	cat := compileFile(t, "testdata/engine.yaml")
	w := newWorld()
	w.nodeReady["n1"] = false
	w.pods["p"] = map[string]string{"broken": "true"}
	w.podNode["p"] = "n1"
	e := New(cat, Options{})
	ctx := context.Background()
	res := e.Tick(ctx, w.snapshot(t0))
	require.Equal(t, Pending, state(res, "PodBroken", "Pod/ns/p"))
	w.nodeReady["n1"] = true
	res = e.Tick(ctx, w.snapshot(t0.Add(time.Minute)))
	require.Equal(t, Firing, state(res, "PodBroken", "Pod/ns/p"))
}

func TestPriorityPicksOneRootCause(t *testing.T) {
	cat := compileFile(t, "testdata/engine.yaml")
	w := newWorld()
	w.pods["p"] = map[string]string{"broken": "true", "slow": "true"}
	e := New(cat, Options{})
	ctx := context.Background()
	e.Tick(ctx, w.snapshot(t0))
	res := e.Tick(ctx, w.snapshot(t0.Add(2*time.Minute)))
	broken, slow := res.Find("PodBroken", "Pod/ns/p"), res.Find("PodSlow", "Pod/ns/p")
	require.True(t, broken.Root)
	require.True(t, broken.Published)
	require.False(t, slow.Root)
	require.False(t, slow.Published, "secondaries are not published by default")
	require.Len(t, res.Published(), 1)
}

func TestReloadCarriesStateOfUnchangedReasons(t *testing.T) {
	cat := compileFile(t, "testdata/engine.yaml")
	w := newWorld()
	w.pods["p"] = map[string]string{"slow": "true"}
	w.nodeReady["n1"] = false
	e := New(cat, Options{})
	ctx := context.Background()
	e.Tick(ctx, w.snapshot(t0))
	res := e.Tick(ctx, w.snapshot(t0.Add(time.Minute)))
	require.Equal(t, Firing, state(res, "PodSlow", "Pod/ns/p"))
	require.Equal(t, Pending, state(res, "NodeDown", "Node/n1"))

	// The same catalogue again: nothing restarts.
	e.Reload(compileFile(t, "testdata/engine.yaml"))
	res = e.Tick(ctx, w.snapshot(t0.Add(5*time.Minute)))
	require.Equal(t, Firing, state(res, "NodeDown", "Node/n1"), "grace kept its start across the reload")
	f := res.Find("PodSlow", "Pod/ns/p")
	require.Equal(t, t0.Add(time.Minute), f.FiringSince)

	// A changed definition restarts that reason only, and its published
	// finding is resolved so that its Event does not linger.
	changed := compileFile(t, "testdata/engine-changed.yaml")
	e.Reload(changed)
	res = e.Tick(ctx, w.snapshot(t0.Add(6*time.Minute)))
	var resolved []string
	for _, r := range res.Resolved {
		resolved = append(resolved, r.Reason+":"+r.ResolvedBecause)
	}
	require.Contains(t, resolved, "PodSlow:reason redefined in the catalogue")
	require.Equal(t, Pending, state(res, "PodSlow", "Pod/ns/p"), "the redefined reason starts its grace again")
	require.Equal(t, Firing, state(res, "NodeDown", "Node/n1"), "unchanged reasons keep firing")
}

func TestRestoreDoesNotReannounce(t *testing.T) {
	cat := compileFile(t, "testdata/engine.yaml")
	w := newWorld()
	w.nodeReady["n1"] = false
	e := New(cat, Options{})
	e.Restore([]Restored{{Reason: "NodeDown", Subject: Subject{APIVersion: "v1", Kind: "Node", Name: "n1", UID: "node-n1"}, FiringSince: t0.Add(-time.Hour)}})
	res := e.Tick(context.Background(), w.snapshot(t0))
	f := res.Find("NodeDown", "Node/n1")
	require.Equal(t, Firing, f.State, "no new grace window after a restart")
	require.Equal(t, t0.Add(-time.Hour), f.FiringSince)
}

func TestRestoredFindingResolvesWhenHealthy(t *testing.T) {
	cat := compileFile(t, "testdata/engine.yaml")
	w := newWorld()
	e := New(cat, Options{})
	e.Restore([]Restored{{Reason: "NodeDown", Subject: Subject{APIVersion: "v1", Kind: "Node", Name: "n1", UID: "node-n1"}, FiringSince: t0.Add(-time.Hour)}})
	e.Tick(context.Background(), w.snapshot(t0))
	res := e.Tick(context.Background(), w.snapshot(t0.Add(time.Minute)))
	require.Equal(t, Resolved, state(res, "NodeDown", "Node/n1"))
	require.True(t, res.Resolved[0].WasPublished)
}

func TestDeletedSubjectResolvesAndUnreadableSourceHolds(t *testing.T) {
	cat := compileFile(t, "testdata/engine.yaml")
	w := newWorld()
	w.pods["p"] = map[string]string{"broken": "true"}
	e := New(cat, Options{})
	ctx := context.Background()
	res := e.Tick(ctx, w.snapshot(t0))
	require.Equal(t, Firing, state(res, "PodBroken", "Pod/ns/p"))

	w.podsFailing = true
	res = e.Tick(ctx, w.snapshot(t0.Add(time.Minute)))
	f := res.Find("PodBroken", "Pod/ns/p")
	require.NotNil(t, f, "a forbidden source holds its findings")
	require.Equal(t, Unknown, f.State)
	require.True(t, f.Held)
	require.Contains(t, f.Err, "forbidden")
	require.Empty(t, res.Resolved)

	w.podsFailing = false
	delete(w.pods, "p")
	res = e.Tick(ctx, w.snapshot(t0.Add(2*time.Minute)))
	require.Len(t, res.Resolved, 1)
	require.Equal(t, "subject no longer exists", res.Resolved[0].ResolvedBecause)
}

func TestExplainShowsChainAndTimers(t *testing.T) {
	cat := compileFile(t, "testdata/engine.yaml")
	w := newWorld()
	w.nodeReady["n1"] = false
	w.pods["p"] = map[string]string{"broken": "true"}
	w.podNode["p"] = "n1"
	e := New(cat, Options{})
	ctx := context.Background()
	e.Tick(ctx, w.snapshot(t0))
	snap := w.snapshot(t0.Add(6 * time.Minute))
	res := e.Tick(ctx, snap)
	ex, err := e.Explain(ctx, snap, res, "Pod/ns/p")
	require.NoError(t, err)
	require.Equal(t, "Pod/ns/p", ex.Subject.String())
	var broken *ReasonExplanation
	for _, r := range ex.Reasons {
		if r.Reason == "PodBroken" {
			broken = r
		}
	}
	require.NotNil(t, broken)
	require.Equal(t, "true", broken.Outcome)
	require.NotEmpty(t, broken.Steps)
	require.Equal(t, Suppressed, broken.Finding.State)
	require.Len(t, broken.Chain, 1)
	require.Equal(t, "NodeDown", broken.Chain[0].Reason)
	require.Positive(t, broken.Cost)

	_, err = e.Explain(ctx, snap, res, "Pod/ns/nope")
	require.Error(t, err)
}
