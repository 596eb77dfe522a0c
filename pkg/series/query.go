package series

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/prometheus/common/model"
)

// call describes a query for its error messages, in PromQL's words.
type call struct {
	fn     string
	sel    *Selector
	window time.Duration
	q      float64
}

func (c call) String() string {
	sel := "<nil>"
	if c.sel != nil {
		sel = c.sel.String()
	}
	switch {
	case c.fn == "quantile":
		return fmt.Sprintf("quantile(%g, %s[%s])", c.q, sel, model.Duration(c.window))
	case c.fn != "value":
		return fmt.Sprintf("%s(%s[%s])", c.fn, sel, model.Duration(c.window))
	}
	return fmt.Sprintf("%s(%s)", c.fn, sel)
}

// run validates c and, under the read lock and once the target is known
// to be fresh, runs eval over the window (from, now] in milliseconds. Any
// error gets the query and the target in front of it.
func (h *History) run(now time.Time, c call, ranged bool, eval func(from, now int64) (float64, error)) (float64, error) {
	v, err := func() (float64, error) {
		if err := h.validate(c, ranged); err != nil {
			return 0, err
		}
		ms := now.UnixMilli()
		h.mu.RLock()
		defer h.mu.RUnlock()
		if err := h.check(ms); err != nil {
			return 0, err
		}
		return eval(ms-c.window.Milliseconds(), ms)
	}()
	if err != nil {
		return 0, fmt.Errorf("%s%s: %w", c, h.where, err)
	}
	return v, nil
}

// validate refuses arguments no data could satisfy, before looking at any
// data: a mistake in a rule is reported as such, whatever the target's state.
func (h *History) validate(c call, ranged bool) error {
	if c.sel == nil {
		return fmt.Errorf("%w: %w", ErrInvalidArgument, errNilSelector)
	}
	if !ranged {
		return nil
	}
	if c.window.Milliseconds() < 1 {
		return fmt.Errorf("%w: window %s is shorter than 1ms", ErrInvalidArgument, c.window)
	}
	if c.window.Milliseconds() > h.retention {
		return fmt.Errorf("%w: window %s is longer than the retention %s", ErrInvalidArgument, model.Duration(c.window), ago(h.retention))
	}
	if c.fn != "quantile" {
		return nil
	}
	if math.IsNaN(c.q) || c.q < 0 || c.q > 1 {
		return fmt.Errorf("%w: quantile %g is outside [0, 1]", ErrInvalidArgument, c.q)
	}
	if c.sel.name == "" {
		return fmt.Errorf("%w: the selector must name the histogram", ErrInvalidArgument)
	}
	return nil
}

// result turns a sum into the query's answer: NaN carries no information,
// so it is no data rather than a number every comparison calls false.
func result(v float64) (float64, error) {
	if math.IsNaN(v) {
		return 0, fmt.Errorf("%w: the result is NaN", ErrNoData)
	}
	return v, nil
}

// Value returns the latest sample at or before now of every series sel
// picks, summed. A series counts only while it is fresh: its latest sample
// is no older than StaleAfter and is not the end marker that a scrape
// without the series writes.
func (h *History) Value(now time.Time, sel *Selector) (float64, error) {
	c := call{fn: "value", sel: sel}
	return h.run(now, c, false, func(_, now int64) (float64, error) {
		return h.value(now, c)
	})
}

func (h *History) value(now int64, c call) (float64, error) {
	var (
		sum                 float64
		matched, got, ended int
		newestOld           int64 = math.MinInt64
	)
	for tr := range h.matching(c.sel) {
		matched++
		i := tr.samples.search(now) - 1
		if i < 0 {
			continue
		}
		t, v := tr.samples.at(i)
		switch {
		case isStale(v):
			ended++
		case now-t > h.staleAfter:
			newestOld = max(newestOld, t)
		default:
			sum += v
			got++
		}
	}
	switch {
	case matched == 0:
		return 0, fmt.Errorf("%w: no series matches", ErrNoData)
	case got > 0:
		return result(sum)
	case newestOld != math.MinInt64:
		return 0, fmt.Errorf("%w: newest sample of %d matching series is %s old, more than %s", ErrStale, matched, ago(now-newestOld), ago(h.staleAfter))
	case ended > 0:
		return 0, fmt.Errorf("%w: %d matching series are absent from the latest scrape", ErrNoData, ended)
	}
	return 0, fmt.Errorf("%w: no sample of %d matching series at or before the query time", ErrNoData, matched)
}

// Rate returns the per-second increase of the counters sel picks over the
// window (now-window, now], summed across series. Each series' rate is the
// slope from the newest sample at or before the window's start (when the
// series was alive then, within StaleAfter of the window's first sample) to
// the newest sample in the window, with counter resets bridged; see the
// package documentation for why this differs from PromQL's extrapolation.
// A series needs a sample in the window and two samples in all.
func (h *History) Rate(now time.Time, sel *Selector, window time.Duration) (float64, error) {
	return h.sloped(now, call{fn: "rate", sel: sel, window: window}, true, 1)
}

