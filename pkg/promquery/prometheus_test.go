package promquery

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"statusd.io/statusd/internal/promstack"
	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/engine"
	"statusd.io/statusd/pkg/snapshot"
)

// TestRealPrometheus runs query sources against a real Prometheus that
// scrapes a test exporter, and a reason over their results through the
// engine.
func TestRealPrometheus(t *testing.T) {
	exp := promstack.StartExporter(t, `# TYPE kube_pod_container_status_restarts_total counter
kube_pod_container_status_restarts_total{namespace="apps",pod="web-1",container="app"} 7
kube_pod_container_status_restarts_total{namespace="apps",pod="web-2",container="app"} 0
`)
	prom := promstack.StartPrometheus(t, promstack.PrometheusOptions{Targets: []string{exp.Addr}})
	r, err := New(Options{URL: prom.URL})
	require.NoError(t, err)
	c := catalogue(t, `  restarts:
    prometheus: {query: 'sum by (namespace, pod) (kube_pod_container_status_restarts_total)'}
  missing:
    prometheus: {query: 'kube_pod_container_status_restarts_total{pod="nope"}'}
  typo:
    prometheus: {query: 'sum(kube_pod_container_status_restarts_total) by'}
`)
	// Wait for the first scrape to land.
	var res []*snapshot.QueryResult
	require.Eventually(t, func() bool {
		res = r.Run(context.Background(), time.Now(), c)
		return len(res) == 3 && len(res[1].Samples) == 2
	}, 30*time.Second, 200*time.Millisecond, "prometheus never answered with the exporter's series: %+v\n%s", res, prom.Log())
	byName := map[string]*snapshot.QueryResult{}
	for _, q := range res {
		byName[q.Source] = q
	}
	assert.Equal(t, snapshot.StatusReady, byName["missing"].Status)
	assert.Empty(t, byName["missing"].Samples, "no series: absent")
	assert.Equal(t, snapshot.StatusFailed, byName["typo"].Status)
	assert.Contains(t, byName["typo"].Err, "parse error", "the server's parse error, with its position")

	// A reason reads the results joined to its pods.
	src := catalogue(t, `  restarts:
    prometheus: {query: 'sum by (namespace, pod) (kube_pod_container_status_restarts_total)'}
`)
	src.Reasons[0].When.Text = `cluster.query("restarts", object).value() > 3.0`
	compiled, errs := cel.Compile(src, cel.Options{})
	require.NoError(t, errs.Err())
	at := time.Now()
	b := snapshot.NewBuilder(at, snapshot.ServedDefault(src, snapshot.Cluster{Version: "v1.36.3"}))
	var objs []map[string]any
	for _, name := range []string{"web-1", "web-2", "web-3"} {
		objs = append(objs, map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"namespace": "apps", "name": name, "uid": name}})
	}
	b.Select(src, objs, nil)
	for _, q := range r.Run(context.Background(), at, src) {
		b.AddQuery(q)
	}
	out := engine.New(compiled, engine.Options{}).Tick(context.Background(), b.Build())
	states := map[string]engine.State{}
	for _, f := range out.Findings {
		states[f.Subject.Name] = f.State
	}
	assert.Equal(t, map[string]engine.State{"web-1": engine.Firing, "web-3": engine.Unknown}, states,
		"web-1 restarted 7 times; web-2's zero is a value; web-3 has no series, which is not zero")
}
