package engine

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/snapshot"
)

func compilePending(t testing.TB) *cel.Catalog {
	t.Helper()
	src, errs := catalog.Parse(catalog.NewFile("pending.yaml", []byte(pendingCatalog)))
	require.NoError(t, errs.Err())
	cat, errs := cel.Compile(src, cel.Options{})
	require.NoError(t, errs.Err())
	return cat
}

// asJSON renders a result as the outputs show it.
func asJSON(t *testing.T, res *Result) string {
	t.Helper()
	b, err := json.MarshalIndent(res, "", " ")
	require.NoError(t, err)
	return string(b)
}

// TestDeferredMessages: a tick that defers its Pending findings' messages,
// once WithMessages has rendered them, reads exactly as a tick that
// rendered them, tick after tick, through grace windows to firing; the
// deferred result itself is never written.
func TestDeferredMessages(t *testing.T) {
	engineWorld := newWorld()
	engineWorld.nodeReady["n1"] = false
	engineWorld.pods["a"] = map[string]string{"slow": "true", "broken": "true"}
	engineWorld.podNode["a"] = "n1"
	// Each engine ticks on snapshots of its own objects: what one engine's
	// evaluations remember on an object changes the other's costs.
	pending := func(d time.Duration) func() *snapshot.Snapshot {
		return func() *snapshot.Snapshot { return pendingSnapshot(300, t0.Add(d)) }
	}
	inWorld := func(d time.Duration) func() *snapshot.Snapshot {
		return func() *snapshot.Snapshot { return engineWorld.snapshot(t0.Add(d)) }
	}
	missing := func(d time.Duration) func() *snapshot.Snapshot {
		return func() *snapshot.Snapshot { return absenceWorld{namespaces: []string{"ctl-a"}}.snapshot(t0.Add(d)) }
	}
	tests := []struct {
		name  string
		cat   *cel.Catalog
		ticks []func() *snapshot.Snapshot
		// withMessage counts the Pending findings a tick must have with a
		// message, so that the comparison is not of empty strings.
		withMessage []int
	}{
		{
			name: "pods pending within grace, held by their pending Deployments",
			cat:  compilePending(t),
			// Unschedulable fires 5m after creation, PodNotReady (held by
			// the Deployment) stays pending until 10m.
			ticks:       []func() *snapshot.Snapshot{pending(0), pending(time.Minute), pending(4 * time.Minute)},
			withMessage: []int{210, 210, 110},
		},
		{
			name:        "a node pending with a message, a pod with a summary",
			cat:         compileFile(t, "testdata/engine.yaml"),
			ticks:       []func() *snapshot.Snapshot{inWorld(0), inWorld(time.Minute), inWorld(6 * time.Minute)},
			withMessage: []int{3, 2, 0}, // NodeDown and the PodBroken it holds; PodSlow's summary until it fires at 1m
		},
		{
			name:        "the stand-in of a missing object has no message while pending",
			cat:         compileFile(t, "testdata/absence.yaml"),
			ticks:       []func() *snapshot.Snapshot{missing(0), missing(30 * time.Second)},
			withMessage: []int{0, 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			rendered := New(tt.cat, Options{})
			deferred := New(tt.cat, Options{DeferPendingMessages: true})
			for i, snap := range tt.ticks {
				want := rendered.Tick(ctx, snap())
				got := deferred.Tick(ctx, snap())
				before := asJSON(t, got)
				n := 0
				for _, f := range got.Findings {
					if f.State == Pending {
						assert.Empty(t, f.Message, "tick %d: %s on %s is deferred", i, f.Reason, f.Subject)
					}
				}
				full := got.WithMessages(ctx)
				for _, f := range full.Findings {
					if f.State == Pending && f.Message != "" {
						n++
					}
				}
				// Cost is the tick's own spending, which no longer
				// includes the deferred messages.
				full.Cost, want.Cost = 0, 0
				assert.JSONEq(t, asJSON(t, want), asJSON(t, full), "tick %d", i)
				assert.Equal(t, tt.withMessage[i], n, "tick %d: Pending findings with a message", i)
				assert.Equal(t, before, asJSON(t, got), "tick %d: WithMessages must not write the result", i)
				assert.Same(t, want, want.WithMessages(ctx), "a result that deferred nothing is its own")
			}
		})
	}
}

