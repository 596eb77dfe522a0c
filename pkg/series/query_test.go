package series

import (
	"cmp"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Unix(1_700_000_000, 0)

// at is t0 plus seconds, which may be fractional.
func at(sec float64) time.Time {
	return t0.Add(time.Duration(sec * float64(time.Second)))
}

// scrape is one page at t0+sec, as "series value" pairs.
type scrape struct {
	sec float64
	kv  []any
}

func historyOf(t *testing.T, opts Options, scrapes ...scrape) *History {
	t.Helper()
	h := newTestHistory(t, opts)
	for _, s := range scrapes {
		require.NoError(t, h.Append(at(s.sec), page(t, s.kv...)))
	}
	return h
}

// counter is the scrapes of one series c at irregular times.
func counter(points ...float64) []scrape {
	var out []scrape
	for i := 0; i < len(points); i += 2 {
		out = append(out, scrape{sec: points[i], kv: []any{"c", points[i+1]}})
	}
	return out
}

// requireResult checks a query's answer: with wantErr, an error matching
// it whose message holds wantMsg, and zero rather than a plausible number;
// otherwise want.
func requireResult(t *testing.T, got float64, err error, want float64, wantErr error, wantMsg string) {
	t.Helper()
	if wantErr != nil {
		require.ErrorIs(t, err, wantErr)
		assert.Contains(t, err.Error(), wantMsg)
		assert.Zero(t, got)
		return
	}
	require.NoError(t, err)
	assert.InDelta(t, want, got, 1e-9)
}

func TestRangeFunctions(t *testing.T) {
	type query func(h *History, now time.Time, sel *Selector, w time.Duration) (float64, error)
	var (
		rate     query = (*History).Rate
		increase query = (*History).Increase
		delta    query = (*History).Delta
		avg      query = (*History).AvgOverTime
		maxOT    query = (*History).MaxOverTime
		minOT    query = (*History).MinOverTime
	)
	tests := []struct {
		name     string
		scrapes  []scrape
		query    query
		selector string
		now      float64
		window   time.Duration
		want     float64
		wantErr  error
		wantMsg  string
	}{
		{
			// Window (0s, 60s]; the base 0@0 starts the span: 60 in 60s.
			name:    "rate of an irregularly scraped counter",
			scrapes: counter(0, 0, 10, 10, 25, 25, 30, 30, 60, 60),
			query:   rate, now: 60, window: time.Minute,
			want: 1,
		},
		{
			name:    "increase of an irregularly scraped counter",
			scrapes: counter(0, 0, 10, 10, 25, 25, 30, 30, 60, 60),
			query:   increase, now: 60, window: time.Minute,
			want: 60,
		},
		{
			// A non-linear counter: the span from the base at 3s to 60s
			// saw 57 in 57s, whatever happened in between.
			name:    "rate is the slope across the span, not the mean of steps",
			scrapes: counter(3, 3, 11, 4, 40, 50, 60, 60),
			query:   rate, now: 61, window: time.Minute,
			want: 1,
		},
		{
			// 0, 10, 20, reset, 5, 15: 10+10+5+10 = 35 in 40s.
			name:    "counter reset is bridged",
			scrapes: counter(0, 0, 10, 10, 20, 20, 30, 5, 40, 15),
			query:   increase, now: 40, window: 40 * time.Second,
			want: 35,
		},
		{
			name:    "rate over a counter reset",
			scrapes: counter(0, 0, 10, 10, 20, 20, 30, 5, 40, 15),
			query:   rate, now: 40, window: 40 * time.Second,
			want: 35.0 / 40,
		},
		{
			name:    "two resets in a row",
			scrapes: counter(0, 100, 10, 3, 20, 1, 30, 4),
			query:   increase, now: 30, window: 30 * time.Second,
			want: 3 + 1 + 3,
		},
		{
			// One sample in a 15s window is enough with the base before it.
			name:    "window as short as the interval",
			scrapes: counter(0, 0, 15, 15, 30, 45),
			query:   rate, now: 30, window: 15 * time.Second,
			want: 2,
		},
		{
			// No sample of c at or before 60s: the span is what the window
			// saw, 20 in 20s.
			name:    "series starting inside the window reads its current rate",
			scrapes: append([]scrape{{sec: 0, kv: []any{"other", 1}}}, counter(100, 5, 110, 15, 120, 25)...),
			query:   increase, now: 120, window: time.Minute,
			want: 60,
		},
		{
			// The scrape at 20s lacks c, which ends it there: the marker
			// is skipped and the samples around it still count.
			name: "end marker inside the window is skipped",
			scrapes: []scrape{
				{sec: 10, kv: []any{"c", 1}},
				{sec: 20, kv: []any{"other", 1}},
				{sec: 30, kv: []any{"c", 3}},
				{sec: 40, kv: []any{"c", 5}},
			},
			query: increase, now: 40, window: 40 * time.Second,
			want: 4.0 / 30 * 40,
		},
		{
			// c ended at 20s and came back at 30s: the sample before the
			// window is the end marker, so the span starts inside.
			name: "no base across an end marker",
			scrapes: []scrape{
				{sec: 0, kv: []any{"c", 1000}},
				{sec: 20, kv: []any{"other", 1}},
				{sec: 30, kv: []any{"c", 0}},
				{sec: 40, kv: []any{"c", 10}},
				{sec: 50, kv: []any{"c", 20}},
			},
			query: rate, now: 50, window: 25 * time.Second,
			want: 1,
		},
		{
			name:    "delta of a gauge counts decreases as changes",
			scrapes: counter(10, 10, 20, 4, 30, 7, 40, 1),
			query:   delta, now: 40, window: 40 * time.Second,
			want: -12,
		},
		{
			// 10, 4 (reset), 7, 1 (reset): 4+3+1 = 8 in 30s.
			name:    "increase of the same data reads decreases as resets",
			scrapes: counter(10, 10, 20, 4, 30, 7, 40, 1),
			query:   increase, now: 40, window: 40 * time.Second,
			want: 8 * 40.0 / 30,
		},
		{
			name: "rate sums across series",
			scrapes: []scrape{
				{sec: 0, kv: []any{`r{code="200"}`, 0, `r{code="500"}`, 0, `r{code="x"}`, 7}},
				{sec: 30, kv: []any{`r{code="200"}`, 30, `r{code="500"}`, 3, `r{code="x"}`, 8}},
				{sec: 60, kv: []any{`r{code="200"}`, 60, `r{code="500"}`, 6, `r{code="x"}`, 9}},
			},
			query: rate, selector: `r{code=~"2..|5.."}`, now: 60, window: 90 * time.Second,
			want: 1.1,
		},
		{
			name: "a series with too few samples is left out of the sum",
			scrapes: []scrape{
				{sec: 0, kv: []any{`r{a="1"}`, 0}},
				{sec: 30, kv: []any{`r{a="1"}`, 30}},
				{sec: 60, kv: []any{`r{a="1"}`, 60, `r{a="2"}`, 1000}},
			},
			query: rate, selector: "r", now: 60, window: 90 * time.Second,
			want: 1,
		},
		{
			name:    "a query in the past ignores later samples",
			scrapes: counter(0, 0, 10, 10, 20, 20, 30, 1000, 40, 2000),
			query:   increase, now: 20, window: 20 * time.Second,
			want: 20,
		},
		{
			name:    "avg_over_time skips NaN",
			scrapes: counter(10, 5, 20, math.NaN(), 30, 3, 40, 10),
			query:   avg, now: 40, window: 40 * time.Second,
			want: 6,
		},
		{
			name:    "max_over_time",
			scrapes: counter(0, 100, 10, 5, 20, math.NaN(), 30, 3, 40, 10),
			query:   maxOT, now: 40, window: 40 * time.Second,
			want: 10,
		},
		{
			name:    "min_over_time",
			scrapes: counter(10, 5, 20, math.NaN(), 30, -3, 40, 10),
			query:   minOT, now: 40, window: 40 * time.Second,
			want: -3,
		},
		{
			name: "over_time sums per-series results",
			scrapes: []scrape{
				{sec: 10, kv: []any{`g{a="1"}`, 1, `g{a="2"}`, 10}},
				{sec: 20, kv: []any{`g{a="1"}`, 3, `g{a="2"}`, 20}},
			},
			query: maxOT, selector: "g", now: 20, window: time.Minute,
			want: 23,
		},
		{
			name:    "one sample is too few for a rate",
			scrapes: append([]scrape{{sec: 0, kv: []any{"other", 1}}}, counter(50, 1)...),
			query:   rate, now: 60, window: time.Minute,
			wantErr: ErrNoData,
			wantMsg: `rate(c[1m]) on target "test": no data: not enough samples (one in the window, two in all) in any of 1 matching series`,
		},
		{
			name:    "a base alone is too few for a rate",
			scrapes: append(counter(0, 1, 10, 2), scrape{sec: 40, kv: []any{"other", 1}}),
			query:   rate, now: 40, window: 20 * time.Second,
			wantErr: ErrNoData,
		},
		{
			name:    "a window without samples has no average",
			scrapes: append(counter(0, 1), scrape{sec: 100, kv: []any{"other", 1}}),
			query:   avg, now: 100, window: time.Minute,
			wantErr: ErrNoData,
			wantMsg: `avg_over_time(c[1m]) on target "test": no data: no sample in the window in any of 1 matching series`,
		},
		{
			name:    "only NaN samples have no maximum",
			scrapes: counter(0, math.NaN(), 10, math.NaN()),
			query:   maxOT, now: 10, window: time.Minute,
			wantErr: ErrNoData,
		},
		{
			name:    "no matching series",
			scrapes: counter(0, 1, 10, 2),
			query:   rate, selector: "d", now: 10, window: time.Minute,
			wantErr: ErrNoData,
			wantMsg: `rate(d[1m]) on target "test": no data: no series matches`,
		},
		{
			name:    "a NaN result is no data",
			scrapes: counter(0, 1, 10, math.NaN()),
			query:   delta, now: 10, window: time.Minute,
			wantErr: ErrNoData,
			wantMsg: "no data: the result is NaN",
		},
		{
			name:    "window longer than the retention",
			scrapes: counter(0, 1, 10, 2),
			query:   rate, now: 10, window: time.Hour,
			wantErr: ErrInvalidArgument,
			wantMsg: "invalid argument: window 1h is longer than the retention 15m",
		},
		{
			name:    "zero window",
			scrapes: counter(0, 1, 10, 2),
			query:   avg, now: 10, window: 0,
			wantErr: ErrInvalidArgument,
			wantMsg: "window 0s is shorter than 1ms",
		},
		{
			name:    "stale target",
			scrapes: counter(0, 1, 10, 2),
			query:   rate, now: 310.5, window: 10 * time.Minute,
			wantErr: ErrStale,
			wantMsg: `rate(c[10m]) on target "test": stale data: last successful scrape 5m500ms ago, more than 5m`,
		},
		{
			name:    "before the first scrape",
			scrapes: counter(10, 1, 20, 2),
			query:   rate, now: 5, window: time.Minute,
			wantErr: ErrNoData,
			wantMsg: "no data: not scraped yet",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := historyOf(t, Options{}, tt.scrapes...)
			sel := tt.selector
			if sel == "" {
				sel = "c"
			}
			got, err := tt.query(h, at(tt.now), mustSelector(t, sel), tt.window)
			requireResult(t, got, err, tt.want, tt.wantErr, tt.wantMsg)
		})
	}
}

