package catalog

import (
	"strconv"
	"strings"
	"time"
)

// APIVersion is the catalogue format this package reads. Only its major
// version (v1alpha1 → v1) must match: a catalogue written for a future major
// version is refused rather than half-understood.
const APIVersion = "statusd.io/v1alpha1"

// Kind is the kind every catalogue file declares, so that one directory can
// hold catalogues and rule tests side by side.
const Kind = "Catalog"

// KindOverlay is the kind of a file that extends a catalogue without
// editing it: an operator's reasons beside the shipped ones, which keep
// taking statusd's updates. An overlay may add params, sources, variables
// and reasons, override params, disable reasons by name and add
// suppression edges between any reasons; its metadata is appended to the
// catalogue's version.
const KindOverlay = "CatalogOverlay"

// Catalog is one decoded catalogue: the reasons statusd diagnoses, the inputs
// they read and the constants they share. It is plain data; pkg/cel turns it
// into programs.
type Catalog struct {
	// APIVersion must be statusd.io/v1alpha1 (or a later minor of v1).
	APIVersion string `json:"apiVersion"`
	// Kind must be Catalog.
	Kind string `json:"kind"`
	// Metadata names and versions the catalogue; both appear on every Event
	// and metric so an operator can tell which catalogue made a diagnosis.
	Metadata Metadata `json:"metadata"`
	// Includes names further files of the same catalogue, relative to this
	// one, so that a catalogue split by system can be named by its main
	// file; loading that file loads them too. Each file is read once,
	// however often it is named.
	Includes []string `json:"includes,omitempty"`
	// Settings tune how findings are published.
	Settings Settings `json:"settings,omitempty"`
	// Params are named constants that expressions read as params.<name>, so
	// that a threshold is tuned without touching an expression. A string that
	// parses as a duration ("5m", "1h30m", "2d") becomes a CEL duration.
	Params map[string]Param `json:"params,omitempty"`
	// Sources are the named inputs: Kubernetes resources watched through
	// informers, and pod metrics scraped by label selection.
	Sources map[string]Source `json:"sources,omitempty"`
	// Variables are named CEL sub-expressions shared by several reasons, read
	// as variables.<name>, in the manner of ValidatingAdmissionPolicy.
	Variables []Variable `json:"variables,omitempty"`
	// Reasons are the diagnoses, each published as the reason of an Event.
	Reasons []Reason `json:"reasons"`
	// Disable names reasons of the catalogue an overlay extends that it
	// turns off (kind CatalogOverlay only); edges to them are dropped.
	Disable []string `json:"disable,omitempty"`
	// Suppressions add suppression edges from any cause to any symptom,
	// such as from a shipped cause to the overlay's own reason, without
	// editing the cause's file.
	Suppressions []Suppression `json:"suppressions,omitempty"`

	// Files are the sources the catalogue was decoded from, kept for error
	// snippets and for the content hash used by hot reload.
	Files []*File `json:"-"`
	// Disabled are the reasons overlays disabled, for explain and lint.
	Disabled []string `json:"-"`

	// docPos and disableAt are where one decoded document and each of
	// its Disable entries begin, for errors about a document that has
	// no reason to point at.
	docPos    Pos
	disableAt []Pos
}

// Metadata identifies a catalogue.
type Metadata struct {
	// Name of the catalogue, such as cluster-addons.
	Name string `json:"name"`
	// Version of the catalogue, such as 2026.11.0; free-form but required.
	Version string `json:"version"`
}

// Settings are catalogue-wide publication choices.
type Settings struct {
	// PublishSecondary publishes every unsuppressed firing reason of a
	// subject, not only its root cause (the highest priority). Off by
	// default: one subject, one Event.
	PublishSecondary bool `json:"publishSecondary,omitempty"`
}

// Param is a named constant. Its value is whatever YAML scalar, list or map
// was written; pkg/cel converts it to a CEL value once per load.
type Param struct {
	// Value is the decoded YAML value: string, int64, float64, bool,
	// []any or map[string]any.
	Value any `json:"-"`
	// Pos is where the value was written.
	Pos Pos `json:"-"`
}

