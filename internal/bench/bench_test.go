package bench

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"statusd.io/statusd/internal/cpuclock"
	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/engine"
	"statusd.io/statusd/pkg/snapshot"
)

// snapshots caches assembled snapshots by catalogue and pod count: -count
// runs a benchmark function again, and generating and assembling 100,000
// pods takes longer than ticking over them.
var snapshots sync.Map // snapshotKey -> *snapshot.Snapshot

// clusters caches generated clusters by pod count, for the benchmarks that
// assemble a fresh snapshot per op.
var clusters sync.Map // int -> *snapshot.File

type snapshotKey struct {
	catalog string
	pods    int
}

func cachedSnapshot(src *catalog.Catalog, pods int) *snapshot.Snapshot {
	k := snapshotKey{src.Metadata.Name, pods}
	if s, ok := snapshots.Load(k); ok {
		return s.(*snapshot.Snapshot)
	}
	s := Snapshot(src, cachedCluster(pods))
	snapshots.Store(k, s)
	return s
}

func cachedCluster(pods int) *snapshot.File {
	if c, ok := clusters.Load(pods); ok {
		return c.(*snapshot.File)
	}
	c := Cluster(pods)
	clusters.Store(pods, c)
	return c
}

// freshSnapshot assembles the cluster again outside the timer: every object
// is new, as on statusd's first tick or after every object changed, so
// nothing converted or remembered on an object is reused.
func freshSnapshot(b *testing.B, src *catalog.Catalog, pods int) *snapshot.Snapshot {
	b.StopTimer()
	defer b.StartTimer()
	return Snapshot(src, cachedCluster(pods))
}

// resnapshot builds a new snapshot of the same objects, as the daemon
// does every tick from its informers' sorted caches (AddSorted): each tick
// pays for the indexes its look-ups build on first use.
func resnapshot(s *snapshot.Snapshot) *snapshot.Snapshot {
	b := snapshot.NewBuilder(s.Time, s.Cluster)
	for _, name := range s.Sets() {
		set := s.Set(name)
		b.SetStatus(name, set.Status, set.Err)
		b.AddSorted(name, set.Objects())
	}
	for _, key := range s.MetricsTargets() {
		ns, name, _ := strings.Cut(key, "/")
		if m := s.Metrics(ns, name); m != nil {
			b.AddMetrics(m)
		}
	}
	return b.Build()
}

// freshObjects copies objs outside the timer: a copy is a new object, with
// nothing converted or remembered on it.
func freshObjects(b *testing.B, objs []*snapshot.Object) []*snapshot.Object {
	b.StopTimer()
	defer b.StartTimer()
	out := make([]*snapshot.Object, len(objs))
	for i, o := range objs {
		out[i] = snapshot.NewObject(o.Content)
	}
	return out
}

// BenchmarkCompileShipped loads and compiles the shipped catalogue: the
// cost of statusd's start and of every reload.
func BenchmarkCompileShipped(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		src, errs := catalog.Load("../../rules")
		if err := errs.Err(); err != nil {
			b.Fatal(err)
		}
		if _, errs := cel.Compile(src, cel.Options{}); errs.Err() != nil {
			b.Fatal(errs.Err())
		}
	}
}

// BenchmarkTickShipped is one engine tick of the shipped catalogue over a
// generated cluster in proportion (see Cluster), in the steady state: a new
// snapshot of objects that did not change since the last tick, as the
// daemon builds from its informers. evals/op counts condition
// evaluations; findings/op what the tick reports.
func BenchmarkTickShipped(b *testing.B) {
	src, cat := shipped(b)
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("pods=%d", n), func(b *testing.B) {
			steadyTicks(b, cat, cachedSnapshot(src, n))
		})
	}
}

// steadyTicks times ticks of cat over snapshots of snap's unchanged
// objects, after a first tick that converts them, and reports what the
// last one evaluated and found.
func steadyTicks(b *testing.B, cat *cel.Catalog, snap *snapshot.Snapshot) {
	e := engine.New(cat, engine.Options{})
	ctx := context.Background()
	res := e.Tick(ctx, snap) // the first tick converts objects; steady state reuses them
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuclock.Start()
	for b.Loop() {
		res = e.Tick(ctx, resnapshot(snap))
	}
	cpu.Report(b)
	b.ReportMetric(float64(res.Evaluations), "evals/op")
	b.ReportMetric(float64(len(res.Findings)), "findings/op")
}