// TestRateMatchesPromtool checks a case from Prometheus's own PromQL tests:
// load 5m; http_requests_total{path="/foo"} 0+10x10; increase(...[50m])
// at 50m is 100.
func TestRateMatchesPromtool(t *testing.T) {
	h := newTestHistory(t, Options{Retention: time.Hour, StaleAfter: 10 * time.Minute})
	require.NoError(t, h.Load(t0, 5*time.Minute,
		Input{Series: `http_requests_total{path="/foo"}`, Values: "0+10x10"},
		Input{Series: `http_requests_total{path="/bar"}`, Values: "0+18x10"},
	))
	sel := mustSelector(t, `http_requests_total{path="/foo"}`)
	v, err := h.Increase(t0.Add(50*time.Minute), sel, 50*time.Minute)
	require.NoError(t, err)
	assert.InDelta(t, 100.0, v, 1e-9)
	v, err = h.Rate(t0.Add(50*time.Minute), sel, 50*time.Minute)
	require.NoError(t, err)
	assert.InDelta(t, 100.0/3000, v, 1e-12)
	v, err = h.Increase(t0.Add(50*time.Minute), mustSelector(t, "http_requests_total"), 50*time.Minute)
	require.NoError(t, err)
	assert.InDelta(t, 280.0, v, 1e-9)
}

