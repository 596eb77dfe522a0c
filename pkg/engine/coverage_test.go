package engine

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"statusd.io/statusd/pkg/snapshot"
)

// saturatedPodSnapshot holds a pod created a day before t0 whose queue has been full
// all along; statusd starts scraping it at t0.
func saturatedPodSnapshot(pm *snapshot.PodMetrics, at time.Time) *snapshot.Snapshot {
	b := snapshot.NewBuilder(at, snapshot.Cluster{Version: "v1.36.3"})
	b.Add("pods", snapshot.NewObject(map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{
			"name": "srv", "namespace": "ns", "uid": "pod-srv", "labels": map[string]any{"app": "server"},
			"creationTimestamp": t0.Add(-24 * time.Hour).Format(time.RFC3339),
		},
	}))
	b.AddMetrics(pm)
	return b.Build()
}

// TestWindowCoverageDelaysAFirstFiring: statusd starts on a pod saturated
// for a day. Its grace (from the pod's creation) is long past, yet the
// reason is Unknown, never pending or firing, until five minutes of scrapes
// cover the window; then it fires.
func TestWindowCoverageDelaysAFirstFiring(t *testing.T) {
	cat := compileFile(t, "testdata/coverage.yaml")
	e := New(cat, Options{})
	w := newWorld()
	for i := 0; i <= 20; i++ {
		at := t0.Add(time.Duration(i) * 15 * time.Second)
		w.scrape(t, "srv", at, "queue_depth 64\n", "")
		res := e.Tick(context.Background(), saturatedPodSnapshot(w.metrics["srv"], at))
		f := res.Find("QueueSaturated", "Pod/ns/srv")
		require.NotNil(t, f, "tick %d", i)
		if i < 20 {
			require.Equal(t, Unknown, f.State, "tick %d at +%s", i, at.Sub(t0))
			assert.Contains(t, f.Err, "window not yet covered: ")
			assert.Contains(t, f.Err, " of 5m scraped")
			continue
		}
		require.Equal(t, Firing, f.State, "five minutes scraped")
		assert.True(t, f.Published)
	}
}

// TestWindowCoverageHoldsARestoredFinding: after a restart the finding is
// restored from its Event; the first scrapes cover no window, and the
// finding stays firing (held), neither resolved nor re-announced.
func TestWindowCoverageHoldsARestoredFinding(t *testing.T) {
	cat := compileFile(t, "testdata/coverage.yaml")
	e := New(cat, Options{})
	subj := Subject{APIVersion: "v1", Kind: "Pod", Namespace: "ns", Name: "srv", UID: "pod-srv"}
	since := t0.Add(-time.Hour)
	e.Restore([]Restored{{Reason: "QueueSaturated", Subject: subj, FiringSince: since}})
	w := newWorld()
	for i := 0; i <= 24; i++ {
		at := t0.Add(time.Duration(i) * 15 * time.Second)
		w.scrape(t, "srv", at, "queue_depth 64\n", "")
		res := e.Tick(context.Background(), saturatedPodSnapshot(w.metrics["srv"], at))
		require.Empty(t, res.Resolved, "tick %d", i)
		f := res.Find("QueueSaturated", "Pod/ns/srv")
		require.NotNil(t, f)
		require.Equal(t, Firing, f.State, "tick %d", i)
		assert.Equal(t, i < 20, f.Held, "held while the window is not covered, tick %d", i)
		assert.Equal(t, since, f.FiringSince, "the same episode")
	}
}