// Increase returns Rate times the window: how much the counters sel picks
// grow over a window at their current rate. It need not be a whole number.
func (h *History) Increase(now time.Time, sel *Selector, window time.Duration) (float64, error) {
	return h.sloped(now, call{fn: "increase", sel: sel, window: window}, true, window.Seconds())
}

// Delta returns the change of the gauges sel picks over the window
// (now-window, now], summed across series: the slope Rate measures, without
// reading decreases as resets, times the window.
func (h *History) Delta(now time.Time, sel *Selector, window time.Duration) (float64, error) {
	return h.sloped(now, call{fn: "delta", sel: sel, window: window}, false, window.Seconds())
}

// notEnough explains a series that slope can say nothing about.
const notEnough = "not enough samples (one in the window, two in all)"

// sloped sums the slopes of the series c picks, each scaled by scale.
func (h *History) sloped(now time.Time, c call, counter bool, scale float64) (float64, error) {
	return h.run(now, c, true, func(from, now int64) (float64, error) {
		return h.sum(c, notEnough, func(tr *track) (float64, bool) {
			v, ok := slope(&tr.samples, from, now, h.staleAfter, counter)
			return v * scale, ok
		})
	})
}

// AvgOverTime returns the mean of the samples in (now-window, now] of each
// series sel picks, summed across series. NaN samples are skipped.
func (h *History) AvgOverTime(now time.Time, sel *Selector, window time.Duration) (float64, error) {
	return h.overTime(now, call{fn: "avg_over_time", sel: sel, window: window}, func(acc, v float64, n int) float64 {
		return acc + (v-acc)/float64(n)
	})
}

// MaxOverTime returns the largest sample in (now-window, now] of each series
// sel picks, summed across series. NaN samples are skipped.
func (h *History) MaxOverTime(now time.Time, sel *Selector, window time.Duration) (float64, error) {
	return h.overTime(now, call{fn: "max_over_time", sel: sel, window: window}, func(acc, v float64, n int) float64 {
		if n == 1 {
			return v
		}
		return max(acc, v)
	})
}

// MinOverTime returns the smallest sample in (now-window, now] of each
// series sel picks, summed across series. NaN samples are skipped.
func (h *History) MinOverTime(now time.Time, sel *Selector, window time.Duration) (float64, error) {
	return h.overTime(now, call{fn: "min_over_time", sel: sel, window: window}, func(acc, v float64, n int) float64 {
		if n == 1 {
			return v
		}
		return min(acc, v)
	})
}

// overTime folds each series' samples in the window with fold, which gets
// the running value, the next sample and that sample's 1-based count.
func (h *History) overTime(now time.Time, c call, fold func(acc, v float64, n int) float64) (float64, error) {
	return h.run(now, c, true, func(from, now int64) (float64, error) {
		return h.sum(c, "no sample in the window", func(tr *track) (float64, bool) {
			var acc float64
			n := 0
			for i, end := tr.samples.search(from), tr.samples.search(now); i < end; i++ {
				_, v := tr.samples.at(i)
				if math.IsNaN(v) { // also skips staleness markers
					continue
				}
				n++
				acc = fold(acc, v, n)
			}
			return acc, n > 0
		})
	})
}

// sum adds up perSeries over every series c picks; short explains a series
// that gave no value. The caller holds the read lock.
func (h *History) sum(c call, short string, perSeries func(tr *track) (float64, bool)) (float64, error) {
	var (
		sum          float64
		matched, got int
	)
	for tr := range h.matching(c.sel) {
		matched++
		if v, ok := perSeries(tr); ok {
			sum += v
			got++
		}
	}
	switch {
	case matched == 0:
		return 0, fmt.Errorf("%w: no series matches", ErrNoData)
	case got == 0:
		return 0, fmt.Errorf("%w: %s in any of %d matching series", ErrNoData, short, matched)
	}
	return result(sum)
}

// slope returns the per-second change of the samples of r across the
// window (from, to], in milliseconds. It runs from a base, the newest
// sample at or before from, to the newest sample in the window. The base
// is the sample before the window's first when the series was alive then:
// not ended by a staleness marker and at most maxGap older than that first
// sample; otherwise the span starts at the window's first sample. For
// counters, a decrease is a reset to zero and what was counted before it
// still counts. ok is false without a sample in the window or without two
// samples in the span.
func slope(r *ring[float64], from, to, maxGap int64, counter bool) (float64, bool) {
	lo, hi := r.search(from), r.search(to)
	for ; lo < hi; lo++ {
		if _, v := r.at(lo); !isStale(v) {
			break
		}
	}
	if lo == hi {
		return 0, false
	}
	start := lo
	if lo > 0 {
		firstT, _ := r.at(lo)
		if t, v := r.at(lo - 1); !isStale(v) && firstT-t <= maxGap {
			start = lo - 1
		}
	}
	var (
		n                     int
		firstT, lastT         int64
		firstV, lastV, resets float64
	)
	for i := start; i < hi; i++ {
		t, v := r.at(i)
		if isStale(v) {
			continue
		}
		if n == 0 {
			firstT, firstV = t, v
		} else if counter && v < lastV {
			resets += lastV
		}
		lastT, lastV = t, v
		n++
	}
	if n < 2 {
		return 0, false
	}
	return (lastV - firstV + resets) / (float64(lastT-firstT) / 1000), true
}