// Source is a named input. Exactly one of Resource or Metrics is set.
type Source struct {
	// Pos is where the source was declared.
	Pos Pos `json:"-"`
	// Group of the resource; empty for the core group.
	Group string `json:"group,omitempty"`
	// Version of the resource, such as v1 or v2.
	Version string `json:"version,omitempty"`
	// Resource is the plural resource name, such as pods or helmreleases.
	Resource string `json:"resource,omitempty"`
	// Namespaces limits the source to namespaces by name, glob (iaas-addon-*)
	// or namespace label selector. Empty means every namespace.
	Namespaces Namespaces `json:"namespaces,omitempty"`
	// Selector is a Kubernetes label selector applied server-side.
	Selector string `json:"selector,omitempty"`
	// Optional marks a resource (usually a CRD) that may be absent: reasons
	// over it simply find nothing, and it starts when the CRD appears.
	Optional bool `json:"optional,omitempty"`
	// Metrics makes this a metrics source: pods selected by label are
	// scraped, and their series are read through metrics(pod).
	Metrics *Scrape `json:"metrics,omitempty"`
	// Prometheus makes this a query source: one PromQL query evaluated at
	// every tick's time on the Prometheus-compatible server statusd runs
	// with (--prometheus-url), read through cluster.query.
	Prometheus *Query `json:"prometheus,omitempty"`
	// Expect declares objects the source must hold; while one is absent,
	// the reasons over the source also see a stand-in for it (see
	// Expectation).
	Expect []Expectation `json:"expect,omitempty"`
}

// IsMetrics reports whether the source scrapes pods rather than watching a
// resource.
func (s *Source) IsMetrics() bool { return s.Metrics != nil }

// IsQuery reports whether the source is a Prometheus query.
func (s *Source) IsQuery() bool { return s.Prometheus != nil }

// IsObjects reports whether the source watches a Kubernetes resource.
func (s *Source) IsObjects() bool { return s.Metrics == nil && s.Prometheus == nil }

// Query is a PromQL query whose result series join subjects by labels. The
// catalogue names the query, never the server: the endpoint and its
// credentials are statusd's flags and the chart's values, so whoever edits
// the catalogue cannot make statusd call an arbitrary address or read a
// credential.
type Query struct {
	// Query is PromQL, evaluated as an instant query at the tick's time;
	// range functions (rate(x[5m]), histogram_quantile over rates) are
	// welcome. Its result must be a vector or a scalar.
	Query Expr `json:"query"`
	// Join names the result labels that identify a subject, for
	// cluster.query(source, object).
	Join QueryJoin `json:"join,omitempty"`
	// Timeout bounds the query, 10s by default; the tick's own bound
	// (statusd run --prometheus-tick-timeout) applies as well.
	Timeout Duration `json:"timeout,omitempty"`
	// MaxSeries bounds the result; a larger result is Unknown, never a
	// truncated answer. 10000 by default.
	MaxSeries int `json:"maxSeries,omitempty"`
}

// QueryJoin names the labels that join a query's series to an object.
type QueryJoin struct {
	// Namespace is the label holding the object's namespace, "namespace"
	// by default (Flux's gotk_* series scraped through a ServiceMonitor
	// carry it as exported_namespace). A Namespace object matches on its
	// own name.
	Namespace string `json:"namespace,omitempty"`
	// Name is the label holding the object's name; by default its kind in
	// lower case, as kube-state-metrics and the kubelet name them: pod,
	// node, persistentvolumeclaim, deployment, statefulset, ...
	Name string `json:"name,omitempty"`
}

// Defaults for Query.
const (
	DefaultQueryTimeout   = 10 * time.Second
	DefaultQueryMaxSeries = 10000
	DefaultNamespaceLabel = "namespace"
)

// GVR returns the source's group/version/resource in the form used by
// cluster.hasResource: "group/version/resource", or "version/resource" for
// the core group.
func (s *Source) GVR() string {
	if s.Group == "" {
		return s.Version + "/" + s.Resource
	}
	return s.Group + "/" + s.Version + "/" + s.Resource
}

