package cel_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/snapshot"
)

// quadratic compares every pod with every pod: 10^10 steps over 100,000
// pods. It never short-circuits, since every pod has a name.
const quadratic = `cluster.objects("pods").all(p, cluster.objects("pods").all(q, p.metadata.name != "" && q.metadata.name != ""))`

// bigSnapshot holds n minimal pods in 100 namespaces.
func bigSnapshot(n int) (*snapshot.Snapshot, []*snapshot.Object) {
	b := snapshot.NewBuilder(t0, snapshot.Cluster{Version: "v1.36.3"})
	objs := make([]*snapshot.Object, n)
	for i := range objs {
		objs[i] = snapshot.NewObject(map[string]any{
			"apiVersion": "v1",
			"kind":       "Pod",
			"metadata": map[string]any{
				"namespace": "ns-" + strconv.Itoa(i%100),
				"name":      "pod-" + strconv.Itoa(i),
				"uid":       "uid-" + strconv.Itoa(i),
				"labels":    map[string]any{"app": "app-" + strconv.Itoa(i%10)},
			},
			"spec":   map[string]any{"nodeName": "node-" + strconv.Itoa(i%500)},
			"status": map[string]any{"phase": "Running"},
		})
	}
	b.Add("pods", objs...)
	return b.Build(), objs
}

// TestCostCutOff is the issue's "a quadratic expression over 100,000
// objects is refused at lint or cut off at run time": with the default
// size hint the estimate refuses it; with a hint that lets it through, the
// run-time limit cuts it off after CostLimit, long before its 10^10 steps.
func TestCostCutOff(t *testing.T) {
	body := pods + "reasons:\n" + reason("Quadratic", quadratic)
	_, errs := cel.Compile(parse(t, body), cel.Options{})
	require.Len(t, errs, 1)
	assert.Contains(t, errs[0].Msg, "exceeds the limit 10000000")

	c := compile(t, body, cel.Options{SourceSizeHint: 10})
	snap, objs := bigSnapshot(100_000)
	ev := c.NewEvaluator(context.Background(), snap)
	res := ev.When(c.Reason("Quadratic"), objs[0])
	assert.Equal(t, cel.Unknown, res.Outcome)
	require.ErrorIs(t, res.Err, cel.ErrCostLimit)
	assert.GreaterOrEqual(t, ev.Spent(), cel.DefaultCostLimit, "the cut-off evaluation is charged to the tick")

	t.Run("linear-look-up-passes", func(t *testing.T) {
		c := compile(t, pods+"reasons:\n"+reason("Crowded", `cluster.inNamespace("pods", object.metadata.namespace).filter(p, p.spec.nodeName == object.spec.nodeName).size() > 1`), cel.Options{})
		res := c.NewEvaluator(context.Background(), snap).When(c.Reason("Crowded"), objs[0])
		require.NoError(t, res.Err)
		assert.Equal(t, cel.True, res.Outcome, "pod-0 shares node-0 and ns-0 with pod-500")
		assert.Less(t, res.Cost, uint64(50_000), "a namespace's thousand pods, not the cluster's")
	})
	t.Run("cancelled-context", func(t *testing.T) {
		scan := compile(t, pods+"reasons:\n"+reason("Scan", `cluster.objects("pods").all(p, p.metadata.name != "")`), cel.Options{})
		res := scan.NewEvaluator(context.Background(), snap).When(scan.Reason("Scan"), objs[0])
		require.NoError(t, res.Err, "a single scan of 100,000 pods fits in the limit")
		assert.Equal(t, cel.True, res.Outcome)

		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		res = scan.NewEvaluator(ctx, snap).When(scan.Reason("Scan"), objs[0])
		assert.Equal(t, cel.Unknown, res.Outcome)
		require.Error(t, res.Err)
		assert.Contains(t, res.Err.Error(), "operation interrupted")
	})
}