// TestRateIgnoresTickAlignment evaluates one steady counter at instants
// that do not line up with its scrapes: the answer must not jump as the
// window's edges cross samples.
func TestRateIgnoresTickAlignment(t *testing.T) {
	h := newTestHistory(t, Options{})
	// 2/s, scraped every 10s with up to ±3s of jitter.
	jitter := []float64{0, 2.5, -1, 3, -2.5, 0.5, 1.5, -3, 2, -0.5, 1, -1.5, 0}
	for i, j := range jitter {
		sec := float64(i*10) + j
		require.NoError(t, h.Append(at(sec), page(t, "c", 2*sec)))
	}
	for now := 60.0; now <= 120; now += 0.7 {
		v, err := h.Rate(at(now), mustSelector(t, "c"), time.Minute)
		require.NoError(t, err)
		assert.InDelta(t, 2.0, v, 1e-9, "now=%.1fs", now)
	}
}

func TestValue(t *testing.T) {
	cause := errors.New("connection refused")
	tests := []struct {
		name     string
		build    func(t *testing.T, h *History)
		selector string
		now      time.Duration
		want     float64
		wantErr  []error
		wantMsg  string
	}{
		{
			name: "latest sample",
			build: func(t *testing.T, h *History) {
				require.NoError(t, h.Load(t0, 15*time.Second, Input{Series: `vllm:num_requests_waiting{model_name="a"}`, Values: "1 2 3"}))
			},
			selector: "vllm:num_requests_waiting", now: 30 * time.Second,
			want: 3,
		},
		{
			name: "sums across label sets",
			build: func(t *testing.T, h *History) {
				require.NoError(t, h.Load(t0, 15*time.Second,
					Input{Series: `vllm:num_requests_running{model_name="a"}`, Values: "1 2"},
					Input{Series: `vllm:num_requests_running{model_name="b"}`, Values: "5 6"},
					Input{Series: `vllm:num_requests_waiting{model_name="b"}`, Values: "100 100"},
				))
			},
			selector: "vllm:num_requests_running", now: 20 * time.Second,
			want: 8,
		},
		{
			name: "filters by label",
			build: func(t *testing.T, h *History) {
				require.NoError(t, h.Load(t0, 15*time.Second,
					Input{Series: `vllm:num_requests_running{model_name="a"}`, Values: "1 2"},
					Input{Series: `vllm:num_requests_running{model_name="b"}`, Values: "5 6"},
				))
			},
			selector: `vllm:num_requests_running{model_name!="a"}`, now: 20 * time.Second,
			want: 6,
		},
		{
			name: "zero is a value, not an absence",
			build: func(t *testing.T, h *History) {
				require.NoError(t, h.Load(t0, 15*time.Second, Input{Series: "q", Values: "0"}))
			},
			selector: "q",
			want:     0,
		},
		{
			name: "missing metric is no data",
			build: func(t *testing.T, h *History) {
				require.NoError(t, h.Load(t0, 15*time.Second, Input{Series: "up", Values: "1"}))
			},
			selector: `vllm:num_requests_waiting{model_name="x"}`,
			wantErr:  []error{ErrNoData},
			wantMsg:  `value(vllm:num_requests_waiting{model_name="x"}) on target "test": no data: no series matches`,
		},
		{
			name: "series absent from the latest scrape",
			build: func(t *testing.T, h *History) {
				require.NoError(t, h.Append(t0, page(t, "q", 4, "up", 1)))
				require.NoError(t, h.Append(t0.Add(15*time.Second), page(t, "up", 1)))
			},
			selector: "q", now: 15 * time.Second,
			wantErr: []error{ErrNoData},
			wantMsg: "no data: 1 matching series are absent from the latest scrape",
		},
		{
			name: "series whose last sample is too old",
			build: func(t *testing.T, h *History) {
				require.NoError(t, h.Load(t0, time.Minute, Input{Series: "q", Values: "4 _x6"}, Input{Series: "up", Values: "1x6"}))
			},
			selector: "q", now: 6 * time.Minute,
			wantErr: []error{ErrStale},
			wantMsg: "stale data: newest sample of 1 matching series is 6m old, more than 5m",
		},
		{
			name: "failed scrape is unknown, not the last value",
			build: func(t *testing.T, h *History) {
				require.NoError(t, h.Append(t0, page(t, "q", 4)))
				require.NoError(t, h.Fail(t0.Add(15*time.Second), cause))
			},
			selector: "q", now: 20 * time.Second,
			wantErr: []error{ErrScrapeFailed, cause},
			wantMsg: `value(q) on target "test": scrape failed 5s ago: connection refused`,
		},
		{
			name: "recovered scrape reads again",
			build: func(t *testing.T, h *History) {
				require.NoError(t, h.Append(t0, page(t, "q", 4)))
				require.NoError(t, h.Fail(t0.Add(15*time.Second), cause))
				require.NoError(t, h.Append(t0.Add(30*time.Second), page(t, "q", 5)))
			},
			selector: "q", now: 30 * time.Second,
			want: 5,
		},
		{
			name: "stale target",
			build: func(t *testing.T, h *History) {
				require.NoError(t, h.Append(t0, page(t, "q", 4)))
			},
			selector: "q", now: 10 * time.Minute,
			wantErr: []error{ErrStale},
			wantMsg: `value(q) on target "test": stale data: last successful scrape 10m ago, more than 5m`,
		},
		{
			name:     "never scraped",
			build:    func(*testing.T, *History) {},
			selector: "q",
			wantErr:  []error{ErrNoData},
			wantMsg:  `value(q) on target "test": no data: not scraped yet`,
		},
		{
			name: "NaN is no data",
			build: func(t *testing.T, h *History) {
				require.NoError(t, h.Append(t0, page(t, `go_gc_duration_seconds{quantile="0.5"}`, math.NaN())))
			},
			selector: "go_gc_duration_seconds",
			wantErr:  []error{ErrNoData},
			wantMsg:  "the result is NaN",
		},
		{
			name: "selector without a name",
			build: func(t *testing.T, h *History) {
				require.NoError(t, h.Append(t0, page(t, `a{job="x"}`, 1, `b{job="x"}`, 2, `c{job="y"}`, 4)))
			},
			selector: `{job="x"}`,
			want:     3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newTestHistory(t, Options{})
			tt.build(t, h)
			got, err := h.Value(t0.Add(tt.now), mustSelector(t, tt.selector))
			if tt.wantErr != nil {
				for _, want := range tt.wantErr {
					require.ErrorIs(t, err, want)
				}
				assert.Equal(t, tt.wantMsg, err.Error()[strings.Index(err.Error(), tt.wantMsg):])
				assert.Zero(t, got)
				return
			}
			require.NoError(t, err)
			assert.InDelta(t, tt.want, got, 1e-9)
		})
	}
}

