package daemon

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/engine"
	"statusd.io/statusd/pkg/loader"
	"statusd.io/statusd/pkg/reload"
	"statusd.io/statusd/pkg/snapshot"
)

// queryCatalog reads a Prometheus query source two ways: QueueDeep needs
// it, QueueAbsent would fire on an empty result.
const queryCatalog = `apiVersion: statusd.io/v1alpha1
kind: Catalog
metadata: {name: daemon-query-test, version: "1"}
sources:
  pods: {version: v1, resource: pods}
  queue:
    prometheus: {query: 'max by (namespace, pod) (queue_depth)'}
reasons:
- name: QueueDeep
  subject: pods
  severity: critical
  when: cluster.query("queue", object).max() > 10.0
  summary: deep
- name: QueueAbsent
  subject: pods
  when: cluster.query("queue", object).absent()
  summary: absent
`

func queryUpdate(t *testing.T) *reload.Update {
	t.Helper()
	u := &reload.Update{Result: loader.Files([]*catalog.File{catalog.NewFile("q.yaml", []byte(queryCatalog))}, nil, "test", cel.Options{})}
	require.False(t, u.Rejected(), u.Problems.Error())
	return u
}

// memQueries answers every query source with depth for pod ns/p and
// records the time and catalogue each run was for.
type memQueries struct {
	mu    sync.Mutex
	depth float64
	runs  []time.Time
	names []string
}

func (m *memQueries) Run(_ context.Context, at time.Time, c *catalog.Catalog) []*snapshot.QueryResult {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.runs = append(m.runs, at)
	m.names = append(m.names, c.Metadata.Name)
	var out []*snapshot.QueryResult
	for _, name := range c.SourceNames() {
		if src := c.Sources[name]; src.IsQuery() {
			out = append(out, &snapshot.QueryResult{Source: name, Status: snapshot.StatusReady, At: at, Samples: []snapshot.QuerySample{
				{Labels: map[string]string{"namespace": "ns", "pod": "p"}, Value: m.depth},
			}})
		}
	}
	return out
}

// memAlerts records what the daemon hands to its Alertmanager sender.
type memAlerts struct {
	mu      sync.Mutex
	results []*engine.Result
	running chan struct{}
}

func (m *memAlerts) Run(ctx context.Context) error {
	close(m.running)
	<-ctx.Done()
	return nil
}

func (m *memAlerts) Publish(res *engine.Result) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.results = append(m.results, res)
}

func (m *memAlerts) last() *engine.Result {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.results) == 0 {
		return nil
	}
	return m.results[len(m.results)-1]
}

func states(res *engine.Result) map[string]string {
	out := map[string]string{}
	for _, f := range res.Findings {
		out[f.Reason] = string(f.State)
	}
	return out
}

func TestTickRunsQueriesAndFeedsDestinations(t *testing.T) {
	q := &memQueries{depth: 42}
	alerts := &memAlerts{running: make(chan struct{})}
	h := setup(t, Options{Resync: time.Second, Queries: q, Alerts: alerts, Cluster: "eu-1"})
	<-h.catalogs.updates
	h.catalogs.updates <- queryUpdate(t)
	srv := httptest.NewServer(h.d.Handler())
	defer srv.Close()

	res := h.run(t)
	<-alerts.running
	assert.Equal(t, map[string]string{"QueueDeep": "Firing"}, states(res), "an answered query drives a finding; a present series is not absent")
	_, snap := h.d.Last()
	require.NotNil(t, snap.Query("queue"))
	q.mu.Lock()
	assert.Equal(t, []time.Time{snap.Time}, q.runs, "queries run at the tick's time")
	assert.Equal(t, []string{"daemon-query-test"}, q.names, "for the catalogue in force")
	q.mu.Unlock()
	// The Event writer is told first (memPublisher returns the result to
	// the test from there), the Alertmanager sender right after.
	require.Eventually(t, func() bool { return alerts.last() == res }, 5*time.Second, time.Millisecond, "the Alertmanager sender gets the tick's result")
	m := get(t, srv.URL+"/metrics")
	assert.Contains(t, m, `statusd_root_cause{cluster="eu-1",kind="Pod",layer="",name="p",namespace="ns",reason="QueueDeep",severity="critical"} 1`)

	q.mu.Lock()
	q.depth = 3
	q.mu.Unlock()
	h.clock.Step(time.Second)
	res = next(t, h.pub)
	assert.Empty(t, states(res))
	require.Len(t, res.Resolved, 1)
	assert.Equal(t, "QueueDeep", res.Resolved[0].Reason)
	require.Eventually(t, func() bool { return alerts.last() == res }, 5*time.Second, time.Millisecond)
	assert.NotContains(t, get(t, srv.URL+"/metrics"), `statusd_root_cause{`, "a resolved cause leaves the gauge")
}

// TestQuerySourcesWithoutPrometheus is the contract the shipped catalogue
// relies on to fall back on scraping: without Options.Queries a reason
// that reads a query source neither fires (not even through absent())
// nor is Unknown, tick after tick.
func TestQuerySourcesWithoutPrometheus(t *testing.T) {
	h := setup(t, Options{Resync: time.Second})
	<-h.catalogs.updates
	h.catalogs.updates <- queryUpdate(t)
	srv := httptest.NewServer(h.d.Handler())
	defer srv.Close()
	res := h.run(t)
	for range engine.DefaultUnknownTicks + 1 {
		assert.Empty(t, res.Findings)
		assert.Empty(t, res.UnknownReasons)
		h.clock.Step(time.Second)
		res = next(t, h.pub)
	}
	_, snap := h.d.Last()
	assert.Empty(t, snap.Queries())
	m := get(t, srv.URL+"/metrics")
	assert.NotContains(t, m, `statusd_cel_unknown_total{`)
	assert.NotContains(t, m, `statusd_reason_unknown_ticks{`)
	ex, err := h.d.Engine().Explain(context.Background(), snap, nil, "Pod/ns/p")
	require.NoError(t, err)
	var outcomes []string
	for _, r := range ex.Reasons {
		outcomes = append(outcomes, r.Reason+"="+r.Outcome)
	}
	assert.ElementsMatch(t, []string{"QueueDeep=false", "QueueAbsent=false"}, outcomes)
	assert.Contains(t, get(t, srv.URL+"/explain?subject=Pod/ns/p"), "no Prometheus endpoint configured", "explain says why")
}