// bucket is one upper bound of a histogram and its count.
type bucket struct {
	le    float64
	count float64
}

// Quantile returns the q-quantile (0 ≤ q ≤ 1) of the histogram sel names,
// over the observations in (now-window, now]: like PromQL's
// histogram_quantile(q, sum by (le) (increase(name_bucket[window]))), with
// Increase as this package measures it. The selector names the histogram
// (vllm:e2e_request_latency_seconds) and may filter its series by label;
// the _bucket series it picks are summed by le. The value is interpolated
// linearly within the bucket the quantile falls in, from 0 in the first
// bucket when its bound is positive; in the +Inf bucket it is the highest
// finite bound. A window without observations is ErrNoData, not zero.
func (h *History) Quantile(now time.Time, q float64, sel *Selector, window time.Duration) (float64, error) {
	c := call{fn: "quantile", sel: sel, window: window, q: q}
	return h.run(now, c, true, func(from, now int64) (float64, error) {
		return h.quantile(c, from, now)
	})
}

func (h *History) quantile(c call, from, now int64) (float64, error) {
	var (
		// Room for a typical histogram without a heap allocation.
		buckets = make([]bucket, 0, 32)
		matched int
	)
	for _, tr := range h.byName[c.sel.bucket] {
		if !c.sel.matchLabels(tr.series) {
			continue
		}
		matched++
		le, err := strconv.ParseFloat(tr.series.Labels.Get("le"), 64)
		if err != nil || math.IsNaN(le) {
			return 0, fmt.Errorf("%w: bucket series %s has no numeric le label", ErrNoData, tr.series)
		}
		// The bucket's increase at its rate: every bucket of a histogram
		// is scraped at the same instants, so the scale drops out of the
		// quantile whatever the window.
		rate, ok := slope(&tr.samples, from, now, h.staleAfter, true)
		if !ok {
			continue
		}
		inc := rate * c.window.Seconds()
		// Sum by le: series that differ in other labels pool their counts.
		if i := slices.IndexFunc(buckets, func(b bucket) bool { return b.le == le }); i >= 0 {
			buckets[i].count += inc
		} else {
			buckets = append(buckets, bucket{le: le, count: inc})
		}
	}
	switch {
	case matched == 0:
		return 0, fmt.Errorf("%w: no series matches %s_bucket", ErrNoData, c.sel.name)
	case len(buckets) == 0:
		return 0, fmt.Errorf("%w: %s in any of %d matching bucket series", ErrNoData, notEnough, matched)
	}
	return bucketQuantile(c.q, buckets)
}

// bucketQuantile is PromQL's interpolation over cumulative buckets.
func bucketQuantile(q float64, buckets []bucket) (float64, error) {
	slices.SortFunc(buckets, func(a, b bucket) int { return cmp.Compare(a.le, b.le) })
	if !math.IsInf(buckets[len(buckets)-1].le, 1) {
		return 0, fmt.Errorf("%w: the histogram has no +Inf bucket", ErrNoData)
	}
	if len(buckets) < 2 {
		return 0, fmt.Errorf("%w: the histogram has only the +Inf bucket", ErrNoData)
	}
	// Counts are cumulative, but bucket series whose spans differ (one
	// appeared later, one lost its base to a gap) can come out
	// non-monotonic; PromQL levels them the same way.
	for i := 1; i < len(buckets); i++ {
		if buckets[i].count < buckets[i-1].count {
			buckets[i].count = buckets[i-1].count
		}
	}
	total := buckets[len(buckets)-1].count
	if !(total > 0) {
		return 0, fmt.Errorf("%w: no observations in the window", ErrNoData)
	}
	rank := q * total
	b := sort.Search(len(buckets)-1, func(i int) bool { return buckets[i].count >= rank })
	if b == len(buckets)-1 {
		// The rank lies beyond the highest finite bound; nothing is known
		// of the +Inf bucket's spread.
		return buckets[b-1].le, nil
	}
	if b == 0 && buckets[0].le <= 0 {
		return buckets[0].le, nil
	}
	lower, count := 0.0, buckets[b].count
	if b > 0 {
		lower = buckets[b-1].le
		count -= buckets[b-1].count
		rank -= buckets[b-1].count
	}
	// An empty first bucket at q=0 gives 0/0, which result reports as no data.
	return result(lower + (buckets[b].le-lower)*(rank/count))
}