func TestNilSelector(t *testing.T) {
	h := newTestHistory(t, Options{})
	require.NoError(t, h.Append(t0, page(t, "q", 1)))
	_, err := h.Value(t0, nil)
	require.ErrorIs(t, err, ErrInvalidArgument)
	assert.Equal(t, `value(<nil>) on target "test": invalid argument: nil selector`, err.Error())
	_, err = h.Rate(t0, nil, time.Minute)
	require.ErrorIs(t, err, ErrInvalidArgument)
	_, err = h.Quantile(t0, 0.5, nil, time.Minute)
	require.ErrorIs(t, err, ErrInvalidArgument)
}

// histogram returns Load inputs for one histogram: bounds[i] paired with
// values[i] in promtool notation, with extra labels.
func histogram(name, labels string, bounds []string, values []string) []Input {
	in := make([]Input, len(bounds))
	for i, le := range bounds {
		ls := `le="` + le + `"`
		if labels != "" {
			ls += "," + labels
		}
		in[i] = Input{Series: name + "_bucket{" + ls + "}", Values: values[i]}
	}
	return in
}

func TestQuantile(t *testing.T) {
	const name = "vllm:e2e_request_latency_seconds"
	bounds := []string{"0.5", "1", "2.5", "+Inf"}
	// Scraped at 0s and 50s, counts from zero: no extrapolation, so the
	// increases are exactly 10, 40, 90, 100 cumulative.
	simple := histogram(name, "", bounds, []string{"0 10", "0 40", "0 90", "0 100"})
	split := append(
		histogram(name, `model_name="a"`, bounds, []string{"0 4", "0 15", "0 40", "0 45"}),
		histogram(name, `model_name="b"`, bounds, []string{"0 6", "0 25", "0 50", "0 55"})...)
	tests := []struct {
		name     string
		inputs   []Input
		interval time.Duration
		q        float64
		selector string
		now      time.Duration
		window   time.Duration
		want     float64
		wantErr  error
		wantMsg  string
	}{
		// Rank 50 lies in (1, 2.5], which holds observations 41..90:
		// 1 + 1.5 * (50-40)/50.
		{name: "median", inputs: simple, q: 0.5, want: 1.3},
		{name: "first bucket interpolates from zero", inputs: simple, q: 0.05, want: 0.25},
		{name: "second bucket", inputs: simple, q: 0.25, want: 0.75},
		{name: "rank on a bucket boundary", inputs: simple, q: 0.9, want: 2.5},
		{name: "rank in +Inf gives the highest finite bound", inputs: simple, q: 0.95, want: 2.5},
		{name: "q=1", inputs: simple, q: 1, want: 2.5},
		{name: "q=0", inputs: simple, q: 0, want: 0},
		{name: "series are summed by le", inputs: split, q: 0.5, want: 1.3},
		{name: "a label filter picks one series", inputs: split, selector: name + `{model_name="a"}`, q: 0.5, want: 1 + 1.5*(22.5-15)/25},
		{
			// Counts from 1000s, four scrapes 15s apart in a 60s window:
			// every bucket is stretched by the same 4/3, which leaves the
			// quantile where the raw increases put it.
			name: "uniform extrapolation leaves the quantile alone",
			inputs: histogram(name, "", bounds,
				[]string{"1000+10x3", "4000+40x3", "9000+90x3", "10000+100x3"}),
			interval: 15 * time.Second, now: 45 * time.Second,
			q: 0.5, want: 1.3,
		},
		{
			name: "a counter reset in the window is bridged",
			inputs: histogram(name, "", bounds,
				[]string{"50 0 10", "200 0 40", "450 0 90", "500 0 100"}),
			interval: 25 * time.Second, window: 90 * time.Second,
			q: 0.5, want: 1.3,
		},
		{
			// le=1 rose less than le=0.5; PromQL levels it to 10.
			name: "non-monotonic buckets are levelled",
			inputs: histogram(name, "", bounds,
				[]string{"0 10", "0 8", "0 90", "0 100"}),
			q: 0.05, want: 0.25,
		},
		{
			name:   "no observations in the window",
			inputs: histogram(name, "", bounds, []string{"5 5", "7 7", "9 9", "9 9"}),
			q:      0.5, wantErr: ErrNoData,
			wantMsg: `quantile(0.5, vllm:e2e_request_latency_seconds[1m]) on target "test": no data: no observations in the window`,
		},
		{
			name:   "one scrape is too few",
			inputs: histogram(name, "", bounds, []string{"_ 10", "_ 40", "_ 90", "_ 100"}),
			q:      0.5, wantErr: ErrNoData,
			wantMsg: "no data: not enough samples (one in the window, two in all) in any of 4 matching bucket series",
		},
		{
			name:   "no +Inf bucket",
			inputs: histogram(name, "", bounds[:3], []string{"0 10", "0 40", "0 90"}),
			q:      0.5, wantErr: ErrNoData,
			wantMsg: "no data: the histogram has no +Inf bucket",
		},
		{
			name:   "only the +Inf bucket",
			inputs: histogram(name, "", []string{"+Inf"}, []string{"0 10"}),
			q:      0.5, wantErr: ErrNoData,
			wantMsg: "only the +Inf bucket",
		},
		{
			name:   "bucket without le",
			inputs: []Input{{Series: name + `_bucket{x="1"}`, Values: "0 1"}},
			q:      0.5, wantErr: ErrNoData,
			wantMsg: `bucket series vllm:e2e_request_latency_seconds_bucket{x="1"} has no numeric le label`,
		},
		{
			name:   "histogram missing",
			inputs: []Input{{Series: "up", Values: "1 1"}},
			q:      0.5, wantErr: ErrNoData,
			wantMsg: "no data: no series matches vllm:e2e_request_latency_seconds_bucket",
		},
		{name: "q above 1", inputs: simple, q: 1.5, wantErr: ErrInvalidArgument, wantMsg: "invalid argument: quantile 1.5 is outside [0, 1]"},
		{name: "q below 0", inputs: simple, q: -0.1, wantErr: ErrInvalidArgument, wantMsg: "quantile -0.1 is outside [0, 1]"},
		{name: "q NaN", inputs: simple, q: math.NaN(), wantErr: ErrInvalidArgument, wantMsg: "quantile NaN is outside [0, 1]"},
		{name: "selector without a name", inputs: simple, selector: `{le="1"}`, q: 0.5, wantErr: ErrInvalidArgument, wantMsg: "the selector must name the histogram"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			interval := cmp.Or(tt.interval, 50*time.Second)
			now := cmp.Or(tt.now, 50*time.Second)
			window := cmp.Or(tt.window, time.Minute)
			sel := tt.selector
			if sel == "" {
				sel = name
			}
			h := newTestHistory(t, Options{})
			require.NoError(t, h.Load(t0, interval, tt.inputs...))
			got, err := h.Quantile(t0.Add(now), tt.q, mustSelector(t, sel), window)
			requireResult(t, got, err, tt.want, tt.wantErr, tt.wantMsg)
		})
	}
}