// TestCostIsLinear pins the run-time cost of scans: it grows with the
// objects visited, a unit or so per call and field selected, and a label
// selection pays for what it returns.
func TestCostIsLinear(t *testing.T) {
	tests := []struct {
		name string
		when string
		// per is the cost added by each pod of the source.
		per float64
	}{
		{name: "scan", when: `cluster.objects("pods").all(p, p.metadata.name != "")`, per: 7},
		{name: "with-labels", when: `cluster.withLabels("pods", "", "app in (app-1, app-2)").size() >= 0`, per: 0.2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := compile(t, pods+"reasons:\n"+reason("R", tt.when), cel.Options{})
			cost := func(n int) float64 {
				snap, objs := bigSnapshot(n)
				res := c.NewEvaluator(context.Background(), snap).When(c.Reason("R"), objs[0])
				require.NoError(t, res.Err)
				return float64(res.Cost)
			}
			c1, c2 := cost(1000), cost(2000)
			assert.InDelta(t, tt.per*1000, c2-c1, tt.per*50, "cost added by 1,000 more pods")
		})
	}
}

// TestCostLimitOption checks a lower per-evaluation limit at run time.
func TestCostLimitOption(t *testing.T) {
	snap, objs := bigSnapshot(2_000)
	c := compile(t, pods+"reasons:\n"+reason("Scan", `cluster.objects("pods").all(p, p.metadata.name != "")`), cel.Options{CostLimit: 1_000_000, SourceSizeHint: 10})
	ev := c.NewEvaluator(context.Background(), snap)
	res := ev.When(c.Reason("Scan"), objs[0])
	require.NoError(t, res.Err, "2,000 pods fit in the limit")
	assert.Equal(t, cel.True, res.Outcome)

	c = compile(t, pods+"reasons:\n"+reason("Scan", `cluster.objects("pods").all(p, p.metadata.name != "")`), cel.Options{CostLimit: 1_000, SourceSizeHint: 10})
	res = c.NewEvaluator(context.Background(), snap).When(c.Reason("Scan"), objs[0])
	assert.Equal(t, cel.Unknown, res.Outcome)
	require.ErrorIs(t, res.Err, cel.ErrCostLimit)
}

// TestTickBudget checks that once a tick's budget is spent, every further
// evaluation of that evaluator is Unknown with ErrBudget, and that a new
// evaluator (the next tick) starts afresh.
func TestTickBudget(t *testing.T) {
	snap, objs := bigSnapshot(100)
	c := compile(t, pods+"reasons:\n"+reason("Neighbours", `cluster.inNamespace("pods", object.metadata.namespace).exists(p, p.metadata.name == "none")`)+
		"- {name: Message, subject: pods, when: 'true', summary: fallback, message: 'object.metadata.name'}\n",
		cel.Options{TickBudget: 20})
	r := c.Reason("Neighbours")
	ev := c.NewEvaluator(context.Background(), snap)
	first := ev.When(r, objs[0])
	require.NoError(t, first.Err, "the first evaluation runs")
	assert.Equal(t, cel.False, first.Outcome)
	require.Positive(t, first.Cost)
	ran, refused := 1, false
	for _, o := range objs[1:] {
		res := ev.When(r, o)
		if res.Err == nil {
			require.False(t, refused, "no evaluation runs after one is refused")
			ran++
			continue
		}
		refused = true
		require.ErrorIs(t, res.Err, cel.ErrBudget)
		assert.Equal(t, cel.Unknown, res.Outcome)
	}
	require.True(t, refused, "the budget ran out")
	// Every subject costs the same: one pod in its namespace.
	assert.Equal(t, int((20+first.Cost-1)/first.Cost), ran, "evaluations run until the budget is spent")
	assert.GreaterOrEqual(t, ev.Spent(), uint64(20))

	msg, err := ev.Message(c.Reason("Message"), objs[0])
	require.ErrorIs(t, err, cel.ErrBudget)
	assert.Equal(t, "fallback", msg, "the summary stands in")

	next := c.NewEvaluator(context.Background(), snap)
	assert.Equal(t, cel.False, next.When(r, objs[0]).Outcome, "the next tick has a fresh budget")
}
