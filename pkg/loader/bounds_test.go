package loader_test

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"statusd.io/statusd/internal/cpuclock"
	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/loader"
)

// TestHostileBounded loads each hostile mebibyte and the deep
// lists, and checks that the load ends, compiled or refused with a
// positioned error naming the bound, within the budget plus the most one
// expression may take (MaxExpressionSize bounds that to well under a
// second). The budget is lowered to keep the test short; BenchmarkHostile
// measures the default.
func TestHostileBounded(t *testing.T) {
	const budget = time.Second
	cases := append([]hostile{{"deep lists (the issue's 30 reasons)", func(int) string { return deepLists() }}}, hostileCatalogues...)
	// What each refusal says; "" for a catalogue that compiles.
	want := map[string]string{
		"deep lists (the issue's 30 reasons)": "x.yaml:10:9: reason R0: when: expression recursion limit exceeded: 100",
		"many reasons":                        "compile budget exhausted",
		"long expressions":                    "x.yaml:10:9: reason R0: when: expression code point size exceeds limit",
		"longest allowed expressions":         "compile budget exhausted",
		"deep list literals":                  "x.yaml:10:9: reason R0: when: expression recursion limit exceeded: 100",
		"deep map literals":                   "x.yaml:10:9: reason R0: when: expression recursion limit exceeded: 100",
		"many params":                         "compile budget exhausted",
		"deep params":                         "compile budget exhausted",
		"variable chain":                      "compile budget exhausted",
	}
	for _, h := range cases {
		t.Run(h.name, func(t *testing.T) {
			data := h.gen(hostileSize)
			start := cpuclock.Now()
			res := loader.Files([]*catalog.File{catalog.NewFile("x.yaml", []byte(data))}, nil, "x", cel.Options{CompileBudget: budget})
			spent := cpuclock.Now() - start
			// Decoding the YAML comes before the budget starts; both are
			// within the bound, GC included.
			assert.Less(t, spent, budget+3*time.Second, "CPU time to load")
			w, ok := want[h.name]
			require.True(t, ok, "no expectation for %q", h.name)
			if w == "" {
				assert.NoError(t, res.Err())
				return
			}
			require.Error(t, res.Err())
			assert.Contains(t, res.Problems.Error(), w)
			assert.ErrorIs(t, res.Err(), catalog.ErrInvalid, "the catalogue's fault, not statusd's")
		})
	}
}

// BenchmarkHostile loads each hostile mebibyte with the default bounds
// and reports CPU time and the peak heap of one load (peak-heap-MB,
// sampled every millisecond) beside the usual allocation counts.
// docs/bounds.md quotes the numbers.
func BenchmarkHostile(b *testing.B) {
	cases := append([]hostile{{"deep lists issue", func(int) string { return deepLists() }}}, hostileCatalogues...)
	for _, h := range cases {
		data := []byte(h.gen(hostileSize))
		b.Run(h.name, func(b *testing.B) {
			b.ReportAllocs()
			peak := heapPeak()
			clock := cpuclock.Start()
			var refused bool
			for range b.N {
				res := loader.Files([]*catalog.File{catalog.NewFile("x.yaml", data)}, nil, "x", cel.Options{})
				refused = res.Err() != nil
			}
			clock.Report(b)
			b.ReportMetric(peak()/(1<<20), "peak-heap-MB")
			b.ReportMetric(map[bool]float64{false: 0, true: 1}[refused], "refused")
		})
	}
}

// heapPeak samples the live heap until the returned function is called,
// and returns the largest sample.
func heapPeak() func() float64 {
	runtime.GC()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var peak uint64
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	return func() float64 {
		close(stop)
		wg.Wait()
		return float64(peak)
	}
}
