// Package cel compiles a catalogue's expressions and evaluates them over a
// snapshot. Callers import it as statusd.io/statusd/pkg/cel and never
// import cel-go themselves; inside this package cel-go is imported as gocel.
//
// # The environment
//
// Expressions use Kubernetes' CEL as ValidatingAdmissionPolicy does (the
// standard macros, optional types, ext strings, sets, lists and two-variable
// comprehensions, and the Kubernetes quantity, regex, URL, IP, CIDR, format
// and semver libraries), so an expression written for a policy reads the
// same here. On top of that:
//
//	object                 the subject object, as the API server serves it
//	params.<name>          catalogue constants; "5m"-like strings are durations
//	variables.<name>       named sub-expressions, evaluated lazily per subject
//	now                    the snapshot's time (a timestamp)
//	metrics                the subject pod's scraped series (see below)
//	cluster.version        the server's git version, such as "v1.36.3"
//	cluster.major, .minor  its numeric parts
//	cluster.versionSatisfies(">=1.28")        semver constraint check
//	cluster.hasResource("group/version/resource")  is it served?
//	cluster.objects(src)                 every object of a source (a scan)
//	cluster.inNamespace(src, ns)         indexed by namespace
//	cluster.onNode(src, node)            indexed by spec.nodeName
//	cluster.ownedBy(src, uid)            indexed by ownerReference UID
//	cluster.withLabels(src, ns, "a=b")   label selector ("" ns: all)
//	cluster.lookup(src, ns, name)        optional object
//	cluster.sourceStatus(src)            ready, absent, forbidden or failed
//	cluster.metrics(podOrPods)           metrics handle of pods
//	conditions(o)                        o.status.conditions, or []
//	versionSatisfies(version, constraint)
//	humanDuration(d)                     20s, 42m, 1h5m, 3d2h
//	humanTime(t)                         2026-12-05T12:47:25Z (UTC, to the second)
//
// A metrics handle answers value(sel), has(sel), rate(sel, d),
// increase(sel, d), delta(sel, d), avgOverTime(sel, d), maxOverTime(sel, d),
// minOverTime(sel, d) and quantile(q, histogram, d), where sel is a
// PromQL-like selector such as `vllm:num_requests_waiting{model_name="x"}`.
// Values are summed across matching series and pods (max/min for the
// over-time extremes, the worst pod for quantiles). A windowed function
// (every one but value and has) answers only once statusd's scrapes of
// each pod span its window (series.History.Covered); until then it is
// Unknown with "window not yet covered: 1m of 5m scraped", so a condition
// never draws "for 5m" from a minute of samples. An error that is not for
// lack of data (a failed scrape, a window longer than the retention)
// comes first.
//
// # Types
//
// Every expression is also type-checked against the OpenAPI v3 schema of
// its subject's resource (types.go): object, the objects look-ups return
// (cluster.inNamespace("pods", ...) yields pods) and params (typed from
// their values) are declared types, built by Kubernetes' own
// k8s.io/apiserver/pkg/cel/common.SchemaDeclType as for CRD validation
// rules. A field that does not exist, a comparison of mismatched types, a
// when that is not a bool, a message that is not a string, a sameNode join
// on a kind without spec.nodeName and a sameOwner join on a cluster-scoped
// kind are errors (as, untyped, are a sameWorkload, sameService or
// sameVolumeClaim side that can never have a key, and such a join whose
// catalogue has no source of what it reads: joins.go); reading an optional scalar field without has(), ?. or
// orValue is a warning. Schemas come from Options.Schemas (pkg/apischema:
// the built-in kinds of the pinned Kubernetes release, CRD manifests, a
// cluster's /openapi/v3); a resource without one stays dynamic, with a
// note. The program that runs is the untyped one, since statusd's values
// are the API server's JSON (timestamps are strings): typing changes what
// is accepted, never how an accepted expression evaluates.
//
// # Unknown
//
// A missing metric, a failed or stale scrape, a forbidden source, an
// expression error, the per-evaluation cost limit or the tick's budget all
// make an evaluation Unknown, with the error. Unknown is neither true nor
// false: the engine neither fires nor clears on it. An absent optional
// source (a CRD that is not installed) reads as empty.
//
// # Evaluation
//
// Objects are read through wrappers that convert each map or list once,
// on first read, and keep it on the object (tree.go), which the informers
// hand over tick after tick until it changes. A conjunct of a condition
// that reads only its subject and params (no now, cluster, metrics or
// variable that reads them) is a gate whose outcome is remembered on the
// object under the catalogue (memo.go): a false gate decides the
// condition, and a condition that is all gate is decided either way, so a
// steady-state tick costs a look-up per such reason and subject.
//
// # Cost
//
// Every expression's cost is estimated at compile time, assuming each
// source holds Options.SourceSizeHint objects, an indexed look-up
// (inNamespace, onNode, ownedBy, withLabels) returns a thousand of them,
// conditions(o) holds 32 conditions and other lists inside objects hold a
// thousand elements; an expression over Options.CostLimit is refused, one
// over half of it is warned about. So a look-up followed by a check of each
// object it returns passes, and a scan of a source inside a scan of a
// source does not. At run time each evaluation is cut off at
// Options.CostLimit and a tick at Options.TickBudget, so a catalogue written
// by anyone who can edit its ConfigMap cannot stall statusd.
package cel
