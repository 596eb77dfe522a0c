package cel_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/series"
	"statusd.io/statusd/pkg/snapshot"
)

// scrapeInterval is the interval of the histories the metrics tests load.
const scrapeInterval = 15 * time.Second

// metricsFixture is a snapshot of vLLM pods: m1 and m2 scraped and
// healthy, m3 whose latest scrape failed, m4 never scraped, m5 scraped
// until twenty minutes ago.
type metricsFixture struct {
	snap               *snapshot.Snapshot
	m1, m2, m3, m4, m5 *snapshot.Object
}

// history loads a pod's history with promtool notation; each input's
// last value lands at end, the ones before it a scrape interval apart.
func history(t testing.TB, ns, name string, end time.Time, steps int, inputs ...series.Input) *snapshot.PodMetrics {
	t.Helper()
	pm, err := snapshot.NewPodMetrics(ns, name, "vllm", series.Options{})
	require.NoError(t, err)
	start := end.Add(-time.Duration(steps-1) * scrapeInterval)
	require.NoError(t, pm.History.Load(start, scrapeInterval, inputs...))
	return pm
}

func newMetricsFixture(t testing.TB) *metricsFixture {
	t.Helper()
	f := &metricsFixture{
		m1: pod("a", "m1", "n1", "vllm", "Running", time.Hour, nil),
		m2: pod("a", "m2", "n1", "vllm", "Running", time.Hour, nil),
		m3: pod("b", "m3", "n1", "vllm", "Running", time.Hour, nil),
		m4: pod("b", "m4", "n1", "vllm", "Running", time.Hour, nil),
		m5: pod("c", "m5", "n1", "vllm", "Running", time.Hour, nil),
	}
	b := snapshot.NewBuilder(t0, snapshot.Cluster{Version: "v1.36.3"})
	b.Add("pods", f.m1, f.m2, f.m3, f.m4, f.m5)
	b.Add("nodes", node("n1", "z1"))
	// 11 scrapes, the last at t0. Over the last minute (t0-60s, t0] the
	// gauge reads 7 8 9 12; the counter grows 1/s; half the requests take
	// at most 0.5s and all at most 1s.
	b.AddMetrics(history(t, "a", "m1", t0, 11,
		series.Input{Series: `vllm:num_requests_waiting{model_name="llama"}`, Values: "0 1 2 3 4 5 6 7 8 9 12"},
		series.Input{Series: `vllm:request_success_total{model_name="llama"}`, Values: "0+15x10"},
		series.Input{Series: `vllm:e2e_request_latency_seconds_bucket{le="0.5"}`, Values: "0+5x10"},
		series.Input{Series: `vllm:e2e_request_latency_seconds_bucket{le="1"}`, Values: "0+10x10"},
		series.Input{Series: `vllm:e2e_request_latency_seconds_bucket{le="+Inf"}`, Values: "0+10x10"},
	))
	b.AddMetrics(history(t, "a", "m2", t0, 11,
		series.Input{Series: `vllm:num_requests_waiting{model_name="qwen"}`, Values: "3x10"},
		series.Input{Series: `vllm:e2e_request_latency_seconds_bucket{le="0.5"}`, Values: "0x10"},
		series.Input{Series: `vllm:e2e_request_latency_seconds_bucket{le="1"}`, Values: "0+1x10"},
		series.Input{Series: `vllm:e2e_request_latency_seconds_bucket{le="+Inf"}`, Values: "0+1x10"},
	))
	failed := history(t, "b", "m3", t0.Add(-scrapeInterval), 10,
		series.Input{Series: `vllm:num_requests_waiting{model_name="llama"}`, Values: "0x9"})
	require.NoError(t, failed.History.Fail(t0, errors.New("connection refused")))
	b.AddMetrics(failed)
	b.AddMetrics(history(t, "c", "m5", t0.Add(-20*time.Minute), 5,
		series.Input{Series: `vllm:num_requests_waiting{model_name="llama"}`, Values: "1x4"}))
	f.snap = b.Build()
	return f
}

