package engine_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"statusd.io/statusd/pkg/apischema"
	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/engine"
	"statusd.io/statusd/pkg/snapshot"
)

// budgetCatalogue has n reasons on pods whose conditions cost the same:
// each holds on the pod named "hot" only. Every condition is written
// differently so that no two reasons share a remembered outcome.
func budgetCatalogue(t *testing.T, n int, budget uint64) (*catalog.Catalog, *cel.Catalog) {
	t.Helper()
	var b strings.Builder
	b.WriteString("apiVersion: statusd.io/v1alpha1\nkind: Catalog\nmetadata: {name: t, version: \"1\"}\nsources: {pods: {version: v1, resource: pods}}\nreasons:\n")
	for i := range n {
		fmt.Fprintf(&b, "- {name: R%d, subject: pods, summary: s, when: 'object.metadata.name == \"hot\" && %d >= 0'}\n", i, i)
	}
	src, errs := catalog.Parse(catalog.NewFile("t.yaml", []byte(b.String())))
	require.NoError(t, errs.Err())
	cat, cerrs := cel.Compile(src, cel.Options{Schemas: apischema.Chain{}, TickBudget: budget})
	require.NoError(t, cerrs.Err())
	return src, cat
}

// budgetTick ticks e over fresh pods (nothing remembered on them, so
// every condition costs the same every tick).
func budgetTick(e *engine.Engine, src *catalog.Catalog, i int, pods ...string) *engine.Result {
	b := snapshot.NewBuilder(time.Date(2026, 1, 1, 0, i, 0, 0, time.UTC), snapshot.ServedDefault(src, snapshot.Cluster{}))
	var objs []map[string]any
	for _, p := range pods {
		objs = append(objs, map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": p, "namespace": "ns", "uid": p}})
	}
	b.Select(src, objs, nil)
	return e.Tick(context.Background(), b.Build())
}

// costOfOne is what one condition evaluation costs in budgetCatalogue.
func costOfOne(t *testing.T) uint64 {
	src, cat := budgetCatalogue(t, 1, 0)
	res := budgetTick(engine.New(cat, engine.Options{}), src, 0, "cold")
	require.Equal(t, 1, res.Evaluations)
	require.NotZero(t, res.Cost)
	return res.Cost
}

func starvedNames(res *engine.Result) string {
	var out []string
	for _, s := range res.Starved {
		out = append(out, fmt.Sprintf("%s:%d", s.Reason, s.Subjects))
	}
	return strings.Join(out, " ")
}

// TestStarvationRotates runs ticks on a budget that buys a fixed number of
// evaluations and checks which reasons each tick starves: the next tick
// starts with the first reason the last one did not finish, so the
// starved reasons move round, and every reason is evaluated in full
// within a bounded number of ticks.
func TestStarvationRotates(t *testing.T) {
	one := costOfOne(t)
	tests := []struct {
		name    string
		reasons int
		pods    []string
		// evals is what the budget buys per tick.
		evals int
		// want is each tick's Result.Starved, as reason:subjects.
		want []string
	}{
		{
			name: "enough budget starves nothing", reasons: 3, pods: []string{"a", "b"}, evals: 6,
			want: []string{"", "", ""},
		},
		{
			name: "one reason's worth short", reasons: 3, pods: []string{"a", "b"}, evals: 4,
			want: []string{"R2:2", "R1:2", "R0:2", "R2:2"},
		},
		{
			name: "a reason cut in the middle resumes first", reasons: 4, pods: []string{"a", "b"}, evals: 3,
			want: []string{"R1:1 R2:2 R3:2", "R2:1 R3:2 R0:2", "R3:1 R0:2 R1:2", "R0:1 R1:2 R2:2", "R1:1 R2:2 R3:2"},
		},
		{
			name: "a budget for one evaluation still makes progress", reasons: 2, pods: []string{"a", "b", "c"}, evals: 1,
			want: []string{"R0:2 R1:3", "R0:2 R1:3"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src, cat := budgetCatalogue(t, tc.reasons, one*uint64(tc.evals))
			e := engine.New(cat, engine.Options{})
			full := map[string]bool{}
			for i, want := range tc.want {
				res := budgetTick(e, src, i, tc.pods...)
				assert.Equal(t, want, starvedNames(res), "tick %d", i)
				assert.LessOrEqual(t, res.Evaluations, tc.evals, "tick %d", i)
				starved := map[string]bool{}
				for _, s := range res.Starved {
					starved[s.Reason] = true
				}
				for _, r := range cat.Reasons {
					if !starved[r.Name] {
						full[r.Name] = true
					}
				}
			}
			if tc.evals >= len(tc.pods) {
				assert.Len(t, full, tc.reasons, "every reason is evaluated in full on some tick")
			}
		})
	}
}

// TestStarvedIsUnknown checks what a starved reason does to its findings:
// a firing one is held with the starvation error, a condition that holds
// starts nothing, and one that stopped holding clears nothing.
func TestStarvedIsUnknown(t *testing.T) {
	one := costOfOne(t)
	src, rich := budgetCatalogue(t, 2, 0)
	_, poor := budgetCatalogue(t, 2, one) // one evaluation: R0 on the first pod
	e := engine.New(rich, engine.Options{})

	// Tick 0, budget enough: both reasons fire on "hot".
	res := budgetTick(e, src, 0, "hot")
	require.Len(t, res.Findings, 2)
	for _, f := range res.Findings {
		require.Equal(t, engine.Firing, f.State)
	}

	// Tick 1, poor: R1 is starved on "hot" and held firing.
	e.Reload(poor)
	res = budgetTick(e, src, 1, "hot")
	assert.Equal(t, "R1:1", starvedNames(res))
	held := res.Find("R1", "Pod/ns/hot")
	require.NotNil(t, held)
	assert.Equal(t, engine.Firing, held.State)
	assert.True(t, held.Held)
	assert.Equal(t, "starved: tick budget exhausted", held.Err)
	assert.Empty(t, res.Resolved)

	// Tick 2, poor: the tick starts with R1, where the last one ran out,
	// so R0 is starved now and held.
	res = budgetTick(e, src, 2, "hot", "cold")
	assert.Equal(t, "R1:1 R0:2", starvedNames(res))
	r0 := res.Find("R0", "Pod/ns/hot")
	require.NotNil(t, r0)
	assert.Equal(t, engine.Firing, r0.State)
	assert.True(t, r0.Held, "a starved firing finding is held")
	assert.Empty(t, res.Resolved, "starvation clears nothing")

	// A condition that holds on a starved subject starts nothing: no
	// finding, and none on the next tick either.
	fresh := engine.New(poor, engine.Options{})
	for i := range 2 {
		res = budgetTick(fresh, src, i, "a", "hot")
		assert.Equal(t, "R0:1 R1:2", starvedNames(res))
		assert.Empty(t, res.Findings, "a starved reason started a finding")
	}
}
