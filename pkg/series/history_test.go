package series

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newTestHistory(t testing.TB, opts Options) *History {
	t.Helper()
	if opts.Target == "" {
		opts.Target = "test"
	}
	h, err := NewHistory(opts)
	require.NoError(t, err)
	return h
}

// page builds a Page from "series value" pairs.
func page(t testing.TB, kv ...any) *Page {
	t.Helper()
	var samples []Sample
	for i := 0; i < len(kv); i += 2 {
		v, ok := kv[i+1].(float64)
		if !ok {
			v = float64(kv[i+1].(int))
		}
		samples = append(samples, Sample{Series: mustSeries(t, kv[i].(string)), Value: v})
	}
	p, err := NewPage(samples)
	require.NoError(t, err)
	return p
}

func TestNewHistoryOptions(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantMsg string
	}{
		{name: "defaults", opts: Options{}},
		{name: "negative retention", opts: Options{Retention: -time.Second}, wantMsg: "negative"},
		{name: "negative samples", opts: Options{MaxSamples: -1}, wantMsg: "negative"},
		{name: "sub-millisecond staleness", opts: Options{StaleAfter: time.Microsecond}, wantMsg: "at least 1ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := NewHistory(tt.opts)
			if tt.wantMsg == "" {
				require.NoError(t, err)
				assert.Equal(t, DefaultRetention.Milliseconds(), h.retention)
				assert.Equal(t, DefaultStaleAfter.Milliseconds(), h.staleAfter)
				assert.Equal(t, DefaultMaxSamples, h.maxSamples)
				assert.Equal(t, DefaultMaxSeries, h.maxSeries)
				return
			}
			require.ErrorIs(t, err, ErrInvalidArgument)
			assert.Contains(t, err.Error(), tt.wantMsg)
		})
	}
}

func TestAppendEndsMissingSeries(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	h := newTestHistory(t, Options{})
	require.NoError(t, h.Append(t0, page(t, `m{a="1"}`, 1, `m{a="2"}`, 2)))
	require.NoError(t, h.Append(t0.Add(15*time.Second), page(t, `m{a="1"}`, 3)))
	require.NoError(t, h.Append(t0.Add(30*time.Second), page(t, `m{a="1"}`, 5)))

	tr := h.byKey[mustSeries(t, `m{a="2"}`).key()]
	require.NotNil(t, tr)
	require.Equal(t, 2, tr.samples.len(), "one end marker, not one per scrape")
	_, v := tr.samples.at(1)
	assert.True(t, isStale(v))

	v, err := h.Value(t0.Add(30*time.Second), mustSelector(t, "m"))
	require.NoError(t, err)
	assert.InDelta(t, 5.0, v, 0)

	// The series comes back when a page has it again.
	require.NoError(t, h.Append(t0.Add(45*time.Second), page(t, `m{a="1"}`, 7, `m{a="2"}`, 1)))
	v, err = h.Value(t0.Add(45*time.Second), mustSelector(t, "m"))
	require.NoError(t, err)
	assert.InDelta(t, 8.0, v, 0)
}

func TestAppendAndFailOrder(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	h := newTestHistory(t, Options{})
	require.NoError(t, h.Append(t0, page(t, "up", 1)))

	err := h.Append(t0, page(t, "up", 1))
	require.ErrorIs(t, err, ErrOutOfOrder)
	assert.Contains(t, err.Error(), `record scrape on target "test": scrape out of order: 2023-11-14T22:13:20Z is not after the previous scrape at 2023-11-14T22:13:20Z`)
	require.ErrorIs(t, h.Fail(t0.Add(-time.Second), errors.New("x")), ErrOutOfOrder)
	require.ErrorIs(t, h.Append(t0.Add(time.Second), nil), ErrInvalidArgument)
	require.ErrorIs(t, h.Fail(t0.Add(time.Second), nil), ErrInvalidArgument)
	assert.Equal(t, t0, h.Status().LastScrape, "refused scrapes are not recorded")
}

func TestRetentionForgetsOldSamplesAndSeries(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	h := newTestHistory(t, Options{Retention: time.Minute})
	require.NoError(t, h.Append(t0, page(t, "gone", 1, "kept", 1)))
	for i := 1; i <= 6; i++ {
		require.NoError(t, h.Append(t0.Add(time.Duration(i)*15*time.Second), page(t, "kept", float64(i))))
	}
	// At 90s the retention is (30s, 90s]: gone's sample at 0s and its end
	// marker at 15s have left, and so has the series.
	assert.NotContains(t, h.byName, "gone")
	assert.Len(t, h.byKey, 1)
	kept := h.byName["kept"][0]
	assert.Equal(t, 5, kept.samples.len(), "samples at 30s..90s")
	// Scrape records outlive samples by the staleness bound (5m by
	// default), for window coverage: all seven are still there.
	assert.Equal(t, 7, h.scrapes.len())
	assert.Equal(t, 1, h.Status().Series)
}

func TestMaxSamplesKeepsTheNewest(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	h := newTestHistory(t, Options{MaxSamples: 5})
	for i := range 12 {
		require.NoError(t, h.Append(t0.Add(time.Duration(i)*time.Second), page(t, "c", i)))
	}
	r := &h.byName["c"][0].samples
	require.Equal(t, 5, r.len())
	assert.Len(t, r.t, 5, "the ring stops growing at MaxSamples")
	for i := range 5 {
		ts, v := r.at(i)
		assert.Equal(t, t0.Add(time.Duration(7+i)*time.Second).UnixMilli(), ts)
		assert.InDelta(t, float64(7+i), v, 0)
	}
}

