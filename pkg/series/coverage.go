package series

import (
	"errors"
	"fmt"
	"time"
)

// ErrNotCovered reports that the target's scrapes do not yet span a query's
// window: statusd started, or began scraping the pod, less than a window
// ago, or a gap in its scrapes broke the window. A windowed answer over
// part of its window would claim what nobody saw ("at least 50 requests
// waiting for 5m" after one scrape), so it is Unknown until covered.
var ErrNotCovered = errors.New("window not yet covered")

// Coverage returns how much of the window ending at now the target's
// successful scrapes span without a break: from now back to the oldest
// successful scrape reached through gaps no longer than the staleness
// bound (Options.StaleAfter, which the scraper sets to twice its interval
// plus its timeout). It is at most window. A target whose latest successful
// scrape is older than the bound covers nothing.
//
// Coverage is a property of the target, not of one series: a series that
// appears while the target is scraped (a new pod's restart counter in
// kube-state-metrics, a gauge a downloader starts to export) is read from
// its first sample, as Prometheus reads it.
func (h *History) Coverage(now time.Time, window time.Duration) time.Duration {
	ms, w := now.UnixMilli(), window.Milliseconds()
	h.mu.RLock()
	defer h.mu.RUnlock()
	// The newest successful scrape at or before now.
	i := h.scrapes.search(ms) - 1
	for ; i >= 0; i-- {
		if _, err := h.scrapes.at(i); err == nil {
			break
		}
	}
	if i < 0 {
		return 0
	}
	prev, _ := h.scrapes.at(i)
	if ms-prev > h.staleAfter {
		return 0
	}
	start := prev
	for j := i - 1; j >= 0 && start > ms-w; j-- {
		t, err := h.scrapes.at(j)
		if err != nil {
			// A failed scrape adds nothing; the gap between the successful
			// scrapes around it decides.
			continue
		}
		if prev-t > h.staleAfter {
			break
		}
		start, prev = t, t
	}
	return time.Duration(min(ms-start, w)) * time.Millisecond
}

// Covered returns nil when the target's successful scrapes span the whole
// window ending at now (see Coverage), and otherwise an error wrapping
// ErrNotCovered that says how much is covered: "window not yet covered: 1m
// of 5m scraped". The oldest scrape must be at or before the window's start,
// so a window is covered up to one scrape interval after statusd has been
// scraping for its length.
func (h *History) Covered(now time.Time, window time.Duration) error {
	got := h.Coverage(now, window)
	if got >= window {
		return nil
	}
	return fmt.Errorf("%w: %s of %s scraped%s", ErrNotCovered, ago(got.Milliseconds()), ago(window.Milliseconds()), h.where)
}
