package snapshot

import (
	"strings"

	"statusd.io/statusd/pkg/prune"
)

// Trim returns a copy of s whose objects are trimmed to their source's tree
// in fields (a source without one, or with a nil tree, keeps whole
// objects) and held in compact form, with the same time, cluster, statuses,
// metrics and Prometheus query results. It is what
// the daemon's watch caches hold, for checking that trimming changes no
// finding: rule tests run with ruletest.Options.Prune and the benchmarks'
// soundness test compare ticks over s and over Trim(s).
//
// Each source is trimmed to its own tree, where the daemon trims the
// objects of sources sharing a watch cache to the union of their trees:
// Trim keeps less, so a check with it is the stricter one.
func Trim(s *Snapshot, fields map[string]*prune.Tree) *Snapshot {
	b := NewBuilder(s.Time, s.Cluster)
	for _, name := range s.Sets() {
		set := s.Set(name)
		b.SetStatus(name, set.Status, set.Err)
		tree := fields[name]
		objs := make([]*Object, 0, set.Len())
		for _, o := range set.Objects() {
			objs = append(objs, NewCompactObject(tree.Apply(o.Map())))
		}
		b.Add(name, objs...)
	}
	for _, key := range s.MetricsTargets() {
		ns, name, _ := strings.Cut(key, "/")
		if m := s.Metrics(ns, name); m != nil {
			b.AddMetrics(m)
		}
	}
	// Query results are not objects: nothing to trim, and a trimmed
	// snapshot without them would read as statusd without Prometheus.
	for _, name := range s.Queries() {
		b.AddQuery(s.Query(name))
	}
	return b.Build()
}
