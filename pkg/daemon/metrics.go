package daemon

import (
	"github.com/prometheus/client_golang/prometheus"

	"statusd.io/statusd/pkg/engine"
)

// metrics are statusd's own: how its ticks, expressions and reloads are
// doing. Only the loop goroutine and the reload handler write them.
type metrics struct {
	tickDuration     prometheus.Histogram
	ticks            prometheus.Counter
	findings         *prometheus.GaugeVec
	celErrors        *prometheus.CounterVec
	celCost          prometheus.Histogram
	reloadOK         prometheus.Gauge
	reloadTimestamp  prometheus.Gauge
	reloads          *prometheus.CounterVec
	catalogInfo      *prometheus.GaugeVec
	leader           prometheus.Gauge
	lastTickUnixTime prometheus.Gauge
	unknownReasons   *prometheus.GaugeVec
	starved          *prometheus.CounterVec
	starvedLast      prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		tickDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "statusd_tick_duration_seconds", Help: "Time to evaluate the catalogue once, from snapshot to decisions.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}),
		ticks: prometheus.NewCounter(prometheus.CounterOpts{Name: "statusd_ticks_total", Help: "Evaluations of the catalogue."}),
		findings: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "statusd_findings", Help: "Findings after the last tick, by reason, layer and state (Pending, Firing, Suppressed, Unknown).",
		}, []string{"reason", "layer", "state"}),
		celErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "statusd_cel_unknown_total", Help: "Evaluations that ended Unknown (expression error, cost limit, missing metric, unreadable source), by reason.",
		}, []string{"reason"}),
		celCost: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "statusd_tick_cel_cost", Help: "CEL cost spent by one tick.",
			Buckets: prometheus.ExponentialBuckets(1000, 4, 12),
		}),
		reloadOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "statusd_catalog_last_reload_successful", Help: "1 when the last catalogue reload was accepted, 0 when it was rejected and the previous catalogue stayed in force.",
		}),
		reloadTimestamp: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "statusd_catalog_last_reload_success_timestamp_seconds", Help: "Time of the last accepted catalogue reload.",
		}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "statusd_catalog_reloads_total", Help: "Catalogue reload attempts by outcome (accepted, rejected).",
		}, []string{"outcome"}),
		catalogInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "statusd_catalog_info", Help: "The catalogue in force: 1 for its name, version and content hash.",
		}, []string{"catalog", "version", "hash"}),
		leader: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "statusd_leader", Help: "1 while this replica holds the leader Lease and evaluates.",
		}),
		lastTickUnixTime: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "statusd_last_tick_timestamp_seconds", Help: "Time of the last completed tick.",
		}),
		unknownReasons: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "statusd_reason_unknown_ticks",
			Help: "Consecutive ticks a reason has been Unknown on every subject it evaluates, for reasons past the threshold (10 ticks by default): a catalogue problem, such as a field that does not exist.",
		}, []string{"reason"}),
		starved: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "statusd_reason_starved_ticks_total",
			Help: "Ticks whose CEL budget (--tick-budget) ran out before a reason was evaluated on every subject, by reason: those subjects were Unknown for the tick.",
		}, []string{"reason"}),
		starvedLast: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "statusd_tick_starved_reasons",
			Help: "Reasons the last tick's CEL budget did not reach on every subject; above 0, raise --tick-budget or make the catalogue cheaper.",
		}),
	}
	reg.MustRegister(m.tickDuration, m.ticks, m.findings, m.celErrors, m.celCost, m.reloadOK,
		m.reloadTimestamp, m.reloads, m.catalogInfo, m.leader, m.lastTickUnixTime, m.unknownReasons,
		m.starved, m.starvedLast)
	return m
}

// observe records a tick's result.
func (m *metrics) observe(res *engine.Result, seconds float64) {
	m.ticks.Inc()
	m.tickDuration.Observe(seconds)
	m.celCost.Observe(float64(res.Cost))
	m.lastTickUnixTime.Set(float64(res.Time.Unix()))
	type key struct{ reason, layer, state string }
	counts := map[key]float64{}
	for _, f := range res.Findings {
		counts[key{f.Reason, f.Layer, string(f.State)}]++
		if f.State == engine.Unknown || f.Held {
			m.celErrors.WithLabelValues(f.Reason).Inc()
		}
	}
	// Reset so that reasons no longer present drop to absent rather than
	// keep their last count.
	m.findings.Reset()
	for k, n := range counts {
		m.findings.WithLabelValues(k.reason, k.layer, k.state).Set(n)
	}
	m.unknownReasons.Reset()
	for _, u := range res.UnknownReasons {
		m.unknownReasons.WithLabelValues(u.Reason).Set(float64(u.Ticks))
	}
	for _, s := range res.Starved {
		m.starved.WithLabelValues(s.Reason).Inc()
	}
	m.starvedLast.Set(float64(len(res.Starved)))
}
