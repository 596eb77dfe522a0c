package emit

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// counters are the Writer's running totals; atomics, because workers bump
// them without the lock.
type counters struct {
	requests [numVerbs]atomic.Uint64
	failures [numVerbs]atomic.Uint64
	retries  atomic.Uint64
	dropped  atomic.Uint64
}

// Stats is a snapshot of the Writer's counters and backlog.
type Stats struct {
	// Creates, Patches, Gets and Lists count API requests sent, whatever
	// their answer. Creates and Patches are the API writes.
	Creates, Patches, Gets, Lists uint64
	// Failures counts requests that failed, by the same verbs; a create
	// that finds its name taken, or a patch of an Event that expired, is a
	// step of the upsert and not counted.
	Failures map[string]uint64
	// Retries counts writes put back with backoff after a failure.
	Retries uint64
	// Dropped counts writes given up because retrying cannot help.
	Dropped uint64
	// QueueDepth is how many writes wait in the queue for a worker, not
	// counting those waiting for their backoff.
	QueueDepth int
	// Pending is how many Events have a write queued, backing off or in
	// flight; zero means the API server holds what statusd wants.
	Pending int
	// Firing is how many firing Events the Writer keeps records of.
	Firing int
}

// Writes is Creates plus Patches.
func (s Stats) Writes() uint64 { return s.Creates + s.Patches }

// Stats returns the current counters.
func (w *Writer) Stats() Stats {
	s := Stats{
		Creates:  w.stats.requests[verbCreate].Load(),
		Patches:  w.stats.requests[verbPatch].Load(),
		Gets:     w.stats.requests[verbGet].Load(),
		Lists:    w.stats.requests[verbList].Load(),
		Failures: map[string]uint64{},
		Retries:  w.stats.retries.Load(),
		Dropped:  w.stats.dropped.Load(),
	}
	for v := range numVerbs {
		if n := w.stats.failures[v].Load(); n > 0 {
			s.Failures[v.String()] = n
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.queue != nil {
		s.QueueDepth = w.queue.Len()
	}
	for _, rec := range w.records {
		if rec.pending {
			s.Pending++
		}
	}
	s.Pending += len(w.resolutions)
	s.Firing = len(w.records)
	return s
}

var (
	requestsDesc = prometheus.NewDesc("statusd_event_requests_total",
		"API requests for statusd's Events, by verb (create and patch are the writes).", []string{"verb"}, nil)
	failuresDesc = prometheus.NewDesc("statusd_event_request_failures_total",
		"Failed API requests for statusd's Events, by verb.", []string{"verb"}, nil)
	retriesDesc = prometheus.NewDesc("statusd_event_write_retries_total",
		"Event writes put back with backoff after a failure.", nil, nil)
	droppedDesc = prometheus.NewDesc("statusd_event_writes_dropped_total",
		"Event writes given up because the API server refused them for good.", nil, nil)
	queueDesc = prometheus.NewDesc("statusd_event_queue_depth",
		"Event writes waiting for a worker.", nil, nil)
	pendingDesc = prometheus.NewDesc("statusd_event_pending",
		"Events with a write queued, backing off or in flight.", nil, nil)
	firingDesc = prometheus.NewDesc("statusd_event_firing",
		"Firing Events the writer keeps records of.", nil, nil)
)

// Describe implements prometheus.Collector, so the daemon can register the
// Writer itself.
func (w *Writer) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{requestsDesc, failuresDesc, retriesDesc, droppedDesc, queueDesc, pendingDesc, firingDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector from a Stats snapshot.
func (w *Writer) Collect(ch chan<- prometheus.Metric) {
	s := w.Stats()
	for v := range numVerbs {
		ch <- prometheus.MustNewConstMetric(requestsDesc, prometheus.CounterValue, float64(w.stats.requests[v].Load()), v.String())
		ch <- prometheus.MustNewConstMetric(failuresDesc, prometheus.CounterValue, float64(w.stats.failures[v].Load()), v.String())
	}
	ch <- prometheus.MustNewConstMetric(retriesDesc, prometheus.CounterValue, float64(s.Retries))
	ch <- prometheus.MustNewConstMetric(droppedDesc, prometheus.CounterValue, float64(s.Dropped))
	ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(s.QueueDepth))
	ch <- prometheus.MustNewConstMetric(pendingDesc, prometheus.GaugeValue, float64(s.Pending))
	ch <- prometheus.MustNewConstMetric(firingDesc, prometheus.GaugeValue, float64(s.Firing))
}

var _ prometheus.Collector = (*Writer)(nil)
