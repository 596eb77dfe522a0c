package daemon

import (
	"github.com/prometheus/client_golang/prometheus"

	"statusd.io/statusd/pkg/sources"
)

var (
	descInformers = prometheus.NewDesc("statusd_source_informers", "Running informers.", nil, nil)
	descObjects   = prometheus.NewDesc("statusd_source_cached_objects", "Objects held in the informers' caches.", nil, nil)
	descLists     = prometheus.NewDesc("statusd_source_list_requests_total", "LIST requests informers made (initial lists and re-lists; never one per tick).", nil, nil)
	descProblems  = prometheus.NewDesc("statusd_source_problems_total", "Times a source became forbidden or failed.", []string{"source"}, nil)
	descTargets   = prometheus.NewDesc("statusd_scrape_targets", "Pods being scraped.", nil, nil)
	descScrapes   = prometheus.NewDesc("statusd_scrapes_total", "Scrapes of pod metrics.", nil, nil)
	descFailures  = prometheus.NewDesc("statusd_scrape_failures_total", "Scrapes that failed (timeout, size limit, refused, garbage).", nil, nil)
)

// sourcesCollector exposes the live sources' counters, read when scraped.
type sourcesCollector struct{ stats func() sources.Stats }

// SourcesCollector returns a collector over the sources' Stats, so that
// the sources package needs no metrics registry of its own.
func SourcesCollector(stats func() sources.Stats) prometheus.Collector {
	return sourcesCollector{stats: stats}
}

func (c sourcesCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descInformers, descObjects, descLists, descProblems, descTargets, descScrapes, descFailures} {
		ch <- d
	}
}

func (c sourcesCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	ch <- prometheus.MustNewConstMetric(descInformers, prometheus.GaugeValue, float64(s.Informers))
	ch <- prometheus.MustNewConstMetric(descObjects, prometheus.GaugeValue, float64(s.Objects))
	ch <- prometheus.MustNewConstMetric(descLists, prometheus.CounterValue, float64(s.Lists))
	for src, n := range s.Problems {
		ch <- prometheus.MustNewConstMetric(descProblems, prometheus.CounterValue, float64(n), src)
	}
	ch <- prometheus.MustNewConstMetric(descTargets, prometheus.GaugeValue, float64(s.Targets))
	ch <- prometheus.MustNewConstMetric(descScrapes, prometheus.CounterValue, float64(s.Scrapes))
	ch <- prometheus.MustNewConstMetric(descFailures, prometheus.CounterValue, float64(s.ScrapeFailures))
}