// TestExplainRendersDeferredMessage: explain shows a Pending finding's
// message as the tick would have rendered it, with the catalogue of the
// result even after a reload.
func TestExplainRendersDeferredMessage(t *testing.T) {
	ctx := context.Background()
	cat := compilePending(t)
	want := New(cat, Options{}).Tick(ctx, pendingSnapshot(30, t0))
	snap := pendingSnapshot(30, t0)
	e := New(cat, Options{DeferPendingMessages: true})
	res := e.Tick(ctx, snap)
	const subject = "Pod/ns-0/app-0-6f7c9d-00003"
	// A reload between the tick and explain: the message stays the one of
	// the catalogue that decided.
	changed := strings.Replace(pendingCatalog, `" cannot be scheduled since "`, `" is stuck since "`, 1)
	src, errs := catalog.Parse(catalog.NewFile("changed.yaml", []byte(changed)))
	require.NoError(t, errs.Err())
	cat2, errs := cel.Compile(src, cel.Options{})
	require.NoError(t, errs.Err())
	e.Reload(cat2)

	ex, err := e.Explain(ctx, snap, res, subject)
	require.NoError(t, err)
	seen := 0
	for _, re := range ex.Reasons {
		if re.Finding == nil {
			continue
		}
		w := want.Find(re.Reason, subject)
		require.NotNil(t, w, re.Reason)
		require.Equal(t, Pending, re.Finding.State)
		assert.NotEmpty(t, w.Message)
		assert.Equal(t, w.Message, re.Finding.Message, re.Reason)
		assert.Empty(t, res.Find(re.Reason, subject).Message, "explain renders into a copy")
		seen++
	}
	assert.Equal(t, 2, seen, "PodUnschedulable and PodNotReady are pending on the pod")
}

// TestWithMessagesBounded: rendering stops with the reader's context, the
// summary standing in, as in a tick that ran out of budget.
func TestWithMessagesBounded(t *testing.T) {
	cat := compilePending(t)
	res := New(cat, Options{DeferPendingMessages: true}).Tick(context.Background(), pendingSnapshot(30, t0))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	full := res.WithMessages(ctx)
	n := 0
	for _, f := range full.Findings {
		if f.State == Pending {
			assert.Equal(t, cat.Reason(f.Reason).Summary, f.Message, f.Subject)
			n++
		}
	}
	assert.Positive(t, n)
}

// TestWithMessagesDuringTicks: readers render a result while the engine
// ticks on (go test -race).
func TestWithMessagesDuringTicks(t *testing.T) {
	ctx := context.Background()
	cat := compilePending(t)
	e := New(cat, Options{DeferPendingMessages: true})
	snap := pendingSnapshot(200, t0)
	res := e.Tick(ctx, snap)
	want := New(cat, Options{}).Tick(ctx, pendingSnapshot(200, t0))
	want.Cost = 0
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for range 3 {
				full := res.WithMessages(ctx)
				full.Cost = 0
				assert.JSONEq(t, asJSON(t, want), asJSON(t, full))
			}
		})
	}
	// The next ticks read the same objects, as the daemon's do: what they
	// remember and forget on them (cel.Forget) races with the readers.
	for range 5 {
		e.Tick(ctx, snap)
	}
	wg.Wait()
}

func TestCompareRefs(t *testing.T) {
	subjects := []Subject{
		{Kind: "Pod", Namespace: "a", Name: "x"},
		{Kind: "Pod", Namespace: "a-b", Name: "x"},
		{Kind: "Pod", Namespace: "a", Name: "x-y"},
		{Kind: "Pod", Namespace: "a", Name: "x/y"},
		{Kind: "Pod", Namespace: "ab", Name: "x"},
		{Kind: "Pod", Name: "a"},
		{Kind: "Pod", Name: "a/x"},
		{Kind: "Pod", Name: "a/x/z"},
		{Kind: "PodX", Namespace: "a", Name: "x"},
		{Kind: "Pod-", Namespace: "a", Name: "x"},
		{Kind: "Node", Name: "n"},
		{Kind: "", Name: ""},
		{Kind: "Pod", Namespace: "a", Name: ""},
		{Kind: "Pod", Namespace: "é", Name: "x"},
	}
	for _, a := range subjects {
		for _, b := range subjects {
			assert.Equal(t, strings.Compare(a.String(), b.String()), compareRefs(a, b), "%q vs %q", a.String(), b.String())
		}
	}
}

func FuzzCompareRefs(f *testing.F) {
	f.Add("Pod", "a", "x", "Pod", "a-b", "x")
	f.Add("Pod", "", "a/x", "Pod", "a", "x")
	f.Add("PodX", "a", "x", "Pod", "a", "x")
	f.Fuzz(func(t *testing.T, k1, ns1, n1, k2, ns2, n2 string) {
		a, b := Subject{Kind: k1, Namespace: ns1, Name: n1}, Subject{Kind: k2, Namespace: ns2, Name: n2}
		if got, want := compareRefs(a, b), strings.Compare(a.String(), b.String()); got != want {
			t.Fatalf("compareRefs(%q, %q) = %d, want %d", a.String(), b.String(), got, want)
		}
	})
}
