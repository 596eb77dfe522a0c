// Package snapshot is one consistent view of what a catalogue reads: the
// objects of each source, indexed by namespace, node, owner, label and name
// so that expressions look up instead of scanning; each source's state
// (ready, absent, forbidden, failed); scraped pod metrics; the cluster's
// version and served resources; and the time.
//
// Live sources build snapshots from informer caches; snapshot files (what
// `statusd snapshot` writes and `statusd eval` and rule tests read) are
// assembled through the same Selection, so a file selects exactly what a
// live cluster would. A built Snapshot is immutable.
//
// A snapshot is built every tick, so building one costs little: informers
// hand over their objects already sorted (Builder.AddSorted), and each
// index is built when an expression first asks for it, at most once per
// snapshot, rather than every index of every source every tick.
package snapshot
