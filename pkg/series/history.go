package series

import (
	"cmp"
	"errors"
	"fmt"
	"iter"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/common/model"
)

// Defaults for Options.
const (
	// DefaultRetention covers the 5 to 10 minute windows health rules
	// usually ask for, with room for a late tick.
	DefaultRetention = 15 * time.Minute
	// DefaultMaxSamples keeps 15 minutes of a series scraped about once a
	// second; slower scrapes never reach it.
	DefaultMaxSamples = 1024
	// DefaultStaleAfter is PromQL's lookback delta. A scraper should pass
	// about twice its scrape interval instead.
	DefaultStaleAfter = 5 * time.Minute
)

// Options configure a History. Zero fields take the defaults.
type Options struct {
	// Target names the scraped pod in every error, e.g. "default/vllm-0".
	Target string
	// Retention is how far back samples are kept, measured from the
	// latest scrape; it is also the longest window a query may ask for.
	// The record of each scrape (its time and outcome) is kept
	// StaleAfter longer, so that such a window can be covered.
	Retention time.Duration
	// MaxSamples bounds the samples kept per series (and the scrape
	// records kept per target); past it the oldest go first, even within
	// Retention.
	MaxSamples int
	// MaxSeries bounds the series a target may hold at once, counting
	// those that left the page but are still within Retention. Defaults to
	// DefaultMaxSeries.
	MaxSeries int
	// StaleAfter is the staleness bound: a query reads the target as stale
	// when its last successful scrape is older than this, Value ignores a
	// series whose latest sample is older than this, and Rate does not
	// measure from a sample this much older than the window's first.
	StaleAfter time.Duration
}

// History is the recent past of one scrape target: samples per series
// within a retention window, and the outcome of each scrape. The scraper
// owns the writes (Append, Fail); rule evaluation reads it concurrently
// through the query methods. All methods are safe for concurrent use.
//
// Memory is two parallel ring buffers per series, 16 bytes a sample, grown
// on demand up to MaxSamples; a series that has had no sample within the
// retention window is dropped.
type History struct {
	target     string
	where      string // " on target %q", or "" when unnamed
	retention  int64  // milliseconds, like every time inside a History
	staleAfter int64
	maxSamples int
	maxSeries  int

	mu      sync.RWMutex
	byKey   map[string]*track
	byName  map[string][]*track
	scrapes ring[error] // one entry per scrape; nil means it succeeded
	lastOK  int64
	hasOK   bool
	gen     uint64 // counts applied pages, to find the series a page left out
}

// track is one series and its samples.
type track struct {
	series  Series
	key     string
	samples ring[float64]
	seen    uint64 // gen of the last page that held the series
}

// staleNaN is Prometheus's staleness marker: a NaN with a payload no
// arithmetic produces, stored where a series ends.
var staleNaN = math.Float64frombits(0x7ff0000000000002)

func isStale(v float64) bool { return math.Float64bits(v) == 0x7ff0000000000002 }

// NewHistory returns an empty History. It refuses negative options.
func NewHistory(opts Options) (*History, error) {
	if opts.Retention < 0 || opts.MaxSamples < 0 || opts.MaxSeries < 0 || opts.StaleAfter < 0 {
		return nil, fmt.Errorf("history options: %w: negative retention, staleness or limit", ErrInvalidArgument)
	}
	h := &History{
		target:     opts.Target,
		retention:  cmp.Or(opts.Retention, DefaultRetention).Milliseconds(),
		staleAfter: cmp.Or(opts.StaleAfter, DefaultStaleAfter).Milliseconds(),
		maxSamples: cmp.Or(opts.MaxSamples, DefaultMaxSamples),
		maxSeries:  cmp.Or(opts.MaxSeries, DefaultMaxSeries),
		byKey:      make(map[string]*track),
		byName:     make(map[string][]*track),
	}
	if h.retention < 1 || h.staleAfter < 1 {
		return nil, fmt.Errorf("history options: %w: retention and staleness bound must be at least 1ms", ErrInvalidArgument)
	}
	if opts.Target != "" {
		h.where = fmt.Sprintf(" on target %q", opts.Target)
	}
	return h, nil
}

// Append records a successful scrape at t with the samples of p. A series
// that was in the previous page and is not in p ends at t, as Prometheus
// marks it stale, so Value stops counting it at once. t must be later than
// every scrape recorded so far (ErrOutOfOrder). A page that would take the
// history past MaxSeries is refused with ErrTooLarge and recorded as a
// failed scrape, so that queries read Unknown rather than a partial target.
func (h *History) Append(t time.Time, p *Page) error {
	if p == nil {
		return fmt.Errorf("append%s: %w: nil page", h.where, ErrInvalidArgument)
	}
	ms := t.UnixMilli()
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.prepareScrape(ms); err != nil {
		return err
	}
	if n := h.countNew(p.keys); len(h.byKey)+n > h.maxSeries {
		err := fmt.Errorf("append%s: %w: %d series, more than %d", h.where, ErrTooLarge, len(h.byKey)+n, h.maxSeries)
		h.scrapes.push(ms, err, h.maxSamples)
		return err
	}
	h.apply(ms, p.samples, p.keys, true)
	h.scrapes.push(ms, nil, h.maxSamples)
	h.lastOK, h.hasOK = ms, true
	return nil
}

// Fail records a failed scrape at t. Until a later successful scrape, every
// query answers with ErrScrapeFailed wrapping err. t must be later than
// every scrape recorded so far.
func (h *History) Fail(t time.Time, err error) error {
	if err == nil {
		return fmt.Errorf("fail%s: %w: nil error", h.where, ErrInvalidArgument)
	}
	ms := t.UnixMilli()
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.prepareScrape(ms); err != nil {
		return err
	}
	h.scrapes.push(ms, err, h.maxSamples)
	return nil
}

