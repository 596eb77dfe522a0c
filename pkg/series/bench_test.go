package series

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func BenchmarkParse(b *testing.B) {
	for _, bb := range []struct {
		name, file, contentType string
	}{
		{name: "vllm text", file: "vllm.txt", contentType: "text/plain; version=0.0.4"},
		{name: "openmetrics", file: "openmetrics.txt", contentType: omType},
	} {
		b.Run(bb.name, func(b *testing.B) {
			body := readTestdata(b, bb.file)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(strings.NewReader(body), bb.contentType, Limits{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// vllmPages returns n scrapes of the testdata vLLM page (207 series) in
// which every value grows by its scrape's index, so counters and buckets
// stay counters.
func vllmPages(b *testing.B, n int) []*Page {
	b.Helper()
	first, err := Parse(strings.NewReader(readTestdata(b, "vllm.txt")), "", Limits{})
	require.NoError(b, err)
	pages := make([]*Page, n)
	for i := range pages {
		samples := make([]Sample, first.Len())
		for j, s := range first.Samples() {
			samples[j] = Sample{Series: s.Series, Value: s.Value + float64(i*(j%7))}
		}
		pages[i], err = NewPage(samples)
		require.NoError(b, err)
	}
	return pages
}

// vllmHistory is a full 15-minute history of the vLLM page scraped every
// 15s with up to ±2s of jitter.
func vllmHistory(b *testing.B) (*History, time.Time) {
	b.Helper()
	h := newTestHistory(b, Options{})
	var now time.Time
	for i, p := range vllmPages(b, 61) {
		now = t0.Add(time.Duration(i)*15*time.Second + time.Duration(i%5-2)*time.Second)
		require.NoError(b, h.Append(now, p))
	}
	return h, now
}

func BenchmarkAppend(b *testing.B) {
	pages := vllmPages(b, 64)
	h := newTestHistory(b, Options{})
	at := t0
	// Fill the retention window first so that the loop measures the steady
	// state: rings at size, one sample in and one out per series.
	for i := range 61 {
		at = at.Add(15 * time.Second)
		require.NoError(b, h.Append(at, pages[i%len(pages)]))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		at = at.Add(15 * time.Second)
		if err := h.Append(at, pages[i%len(pages)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkQuery(b *testing.B) {
	h, now := vllmHistory(b)
	success := mustSelector(b, `vllm:request_success_total{finished_reason="stop"}`)
	allSuccess := mustSelector(b, "vllm:request_success_total")
	waiting := mustSelector(b, "vllm:num_requests_waiting")
	latency := mustSelector(b, "vllm:e2e_request_latency_seconds")
	for _, bb := range []struct {
		name string
		q    func() (float64, error)
	}{
		{name: "value", q: func() (float64, error) { return h.Value(now, waiting) }},
		{name: "rate 5m one series", q: func() (float64, error) { return h.Rate(now, success, 5*time.Minute) }},
		{name: "rate 5m three series", q: func() (float64, error) { return h.Rate(now, allSuccess, 5*time.Minute) }},
		{name: "avg_over_time 5m", q: func() (float64, error) { return h.AvgOverTime(now, waiting, 5*time.Minute) }},
		{name: "quantile 5m", q: func() (float64, error) { return h.Quantile(now, 0.99, latency, 5*time.Minute) }},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bb.q(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
