package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/snapshot"
)

// benchCatalog is 50 reasons over pods in the shapes real catalogues use:
// condition scans, label and phase checks, status arithmetic, and an
// indexed look-up of the pod's node.
func benchCatalog(tb testing.TB) *cel.Catalog {
	tb.Helper()
	var b strings.Builder
	b.WriteString(`apiVersion: statusd.io/v1alpha1
kind: Catalog
metadata: {name: bench, version: "1"}
params: {restarts: 5}
sources:
  pods: {version: v1, resource: pods}
  nodes: {version: v1, resource: nodes}
reasons:
`)
	shapes := []string{
		`conditions(object).exists(c, c.type == "PodScheduled" && c.status == "False" && c.reason == "Unschedulable%d")`,
		`object.?status.?phase.orValue("") == "Failed%d"`,
		`object.?status.?containerStatuses.orValue([]).exists(s, s.restartCount > params.restarts + %d)`,
		`object.metadata.?labels.?tier.orValue("") == "t%d" && object.?status.?phase.orValue("") == "Pending"`,
		`object.spec.?nodeName.orValue("") != "" && cluster.lookup("nodes", "", object.spec.nodeName).hasValue() && cluster.lookup("nodes", "", object.spec.nodeName).value().metadata.name == "node-%d-x"`,
	}
	for i := range 50 {
		fmt.Fprintf(&b, "- name: Reason%d\n  priority: %d\n  subject: pods\n  when: '%s'\n  summary: s\n", i, i, fmt.Sprintf(shapes[i%len(shapes)], i))
	}
	src, errs := catalog.Parse(catalog.NewFile("bench.yaml", []byte(b.String())))
	require.NoError(tb, errs.Err())
	c, errs := cel.Compile(src, cel.Options{})
	require.NoError(tb, errs.Err())
	return c
}

func benchSnapshot(pods int) *snapshot.Snapshot {
	b := snapshot.NewBuilder(t0, snapshot.Cluster{Version: "v1.36.3"})
	nodes := max(pods/30, 1)
	for n := range nodes {
		b.Add("nodes", snapshot.NewObject(map[string]any{
			"apiVersion": "v1", "kind": "Node",
			"metadata": map[string]any{"name": fmt.Sprintf("node-%d", n), "uid": fmt.Sprintf("node-uid-%d", n)},
		}))
	}
	for i := range pods {
		phase := "Running"
		if i%100 == 0 {
			phase = "Pending"
		}
		b.Add("pods", snapshot.NewObject(map[string]any{
			"apiVersion": "v1", "kind": "Pod",
			"metadata": map[string]any{
				"name": fmt.Sprintf("pod-%d", i), "namespace": fmt.Sprintf("ns-%d", i%500), "uid": fmt.Sprintf("pod-uid-%d", i),
				"labels": map[string]any{"tier": fmt.Sprintf("t%d", i%7), "app": "a"},
			},
			"spec": map[string]any{"nodeName": fmt.Sprintf("node-%d", i%nodes)},
			"status": map[string]any{
				"phase":             phase,
				"conditions":        []any{map[string]any{"type": "Ready", "status": "True"}, map[string]any{"type": "PodScheduled", "status": "True"}},
				"containerStatuses": []any{map[string]any{"name": "c", "restartCount": int64(i % 9)}},
			},
		}))
	}
	return b.Build()
}

// BenchmarkTick is one tick of 50 reasons; the pods in the snapshot are
// the only variable. Allocations matter as much as time: a tick runs every
// few seconds for the life of the daemon.
func BenchmarkTick(b *testing.B) {
	cat := benchCatalog(b)
	for _, n := range []int{1_000, 10_000, 100_000} {
		snap := benchSnapshot(n)
		b.Run(fmt.Sprintf("pods=%d", n), func(b *testing.B) {
			e := New(cat, Options{})
			ctx := context.Background()
			e.Tick(ctx, snap) // the first tick converts objects; steady state reuses them
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				e.Tick(ctx, snap)
			}
			b.ReportMetric(float64(n*50), "evals/op")
		})
	}
}
