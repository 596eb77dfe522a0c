// Package sources reads a live cluster into snapshots: the objects of every
// catalogue source from shared dynamic informers, the cluster's served
// resources and version from discovery, and pod metrics from a bounded
// scraper.
//
// statusd evaluates its catalogue every few seconds, and a LIST per source
// per tick would load the API server in proportion to the cluster's size.
// Sources therefore keeps one watch cache per group/version/resource,
// namespace and label selector: after the initial sync a tick reads only
// memory (Snapshot makes no API call), and the API server sends only
// changes. Several catalogue sources that select the same objects share one
// informer; a catalogue reload (Apply) starts the informers it needs, stops
// the ones it no longer needs and keeps the rest, caches and all.
//
// # What is cached
//
// In a large cluster the caches are most of statusd's memory, so they keep
// only what is read. Apply takes, with the catalogue, the fields each
// source's expressions can read (cel.Catalog.Fields, a prune.Tree per
// source), and each informer's transform trims every object to the union of
// the trees of the sources sharing it, plus what the scraper reads of a
// metrics source's pods; apiVersion, kind, metadata and spec.nodeName are
// always kept, managedFields and the last-applied-configuration annotation
// never. The trimmed object is then held in compact form (pkg/compact),
// and the informer's store keeps only that, with the key and resource
// version client-go needs: a pod of two containers goes from 50 KB decoded
// to 10 KB trimmed under the shipped catalogue, and a cached pod costs
// about 1 KB of heap in all (BenchmarkCachedPodHeap). An informer whose
// fields change on a reload is restarted, since its cache lacks what it did
// not keep: one LIST, as for a new source. Apply with nil fields keeps whole objects, for `statusd
// snapshot`, whose files serve any catalogue. Each cached object is also
// parsed once, when it changes, into a snapshot.Object, so a snapshot costs
// a pointer per object plus the snapshot's own indexes, never a re-parse.
//
// Selection is applied server-side where the API allows it (exact namespace
// names become one informer per namespace, the label selector becomes the
// list and watch selector) and client-side otherwise (namespace globs and
// namespace label selectors, the latter from a Namespaces informer), with
// snapshot.Selection, so that a live snapshot and a snapshot file select
// exactly the same objects.
//
// # Source states
//
// A source is Ready when all its informers have synced. Discovery, repeated
// every Options.Rediscover, decides the rest: a resource the cluster does not
// serve makes an optional source Absent and any other source Failed, and a
// custom resource whose definition appears later starts its informer without
// a restart (one that disappears stops it). A 403 on list or watch makes a
// source Forbidden while every other source goes on. Each transition into
// Forbidden or Failed is logged and reported once, through
// Options.OnSourceProblem and the Problems counter of Stats, however often
// the informer retries; the daemon turns it into a Warning Event. Informers
// resume by themselves after the API server restarts (client-go reflectors
// re-watch from their last resource version) and keep serving their cache
// meanwhile.
//
// Secrets are never read: Apply refuses a catalogue that names core
// secrets, whatever the validator let through.
//
// # Metrics
//
// Scrape targets come only from the pods a metrics source selects, at
// http://<status.podIP>:<port><path>, the port resolved by name from the
// pod's container ports: a catalogue holds no URLs, so whoever edits it
// cannot make statusd call an arbitrary address, and redirects are not
// followed. A bounded pool of workers (Options.ScrapeWorkers) scrapes each
// pod at its source's interval with the source's timeout and a body-size
// limit, and records each result in the pod's series.History; a failed
// scrape is recorded as a failure, so the queries that read it are Unknown,
// never zero. A pod that leaves the selection takes its history with it.
package sources