// BenchmarkTickShippedCold is a tick in which every object is new to
// statusd, as on its first tick or were every object to change at once:
// each object is converted and every condition evaluated in full, since
// nothing is remembered on a new object (pkg/cel/memo.go). A steady-state
// tick (BenchmarkTickShipped) pays this only for the objects that changed.
func BenchmarkTickShippedCold(b *testing.B) {
	src, cat := shipped(b)
	for _, n := range []int{1_000, 10_000} {
		b.Run(fmt.Sprintf("pods=%d", n), func(b *testing.B) {
			e := engine.New(cat, engine.Options{})
			ctx := context.Background()
			e.Tick(ctx, freshSnapshot(b, src, n))
			b.ReportAllocs()
			var res *engine.Result
			for b.Loop() {
				snap := freshSnapshot(b, src, n)
				res = e.Tick(ctx, snap)
			}
			b.ReportMetric(float64(res.Evaluations), "evals/op")
		})
	}
}

// suppressionCatalog has a cluster-wide cause (an unavailable controller),
// a per-namespace cause (a failed release) and a symptom on every pod that
// is not running. The symptom has no grace, so every pending pod fires.
const suppressionCatalog = `apiVersion: statusd.io/v1alpha1
kind: Catalog
metadata: {name: suppression, version: "1"}
sources:
  pods: {version: v1, resource: pods}
  controllers: {group: apps, version: v1, resource: deployments, namespaces: flux-system}
  releases: {group: helm.toolkit.fluxcd.io, version: v2, resource: helmreleases}
reasons:
- name: ControllerDown
  priority: 100
  subject: controllers
  when: object.?status.?availableReplicas.orValue(0) < 1
  summary: a controller is down
  suppresses:
  - {reason: PodPending, join: cluster}
- name: ReleaseFailed
  priority: 90
  subject: releases
  when: conditions(object).exists(c, c.type == "Ready" && c.status == "False")
  summary: a release failed
  suppresses:
  - {reason: PodPending, join: sameNamespace}
- name: PodPending
  priority: 10
  subject: pods
  when: object.?status.?phase.orValue("") == "Pending"
  summary: a pod is pending
`

// suppressionCluster is 10,000 Pending pods in 100 namespaces, each with a
// failed release, and, when down, an unavailable controller in
// flux-system.
func suppressionCluster(down bool) []map[string]any {
	var objs []map[string]any
	avail := int64(1)
	if down {
		avail = 0
	}
	objs = append(objs, map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "helm-controller", "namespace": "flux-system", "uid": "ctrl"},
		"status":   map[string]any{"availableReplicas": avail},
	})
	for ns := range 100 {
		name := fmt.Sprintf("ns-%d", ns)
		objs = append(objs, map[string]any{
			"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
			"metadata": map[string]any{"name": "release", "namespace": name, "uid": "hr-" + name},
			"status": map[string]any{"conditions": []any{map[string]any{
				"type": "Ready", "status": "False", "reason": "InstallFailed", "lastTransitionTime": ts(0),
			}}},
		})
		for p := range 100 {
			objs = append(objs, map[string]any{
				"apiVersion": "v1", "kind": "Pod",
				"metadata": map[string]any{"name": fmt.Sprintf("pod-%d", p), "namespace": name, "uid": fmt.Sprintf("pod-%d-%d", ns, p)},
				"status":   map[string]any{"phase": "Pending"},
			})
		}
	}
	return objs
}

// BenchmarkSuppression ticks over 10,000 firing symptoms: suppressed by
// their namespace's cause (causes=namespace), by a cluster-wide cause as
// well (causes=cluster+namespace), or by none (causes=none: the controller
// available and no releases, the baseline of publishing them all).
// suppressed/op counts the findings hidden.
func BenchmarkSuppression(b *testing.B) {
	src, errs := catalog.Parse(catalog.NewFile("suppression.yaml", []byte(suppressionCatalog)))
	require.NoError(b, errs.Err())
	cat, errs := cel.Compile(src, cel.Options{})
	require.NoError(b, errs.Err())
	for _, tc := range []struct {
		name     string
		down     bool
		failures bool
	}{
		{"causes=none", false, false},
		{"causes=namespace", false, true},
		{"causes=cluster+namespace", true, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			objs := suppressionCluster(tc.down)
			if !tc.failures {
				objs = objs[:1]
				for _, o := range suppressionCluster(false)[1:] {
					if o["kind"] == "Pod" {
						objs = append(objs, o)
					}
				}
			}
			bld := snapshot.NewBuilder(Now, snapshot.ServedDefault(src, snapshot.Cluster{Version: ClusterVersion}))
			bld.Select(src, objs, nil)
			snap := bld.Build()
			e := engine.New(cat, engine.Options{})
			ctx := context.Background()
			res := e.Tick(ctx, snap)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				res = e.Tick(ctx, snap)
			}
			suppressed := 0
			for _, f := range res.Findings {
				if f.State == engine.Suppressed {
					suppressed++
				}
			}
			b.ReportMetric(float64(len(res.Findings)), "findings/op")
			b.ReportMetric(float64(suppressed), "suppressed/op")
		})
	}
}

