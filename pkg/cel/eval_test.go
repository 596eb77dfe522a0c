package cel_test

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/snapshot"
)

// t0 is the snapshot time of every evaluation test.
var t0 = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

// evalCatalog is the preamble of the evaluation tests' catalogues.
const evalCatalog = `params: {stuck: 10m, maxRestarts: 3, minVersion: ">=1.28", team: web}
sources:
  pods: {version: v1, resource: pods}
  nodes: {version: v1, resource: nodes}
  configmaps: {version: v1, resource: configmaps}
  services: {version: v1, resource: services}
  helmreleases: {group: helm.toolkit.fluxcd.io, version: v2, resource: helmreleases, optional: true}
variables:
- {name: ready, expression: 'conditions(object).exists(c, c.type == "Ready" && c.status == "True")'}
- {name: age, expression: 'now - timestamp(object.metadata.creationTimestamp)'}
- {name: broken, expression: 'object.spec.missing.field == 1'}
- {name: name, expression: 'object.metadata.name'}
`

// pod builds a pod object.
func pod(ns, name, node, app, phase string, age time.Duration, extra map[string]any) *snapshot.Object {
	m := map[string]any{
		"apiVersion": "v1",
		"kind":       "Pod",
		"metadata": map[string]any{
			"namespace":         ns,
			"name":              name,
			"uid":               "uid-" + name,
			"labels":            map[string]any{"app": app},
			"creationTimestamp": t0.Add(-age).Format(time.RFC3339),
		},
		"spec":   map[string]any{"nodeName": node},
		"status": map[string]any{"phase": phase},
	}
	for k, v := range extra {
		m[k] = v
	}
	return snapshot.NewObject(m)
}

func node(name, zone string) *snapshot.Object {
	return snapshot.NewObject(map[string]any{
		"apiVersion": "v1",
		"kind":       "Node",
		"metadata":   map[string]any{"name": name, "uid": "uid-" + name, "labels": map[string]any{"zone": zone}},
	})
}

// fixture is the snapshot of the evaluation tests: three pods in two
// namespaces on two nodes, a forbidden and a failed source, an absent
// optional one, and a managed cluster's version.
type fixture struct {
	snap       *snapshot.Snapshot
	p1, p2, p3 *snapshot.Object
	n1         *snapshot.Object
}

func newFixture() *fixture {
	f := &fixture{
		p1: pod("a", "p1", "n1", "web", "Running", time.Hour, map[string]any{
			"metadata": map[string]any{
				"namespace": "a", "name": "p1", "uid": "uid-p1",
				"labels":            map[string]any{"app": "web", "team": "web"},
				"creationTimestamp": t0.Add(-time.Hour).Format(time.RFC3339),
				"ownerReferences":   []any{map[string]any{"uid": "rs1", "controller": true}},
			},
			"status": map[string]any{
				"phase":             "Running",
				"conditions":        []any{map[string]any{"type": "Ready", "status": "True", "lastTransitionTime": "2026-11-21T09:30:00Z"}},
				"containerStatuses": []any{map[string]any{"name": "c", "restartCount": int64(5)}},
			},
		}),
		p2: pod("a", "p2", "n2", "db", "Pending", 5*time.Minute, nil),
		p3: pod("b", "p3", "n1", "web", "Running", 2*time.Hour, nil),
		n1: node("n1", "z1"),
	}
	b := snapshot.NewBuilder(t0, snapshot.Cluster{Version: "v1.30.2-gke.1", Resources: []string{"v1/pods", "v1/nodes"}})
	b.Add("pods", f.p1, f.p2, f.p3)
	b.Add("nodes", f.n1, node("n2", "z2"))
	b.SetStatus("configmaps", snapshot.StatusForbidden, `configmaps is forbidden: User "system:serviceaccount:statusd:statusd" cannot list resource "configmaps"`)
	b.SetStatus("services", snapshot.StatusFailed, "")
	b.SetStatus("helmreleases", snapshot.StatusAbsent, "")
	f.snap = b.Build()
	return f
}

