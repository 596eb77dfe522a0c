package engine

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"statusd.io/statusd/internal/liveheap"
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

// pendingCatalog is the shape of a cluster that grows: pods Pending within
// their grace window (unschedulable, or not yet started), and their
// Deployments unavailable, pending too, holding the pods' findings back
// through the sameWorkload join. Messages are built as the shipped
// catalogue builds its pod messages.
const pendingCatalog = `apiVersion: statusd.io/v1alpha1
kind: Catalog
metadata: {name: pending, version: "1"}
sources:
  pods: {version: v1, resource: pods}
  replicaSets: {group: apps, version: v1, resource: replicasets}
  deployments: {group: apps, version: v1, resource: deployments}
reasons:
- name: DeploymentUnavailable
  priority: 50
  subject: deployments
  when: object.?status.?availableReplicas.orValue(0) < object.?spec.?replicas.orValue(1)
  grace: 10m
  message: |
    "deployment " + object.metadata.namespace + "/" + object.metadata.name + " has " +
    string(object.?status.?availableReplicas.orValue(0)) + " of " + string(object.?spec.?replicas.orValue(1)) +
    " replicas available. Run: kubectl -n " + object.metadata.namespace + " describe deployment " + object.metadata.name
  summary: A deployment is unavailable.
  suppresses:
  - {reason: PodNotReady, join: sameWorkload}
- name: PodUnschedulable
  priority: 40
  subject: pods
  when: conditions(object).exists(c, c.type == "PodScheduled" && c.status == "False")
  grace:
    for: 5m
    since: timestamp(object.metadata.creationTimestamp)
  message: |
    "pod " + object.metadata.namespace + "/" + object.metadata.name + " cannot be scheduled since " +
    humanTime(timestamp(object.metadata.creationTimestamp)) + ": " +
    conditions(object).filter(c, c.type == "PodScheduled")[0].?message.orValue("no message from the scheduler")
  summary: A pod cannot be scheduled.
- name: PodNotReady
  priority: 30
  subject: pods
  when: object.?status.?phase.orValue("Pending") == "Pending"
  grace:
    for: 10m
    since: timestamp(object.metadata.creationTimestamp)
  message: |
    "pod " + object.metadata.namespace + "/" + object.metadata.name + " has been " +
    object.?status.?phase.orValue("Pending") + " since " + humanTime(timestamp(object.metadata.creationTimestamp)) +
    " (threshold 10m)" + (object.spec.?nodeName.orValue("") != "" ? " on node " + object.spec.nodeName : "") +
    ". Run: kubectl -n " + object.metadata.namespace + " describe pod " + object.metadata.name
  summary: A pod has been Pending for too long.
`

// pendingSnapshot is pods in Deployments of 10 replicas (through a
// ReplicaSet each), 20 pods to a namespace, at time at; every third
// Deployment's pods were created two minutes before t0 and are Pending,
// unschedulable, so at t0 a third of the pods are Pending within their
// grace window.
func pendingSnapshot(pods int, at time.Time) *snapshot.Snapshot {
	b := snapshot.NewBuilder(at, snapshot.Cluster{Version: "v1.36.3"})
	owner := func(kind, uid string) []any {
		return []any{map[string]any{"apiVersion": "apps/v1", "kind": kind, "name": uid, "uid": uid, "controller": true}}
	}
	const replicas = 10
	for d := range (pods + replicas - 1) / replicas {
		ns := fmt.Sprintf("ns-%d", d/2)
		name := fmt.Sprintf("app-%d", d)
		pending := d%3 == 0
		avail := int64(replicas)
		if pending {
			avail = 0
		}
		b.Add("deployments", snapshot.NewObject(map[string]any{
			"apiVersion": "apps/v1", "kind": "Deployment",
			"metadata": map[string]any{"name": name, "namespace": ns, "uid": "deploy-" + name},
			"spec":     map[string]any{"replicas": int64(replicas)},
			"status":   map[string]any{"availableReplicas": avail},
		}))
		rs := name + "-6f7c9d"
		b.Add("replicaSets", snapshot.NewObject(map[string]any{
			"apiVersion": "apps/v1", "kind": "ReplicaSet",
			"metadata": map[string]any{"name": rs, "namespace": ns, "uid": "rs-" + rs, "ownerReferences": owner("Deployment", "deploy-"+name)},
		}))
		for p := range min(replicas, pods-d*replicas) {
			pod := fmt.Sprintf("%s-%05d", rs, p)
			created := t0.Add(-24 * time.Hour)
			status := map[string]any{
				"phase":      "Running",
				"conditions": []any{map[string]any{"type": "Ready", "status": "True"}, map[string]any{"type": "PodScheduled", "status": "True"}},
			}
			spec := map[string]any{"nodeName": fmt.Sprintf("node-%d", (d*replicas+p)%300)}
			if pending {
				created = t0.Add(-2 * time.Minute)
				status = map[string]any{
					"phase": "Pending",
					"conditions": []any{map[string]any{
						"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
						"message": "0/300 nodes are available: 300 Insufficient cpu. preemption: 0/300 nodes are available: 300 No preemption victims found for incoming pod.",
					}},
				}
				spec = map[string]any{}
			}
			b.Add("pods", snapshot.NewObject(map[string]any{
				"apiVersion": "v1", "kind": "Pod",
				"metadata": map[string]any{
					"name": pod, "namespace": ns, "uid": "pod-" + pod,
					"creationTimestamp": created.Format(time.RFC3339),
					"labels":            map[string]any{"app": name, "pod-template-hash": "6f7c9d"},
					"ownerReferences":   owner("ReplicaSet", "rs-"+rs),
				},
				"spec":   spec,
				"status": status,
			}))
		}
	}
	return b.Build()
}

// BenchmarkTickPending is a steady-state tick while a third of the pods are
// Pending within their grace window, as while a large cluster grows: the
// findings, their messages and the joins of thousands of pending subjects.
// result-B is the live heap the tick's Result holds once collected (what
// the daemon keeps of the last tick while the next one builds its own);
// pending/op the Pending findings in it. The daemon defers the Pending
// findings' messages; eval and test rules render them in the tick.
func BenchmarkTickPending(b *testing.B) {
	src, errs := catalog.Parse(catalog.NewFile("pending.yaml", []byte(pendingCatalog)))
	require.NoError(b, errs.Err())
	cat, errs := cel.Compile(src, cel.Options{})
	require.NoError(b, errs.Err())
	snap := pendingSnapshot(10_000, t0)
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"pods=10000", Options{DeferPendingMessages: true}}, // as the daemon ticks
		{"pods=10000,messages=rendered", Options{}},         // as eval and test rules do
	} {
		b.Run(tc.name, func(b *testing.B) {
			e := New(cat, tc.opts)
			ctx := context.Background()
			res := e.Tick(ctx, snap) // the first tick converts objects and starts the grace windows
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				res = e.Tick(ctx, snap)
			}
			b.StopTimer()
			pending := 0
			for _, f := range res.Findings {
				if f.State == Pending {
					pending++
				}
			}
			held := liveheap.Bytes()
			runtime.KeepAlive(res)
			res = nil
			b.ReportMetric(float64(held-liveheap.Bytes()), "result-B")
			b.ReportMetric(float64(pending), "pending/op")
		})
	}
}
