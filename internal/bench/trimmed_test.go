package bench

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"statusd.io/statusd/pkg/engine"
	"statusd.io/statusd/pkg/snapshot"
)

// BenchmarkTickTrimmed is BenchmarkTickShipped over objects held as the
// watch caches hold them: trimmed to the catalogue's fields and in compact
// form (snapshot.Trim), so that every field an expression reads goes
// through pkg/compact as in the daemon. TickShipped reads decoded maps.
func BenchmarkTickTrimmed(b *testing.B) {
	src, cat := shipped(b)
	for _, n := range []int{1_000, 10_000} {
		b.Run(fmt.Sprintf("pods=%d", n), func(b *testing.B) {
			steadyTicks(b, cat, snapshot.Trim(cachedSnapshot(src, n), cat.Fields()))
		})
	}
}

// BenchmarkTickTrimmedCold is BenchmarkTickShippedCold over trimmed,
// compact objects: each op ticks over objects new to statusd, trimmed and
// compacted again outside the timer.
func BenchmarkTickTrimmedCold(b *testing.B) {
	src, cat := shipped(b)
	for _, n := range []int{1_000, 10_000} {
		b.Run(fmt.Sprintf("pods=%d", n), func(b *testing.B) {
			snap := snapshot.Trim(cachedSnapshot(src, n), cat.Fields())
			e := engine.New(cat, engine.Options{})
			ctx := context.Background()
			e.Tick(ctx, snap)
			b.ReportAllocs()
			var res *engine.Result
			for b.Loop() {
				b.StopTimer()
				fresh := snapshot.Trim(snap, cat.Fields())
				runtime.GC() // the garbage of Trim is not the tick's
				b.StartTimer()
				res = e.Tick(ctx, fresh)
			}
			b.ReportMetric(float64(res.Evaluations), "evals/op")
		})
	}
}