// Namespaces selects namespaces by name or glob, or by namespace labels.
// In YAML it is a string ("iaas-addon-*"), a list of strings, or a mapping
// with names and selector.
type Namespaces struct {
	// Names are namespace names; a name holding * or ? is a glob.
	Names []string `json:"names,omitempty"`
	// Selector is a label selector over Namespace objects.
	Selector string `json:"selector,omitempty"`
}

// IsZero reports whether no namespace restriction was given.
func (n Namespaces) IsZero() bool { return len(n.Names) == 0 && n.Selector == "" }

// Scrape configures how a metrics source scrapes its pods. Targets are only
// ever pods the source selects, at the pod's own IP: a catalogue holds no
// URLs, so whoever edits it cannot make statusd call an arbitrary address.
type Scrape struct {
	// Selector is a label selector over pods; required.
	Selector string `json:"selector"`
	// Port is the container port number or name to scrape.
	Port IntOrString `json:"port"`
	// Path is the HTTP path, /metrics by default.
	Path string `json:"path,omitempty"`
	// Interval between scrapes of one pod, 15s by default.
	Interval Duration `json:"interval,omitempty"`
	// Timeout of one scrape, 5s by default; at most Interval.
	Timeout Duration `json:"timeout,omitempty"`
}

// IntOrString is a port given as a number or as a container port name.
type IntOrString struct {
	// Int is the number, when one was given.
	Int int
	// Str is the name, when one was given.
	Str string
}

// IsZero reports whether nothing was given.
func (p IntOrString) IsZero() bool { return p.Int == 0 && p.Str == "" }

// String renders the port as written.
func (p IntOrString) String() string {
	if p.Str != "" {
		return p.Str
	}
	if p.Int == 0 {
		return ""
	}
	return strconv.Itoa(p.Int)
}

// Variable is a named CEL sub-expression.
type Variable struct {
	// Pos is where the variable was declared.
	Pos Pos `json:"-"`
	// Name is the identifier read as variables.<name>.
	Name string `json:"name"`
	// Expression is CEL; it sees the same inputs as a reason's when.
	Expression Expr `json:"expression"`
}

// Severity says how urgent a reason is: critical pages someone, warning
// goes to a queue, info is for the record. It is the severity label of the
// reason's Alertmanager alerts and metrics, and decides the Kubernetes
// Event type (critical and warning: Warning; info: Normal).
type Severity string

// The severities. Warning and Normal, the Event types this field used to
// take, are still read as warning and info.
const (
	SeverityCritical Severity = "critical"
	SeverityWarning  Severity = "warning"
	SeverityInfo     Severity = "info"

	// SeverityEventWarning and SeverityEventNormal are the Event types an
	// older catalogue wrote here; Level maps them to warning and info.
	SeverityEventWarning Severity = "Warning"
	SeverityEventNormal  Severity = "Normal"
)

// Severities lists the severities a catalogue may write, for validation
// and the schema: the levels first, then the Event types older
// catalogues wrote.
var Severities = []Severity{SeverityCritical, SeverityWarning, SeverityInfo, SeverityEventWarning, SeverityEventNormal}

// Level returns the severity as a level (critical, warning or info),
// warning when unset, or "" when s is not a severity.
func (s Severity) Level() Severity {
	switch s {
	case "", SeverityWarning, SeverityEventWarning:
		return SeverityWarning
	case SeverityInfo, SeverityEventNormal:
		return SeverityInfo
	case SeverityCritical:
		return SeverityCritical
	}
	return ""
}

// EventType returns the Kubernetes Event type of a severity: Normal for
// info, Warning otherwise.
func (s Severity) EventType() string {
	if s.Level() == SeverityInfo {
		return "Normal"
	}
	return "Warning"
}

