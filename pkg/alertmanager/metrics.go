package alertmanager

import "github.com/prometheus/client_golang/prometheus"

// metrics are the Sender's own series. Cardinality: one series per
// Alertmanager URL (and two per state or drop reason), whatever the alerts.
type metrics struct {
	sent     *prometheus.CounterVec
	failures *prometheus.CounterVec
	queue    *prometheus.GaugeVec
	dropped  *prometheus.CounterVec
	alerts   *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "statusd_alertmanager_alerts_sent_total",
			Help: "Alerts delivered to an Alertmanager (each POST counts every alert it carries).",
		}, []string{"alertmanager"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "statusd_alertmanager_send_failures_total",
			Help: "POSTs to an Alertmanager that failed (refused, timed out or unreachable).",
		}, []string{"alertmanager"}),
		queue: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "statusd_alertmanager_queue_length",
			Help: "Alerts due for an Alertmanager and not yet delivered: new, resolved or due for a resend.",
		}, []string{"alertmanager"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "statusd_alertmanager_dropped_total",
			Help: "Alerts given up: full (over the Sender's alert bound) or refused (an Alertmanager answered 4xx).",
		}, []string{"reason"}),
		alerts: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "statusd_alertmanager_alerts",
			Help: "Alerts the Sender holds: firing, or resolved and not yet delivered to every Alertmanager.",
		}, []string{"state"}),
	}
	for _, r := range []string{"full", "refused"} {
		m.dropped.WithLabelValues(r)
	}
	if reg != nil {
		reg.MustRegister(m.sent, m.failures, m.queue, m.dropped, m.alerts)
	}
	return m
}

// init creates an Alertmanager's series at zero, so that rate() works
// from the first failure.
func (m *metrics) init(url string) {
	m.sent.WithLabelValues(url)
	m.failures.WithLabelValues(url)
	m.queue.WithLabelValues(url)
}

func (m *metrics) setAlerts(alerts map[string]*alert) {
	firing := 0
	for _, a := range alerts {
		if a.firing() {
			firing++
		}
	}
	m.alerts.WithLabelValues("firing").Set(float64(firing))
	m.alerts.WithLabelValues("resolved").Set(float64(len(alerts) - firing))
}