// compileWhen compiles the evaluation catalogue with one reason over pods.
func compileWhen(t testing.TB, when string) (*cel.Catalog, *cel.Reason) {
	t.Helper()
	c := compile(t, evalCatalog+"reasons:\n- name: R\n  subject: pods\n  summary: s\n  when: '"+strings.ReplaceAll(when, "'", "''")+"'\n", cel.Options{})
	r := c.Reason("R")
	require.NotNil(t, r)
	return c, r
}

func TestEvalWhen(t *testing.T) {
	f := newFixture()
	tests := []struct {
		name    string
		when    string
		subject *snapshot.Object
		want    cel.Outcome
		// err is a substring of the error of an Unknown outcome.
		err string
	}{
		{name: "true", when: `object.status.phase == "Running"`, subject: f.p1, want: cel.True},
		{name: "false", when: `object.status.phase == "Running"`, subject: f.p2, want: cel.False},
		{name: "missing-field-is-unknown", when: `object.status.nope == "x"`, subject: f.p1, want: cel.Unknown, err: "no such key: nope"},
		{name: "dyn-not-bool-is-unknown", when: `object.status.phase`, subject: f.p1, want: cel.Unknown, err: "when returned string, not bool"},
		{name: "forbidden-source-is-unknown", when: `cluster.objects("configmaps").size() == 0`, subject: f.p1, want: cel.Unknown, err: `source "configmaps" cannot be read: configmaps is forbidden: User`},
		{name: "failed-source-is-unknown", when: `cluster.inNamespace("services", "a").size() == 0`, subject: f.p1, want: cel.Unknown, err: `source "services" cannot be read: failed`},
		{name: "absent-source-is-empty", when: `cluster.objects("helmreleases").size() == 0 && cluster.inNamespace("helmreleases", "a") == []`, subject: f.p1, want: cel.True},
		{name: "source-status", when: `cluster.sourceStatus("helmreleases") == "absent" && cluster.sourceStatus("configmaps") == "forbidden" && cluster.sourceStatus("pods") == "ready"`, subject: f.p1, want: cel.True},
		{name: "unknown-source-at-run-time", when: `cluster.objects(object.metadata.name).size() == 0`, subject: f.p1, want: cel.Unknown, err: `unknown source "p1"`},
		{name: "member-of-cluster-only", when: `{"a": 1}.objects("pods").size() == 0`, subject: f.p1, want: cel.Unknown, err: "this function is a member of cluster only"},
		{name: "objects", when: `cluster.objects("pods").map(p, p.metadata.name) == ["p1", "p2", "p3"]`, subject: f.p1, want: cel.True},
		{name: "in-namespace", when: `cluster.inNamespace("pods", object.metadata.namespace).map(p, p.metadata.name) == ["p1", "p2"]`, subject: f.p1, want: cel.True},
		{name: "in-namespace-other", when: `cluster.inNamespace("pods", object.metadata.namespace).size() == 1`, subject: f.p3, want: cel.True},
		{name: "on-node", when: `cluster.onNode("pods", object.spec.nodeName).map(p, p.metadata.name) == ["p1", "p3"]`, subject: f.p1, want: cel.True},
		{name: "on-unknown-node", when: `cluster.onNode("pods", "nowhere").size() == 0`, subject: f.p1, want: cel.True},
		{name: "owned-by", when: `cluster.ownedBy("pods", "rs1").map(p, p.metadata.name) == ["p1"]`, subject: f.p2, want: cel.True},
		{name: "with-labels-all-namespaces", when: `cluster.withLabels("pods", "", "app=web").size() == 2`, subject: f.p1, want: cel.True},
		{name: "with-labels-one-namespace", when: `cluster.withLabels("pods", "a", "app in (web, db)").map(p, p.metadata.name) == ["p1", "p2"]`, subject: f.p1, want: cel.True},
		{name: "with-labels-param", when: `cluster.withLabels("pods", "", "team=" + params.team).size() == 1`, subject: f.p1, want: cel.True},
		{name: "with-labels-bad-selector", when: `cluster.withLabels("pods", "", "app in (").size() == 0`, subject: f.p1, want: cel.Unknown, err: `invalid label selector "app in ("`},
		{name: "lookup-found", when: `cluster.lookup("nodes", "", object.spec.nodeName).value().metadata.labels.zone == "z1"`, subject: f.p1, want: cel.True},
		{name: "lookup-namespaced", when: `cluster.lookup("pods", "a", "p2").hasValue() && !cluster.lookup("pods", "b", "p2").hasValue()`, subject: f.p1, want: cel.True},
		{name: "lookup-missing", when: `!cluster.lookup("nodes", "", "nope").hasValue()`, subject: f.p1, want: cel.True},
		{name: "list-index", when: `cluster.inNamespace("pods", "a")[1].metadata.name == "p2"`, subject: f.p1, want: cel.True},
		{name: "list-index-out-of-range", when: `cluster.inNamespace("pods", "a")[5].metadata.name == "p2"`, subject: f.p1, want: cel.Unknown, err: "index out of bounds"},
		{name: "list-contains", when: `cluster.lookup("pods", "a", "p1").value() in cluster.inNamespace("pods", "a")`, subject: f.p1, want: cel.True},
		{name: "has-resource", when: `cluster.hasResource("v1/pods") && !cluster.hasResource("apps/v1/deployments")`, subject: f.p1, want: cel.True},
		{name: "cluster-version", when: `cluster.version == "v1.30.2-gke.1" && cluster.major == 1 && cluster.minor == 30`, subject: f.p1, want: cel.True},
		{name: "version-at-least", when: `cluster.versionSatisfies(">=1.28")`, subject: f.p1, want: cel.True},
		{name: "version-range", when: `cluster.versionSatisfies(">=1.28 <1.32")`, subject: f.p1, want: cel.True},
		{name: "version-range-below", when: `cluster.versionSatisfies(">=1.31 <1.32")`, subject: f.p1, want: cel.False},
		{name: "version-alternatives", when: `cluster.versionSatisfies("1.29.x || >=1.31")`, subject: f.p1, want: cel.False},
		{name: "version-param", when: `cluster.versionSatisfies(params.minVersion)`, subject: f.p1, want: cel.True},
		{name: "version-function", when: `versionSatisfies("v1.29.4", "1.29.x || >=1.31") && versionSatisfies("v1.31.0-rc.1", ">=1.31") && !versionSatisfies("1.28", ">1.28")`, subject: f.p1, want: cel.True},
		{name: "version-bad-constraint", when: `cluster.versionSatisfies("~>banana")`, subject: f.p1, want: cel.Unknown, err: `invalid version constraint "~>banana"`},
		{name: "version-bad-version", when: `versionSatisfies("latest", ">=1.28")`, subject: f.p1, want: cel.Unknown, err: `invalid version "latest"`},
		{name: "duration-param-true", when: `now - timestamp(object.metadata.creationTimestamp) > params.stuck`, subject: f.p1, want: cel.True},
		{name: "duration-param-false", when: `now - timestamp(object.metadata.creationTimestamp) > params.stuck`, subject: f.p2, want: cel.False},
		{name: "int-param", when: `object.status.containerStatuses.exists(s, s.restartCount > params.maxRestarts)`, subject: f.p1, want: cel.True},
		{name: "now", when: `now == timestamp("2026-11-21T10:00:00Z")`, subject: f.p1, want: cel.True},
		{name: "conditions", when: `conditions(object).exists(c, c.type == "Ready" && c.status == "True")`, subject: f.p1, want: cel.True},
		{name: "conditions-absent-status", when: `conditions(object).size() == 0`, subject: f.n1, want: cel.True},
		{name: "conditions-without-conditions", when: `conditions(object).size() == 0`, subject: f.p2, want: cel.True},
		{name: "variable", when: `variables.ready && variables.age > duration("30m")`, subject: f.p1, want: cel.True},
		{name: "variable-false", when: `variables.ready`, subject: f.p2, want: cel.False},
		{name: "variable-error-is-unknown", when: `variables.broken`, subject: f.p1, want: cel.Unknown, err: "variable broken: no such key: missing"},
		{name: "variable-error-short-circuited", when: `false && variables.broken`, subject: f.p1, want: cel.False},
		{name: "kubernetes-libraries", when: `quantity("1Gi").isGreaterThan(quantity("512Mi")) && object.metadata.name.matches("^p[0-9]$") && isURL("https://example.com") && ip("10.0.0.1").family() == 4`, subject: f.p1, want: cel.True},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, r := compileWhen(t, tt.when)
			res := c.NewEvaluator(context.Background(), f.snap).When(r, tt.subject)
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

// TestEvalVariables checks that variables are evaluated lazily, once per
// subject, and that one failing variable makes only the reasons that read
// it Unknown.
func TestEvalVariables(t *testing.T) {
	f := newFixture()
	c := compile(t, evalCatalog+`reasons:
- {name: Ready, subject: pods, summary: s, when: 'variables.ready'}
- {name: ReadyAndOld, subject: pods, summary: s, when: 'variables.ready && variables.age > params.stuck'}
- {name: Plain, subject: pods, summary: s, when: 'object.status.phase == "Running"'}
- {name: Broken, subject: pods, summary: s, when: 'variables.broken && true'}
- {name: Named, subject: pods, summary: s, when: 'variables.name == object.metadata.name'}
- {name: ReadyNow, subject: pods, summary: s, when: 'variables.ready || now < timestamp("1970-01-02T00:00:00Z")'}
- {name: PlainNow, subject: pods, summary: s, when: 'object.status.phase == "Running" || now < timestamp("1970-01-02T00:00:00Z")'}
`, cel.Options{})

	t.Run("errors-stay-with-their-readers", func(t *testing.T) {
		ev := c.NewEvaluator(context.Background(), f.snap)
		broken := ev.When(c.Reason("Broken"), f.p1)
		assert.Equal(t, cel.Unknown, broken.Outcome)
		require.Error(t, broken.Err)
		assert.Contains(t, broken.Err.Error(), "variable broken")
		assert.Equal(t, cel.True, ev.When(c.Reason("Ready"), f.p1).Outcome)
		assert.Equal(t, cel.True, ev.When(c.Reason("ReadyAndOld"), f.p1).Outcome)
		assert.Equal(t, cel.True, ev.When(c.Reason("Plain"), f.p1).Outcome)
		again := ev.When(c.Reason("Broken"), f.p1)
		assert.Equal(t, cel.Unknown, again.Outcome, "a cached error stays an error")
	})
	t.Run("per-subject", func(t *testing.T) {
		ev := c.NewEvaluator(context.Background(), f.snap)
		for _, p := range []*snapshot.Object{f.p1, f.p2, f.p3, f.p1} {
			assert.Equal(t, cel.True, ev.When(c.Reason("Named"), p).Outcome, p.Name)
		}
		assert.Equal(t, cel.True, ev.When(c.Reason("Ready"), f.p1).Outcome)
		assert.Equal(t, cel.False, ev.When(c.Reason("Ready"), f.p2).Outcome, "not p1's cached value")
	})
	t.Run("lazy-and-cached", func(t *testing.T) {
		// The cost of a variable shows in the evaluator's total, not in the
		// reading expression's: cost() is what one evaluation added. The
		// conditions read now, so no outcome is remembered (memo.go).
		ev := c.NewEvaluator(context.Background(), f.snap)
		cost := func(reason string, o *snapshot.Object) uint64 {
			before := ev.Spent()
			res := ev.When(c.Reason(reason), o)
			require.NoError(t, res.Err)
			return ev.Spent() - before
		}
		plain := cost("PlainNow", f.p1)
		first := cost("ReadyNow", f.p1)
		assert.Greater(t, first, plain, "the first read evaluates the variable")
		cached := cost("ReadyNow", f.p1)
		assert.Less(t, cached, first, "the second read on the same subject is cached")
		assert.Equal(t, plain, cost("PlainNow", f.p3), "a reason that reads no variable pays for none")
		assert.Less(t, cost("ReadyNow", f.p3), first, "p3 has no conditions to look at")
		assert.Equal(t, first, cost("ReadyNow", f.p1), "back on p1, the variable is evaluated again")
	})
}

func TestEvalMessage(t *testing.T) {
	f := newFixture()
	long := "x" + strings.Repeat("é", 3000)
	p := pod("a", "long", "n1", "web", "Running", time.Minute, nil)
	p.Content["metadata"].(map[string]any)["annotations"] = map[string]any{"long": long}
	tests := []struct {
		name    string
		message string
		summary string
		subject *snapshot.Object
		want    string
		err     string
	}{
		{name: "rendered", message: `"pod " + object.metadata.name + " is " + object.status.phase`, summary: "fallback", subject: f.p1, want: "pod p1 is Running"},
		{name: "error-falls-back", message: `"pod " + object.status.nope`, summary: "fallback", subject: f.p1, want: "fallback", err: "no such key: nope"},
		{name: "empty-falls-back", message: `object.metadata.name == "p1" ? "" : "x"`, summary: "fallback", subject: f.p1, want: "fallback", err: `message returned ""`},
		{name: "blank-falls-back", message: `"  "`, summary: "fallback", subject: f.p1, want: "fallback", err: `message returned "  "`},
		{name: "dyn-not-string-falls-back", message: `object.status.phase == "Running" ? object.metadata.labels : "x"`, summary: "fallback", subject: f.p1, want: "fallback", err: "message returned"},
		{name: "no-message-is-summary", summary: "static", subject: f.p1, want: "static"},
		{name: "summary-may-be-empty", message: `object.status.nope`, subject: f.p1, want: "", err: "no such key"},
		{name: "variables-and-params", message: `object.metadata.name + " waited " + string(variables.age) + " > " + string(params.stuck)`, summary: "s", subject: f.p1, want: "p1 waited 3600s > 600s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := evalCatalog + "reasons:\n- name: R\n  subject: pods\n  when: 'true'\n"
			if tt.message != "" {
				body += "  message: '" + strings.ReplaceAll(tt.message, "'", "''") + "'\n"
			}
			if tt.summary != "" {
				body += "  summary: " + tt.summary + "\n"
			}
			c := compile(t, body, cel.Options{})
			msg, err := c.NewEvaluator(context.Background(), f.snap).Message(c.Reason("R"), tt.subject)
			assert.Equal(t, tt.want, msg)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
			} else {
				assert.NoError(t, err)
			}
		})
	}
	t.Run("long-message-is-cut-on-a-character", func(t *testing.T) {
		c := compile(t, evalCatalog+"reasons:\n- {name: R, subject: pods, when: 'true', message: 'object.metadata.annotations.long'}\n", cel.Options{})
		b := snapshot.NewBuilder(t0, snapshot.Cluster{})
		b.Add("pods", p)
		msg, err := c.NewEvaluator(context.Background(), b.Build()).Message(c.Reason("R"), p)
		require.NoError(t, err)
		assert.LessOrEqual(t, len(msg), 4096)
		assert.Greater(t, len(msg), 4090)
		assert.True(t, utf8.ValidString(msg), "an Event message must stay valid UTF-8")
		assert.True(t, strings.HasPrefix(long, msg))
	})
}