// Reason is one diagnosis.
type Reason struct {
	// Pos is where the reason was declared.
	Pos Pos `json:"-"`
	// Name is the Event reason, unique in the catalogue (UpperCamelCase).
	Name string `json:"name"`
	// Description says what the reason means, for documentation and explain.
	Description string `json:"description,omitempty"`
	// Layer groups reasons (cluster, addon, modeldeployment, ...); it is
	// carried on Events and metrics.
	Layer string `json:"layer,omitempty"`
	// Priority ranks reasons firing on the same subject: the highest is the
	// subject's root cause.
	Priority int `json:"priority,omitempty"`
	// Severity is critical, warning (the default) or info: the severity
	// label of alerts and metrics. Events are Warning, Warning and Normal.
	Severity Severity `json:"severity,omitempty"`
	// Subject names the object source this reason is about: it is evaluated
	// once per object of that source and yields at most one finding each.
	Subject string `json:"subject"`
	// When is CEL returning bool: the condition that makes the reason true.
	When Expr `json:"when"`
	// Message is CEL returning string. When it errors or yields an empty
	// string, Summary is published instead.
	Message Expr `json:"message,omitempty"`
	// Summary is the static message, and the fallback for Message.
	Summary string `json:"summary,omitempty"`
	// Grace is how long the condition must hold before it fires; 0 (the
	// default) fires at once, for terminal failures.
	Grace Grace `json:"grace,omitempty"`
	// Clear is how long the condition must stay false before a firing reason
	// counts as recovered (hysteresis).
	Clear Duration `json:"clear,omitempty"`
	// Suppresses lists the symptom reasons this cause hides while it fires.
	Suppresses []Edge `json:"suppresses,omitempty"`
	// SuppressedBy lists causes that hide this reason while they fire: the
	// symptom's side of an edge, for a reason whose causes are in another
	// file (a shipped catalogue this one extends).
	SuppressedBy []CauseEdge `json:"suppressedBy,omitempty"`
}

// Level returns the reason's severity level: critical, warning (the
// default) or info.
func (r *Reason) Level() Severity { return r.Severity.Level() }

// Grace is a reason's start-up silence. In YAML it is a duration ("5m") or a
// mapping with for and since.
type Grace struct {
	// For is the length of the window.
	For Duration `json:"for,omitempty"`
	// Since is CEL returning a timestamp (or an RFC 3339 string) that the
	// window is measured from, such as the subject's creationTimestamp or a
	// condition's lastTransitionTime. When empty, or when it errors, the
	// window starts at the first tick that saw the condition.
	Since Expr `json:"since,omitempty"`
}

// Edge is a suppression edge from a cause (the reason declaring it) to a
// symptom reason.
type Edge struct {
	// Pos is where the edge was declared.
	Pos Pos `json:"-"`
	// Reason is the symptom's name.
	Reason string `json:"reason"`
	// Join says which symptom findings the cause hides.
	Join Join `json:"join"`
}

// CauseEdge is a suppression edge written on its symptom: the cause that
// hides this reason and how their subjects join.
type CauseEdge struct {
	// Pos is where the edge was declared.
	Pos Pos `json:"-"`
	// Reason is the cause's name.
	Reason string `json:"reason"`
	// Join says which symptom findings the cause hides.
	Join Join `json:"join"`
}

// Suppression is a suppression edge written apart from both reasons, in
// an overlay's edge list.
type Suppression struct {
	// Pos is where the edge was declared.
	Pos Pos `json:"-"`
	// Cause is the reason that hides the symptom while it fires.
	Cause string `json:"cause"`
	// Symptom is the reason it hides.
	Symptom string `json:"symptom"`
	// Join says which symptom findings the cause hides.
	Join Join `json:"join"`
}

// JoinKind is how a suppression edge pairs a cause's subject with a
// symptom's subject.
type JoinKind string