func TestMaxSeriesFailsTheScrape(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	h := newTestHistory(t, Options{MaxSeries: 2})
	require.NoError(t, h.Append(t0, page(t, "a", 1, "b", 1)))
	err := h.Append(t0.Add(time.Second), page(t, "a", 2, "c", 1))
	require.ErrorIs(t, err, ErrTooLarge)
	assert.Contains(t, err.Error(), "3 series, more than 2")

	_, err = h.Value(t0.Add(time.Second), mustSelector(t, "a"))
	require.ErrorIs(t, err, ErrScrapeFailed)
	require.ErrorIs(t, err, ErrTooLarge)
	assert.Len(t, h.byKey, 2, "nothing of the refused page is stored")
}

func TestStatusAndCheck(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	h := newTestHistory(t, Options{Target: "default/vllm-0", StaleAfter: 30 * time.Second})

	assert.Equal(t, Status{Target: "default/vllm-0"}, h.Status())
	err := h.Check(t0)
	require.ErrorIs(t, err, ErrNoData)
	require.EqualError(t, err, `target "default/vllm-0": no data: not scraped yet`)

	require.NoError(t, h.Append(t0, page(t, "up", 1)))
	require.NoError(t, h.Check(t0.Add(30*time.Second)))
	err = h.Check(t0.Add(31 * time.Second))
	require.ErrorIs(t, err, ErrStale)
	require.EqualError(t, err, `target "default/vllm-0": stale data: last successful scrape 31s ago, more than 30s`)

	cause := errors.New("dial tcp 10.0.0.7:8000: connect: connection refused")
	require.NoError(t, h.Fail(t0.Add(40*time.Second), cause))
	err = h.Check(t0.Add(45 * time.Second))
	require.ErrorIs(t, err, ErrScrapeFailed)
	require.ErrorIs(t, err, cause)
	require.EqualError(t, err, `target "default/vllm-0": scrape failed 5s ago: dial tcp 10.0.0.7:8000: connect: connection refused`)
	require.NoError(t, h.Check(t0.Add(20*time.Second)), "a query before the failure still sees the success")

	assert.Equal(t, Status{
		Target:      "default/vllm-0",
		LastScrape:  t0.Add(40 * time.Second),
		LastSuccess: t0,
		LastError:   cause,
		Series:      1,
	}, h.Status())
}

func TestRing(t *testing.T) {
	var r ring[float64]
	_, _, ok := r.last()
	assert.False(t, ok)
	assert.Equal(t, 0, r.search(0))
	r.dropBefore(100)

	for i := range 6 {
		r.push(int64(i*10), float64(i), 8)
	}
	assert.Len(t, r.t, 8)
	// Wrap around: drop the two oldest, push four more so the ring is
	// full and its head is not at 0.
	r.dropBefore(20)
	for i := 6; i < 10; i++ {
		r.push(int64(i*10), float64(i), 8)
	}
	require.Equal(t, 8, r.len())
	assert.NotEqual(t, 0, r.head)
	for i := range 8 {
		ts, v := r.at(i)
		assert.Equal(t, int64((i+2)*10), ts)
		assert.InDelta(t, float64(i+2), v, 0)
	}
	assert.Equal(t, 0, r.search(19))
	assert.Equal(t, 1, r.search(20), "search finds the first entry after t")
	assert.Equal(t, 8, r.search(90))

	// Past the cap the oldest is overwritten.
	r.push(100, 10, 8)
	ts, _ := r.at(0)
	assert.Equal(t, int64(30), ts)
	ts, v, _ := r.last()
	assert.Equal(t, int64(100), ts)
	assert.InDelta(t, 10.0, v, 0)

	// Growing unrolls a wrapped ring in order.
	r.push(110, 11, 16)
	assert.Len(t, r.t, 16)
	assert.Equal(t, 0, r.head)
	for i := range r.len() {
		ts, _ := r.at(i)
		assert.Equal(t, int64((i+3)*10), ts)
	}

	r.dropBefore(1000)
	assert.Equal(t, 0, r.len())
}

func TestRingOfErrorsReleasesDroppedErrors(t *testing.T) {
	var r ring[error]
	for i := range 4 {
		r.push(int64(i), fmt.Errorf("e%d", i), 4)
	}
	r.dropBefore(2)
	require.NoError(t, r.v[0], "dropped errors are released")
	require.NoError(t, r.v[1], "dropped errors are released")
}

// TestConcurrentAppendAndQuery lets the race detector watch a scraper
// appending while rule evaluation reads, as they run in statusd.
func TestConcurrentAppendAndQuery(t *testing.T) {
	h := newTestHistory(t, Options{})
	sel := mustSelector(t, "c")
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			if i%10 == 9 {
				assert.NoError(t, h.Fail(at(float64(i)), errors.New("timeout")))
				continue
			}
			assert.NoError(t, h.Append(at(float64(i)), page(t, "c", i, `c_bucket{le="+Inf"}`, i)))
		}
	}()
	for {
		select {
		case <-done:
			return
		default:
		}
		now := at(100)
		_, _ = h.Value(now, sel)
		_, _ = h.Rate(now, sel, time.Minute)
		_, _ = h.Quantile(now, 0.5, sel, time.Minute)
		_ = h.Status()
		_ = h.Check(now)
	}
}
