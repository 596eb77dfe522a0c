// Package bench holds statusd's cross-package benchmarks and their
// fixtures: a generator of realistic clusters in proportion (nodes, add-on
// namespaces with their HelmReleases, workloads, a few faults), ticks of the
// shipped catalogue over them, suppression at scale, and representative
// reasons written both as CEL and as hand-written Go over the same snapshot.
// `make bench` runs them; docs/performance.md reports the numbers.
//
// Nothing here is product code, and no product package imports it.
package bench
