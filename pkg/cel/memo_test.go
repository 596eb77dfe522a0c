package cel_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/snapshot"
)

// TestMemo checks what a gate remembers on an object (memo.go): a
// condition that reads only the object and params is evaluated once per
// object, a false conjunct of such kind decides a condition that also
// reads the clock, and nothing is remembered that could change: the clock,
// another object, an error, or a different catalogue's params.
func TestMemo(t *testing.T) {
	c := compile(t, evalCatalog+`reasons:
- {name: Pure, subject: pods, summary: s, when: 'object.status.phase == "Running" && variables.ready'}
- {name: Gated, subject: pods, summary: s, when: 'object.status.phase == "Running" && variables.age > params.stuck'}
- {name: Impure, subject: pods, summary: s, when: 'variables.age > params.stuck'}
- {name: Indexed, subject: pods, summary: s, when: 'variables["age"] > params.stuck'}
- {name: Lookup, subject: pods, summary: s, when: 'object.status.phase == "Running" && cluster.objects("nodes").size() > 1'}
- {name: Broken, subject: pods, summary: s, when: 'variables.broken'}
`, cel.Options{})
	// eval evaluates reason on o in a fresh evaluator (a new tick) over a
	// snapshot at time at holding o, and returns the outcome and the cost.
	eval := func(c *cel.Catalog, reason string, o *snapshot.Object, at time.Time, nodes int) (cel.Outcome, uint64) {
		b := snapshot.NewBuilder(at, snapshot.Cluster{Version: "v1.36.3"})
		b.Add("pods", o)
		for i := range nodes {
			b.Add("nodes", node(string(rune('a'+i)), "z1"))
		}
		ev := c.NewEvaluator(context.Background(), b.Build())
		res := ev.When(c.Reason(reason), o)
		return res.Outcome, ev.Spent()
	}
	running := func() *snapshot.Object { return newFixture().p1 } // Running, Ready, an hour old
	pending := func() *snapshot.Object { return newFixture().p2 } // Pending, five minutes old

	t.Run("pure condition: once per object", func(t *testing.T) {
		p := running()
		out, first := eval(c, "Pure", p, t0, 0)
		require.Equal(t, cel.True, out)
		require.Positive(t, first)
		out, again := eval(c, "Pure", p, t0.Add(time.Hour), 0)
		assert.Equal(t, cel.True, out, "remembered true")
		assert.Zero(t, again, "the next tick pays nothing")
		out, fresh := eval(c, "Pure", running(), t0, 0)
		assert.Equal(t, cel.True, out)
		assert.Equal(t, first, fresh, "a new object (the informer's next version) is evaluated again")
	})
	t.Run("false gate decides, true gate does not", func(t *testing.T) {
		p := pending()
		out, first := eval(c, "Gated", p, t0, 0)
		require.Equal(t, cel.False, out)
		require.Positive(t, first)
		out, again := eval(c, "Gated", p, t0, 0)
		assert.Equal(t, cel.False, out)
		assert.Zero(t, again)

		// The running pod passes the gate; the clock decides, tick by tick.
		r := running() // created an hour before t0
		out, _ = eval(c, "Gated", r, t0.Add(-55*time.Minute), 0)
		assert.Equal(t, cel.False, out, "five minutes old")
		out, cost := eval(c, "Gated", r, t0, 0)
		assert.Equal(t, cel.True, out, "an hour old: the remembered true gate did not decide")
		assert.Positive(t, cost)
	})
	t.Run("impure condition is never remembered", func(t *testing.T) {
		for _, reason := range []string{"Impure", "Indexed"} {
			p := pending()
			out, _ := eval(c, reason, p, t0, 0)
			assert.Equal(t, cel.False, out, reason)
			out, cost := eval(c, reason, p, t0.Add(time.Hour), 0)
			assert.Equal(t, cel.True, out, reason)
			assert.Positive(t, cost, reason)
		}
	})
	t.Run("other objects are read every tick", func(t *testing.T) {
		p := running()
		out, _ := eval(c, "Lookup", p, t0, 1)
		assert.Equal(t, cel.False, out)
		out, _ = eval(c, "Lookup", p, t0, 2)
		assert.Equal(t, cel.True, out, "a node appeared")
	})
	t.Run("errors are not remembered", func(t *testing.T) {
		p := running()
		out, first := eval(c, "Broken", p, t0, 0)
		require.Equal(t, cel.Unknown, out)
		out, again := eval(c, "Broken", p, t0, 0)
		assert.Equal(t, cel.Unknown, out)
		assert.Equal(t, first, again)
	})
	t.Run("another catalogue starts afresh", func(t *testing.T) {
		p := running()
		out, _ := eval(c, "Pure", p, t0, 0)
		require.Equal(t, cel.True, out)
		// The same reason name, reading params that now rule the pod out.
		other := compile(t, evalCatalog+`reasons:
- {name: Pure, subject: pods, summary: s, when: 'object.status.phase == "Running" && params.team == "db"'}
`, cel.Options{})
		out, cost := eval(other, "Pure", p, t0, 0)
		assert.Equal(t, cel.False, out)
		assert.Positive(t, cost)
	})
}
