package emit

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// cause is why an Event was written, a label of the write counter.
type cause int

const (
	// causeCreate: a new firing episode, announced by creating its Event
	// (or taking over the Event of an earlier episode or process).
	causeCreate cause = iota
	// causeChange: the finding's material content changed (Material of
	// its message, or its Event type).
	causeChange
	// causeHeartbeat: a heartbeat passed; the write carries the latest
	// message, count and lastTimestamp.
	causeHeartbeat
	// causeResolve: a <Reason>Resolved Event.
	causeResolve
	numCauses
)

var causeNames = [numCauses]string{"create", "change", "heartbeat", "resolve"}

func (c cause) String() string { return causeNames[c] }

// counters are the Writer's running totals; atomics, because workers bump
// them without the lock.
type counters struct {
	writes   [numCauses]atomic.Uint64
	requests [numVerbs]atomic.Uint64
	failures [numVerbs]atomic.Uint64
	retries  atomic.Uint64
	dropped  atomic.Uint64
}

// Stats is a snapshot of the Writer's counters and backlog.
type Stats struct {
	// Writes counts the Events written, successfully, by cause: "create"
	// (a new firing episode), "change" (a material change of a firing
	// finding), "heartbeat" (a steady finding refreshed) and "resolve" (a
	// Resolved Event). A steady fault held for a duration D costs one
	// create and D/Heartbeat heartbeats.
	Writes map[string]uint64
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

// Requests is Creates plus Patches: the write requests sent, retries and
// the turns of an upsert included.
func (s Stats) Requests() uint64 { return s.Creates + s.Patches }

// Stats returns the current counters.
func (w *Writer) Stats() Stats {
	s := Stats{
		Creates:  w.stats.requests[verbCreate].Load(),
		Patches:  w.stats.requests[verbPatch].Load(),
		Gets:     w.stats.requests[verbGet].Load(),
		Lists:    w.stats.requests[verbList].Load(),
		Failures: map[string]uint64{},
		Writes:   make(map[string]uint64, numCauses),
		Retries:  w.stats.retries.Load(),
		Dropped:  w.stats.dropped.Load(),
	}
	for v := range numVerbs {
		if n := w.stats.failures[v].Load(); n > 0 {
			s.Failures[v.String()] = n
		}
	}
	for c := range numCauses {
		s.Writes[c.String()] = w.stats.writes[c].Load()
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
	writesDesc = prometheus.NewDesc("statusd_event_writes_total",
		"Events written, by cause: create (a new firing episode), change (a material change of a firing finding), "+
			"heartbeat (a steady finding refreshed) and resolve (a Resolved Event).", []string{"cause"}, nil)
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
	for _, d := range []*prometheus.Desc{writesDesc, requestsDesc, failuresDesc, retriesDesc, droppedDesc, queueDesc, pendingDesc, firingDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector from a Stats snapshot.
func (w *Writer) Collect(ch chan<- prometheus.Metric) {
	s := w.Stats()
	for c := range numCauses {
		ch <- prometheus.MustNewConstMetric(writesDesc, prometheus.CounterValue, float64(s.Writes[c.String()]), c.String())
	}
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