func TestEvalSince(t *testing.T) {
	f := newFixture()
	tests := []struct {
		name  string
		since string
		want  time.Time
		err   string
	}{
		{name: "rfc3339-string", since: `object.metadata.creationTimestamp`, want: t0.Add(-time.Hour)},
		{name: "timestamp", since: `timestamp(object.metadata.creationTimestamp) + duration("1m")`, want: t0.Add(-59 * time.Minute)},
		{name: "condition-transition", since: `conditions(object).filter(c, c.type == "Ready")[0].lastTransitionTime`, want: t0.Add(-30 * time.Minute)},
		{name: "bad-string", since: `object.metadata.name`, err: `not an RFC 3339 timestamp: "p1"`},
		{name: "wrong-type", since: `object.status.containerStatuses[0].restartCount`, err: "want a timestamp or an RFC 3339 string, got int"},
		{name: "error", since: `object.status.nope`, err: "no such key: nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := compile(t, evalCatalog+"reasons:\n- {name: R, subject: pods, summary: s, when: 'true', grace: {for: 5m, since: '"+tt.since+"'}}\n", cel.Options{})
			got, err := c.NewEvaluator(context.Background(), f.snap).Since(c.Reason("R"), f.p1)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				assert.True(t, got.IsZero())
				return
			}
			require.NoError(t, err)
			assert.True(t, tt.want.Equal(got), "got %s, want %s", got, tt.want)
		})
	}
	t.Run("no-since", func(t *testing.T) {
		c := compile(t, evalCatalog+"reasons:\n- {name: R, subject: pods, summary: s, when: 'true', grace: 5m}\n", cel.Options{})
		got, err := c.NewEvaluator(context.Background(), f.snap).Since(c.Reason("R"), f.p1)
		require.NoError(t, err)
		assert.True(t, got.IsZero())
	})
}