// comparePods is the size of the cluster the CEL and Go reasons compare on.
const comparePods = 10_000

// BenchmarkReasons evaluates representative reasons of the shipped
// catalogue once per subject, as a tick does, written in CEL (cel/, through
// a fresh Evaluator per tick over unchanged objects, the steady state;
// cel-cold/, over objects all new) and by hand in Go (go/) over the same
// snapshot and its indexes. benchstat compares the two; docs/performance.md
// gives the ratios. true/op is the subjects found, which TestReasons checks
// agree.
func BenchmarkReasons(b *testing.B) {
	src, cat := compareCatalog(b)
	snap := cachedSnapshot(src, comparePods)
	ctx := context.Background()
	for _, r := range reasons {
		reason := cat.Reason(r.name)
		set := snap.Set(reason.Subject)
		b.Run(r.name+"/cel", func(b *testing.B) {
			celTick(ctx, cat, snap, reason, set) // convert objects once, as the engine's first tick does
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				n = celTick(ctx, cat, snap, reason, set)
			}
			b.ReportMetric(float64(set.Len()), "subjects/op")
			b.ReportMetric(float64(n), "true/op")
		})
		// cel-cold evaluates every subject in full: each op gives the
		// reason new copies of its subjects (untimed), so every subject is
		// converted and no outcome is remembered. This is the interpreter
		// against Go. The objects a join looks up stay converted, as they
		// would after the first of the subjects that share them.
		b.Run(r.name+"/cel-cold", func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				n = celTickObjects(ctx, cat, snap, reason, freshObjects(b, set.Objects()))
			}
			b.ReportMetric(float64(set.Len()), "subjects/op")
			b.ReportMetric(float64(n), "true/op")
		})
		b.Run(r.name+"/go", func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				n = goTick(snap, r.check, set)
			}
			b.ReportMetric(float64(set.Len()), "subjects/op")
			b.ReportMetric(float64(n), "true/op")
		})
	}
}

func celTick(ctx context.Context, cat *cel.Catalog, snap *snapshot.Snapshot, r *cel.Reason, set *snapshot.Set) int {
	return celTickObjects(ctx, cat, snap, r, set.Objects())
}

func celTickObjects(ctx context.Context, cat *cel.Catalog, snap *snapshot.Snapshot, r *cel.Reason, objs []*snapshot.Object) int {
	ev := cat.NewEvaluator(ctx, snap)
	n := 0
	for _, o := range objs {
		if ev.When(r, o).Outcome == cel.True {
			n++
		}
	}
	return n
}

func goTick(snap *snapshot.Snapshot, check func(*snapshot.Snapshot, *snapshot.Object) bool, set *snapshot.Set) int {
	n := 0
	for _, o := range set.Objects() {
		if check(snap, o) {
			n++
		}
	}
	return n
}

// compareCatalog compiles the reasons' CEL with the shipped catalogue's
// sources.
func compareCatalog(tb testing.TB) (*catalog.Catalog, *cel.Catalog) {
	tb.Helper()
	var b strings.Builder
	b.WriteString(compareHeader)
	for _, r := range reasons {
		fmt.Fprintf(&b, "- name: %s\n  subject: %s\n  summary: s\n  when: |\n", r.name, r.subject)
		for line := range strings.SplitSeq(strings.TrimSpace(r.when), "\n") {
			fmt.Fprintf(&b, "    %s\n", line)
		}
	}
	src, errs := catalog.Parse(catalog.NewFile("compare.yaml", []byte(b.String())))
	require.NoError(tb, errs.Err())
	cat, errs := cel.Compile(src, cel.Options{})
	require.NoError(tb, errs.Err())
	return src, cat
}

// TestReasons checks that each reason's CEL and Go find the same subjects,
// and some, on a small cluster, so the benchmark compares equal work.
func TestReasons(t *testing.T) {
	src, cat := compareCatalog(t)
	snap := Snapshot(src, Cluster(3_000))
	for _, r := range reasons {
		t.Run(r.name, func(t *testing.T) {
			reason := cat.Reason(r.name)
			set := snap.Set(reason.Subject)
			ev := cat.NewEvaluator(context.Background(), snap)
			for _, o := range set.Objects() {
				res := ev.When(reason, o)
				require.NoError(t, res.Err, o.Ref())
				require.Equal(t, res.Outcome == cel.True, r.check(snap, o), o.Ref())
			}
			require.Positive(t, goTick(snap, r.check, set))
		})
	}
}
