package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"statusd.io/statusd/pkg/apischema"
	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/engine"
	"statusd.io/statusd/pkg/snapshot"
)

// TestUnknownReasons reports a reason Unknown on every subject for the
// threshold's number of ticks, once as new, and forgets it when one
// subject evaluates.
func TestUnknownReasons(t *testing.T) {
	src, errs := catalog.Parse(catalog.NewFile("t.yaml", []byte(`apiVersion: statusd.io/v1alpha1
kind: Catalog
metadata: {name: t, version: "1"}
sources: {pods: {version: v1, resource: pods}}
reasons:
- {name: Broken, subject: pods, summary: s, when: 'object.spec.nodeName == "x"'}
- {name: Fine, subject: pods, summary: s, when: 'object.metadata.name == "x"'}
`)))
	require.NoError(t, errs.Err())
	cat, cerrs := cel.Compile(src, cel.Options{Schemas: apischema.Chain{}})
	require.NoError(t, cerrs.Err())
	e := engine.New(cat, engine.Options{UnknownTicks: 3})
	pod := func(name string, node bool) map[string]any {
		o := map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": name, "namespace": "ns", "uid": name}}
		if node {
			o["spec"] = map[string]any{"nodeName": "n1"}
		} else {
			o["spec"] = map[string]any{}
		}
		return o
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tick := func(i int, objs ...map[string]any) *engine.Result {
		b := snapshot.NewBuilder(start.Add(time.Duration(i)*time.Minute), snapshot.ServedDefault(src, snapshot.Cluster{}))
		b.Select(src, objs, nil)
		return e.Tick(context.Background(), b.Build())
	}
	for i := 1; i <= 2; i++ {
		assert.Empty(t, tick(i, pod("a", false), pod("b", false)).UnknownReasons, "tick %d is below the threshold", i)
	}
	res := tick(3, pod("a", false), pod("b", false))
	require.Len(t, res.UnknownReasons, 1)
	u := res.UnknownReasons[0]
	assert.Equal(t, "Broken", u.Reason)
	assert.Equal(t, 3, u.Ticks)
	assert.Equal(t, 2, u.Subjects)
	assert.True(t, u.New)
	assert.Contains(t, u.Err, "nodeName")
	res = tick(4, pod("a", false))
	require.Len(t, res.UnknownReasons, 1)
	assert.False(t, res.UnknownReasons[0].New, "announced once")
	// No subject: nothing learnt, the streak stands.
	res = tick(5)
	assert.Empty(t, res.UnknownReasons)
	res = tick(6, pod("a", false))
	require.Len(t, res.UnknownReasons, 1)
	assert.Equal(t, 5, res.UnknownReasons[0].Ticks)
	// One subject that evaluates ends the streak.
	res = tick(7, pod("a", false), pod("c", true))
	assert.Empty(t, res.UnknownReasons)
}

// TestOutagesAreNotCatalogueSuspects: a reason Unknown only because the
// data it reads failed (Prometheus down, a source forbidden) is not
// reported as an Unknown reason however long the outage lasts, and the
// streak it had stands; an expression error among the Unknowns still
// counts.
func TestOutagesAreNotCatalogueSuspects(t *testing.T) {
	src, errs := catalog.Parse(catalog.NewFile("t.yaml", []byte(`apiVersion: statusd.io/v1alpha1
kind: Catalog
metadata: {name: t, version: "1"}
sources:
  pods: {version: v1, resource: pods}
  nodes: {version: v1, resource: nodes}
  restarts:
    prometheus: {query: 'increase(kube_pod_container_status_restarts_total[10m])'}
reasons:
- {name: Restarting, subject: pods, summary: s, when: 'cluster.query("restarts", object).value() > 3.0'}
- {name: NodeGone, subject: pods, summary: s, when: '!cluster.objects("nodes").exists(n, n.metadata.name == object.spec.nodeName)'}
- {name: Misspelt, subject: pods, summary: s, when: 'cluster.query("restarts", object).value() >= 0.0 ? object.spec.nodeNam == "x" : false'}
`)))
	require.NoError(t, errs.Err())
	cat, cerrs := cel.Compile(src, cel.Options{Schemas: apischema.Chain{}})
	require.NoError(t, cerrs.Err())
	e := engine.New(cat, engine.Options{UnknownTicks: 3})
	pod := map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": "a", "namespace": "ns", "uid": "a"}, "spec": map[string]any{"nodeName": "n1"}}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tick := func(i int, prometheusUp bool) *engine.Result {
		at := start.Add(time.Duration(i) * time.Minute)
		b := snapshot.NewBuilder(at, snapshot.ServedDefault(src, snapshot.Cluster{}))
		b.Select(src, []map[string]any{pod}, nil)
		q := &snapshot.QueryResult{
			Source: "restarts", Status: snapshot.StatusReady, At: at,
			Samples: []snapshot.QuerySample{{Labels: map[string]string{"pod": "a", "namespace": "ns"}, Value: 0}},
		}
		if !prometheusUp {
			q = &snapshot.QueryResult{Source: "restarts", Status: snapshot.StatusFailed, Err: "connection refused", At: at}
			b.SetStatus("nodes", snapshot.StatusForbidden, `nodes is forbidden: User "statusd" cannot list resource "nodes"`)
		}
		b.AddQuery(q)
		return e.Tick(context.Background(), b.Build())
	}
	names := func(res *engine.Result) []string {
		var out []string
		for _, u := range res.UnknownReasons {
			out = append(out, u.Reason)
		}
		return out
	}
	// The misspelt field is reached only once Prometheus answers, so its
	// streak starts with the first tick Prometheus is up.
	for i := 1; i <= 10; i++ {
		assert.Empty(t, names(tick(i, false)), "tick %d: an outage is not the catalogue's fault", i)
	}
	for i := 11; i <= 12; i++ {
		assert.Empty(t, names(tick(i, true)), "tick %d is below the threshold", i)
	}
	assert.Equal(t, []string{"Misspelt"}, names(tick(13, true)), "an expression error counts")
	// An outage during the streak neither ends nor extends it.
	res := tick(14, false)
	assert.Empty(t, names(res))
	res = tick(15, true)
	require.Equal(t, []string{"Misspelt"}, names(res))
	assert.Equal(t, 4, res.UnknownReasons[0].Ticks)
	assert.Contains(t, res.UnknownReasons[0].Err, "nodeNam")
}
