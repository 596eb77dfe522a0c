package emit

import (
	"cmp"
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/engine"
)

// DefaultMaxRootCauses bounds the statusd_root_cause series of one
// cluster.
const DefaultMaxRootCauses = 500

var (
	rootCauseDesc = prometheus.NewDesc("statusd_root_cause",
		"One series per published root cause (value 1), for fleet-wide queries through Thanos or Mimir. "+
			"Cardinality: the published root causes of the last tick, at most the configured bound.",
		[]string{"reason", "severity", "layer", "namespace", "kind", "name", "cluster"}, nil)
	rootCauseOmittedDesc = prometheus.NewDesc("statusd_root_causes_omitted",
		"Published root causes of the last tick left out of statusd_root_cause because of its bound.",
		[]string{"cluster"}, nil)
)

// RootCauses exports the last tick's published root causes as the
// statusd_root_cause gauge. Its cardinality is bounded: at most Max
// series, the highest-priority causes first (then by subject); the rest
// are counted in statusd_root_causes_omitted. Publish and Collect may run
// concurrently.
type RootCauses struct {
	cluster string
	max     int

	mu      sync.Mutex
	causes  []rootCause
	omitted int
}

type rootCause struct {
	reason, severity, layer, namespace, kind, name string
	priority                                       int
}

// NewRootCauses returns the collector; cluster is the cluster label
// (--cluster-name), max the bound (DefaultMaxRootCauses when 0).
func NewRootCauses(cluster string, maxSeries int) *RootCauses {
	if maxSeries <= 0 {
		maxSeries = DefaultMaxRootCauses
	}
	return &RootCauses{cluster: cluster, max: maxSeries}
}

// Publish takes a tick's result.
func (r *RootCauses) Publish(res *engine.Result) {
	if res == nil {
		return
	}
	var causes []rootCause
	for _, f := range res.Findings {
		if !f.Published || !f.Root {
			continue
		}
		sev := string(catalog.Severity(f.Severity).Level())
		if sev == "" {
			sev = string(catalog.SeverityWarning)
		}
		causes = append(causes, rootCause{
			reason: f.Reason, severity: sev, layer: f.Layer,
			namespace: f.Subject.Namespace, kind: f.Subject.Kind, name: f.Subject.Name, priority: f.Priority,
		})
	}
	slices.SortFunc(causes, func(a, b rootCause) int {
		return cmp.Or(cmp.Compare(b.priority, a.priority), cmp.Compare(a.namespace, b.namespace),
			cmp.Compare(a.kind, b.kind), cmp.Compare(a.name, b.name), cmp.Compare(a.reason, b.reason))
	})
	// One subject may be named twice (a recreated object, by UID): one
	// series each.
	causes = slices.CompactFunc(causes, func(a, b rootCause) bool { return a == b })
	omitted := 0
	if len(causes) > r.max {
		omitted = len(causes) - r.max
		causes = causes[:r.max]
	}
	r.mu.Lock()
	r.causes, r.omitted = causes, omitted
	r.mu.Unlock()
}

// Describe implements prometheus.Collector.
func (r *RootCauses) Describe(ch chan<- *prometheus.Desc) {
	ch <- rootCauseDesc
	ch <- rootCauseOmittedDesc
}

// Collect implements prometheus.Collector.
func (r *RootCauses) Collect(ch chan<- prometheus.Metric) {
	r.mu.Lock()
	causes, omitted := r.causes, r.omitted
	r.mu.Unlock()
	for _, c := range causes {
		ch <- prometheus.MustNewConstMetric(rootCauseDesc, prometheus.GaugeValue, 1,
			c.reason, c.severity, c.layer, c.namespace, c.kind, c.name, r.cluster)
	}
	ch <- prometheus.MustNewConstMetric(rootCauseOmittedDesc, prometheus.GaugeValue, float64(omitted), r.cluster)
}
