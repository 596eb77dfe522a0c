package snapshot

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"statusd.io/statusd/pkg/series"
)

// PodMetrics is what statusd scraped from one pod: the history of its
// series, which knows its last success and last error, so that a query on
// a pod whose scrape failed is Unknown rather than zero.
type PodMetrics struct {
	Namespace string
	Name      string
	// Source is the metrics source that selected the pod.
	Source string
	// History holds the samples; it is shared with the scraper, which only
	// appends, and queries read it at the snapshot's time.
	History *series.History
}

// NewPodMetrics returns an empty history for pod namespace/name.
func NewPodMetrics(namespace, name, source string, opts series.Options) (*PodMetrics, error) {
	if opts.Target == "" {
		opts.Target = namespace + "/" + name
	}
	h, err := series.NewHistory(opts)
	if err != nil {
		return nil, fmt.Errorf("metrics history for %s/%s: %w", namespace, name, err)
	}
	return &PodMetrics{Namespace: namespace, Name: name, Source: source, History: h}, nil
}

// addScrapes replays a snapshot file's scrapes into histories, in order of
// time, so that rates over several scrapes work offline as they do live.
func addScrapes(b *Builder, scrapes []Scrape, at time.Time) error {
	type timed struct {
		i int
		t time.Time
	}
	order := make([]timed, 0, len(scrapes))
	for i, s := range scrapes {
		t := at
		if s.At != "" {
			var err error
			t, err = time.Parse(time.RFC3339, s.At)
			if err != nil {
				return fmt.Errorf("metrics[%d]: at %q is not RFC 3339", i, s.At)
			}
		}
		order = append(order, timed{i, t})
	}
	// A file lists scrapes in any order; a history only moves forward.
	slices.SortStableFunc(order, func(a, b timed) int { return a.t.Compare(b.t) })
	byPod := map[string]*PodMetrics{}
	for _, o := range order {
		i, s, t := o.i, scrapes[o.i], o.t
		ns, name, ok := strings.Cut(s.Pod, "/")
		if !ok || ns == "" || name == "" {
			return fmt.Errorf("metrics[%d]: pod %q must be namespace/name", i, s.Pod)
		}
		pm := byPod[s.Pod]
		if pm == nil {
			var err error
			pm, err = NewPodMetrics(ns, name, s.Source, series.Options{})
			if err != nil {
				return err
			}
			byPod[s.Pod] = pm
			b.AddMetrics(pm)
		}
		if err := Record(pm, t, s.Text, s.Error); err != nil {
			return fmt.Errorf("metrics[%d] (%s): %w", i, s.Pod, err)
		}
	}
	return nil
}

// Record appends one scrape (a page, or a failure message) to pm.
func Record(pm *PodMetrics, t time.Time, text, failure string) error {
	if failure != "" {
		return pm.History.Fail(t, errors.New(failure))
	}
	page, err := series.Parse(strings.NewReader(text), "text/plain", series.Limits{})
	if err != nil {
		// A garbage page is a failed scrape: the pod's metrics are Unknown.
		return pm.History.Fail(t, err)
	}
	return pm.History.Append(t, page)
}
