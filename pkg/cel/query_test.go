package cel_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/snapshot"
)

const queryCatalog = `sources:
  pods: {version: v1, resource: pods}
  nodes: {version: v1, resource: nodes}
  restarts:
    prometheus: {query: 'increase(kube_pod_container_status_restarts_total[10m])'}
  load:
    prometheus: {query: 'node_load1', join: {name: instance}}
  quiet:
    prometheus: {query: 'up == 0'}
  broken:
    prometheus: {query: 'up'}
  unset:
    prometheus: {query: 'up'}
`

// queryVariables read query sources through a variable.
const queryVariables = `variables:
- {name: unsetMax, expression: 'cluster.query("unset", object).max()'}
`

// querySnapshot has results for restarts (two containers of p1, one of
// p3), load (per node), quiet (no series) and broken (failed); unset has
// none, as when statusd runs without Prometheus.
func querySnapshot(f *fixture) *snapshot.Snapshot {
	b := snapshot.NewBuilder(t0, snapshot.Cluster{Version: "v1.36.3", Resources: []string{"v1/pods", "v1/nodes"}})
	b.Add("pods", f.p1, f.p2, f.p3)
	b.Add("nodes", f.n1, node("n2", "z2"))
	b.AddQuery(&snapshot.QueryResult{Source: "restarts", Status: snapshot.StatusReady, At: t0, Samples: []snapshot.QuerySample{
		{Labels: map[string]string{"namespace": "a", "pod": "p1", "container": "app"}, Value: 4},
		{Labels: map[string]string{"namespace": "a", "pod": "p1", "container": "sidecar"}, Value: 1},
		{Labels: map[string]string{"namespace": "b", "pod": "p3", "container": "app"}, Value: 0},
		{Labels: map[string]string{"namespace": "other", "pod": "p2", "container": "app"}, Value: 9},
	}})
	b.AddQuery(&snapshot.QueryResult{Source: "load", Status: snapshot.StatusReady, At: t0, Samples: []snapshot.QuerySample{
		{Labels: map[string]string{"instance": "n1"}, Value: 12.5},
	}})
	b.AddQuery(&snapshot.QueryResult{Source: "quiet", Status: snapshot.StatusReady, At: t0})
	b.AddQuery(&snapshot.QueryResult{Source: "broken", Status: snapshot.StatusFailed, At: t0, Err: "context deadline exceeded"})
	return b.Build()
}

func TestEvalQuery(t *testing.T) {
	f := newFixture()
	snap := querySnapshot(f)
	tests := []struct {
		name    string
		when    string
		subject *snapshot.Object
		want    cel.Outcome
		err     string
	}{
		{name: "joined-sum", when: `cluster.query("restarts", object).value() == 5.0`, subject: f.p1, want: cel.True},
		{name: "joined-max-min-count", when: `cluster.query("restarts", object).max() == 4.0 && cluster.query("restarts", object).min() == 1.0 && cluster.query("restarts", object).count() == 2`, subject: f.p1, want: cel.True},
		{name: "zero-is-a-value", when: `cluster.query("restarts", object).value() == 0.0 && !cluster.query("restarts", object).absent()`, subject: f.p3, want: cel.True},
		{name: "namespace-joins-too", when: `cluster.query("restarts", object).absent()`, subject: f.p2, want: cel.True},
		{name: "absent-is-not-zero", when: `cluster.query("restarts", object).value() == 0.0`, subject: f.p2, want: cel.Unknown, err: "query restarts on Pod/a/p2 returned no series"},
		{name: "all-series", when: `cluster.query("restarts").count() == 4 && cluster.query("restarts").value() == 14.0`, subject: f.p1, want: cel.True},
		{name: "series-labels", when: `cluster.query("restarts", object).series().exists(s, s.labels.container == "sidecar" && s.value == 1.0)`, subject: f.p1, want: cel.True},
		{name: "named-join-label", when: `cluster.query("load", cluster.lookup("nodes", "", object.spec.nodeName).value()).value() > 10.0`, subject: f.p1, want: cel.True},
		{name: "empty-result", when: `cluster.query("quiet").absent() && cluster.sourceStatus("quiet") == "ready"`, subject: f.p1, want: cel.True},
		{name: "failed-is-unknown", when: `cluster.query("broken").absent()`, subject: f.p1, want: cel.Unknown, err: "prometheus query failed: broken: context deadline exceeded"},
		{name: "failed-value-is-unknown", when: `cluster.query("broken", object).value() > 1.0`, subject: f.p1, want: cel.Unknown, err: "context deadline exceeded"},
		{name: "failed-status", when: `cluster.sourceStatus("broken") == "failed"`, subject: f.p1, want: cel.True},
		{name: "no-prometheus-status-is-absent", when: `cluster.sourceStatus("unset") == "absent"`, subject: f.p1, want: cel.True},
		{name: "no-prometheus-absent-does-not-fire", when: `cluster.query("unset", object).absent()`, subject: f.p1, want: cel.False, err: "no Prometheus endpoint configured: query source unset cannot be read"},
		{name: "no-prometheus-value-is-false-not-unknown", when: `cluster.query("unset", object).value() > 1.0`, subject: f.p1, want: cel.False, err: "no Prometheus endpoint configured"},
		{name: "no-prometheus-negated-is-false-too", when: `!(cluster.query("unset").count() > 0)`, subject: f.p1, want: cel.False, err: "no Prometheus endpoint configured"},
		{name: "no-prometheus-through-a-variable", when: `variables.unsetMax > 1.0`, subject: f.p1, want: cel.False, err: "variable unsetMax"},
		{name: "no-prometheus-fallback-branch", when: `cluster.sourceStatus("unset") == "absent" ? object.metadata.name == "p1" : cluster.query("unset", object).max() > 1.0`, subject: f.p1, want: cel.True},
		{name: "no-prometheus-guarded-and", when: `cluster.sourceStatus("unset") != "absent" && cluster.query("unset", object).max() > 1.0`, subject: f.p1, want: cel.False},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := compile(t, queryCatalog+queryVariables+"reasons:\n- name: R\n  subject: pods\n  summary: s\n  when: '"+strings.ReplaceAll(tt.when, "'", "''")+"'\n", cel.Options{})
			res := c.NewEvaluator(context.Background(), snap).When(c.Reason("R"), tt.subject)
			assert.Equal(t, tt.want, res.Outcome, "err: %v", res.Err)
			if tt.err != "" {
				require.Error(t, res.Err)
				assert.Contains(t, res.Err.Error(), tt.err)
			}
		})
	}
}

func TestCompileQueryMisuse(t *testing.T) {
	tests := []struct{ when, err string }{
		{`cluster.objects("restarts").size() > 0`, `source "restarts" is a prometheus source; read it with cluster.query("restarts")`},
		{`cluster.query("pods").absent()`, `source "pods" is not a prometheus source`},
		{`cluster.query("nope").absent()`, `unknown source "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.when, func(t *testing.T) {
			_, errs := cel.Compile(parse(t, queryCatalog+"reasons:\n- name: R\n  subject: pods\n  summary: s\n  when: '"+strings.ReplaceAll(tt.when, "'", "''")+"'\n"), cel.Options{})
			require.Error(t, errs.Err())
			assert.Contains(t, errs.Err().Error(), tt.err)
		})
	}
}