func TestQuantileScrapeFailed(t *testing.T) {
	h := newTestHistory(t, Options{})
	require.NoError(t, h.Load(t0, 15*time.Second, histogram("h", "", []string{"1", "+Inf"}, []string{"0 1 2", "0 1 2"})...))
	require.NoError(t, h.Fail(t0.Add(45*time.Second), errors.New("context deadline exceeded")))
	_, err := h.Quantile(t0.Add(50*time.Second), 0.5, mustSelector(t, "h"), time.Minute)
	require.ErrorIs(t, err, ErrScrapeFailed)
	assert.EqualError(t, err, `quantile(0.5, h[1m]) on target "test": scrape failed 5s ago: context deadline exceeded`)
}

// TestVLLMPage runs the queries a vLLM rule asks over two real-looking
// scrapes of the testdata page, 15s apart.
func TestVLLMPage(t *testing.T) {
	body := readTestdata(t, "vllm.txt")
	first, err := Parse(strings.NewReader(body), "text/plain; version=0.0.4", Limits{})
	require.NoError(t, err)

	// The second scrape adds observations to the latency histogram: per
	// bucket (non-cumulative) 0, 2, 3, 5, 10, 10, 10, 10 and none above 5s.
	added := map[string]float64{"0.3": 0, "0.5": 2, "0.8": 5, "1.0": 10, "1.5": 20, "2.0": 30, "2.5": 40}
	var samples []Sample
	for _, s := range first.Samples() {
		switch s.Series.Name {
		case "vllm:e2e_request_latency_seconds_bucket":
			inc, ok := added[s.Series.Labels.Get("le")]
			if !ok {
				inc = 50
			}
			s.Value += inc
		case "vllm:request_success_total":
			s.Value += 30
		case "vllm:num_requests_waiting":
			s.Value = 9
		}
		samples = append(samples, s)
	}
	second, err := NewPage(samples)
	require.NoError(t, err)

	h := newTestHistory(t, Options{Target: "default/vllm-0", StaleAfter: 30 * time.Second})
	require.NoError(t, h.Append(t0, first))
	require.NoError(t, h.Append(t0.Add(15*time.Second), second))
	now := t0.Add(15 * time.Second)

	v, err := h.Value(now, mustSelector(t, "vllm:num_requests_waiting"))
	require.NoError(t, err)
	assert.InDelta(t, 9.0, v, 0)

	// Both scrapes are in the 30s window and the first is 15s after its
	// start, one interval: every series is stretched to twice its raw
	// increase, and the quantiles are those of the raw increases.
	latency := mustSelector(t, `vllm:e2e_request_latency_seconds{model_name=~"meta-llama/.*"}`)
	for _, tt := range []struct {
		q, want float64
	}{
		{q: 0.5, want: 1.5 + 0.5*(25.0-20)/10},
		{q: 0.99, want: 2.5 + 2.5*(49.5-40)/10},
	} {
		v, err = h.Quantile(now, tt.q, latency, 30*time.Second)
		require.NoError(t, err)
		assert.InDelta(t, tt.want, v, 1e-9, "q=%s", strconv.FormatFloat(tt.q, 'g', -1, 64))
	}

	// Three finished_reason series, each +30 over 15s, stretched to 30s.
	v, err = h.Rate(now, mustSelector(t, "vllm:request_success_total"), 30*time.Second)
	require.NoError(t, err)
	assert.InDelta(t, 3*60.0/30, v, 1e-9)

	_, err = h.Value(now.Add(31*time.Second), mustSelector(t, "vllm:num_requests_waiting"))
	require.ErrorIs(t, err, ErrStale)
	assert.Contains(t, err.Error(), `value(vllm:num_requests_waiting) on target "default/vllm-0": stale data`)
}

// TestRateBaseWithinStaleness shows the base sample anchoring the span
// only while it is within StaleAfter of the window's first sample: after a
// gap it says nothing about the window.
func TestRateBaseWithinStaleness(t *testing.T) {
	tests := []struct {
		name       string
		staleAfter time.Duration
		want       float64
	}{
		// Window (55s, 70s] holds 120@60 and 130@70; the base is 0@0.
		{name: "base too old, span starts in the window", staleAfter: 30 * time.Second, want: 1},
		{name: "base recent enough", staleAfter: time.Minute, want: 130.0 / 70},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newTestHistory(t, Options{StaleAfter: tt.staleAfter})
			require.NoError(t, h.Load(t0, 10*time.Second,
				Input{Series: "c", Values: "0 _x5 120 130"},
				Input{Series: "up", Values: "1x7"}))
			v, err := h.Rate(t0.Add(70*time.Second), mustSelector(t, "c"), 15*time.Second)
			require.NoError(t, err)
			assert.InDelta(t, tt.want, v, 1e-9)
		})
	}
}
