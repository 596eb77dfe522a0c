package bench

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"statusd.io/statusd/internal/cpuclock"
	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/engine"
)

// expensiveCatalogue holds reasons written to spend as much CPU time per
// cost unit as the meter allows: a scan of the subject's namespace per
// pod (the O(n²) case), string matching and building over every
// object of a namespace, a label selection per pod. The cost limit is
// lifted so that the estimate does not refuse them: the tick budget alone
// must bound them.
const expensiveCatalogue = `apiVersion: statusd.io/v1alpha1
kind: Catalog
metadata: {name: expensive, version: "1"}
sources:
  pods: {version: v1, resource: pods}
reasons:
- name: NamespaceScan
  subject: pods
  summary: s
  when: 'cluster.inNamespace("pods", object.metadata.namespace).exists(p, p.metadata.name == object.metadata.name + "-twin")'
- name: NamespaceStrings
  subject: pods
  summary: s
  when: 'cluster.inNamespace("pods", object.metadata.namespace).map(p, p.metadata.name + "/" + p.metadata.namespace).exists(n, n.matches("^zz.*[0-9]{3}$"))'
- name: LabelSelection
  subject: pods
  summary: s
  when: 'cluster.withLabels("pods", object.metadata.namespace, "app=" + object.metadata.name).size() > 5'
- name: NamespaceSort
  subject: pods
  summary: s
  when: 'cluster.inNamespace("pods", object.metadata.namespace).map(p, p.metadata.name).sort().size() < 0'
`

// BenchmarkTickBudget calibrates the default tick budget against CPU
// time. At 30,000 pods it ticks the shipped catalogue and a catalogue of
// expensive reasons, each with no budget (what the tick would cost
// unbounded) and with the default one; cpu-ms/op is the tick's CPU time,
// ns/unit the CPU time one cost unit takes, starved/op the reasons the
// budget cut. The default is chosen so that the expensive catalogue's
// tick stays under 2 s of CPU on a 2-core machine (docs/bounds.md).
func BenchmarkTickBudget(b *testing.B) {
	const pods = 30_000
	shippedSrc, errs := catalog.Load("../../rules")
	require.NoError(b, errs.Err())
	expensiveSrc, errs := catalog.Parse(catalog.NewFile("expensive.yaml", []byte(expensiveCatalogue)))
	require.NoError(b, errs.Err())
	cats := []struct {
		name string
		src  *catalog.Catalog
	}{{"shipped", shippedSrc}, {"expensive", expensiveSrc}}
	for _, c := range cats {
		for _, budget := range []uint64{math.MaxUint64, cel.DefaultTickBudget} {
			label := "unbounded"
			if budget != math.MaxUint64 {
				label = fmt.Sprintf("budget=%d", budget)
			}
			b.Run(fmt.Sprintf("%s/pods=%d/%s", c.name, pods, label), func(b *testing.B) {
				cat, cerrs := cel.Compile(c.src, cel.Options{TickBudget: budget, CostLimit: math.MaxUint64 / 4})
				require.NoError(b, cerrs.Err())
				cachedCluster(pods)
				e := engine.New(cat, engine.Options{})
				ctx := context.Background()
				b.ReportAllocs()
				var res *engine.Result
				// CPU time of the ticks alone: the fresh snapshot is built
				// outside both the timer and this sum.
				var spent time.Duration
				for b.Loop() {
					// A fresh snapshot each tick, so that nothing remembered on
					// an object spares the work: the cold, costliest tick.
					snap := freshSnapshot(b, c.src, pods)
					start := cpuclock.Now()
					res = e.Tick(ctx, snap)
					spent += cpuclock.Now() - start
				}
				b.ReportMetric(float64(spent.Milliseconds())/float64(b.N), "cpu-ms/op")
				b.ReportMetric(float64(res.Cost), "cost/op")
				if res.Cost > 0 {
					b.ReportMetric(float64(spent.Nanoseconds())/float64(b.N)/float64(res.Cost), "ns/unit")
				}
				b.ReportMetric(float64(len(res.Starved)), "starved/op")
			})
		}
	}
}
