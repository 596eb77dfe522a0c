package cel_test

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/snapshot"
)

// compactPod is the two-container pod of pkg/sources' heap benchmark in
// compact form, as a watch cache holds it.
func compactPod(b *testing.B) *snapshot.Object {
	b.Helper()
	data, err := os.ReadFile("../sources/testdata/pod.json")
	require.NoError(b, err)
	var m map[string]any
	require.NoError(b, json.Unmarshal(data, &m))
	return snapshot.NewCompactObject(m)
}

// compactWhen reads nested maps, lists and scalars of a pod, none of them
// a gate (it reads now), so each evaluation reads its fields again.
const compactWhen = `object.status.containerStatuses.exists(s, s.restartCount >= 0 && s.name != "") && ` +
	`object.status.conditions.exists(c, c.type == "Ready" && c.status != "") && ` +
	`object.metadata.labels.size() > 0 && object.spec.containers.size() > 0 && ` +
	`now - timestamp(object.metadata.creationTimestamp) > duration("1s")`

// BenchmarkEvalCompact evaluates a condition over a compact pod: the
// steady state, where the wrappers of its maps and lists are kept and each
// scalar read is a compact Get (steady), and over a new copy of the pod
// each op (cold), where every map and list read is wrapped again.
func BenchmarkEvalCompact(b *testing.B) {
	c := compile(b, evalCatalog+"reasons:\n- name: R\n  subject: pods\n  summary: s\n  when: '"+compactWhen+"'\n",
		cel.Options{TickBudget: math.MaxUint64})
	r := c.Reason("R")
	p := compactPod(b)
	bld := snapshot.NewBuilder(t0, snapshot.Cluster{Version: "v1.30.2"})
	bld.Add("pods", p)
	snap := bld.Build()
	b.Run("steady", func(b *testing.B) {
		ev := c.NewEvaluator(context.Background(), snap)
		b.ReportAllocs()
		var res cel.Result
		for b.Loop() {
			res = ev.When(r, p)
		}
		require.NoError(b, res.Err)
		require.Equal(b, cel.True, res.Outcome)
	})
	b.Run("cold", func(b *testing.B) {
		ev := c.NewEvaluator(context.Background(), snap)
		m := p.Map()
		// Fresh copies are made a thousand at a time outside the timer,
		// which stopped for each op would measure itself.
		fresh := make([]*snapshot.Object, 1000)
		next := len(fresh)
		b.ReportAllocs()
		var res cel.Result
		for b.Loop() {
			if next == len(fresh) {
				b.StopTimer()
				for i := range fresh {
					fresh[i] = snapshot.NewCompactObject(m)
				}
				next = 0
				b.StartTimer()
			}
			res = ev.When(r, fresh[next])
			next++
		}
		require.NoError(b, res.Err)
		require.Equal(b, cel.True, res.Outcome)
	})
}