func TestEvalKey(t *testing.T) {
	f := newFixture()
	tests := []struct {
		name    string
		key     string
		subject *snapshot.Object
		want    string
		err     string
	}{
		{name: "namespace", key: `object.metadata.namespace`, subject: f.p1, want: "a"},
		{name: "composite", key: `object.metadata.namespace + "/" + object.metadata.labels.app`, subject: f.p3, want: "b/web"},
		{name: "node-of-either-kind", key: `object.kind == "Node" ? object.metadata.name : object.spec.nodeName`, subject: f.n1, want: "n1"},
		{name: "empty", key: `has(object.metadata.labels.team) ? object.metadata.labels.team : ""`, subject: f.p2, want: ""},
		{name: "not-a-string", key: `object.metadata.labels`, subject: f.p1, err: "join key returned map, not string"},
		{name: "error", key: `object.metadata.labels.team`, subject: f.p2, err: "no such key: team"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := compile(t, evalCatalog+"reasons:\n"+
				"- {name: Cause, subject: pods, summary: s, when: 'true', suppresses: [{reason: Symptom, join: {key: '"+tt.key+"'}}]}\n"+
				"- {name: Symptom, subject: pods, summary: s, when: 'true'}\n", cel.Options{})
			edge := c.Reason("Cause").Edges[0]
			got, err := c.NewEvaluator(context.Background(), f.snap).Key(edge, tt.subject)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestOutcomeString(t *testing.T) {
	assert.Equal(t, "true", cel.True.String())
	assert.Equal(t, "false", cel.False.String())
	assert.Equal(t, "unknown", cel.Unknown.String())
}

func TestEvaluatorSnapshot(t *testing.T) {
	f := newFixture()
	c, _ := compileWhen(t, "true")
	ev := c.NewEvaluator(context.Background(), f.snap)
	assert.Same(t, f.snap, ev.Snapshot())
	assert.Zero(t, ev.Spent())
}
