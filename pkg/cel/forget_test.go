package cel

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"statusd.io/statusd/pkg/apischema"
	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/snapshot"
)

// TestForget checks that a converted value lives as long as ticks read it:
// Forget keeps what was read since the previous Forget, drops what was
// not (the gate outcomes stay), and an object two sets share is kept when
// read through either.
func TestForget(t *testing.T) {
	src, errs := catalog.Parse(catalog.NewFile("t.yaml", []byte(`apiVersion: statusd.io/v1alpha1
kind: Catalog
metadata: {name: t, version: "1"}
sources:
  pods: {version: v1, resource: pods}
  webPods: {version: v1, resource: pods, selector: app=web}
reasons:
- {name: Pending, subject: pods, summary: s, when: 'object.status.phase == "Pending"'}
- {name: Old, subject: webPods, summary: s, when: 'object.status.phase == "Running" && now - timestamp(object.metadata.creationTimestamp) > duration("1h")'}
`)))
	require.NoError(t, errs.Err())
	cat, cerrs := Compile(src, Options{Schemas: apischema.Chain{}})
	require.NoError(t, cerrs.Err())
	pod := func(name, phase, app string) *snapshot.Object {
		return snapshot.NewObject(map[string]any{
			"apiVersion": "v1", "kind": "Pod",
			"metadata": map[string]any{"name": name, "namespace": "ns", "uid": name, "creationTimestamp": "2026-01-01T00:00:00Z", "labels": map[string]any{"app": app}},
			"status":   map[string]any{"phase": phase},
		})
	}
	idle, web := pod("idle", "Running", "db"), pod("web", "Running", "web")
	at := time.Date(2026, 1, 1, 2, 0, 0, 0, time.UTC)
	// tick evaluates every reason on its subjects, then forgets.
	tick := func() *snapshot.Snapshot {
		b := snapshot.NewBuilder(at, snapshot.Cluster{})
		b.Add("pods", idle, web)
		b.Add("webPods", web)
		snap := b.Build()
		ev := cat.NewEvaluator(context.Background(), snap)
		for _, r := range cat.Reasons {
			for _, o := range snap.Set(r.Subject).Objects() {
				ev.When(r, o)
			}
		}
		Forget(snap)
		return snap
	}
	held := func(o *snapshot.Object) bool { return o.Cached().(*objCache).val.Load() != nil }

	tick()
	assert.True(t, held(idle), "read by the first tick")
	assert.True(t, held(web))
	tick()
	assert.False(t, held(idle), "the gate decided Pending on idle without reading it")
	assert.True(t, held(web), "Old reads the clock, so web is read every tick, though pods holds it too")
	assert.Equal(t, memoFalse, cacheOf(idle).memoFor(cat, "pods").load(0), "the gate outcome stays")
	tick()
	assert.True(t, held(web))
	// A reader after a Forget converts again.
	assert.NotNil(t, objectVal(idle))
	assert.True(t, held(idle))
}

// TestForgetWhileRead runs Forget while another evaluator (an explain
// request) reads the same objects: under the race detector, and every read
// gets a value.
func TestForgetWhileRead(t *testing.T) {
	objs := make([]*snapshot.Object, 200)
	b := snapshot.NewBuilder(time.Now(), snapshot.Cluster{})
	for i := range objs {
		objs[i] = snapshot.NewObject(map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": "p", "namespace": "ns", "uid": string(rune('a' + i))}})
		b.Add("pods", objs[i])
	}
	snap := b.Build()
	var wg sync.WaitGroup
	wg.Go(func() {
		for range 50 {
			Forget(snap)
		}
	})
	for range 2 {
		wg.Go(func() {
			for range 50 {
				for _, o := range objs {
					if objectVal(o) == nil {
						t.Error("no value")
						return
					}
				}
			}
		})
	}
	wg.Wait()
}