func TestEvalMetrics(t *testing.T) {
	f := newMetricsFixture(t)
	tests := []struct {
		name    string
		when    string
		subject *snapshot.Object
		want    cel.Outcome
		err     string
	}{
		{name: "value", when: `metrics.value("vllm:num_requests_waiting") == 12.0`, subject: f.m1, want: cel.True},
		{name: "value-by-label", when: `metrics.value("vllm:num_requests_waiting{model_name=\"llama\"}") == 12.0`, subject: f.m1, want: cel.True},
		{name: "value-by-regex", when: `metrics.value("{__name__=~\"vllm:num_requests_.*\"}") == 12.0`, subject: f.m1, want: cel.True},
		{name: "value-missing-is-unknown", when: `metrics.value("vllm:gpu_cache_usage_perc") < 0.9`, subject: f.m1, want: cel.Unknown, err: "no data"},
		{name: "value-label-mismatch-is-unknown", when: `metrics.value("vllm:num_requests_waiting{model_name=\"qwen\"}") < 1.0`, subject: f.m1, want: cel.Unknown, err: "no data"},
		{name: "has", when: `metrics.has("vllm:num_requests_waiting") && !metrics.has("vllm:gpu_cache_usage_perc")`, subject: f.m1, want: cel.True},
		{name: "rate", when: `metrics.rate("vllm:request_success_total", duration("1m")) > 0.99 && metrics.rate("vllm:request_success_total", duration("1m")) < 1.01`, subject: f.m1, want: cel.True},
		{name: "increase", when: `metrics.increase("vllm:request_success_total", duration("1m")) > 59.0 && metrics.increase("vllm:request_success_total", duration("1m")) < 61.0`, subject: f.m1, want: cel.True},
		{name: "delta", when: `metrics.delta("vllm:num_requests_waiting", duration("2m")) > 0.0`, subject: f.m1, want: cel.True},
		{name: "avg-over-time", when: `metrics.avgOverTime("vllm:num_requests_waiting", duration("1m")) == 9.0`, subject: f.m1, want: cel.True},
		{name: "max-over-time", when: `metrics.maxOverTime("vllm:num_requests_waiting", duration("1m")) == 12.0`, subject: f.m1, want: cel.True},
		{name: "min-over-time", when: `metrics.minOverTime("vllm:num_requests_waiting", duration("1m")) == 7.0`, subject: f.m1, want: cel.True},
		{name: "quantile-median", when: `metrics.quantile(0.5, "vllm:e2e_request_latency_seconds", duration("1m")) == 0.5`, subject: f.m1, want: cel.True},
		{name: "quantile-p90", when: `metrics.quantile(0.9, "vllm:e2e_request_latency_seconds", duration("1m")) > 0.85 && metrics.quantile(0.9, "vllm:e2e_request_latency_seconds", duration("1m")) < 0.95`, subject: f.m1, want: cel.True},
		{name: "quantile-out-of-range", when: `metrics.quantile(1.5, "vllm:e2e_request_latency_seconds", duration("1m")) > 0.0`, subject: f.m1, want: cel.Unknown, err: "invalid argument"},
		// m1 has been scraped for 2m30s: a longer window is not covered,
		// whichever way the condition reads it.
		{name: "window-exactly-covered", when: `metrics.avgOverTime("vllm:num_requests_waiting", duration("150s")) > 0.0`, subject: f.m1, want: cel.True},
		{name: "window-not-covered", when: `metrics.minOverTime("vllm:num_requests_waiting", duration("3m")) >= 0.0`, subject: f.m1, want: cel.Unknown, err: "window not yet covered: 2m30s of 3m scraped"},
		{name: "window-not-covered-negated", when: `!(metrics.maxOverTime("vllm:num_requests_waiting", duration("5m")) > 50.0)`, subject: f.m1, want: cel.Unknown, err: "window not yet covered"},
		{name: "rate-not-covered", when: `metrics.rate("vllm:request_success_total", duration("10m")) > 0.0`, subject: f.m1, want: cel.Unknown, err: "2m30s of 10m scraped"},
		{name: "quantile-not-covered", when: `metrics.quantile(0.5, "vllm:e2e_request_latency_seconds", duration("5m")) > 0.0`, subject: f.m1, want: cel.Unknown, err: "window not yet covered"},
		{name: "value-needs-no-window", when: `metrics.value("vllm:num_requests_waiting") == 12.0 && metrics.has("vllm:num_requests_waiting")`, subject: f.m1, want: cel.True},
		{name: "failed-scrape-says-so-before-coverage", when: `metrics.rate("vllm:num_requests_waiting", duration("5m")) >= 0.0`, subject: f.m3, want: cel.Unknown, err: "connection refused"},
		{name: "over-pods-one-uncovered-is-unknown", when: `cluster.metrics(cluster.inNamespace("pods", "a")).maxOverTime("vllm:num_requests_waiting", duration("3m")) > 0.0`, subject: f.m4, want: cel.Unknown, err: "window not yet covered"},
		{name: "window-over-retention", when: `metrics.rate("vllm:request_success_total", duration("1h")) > 0.0`, subject: f.m1, want: cel.Unknown, err: "longer than the retention"},
		{name: "bad-selector", when: `metrics.value("vllm:num_requests_waiting{") > 0.0`, subject: f.m1, want: cel.Unknown, err: `selector "vllm:num_requests_waiting{"`},
		{name: "has-bad-selector", when: `!metrics.has("vllm:num_requests_waiting{")`, subject: f.m1, want: cel.Unknown, err: `selector "vllm:num_requests_waiting{"`},
		{name: "failed-scrape-is-unknown", when: `metrics.value("vllm:num_requests_waiting") >= 0.0`, subject: f.m3, want: cel.Unknown, err: "scrape failed"},
		{name: "failed-scrape-negated-is-unknown", when: `!(metrics.value("vllm:num_requests_waiting") > 0.0)`, subject: f.m3, want: cel.Unknown, err: "connection refused"},
		{name: "failed-scrape-has-is-unknown", when: `!metrics.has("vllm:num_requests_waiting")`, subject: f.m3, want: cel.Unknown, err: "scrape failed"},
		{name: "not-scraped-is-unknown", when: `metrics.value("vllm:num_requests_waiting") == 0.0`, subject: f.m4, want: cel.Unknown, err: "Pod b/m4 is not scraped by any metrics source"},
		{name: "not-scraped-has-is-unknown", when: `!metrics.has("vllm:num_requests_waiting")`, subject: f.m4, want: cel.Unknown, err: "is not scraped"},
		{name: "stale-is-unknown", when: `metrics.value("vllm:num_requests_waiting") == 1.0`, subject: f.m5, want: cel.Unknown, err: "stale"},
		{name: "stale-has-is-unknown", when: `!metrics.has("vllm:num_requests_waiting")`, subject: f.m5, want: cel.Unknown, err: "stale"},
		{name: "pods-summed", when: `cluster.metrics(cluster.inNamespace("pods", "a")).value("vllm:num_requests_waiting") == 15.0`, subject: f.m4, want: cel.True},
		{name: "one-pod", when: `cluster.metrics(cluster.lookup("pods", "a", "m2").value()).value("vllm:num_requests_waiting") == 3.0`, subject: f.m1, want: cel.True},
		{name: "pod-list-literal", when: `cluster.metrics([cluster.lookup("pods", "a", "m1").value(), cluster.lookup("pods", "a", "m2").value()]).maxOverTime("vllm:num_requests_waiting", duration("1m")) == 12.0`, subject: f.m4, want: cel.True},
		{name: "worst-pod-quantile", when: `cluster.metrics(cluster.inNamespace("pods", "a")).quantile(0.5, "vllm:e2e_request_latency_seconds", duration("1m")) > 0.5`, subject: f.m4, want: cel.True},
		{name: "min-over-pods", when: `cluster.metrics(cluster.inNamespace("pods", "a")).minOverTime("vllm:num_requests_waiting", duration("1m")) == 3.0`, subject: f.m4, want: cel.True},
		{name: "one-failed-pod-makes-all-unknown", when: `cluster.metrics(cluster.objects("pods")).value("vllm:num_requests_waiting") > 0.0`, subject: f.m1, want: cel.Unknown, err: "not scraped"},
		{name: "no-pods", when: `cluster.metrics(cluster.inNamespace("pods", "nowhere")).value("vllm:num_requests_waiting") > 0.0`, subject: f.m1, want: cel.Unknown, err: "no pods to read metrics from"},
		{name: "not-a-pod", when: `cluster.metrics(1).value("x") > 0.0`, subject: f.m1, want: cel.Unknown, err: "cluster.metrics wants a pod or a list of pods, got int"},
		{name: "node-has-no-metrics", when: `cluster.metrics(cluster.objects("nodes")).value("x") > 0.0`, subject: f.m1, want: cel.Unknown, err: "Node n1 is not scraped"},
	}
	body := strings.Replace(evalCatalog, "variables:\n", "  vllm: {metrics: {selector: app=vllm, port: 8000}}\nvariables:\n", 1)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := compile(t, body+"reasons:\n- name: R\n  subject: pods\n  summary: s\n  when: '"+strings.ReplaceAll(tt.when, "'", "''")+"'\n", cel.Options{})
			res := c.NewEvaluator(context.Background(), f.snap).When(c.Reason("R"), tt.subject)
			assert.Equal(t, tt.want, res.Outcome, "err: %v", res.Err)
			if tt.err != "" {
				require.Error(t, res.Err)
				assert.Contains(t, res.Err.Error(), tt.err)
			} else {
				assert.NoError(t, res.Err)
			}
		})
	}
}