// prepareScrape checks that a scrape at ms moves time forward and forgets
// what falls out of the retention window. The caller holds the write lock.
func (h *History) prepareScrape(ms int64) error {
	if err := h.checkOrder(ms); err != nil {
		return err
	}
	h.forget(ms)
	return nil
}

func (h *History) checkOrder(ms int64) error {
	if last, _, ok := h.scrapes.last(); ok && ms <= last {
		return fmt.Errorf("record scrape%s: %w: %s is not after the previous scrape at %s",
			h.where, ErrOutOfOrder, time.UnixMilli(ms).UTC().Format(time.RFC3339Nano), time.UnixMilli(last).UTC().Format(time.RFC3339Nano))
	}
	return nil
}

// forget drops what a scrape at ms pushes out of the retention window,
// and the series left with nothing.
func (h *History) forget(ms int64) {
	minT := ms - h.retention
	// Scrape records are kept one staleness bound longer than samples, so
	// that a window as long as the retention can still be covered
	// (Coverage needs a scrape at or before the window's start).
	h.scrapes.dropBefore(minT - h.staleAfter)
	for key, tr := range h.byKey {
		tr.samples.dropBefore(minT)
		if tr.samples.len() > 0 {
			continue
		}
		delete(h.byKey, key)
		same := h.byName[tr.series.Name]
		i := slices.Index(same, tr)
		same[i] = same[len(same)-1]
		same[len(same)-1] = nil
		if same = same[:len(same)-1]; len(same) == 0 {
			delete(h.byName, tr.series.Name)
		} else {
			h.byName[tr.series.Name] = same
		}
	}
}

func (h *History) countNew(keys []string) int {
	n := 0
	for _, k := range keys {
		if h.byKey[k] == nil {
			n++
		}
	}
	return n
}

// apply stores one scrape's samples at ms. With endMissing, a series absent
// from the scrape gets a staleness marker; Load passes false because its
// notation marks the end of a series explicitly.
func (h *History) apply(ms int64, samples []Sample, keys []string, endMissing bool) {
	h.gen++
	for i := range samples {
		tr := h.byKey[keys[i]]
		if tr == nil {
			tr = &track{series: samples[i].Series, key: keys[i]}
			h.byKey[keys[i]] = tr
			h.byName[tr.series.Name] = append(h.byName[tr.series.Name], tr)
		}
		tr.samples.push(ms, samples[i].Value, h.maxSamples)
		tr.seen = h.gen
	}
	if !endMissing {
		return
	}
	for _, tr := range h.byKey {
		if tr.seen == h.gen {
			continue
		}
		if _, v, ok := tr.samples.last(); ok && !isStale(v) {
			tr.samples.push(ms, staleNaN, h.maxSamples)
		}
	}
}

// Check returns nil when the target's latest scrape at or before now
// succeeded within the staleness bound, and otherwise the error every
// query would return: ErrNoData before the first scrape, ErrScrapeFailed
// after a failed one, ErrStale after too long a silence.
func (h *History) Check(now time.Time) error {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if err := h.check(now.UnixMilli()); err != nil {
		return fmt.Errorf("target %q: %w", h.target, err)
	}
	return nil
}

func (h *History) check(now int64) error {
	i := h.scrapes.search(now) - 1
	if i < 0 {
		return fmt.Errorf("%w: not scraped yet", ErrNoData)
	}
	t, err := h.scrapes.at(i)
	if err != nil {
		return fmt.Errorf("%w %s ago: %w", ErrScrapeFailed, ago(now-t), err)
	}
	if now-t > h.staleAfter {
		return fmt.Errorf("%w: last successful scrape %s ago, more than %s", ErrStale, ago(now-t), ago(h.staleAfter))
	}
	return nil
}

// ago formats a span in milliseconds the way PromQL writes durations: 5m,
// 1m30s, 250ms.
func ago(ms int64) string {
	return model.Duration(time.Duration(ms) * time.Millisecond).String()
}

// Status is a target's scrape health, for explain output and self-metrics.
type Status struct {
	Target string
	// LastScrape is the time of the latest scrape, successful or not; zero
	// before the first.
	LastScrape time.Time
	// LastSuccess is the time of the latest successful scrape; zero before
	// the first.
	LastSuccess time.Time
	// LastError is the latest scrape's error, nil when it succeeded.
	LastError error
	// Series counts the series held, including those that ended within
	// the retention window.
	Series int
}

// Status returns the target's scrape health as of its latest scrape.
func (h *History) Status() Status {
	h.mu.RLock()
	defer h.mu.RUnlock()
	s := Status{Target: h.target, Series: len(h.byKey)}
	if t, err, ok := h.scrapes.last(); ok {
		s.LastScrape, s.LastError = time.UnixMilli(t), err
	}
	if h.hasOK {
		s.LastSuccess = time.UnixMilli(h.lastOK)
	}
	return s
}

// matching yields the tracks sel picks. The caller holds a lock.
func (h *History) matching(sel *Selector) iter.Seq[*track] {
	return func(yield func(*track) bool) {
		if sel.name != "" {
			for _, tr := range h.byName[sel.name] {
				if sel.matchLabels(tr.series) && !yield(tr) {
					return
				}
			}
			return
		}
		for _, tr := range h.byKey {
			if sel.Matches(tr.series) && !yield(tr) {
				return
			}
		}
	}
}

// errNilSelector guards the query methods against a programming mistake
// that would otherwise panic inside the lock.
var errNilSelector = errors.New("nil selector")