// The join kinds. Each compares one key computed on both subjects; an empty
// key on either side never matches, so a pod without a node is never hidden
// by a node fault.
const (
	// JoinSameSubject: the same object (by UID).
	JoinSameSubject JoinKind = "sameSubject"
	// JoinSameNamespace: the same namespace; a Namespace object counts as
	// being in itself.
	JoinSameNamespace JoinKind = "sameNamespace"
	// JoinSameNode: the same node; a Node counts as being on itself, a pod by
	// spec.nodeName.
	JoinSameNode JoinKind = "sameNode"
	// JoinSameOwner: the symptom's owner (controller) is the cause's subject,
	// or both share the same controller.
	JoinSameOwner JoinKind = "sameOwner"
	// JoinSameWorkload: the same workload, followed through controller
	// ownerReferences by UID (Deployment → ReplicaSet → Pod, StatefulSet,
	// DaemonSet or Job → Pod, CronJob → Job → Pod, and any controller
	// above them): both subjects have the same topmost controller in their
	// namespace that the snapshot can reach.
	JoinSameWorkload JoinKind = "sameWorkload"
	// JoinSameService: behind the same Service: a Service itself, a pod
	// that its EndpointSlices target (or its selector matches, while it
	// has no slice yet), an EndpointSlice by its service-name label.
	JoinSameService JoinKind = "sameService"
	// JoinSameVolumeClaim: the same PersistentVolumeClaim: the claim
	// itself, a pod mounting it (spec.volumes, including generic ephemeral
	// volumes' <pod>-<volume> claims), the PersistentVolume bound to it.
	JoinSameVolumeClaim JoinKind = "sameVolumeClaim"
	// JoinCluster: every symptom finding, cluster-wide.
	JoinCluster JoinKind = "cluster"
	// JoinKey: a CEL key expression evaluated on both subjects.
	JoinKey JoinKind = "key"
)

// JoinKinds lists the named joins, for validation and the schema.
var JoinKinds = []JoinKind{
	JoinSameSubject, JoinSameNamespace, JoinSameNode, JoinSameOwner,
	JoinSameWorkload, JoinSameService, JoinSameVolumeClaim, JoinCluster,
}

// Join is an edge's join. In YAML it is a join name (sameNamespace) or a
// mapping {key: <CEL>} whose expression sees object as either subject.
type Join struct {
	// Kind is the join.
	Kind JoinKind `json:"-"`
	// Key is the CEL key expression when Kind is key; it must return a
	// string, and an empty string never matches.
	Key Expr `json:"key,omitempty"`
}

// Duration is a length of time written as "30s", "5m", "1h30m", "2d", or as
// the name of a duration param.
type Duration struct {
	// D is the resolved length.
	D time.Duration
	// Param is the name of the param it was read from, if any.
	Param string
	// Raw is the text as written; empty when absent.
	Raw string
	// Pos is where it was written.
	Pos Pos
}

// IsZero reports whether no duration was written.
func (d Duration) IsZero() bool { return d.Raw == "" }

// Expr is a CEL expression together with where it sits in its YAML file, so
// that compile errors can be reported at the right line and column.
type Expr struct {
	// Text is the expression.
	Text string
	// Pos is where the scalar's value starts (after the quote, or the first
	// content line of a block scalar).
	Pos Pos
	// block is true for literal (|) scalars, whose lines map one to one.
	block bool
	// quoted is true for quoted flow scalars, whose column is one past the
	// quote.
	quoted bool
	// segs map a folded or multi-line flow scalar's text to its lines.
	segs []segment
}

// segment is where a stretch of a folded expression's text starts in the
// file.
type segment struct {
	off       int
	line, col int
}

// IsZero reports whether no expression was written.
func (e Expr) IsZero() bool { return e.Text == "" }

// Locate maps a position inside the expression (1-based line, 0-based
// column, as cel-go reports them) to the YAML file. Literal blocks map
// exactly; folded and multi-line flow scalars map to their first line, which
// is the best a folded scalar allows.
func (e Expr) Locate(line, col int) Pos {
	p := e.Pos
	if line < 1 {
		line = 1
	}
	if len(e.segs) > 0 && line >= 1 {
		// The offset of (line, col) in the text, then the segment it is in.
		off := 0
		rest := e.Text
		for l := 1; l < line; l++ {
			i := strings.IndexByte(rest, '\n')
			if i < 0 {
				break
			}
			off += i + 1
			rest = rest[i+1:]
		}
		off += col
		for i := len(e.segs) - 1; i >= 0 && off < len(e.Text); i-- {
			if s := e.segs[i]; off >= s.off {
				return Pos{File: p.File, Line: s.line, Col: s.col + off - s.off}
			}
		}
	}
	switch {
	case e.block:
		// Pos is the first content line, but blank lines before it are
		// part of the text: skip them.
		lead := len(e.Text) - len(strings.TrimLeft(e.Text, "\n"))
		p.Line += max(line-1-lead, 0)
		p.Col += col
	case line == 1:
		p.Col += col
	}
	return p
}
