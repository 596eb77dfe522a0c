package cel_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/cel"
)

// catalogue200 writes a catalogue of 200 reasons in the shape of the
// shipped ones: conditions, look-ups, params, variables, messages, grace
// timestamps and suppression edges (each cause hides the next few reasons,
// so the graph is a DAG with several joins).
func catalogue200() string {
	var b strings.Builder
	b.WriteString(header)
	b.WriteString(`params: {stuck: 10m, maxRestarts: 3, minVersion: ">=1.28", queueLimit: 10}
sources:
  pods: {version: v1, resource: pods, namespaces: "iaas-addon-*"}
  nodes: {version: v1, resource: nodes}
  deployments: {group: apps, version: v1, resource: deployments}
  helmreleases: {group: helm.toolkit.fluxcd.io, version: v2, resource: helmreleases, optional: true}
variables:
- {name: ready, expression: 'conditions(object).exists(c, c.type == "Ready" && c.status == "True")'}
- {name: age, expression: 'now - timestamp(object.metadata.creationTimestamp)'}
- {name: stuck, expression: '!variables.ready && variables.age > params.stuck'}
reasons:
`)
	subjects := []string{"pods", "nodes", "deployments", "helmreleases"}
	whens := []string{
		`object.status.containerStatuses.exists(s, s.restartCount > params.maxRestarts && s.name.startsWith("c%d"))`,
		`variables.stuck && cluster.versionSatisfies(params.minVersion) && cluster.onNode("pods", object.metadata.name).filter(p, p.status.phase == "Pending").size() > %d`,
		`object.status.?availableReplicas.orValue(0) < object.spec.replicas && cluster.ownedBy("pods", object.metadata.uid).size() < params.queueLimit + %d`,
		`conditions(object).exists(c, c.type == "Ready" && c.status == "False" && c.reason in ["InstallFailed", "UpgradeFailed"]) && cluster.inNamespace("pods", object.metadata.namespace).filter(p, !has(p.status.phase) || p.status.phase != "Running").size() > %d`,
	}
	joins := []string{"sameNamespace", "sameNode", "sameOwner", "cluster", "sameSubject"}
	for i := range 200 {
		k := i % 4
		fmt.Fprintf(&b, "- name: Reason%d\n  layer: layer%d\n  priority: %d\n  subject: %s\n", i, k, 200-i, subjects[k])
		fmt.Fprintf(&b, "  when: '%s'\n", strings.ReplaceAll(fmt.Sprintf(whens[k], i), "'", "''"))
		fmt.Fprintf(&b, "  message: '\"%s \" + object.metadata.name + \" (\" + string(variables.age) + \") on \" + cluster.version'\n", subjects[k])
		b.WriteString("  summary: something is wrong\n")
		if k == 1 {
			b.WriteString("  grace: {for: stuck, since: 'conditions(object).filter(c, c.type == \"Ready\")[0].lastTransitionTime'}\n")
		}
		if i+3 < 200 {
			// Named joins whose sides can both produce a key (lint refuses
			// the others): sameNode pairs pods and nodes only, sameOwner
			// needs namespaced subjects.
			join := joins[i%len(joins)]
			cause, symptom := subjects[k], subjects[(i+1)%4]
			podAndNode := cause == "pods" && symptom == "nodes" || cause == "nodes" && symptom == "pods"
			switch {
			case join == "sameNode" && !podAndNode:
				join = "sameNamespace"
			case join == "sameOwner" && (cause == "nodes" || symptom == "nodes"):
				join = "cluster"
			}
			fmt.Fprintf(&b, "  suppresses:\n  - {reason: Reason%d, join: %s}\n  - {reason: Reason%d, join: {key: 'object.metadata.namespace + \"/\" + string(%d)'}}\n",
				i+1, join, i+3, i)
		}
	}
	return b.String()
}

// BenchmarkCompile200 compiles a 200-reason catalogue (about 600
// expressions), the cost of every load and reload.
func BenchmarkCompile200(b *testing.B) {
	src, errs := catalog.Parse(catalog.NewFile("bench.yaml", []byte(catalogue200())))
	require.NoError(b, errs.Err())
	c, cerrs := cel.Compile(src, cel.Options{})
	// The notes say helmreleases has no schema; nothing else may be found.
	require.Empty(b, cerrs.Errors())
	require.Empty(b, cerrs.Warnings())
	require.Len(b, c.Reasons, 200)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, errs := cel.Compile(src, cel.Options{}); len(errs.Errors())+len(errs.Warnings()) > 0 {
			b.Fatal(errs)
		}
	}
}

// BenchmarkEvalWhen evaluates one reason's condition on one pod: the unit
// a tick repeats for every reason and subject.
func BenchmarkEvalWhen(b *testing.B) {
	f := newFixture()
	c := compile(b, evalCatalog+"reasons:\n- name: R\n  subject: pods\n  summary: s\n"+
		"  when: 'object.status.containerStatuses.exists(s, s.restartCount > params.maxRestarts) && now - timestamp(object.metadata.creationTimestamp) > params.stuck'\n",
		cel.Options{TickBudget: math.MaxUint64})
	r := c.Reason("R")
	ev := c.NewEvaluator(context.Background(), f.snap)
	b.ReportAllocs()
	var res cel.Result
	for b.Loop() {
		res = ev.When(r, f.p1)
	}
	require.NoError(b, res.Err)
	require.Equal(b, cel.True, res.Outcome)
}

// BenchmarkEvalLookup evaluates a reason that looks up its namespace's pods
// in a 10,000-pod snapshot (100 pods a namespace).
func BenchmarkEvalLookup(b *testing.B) {
	snap, objs := bigSnapshot(10_000)
	c := compile(b, pods+"reasons:\n"+reason("Crowded",
		`cluster.inNamespace("pods", object.metadata.namespace).exists(p, p.spec.nodeName == object.spec.nodeName && p.metadata.name != object.metadata.name)`),
		cel.Options{TickBudget: math.MaxUint64})
	r := c.Reason("Crowded")
	ev := c.NewEvaluator(context.Background(), snap)
	b.ReportAllocs()
	var res cel.Result
	i := 0
	for b.Loop() {
		res = ev.When(r, objs[i%len(objs)])
		i++
	}
	require.NoError(b, res.Err)
}

// BenchmarkEvalScan evaluates a scan of a whole 10,000-pod source. Run-time
// cost metering must stay linear in the objects visited (see meter.go).
func BenchmarkEvalScan(b *testing.B) {
	snap, objs := bigSnapshot(10_000)
	c := compile(b, pods+"reasons:\n"+reason("Scan", `cluster.objects("pods").all(p, p.status.phase == "Running")`),
		cel.Options{TickBudget: math.MaxUint64})
	r := c.Reason("Scan")
	ev := c.NewEvaluator(context.Background(), snap)
	b.ReportAllocs()
	var res cel.Result
	for b.Loop() {
		res = ev.When(r, objs[0])
	}
	require.NoError(b, res.Err)
	require.Equal(b, cel.True, res.Outcome)
}
