package engine

import (
	"context"
	"slices"
	"strings"
	"time"

	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/snapshot"
)

// State is where a finding stands after a tick.
type State string

// Finding states.
const (
	// Pending: the condition holds but its grace window has not passed, or
	// a joined cause is itself pending.
	Pending State = "Pending"
	// Firing: reported. Whether it is published also depends on priority
	// (Root) and the catalogue's publishSecondary setting.
	Firing State = "Firing"
	// Suppressed: it would fire, but a firing cause hides it.
	Suppressed State = "Suppressed"
	// Unknown: the condition could not be evaluated; a firing finding stays
	// firing (Held) and a pending one stays pending.
	Unknown State = "Unknown"
	// Resolved: it was firing and its condition has been false for its
	// clear window, or its subject is gone.
	Resolved State = "Resolved"
)

// Subject identifies the object a finding is about.
type Subject struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
	UID        string `json:"uid,omitempty"`
}

// SubjectOf describes o.
func SubjectOf(o *snapshot.Object) Subject {
	return Subject{APIVersion: o.APIVersion, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name, UID: o.UID}
}

// clone returns s with strings of its own, which keep no object's
// encoding alive.
func (s Subject) clone() Subject {
	return Subject{
		APIVersion: strings.Clone(s.APIVersion), Kind: strings.Clone(s.Kind),
		Namespace: strings.Clone(s.Namespace), Name: strings.Clone(s.Name), UID: strings.Clone(s.UID),
	}
}

// String renders Kind/namespace/name (Kind/name when cluster-scoped).
func (s Subject) String() string { return snapshot.Ref(s.Kind, s.Namespace, s.Name) }

// ID keys state by snapshot.ID, the identity rule objects follow too.
func (s Subject) ID() string { return snapshot.ID(s.UID, s.Kind, s.Namespace, s.Name) }

// CauseRef names the finding that hides or holds another.
type CauseRef struct {
	Reason  string  `json:"reason"`
	Subject Subject `json:"subject"`
}

// Finding is one reason on one subject after a tick.
type Finding struct {
	Reason   string  `json:"reason"`
	Layer    string  `json:"layer,omitempty"`
	Priority int     `json:"priority"`
	Severity string  `json:"severity"`
	Subject  Subject `json:"subject"`
	// Target, when set, is the object Events about the finding name
	// instead of Subject: the Namespace of an expected object that does
	// not exist (see catalog.Expectation). Subject still keys the finding
	// and names the Event.
	Target *Subject `json:"target,omitempty"`
	State  State    `json:"state"`
	// Root is set on the highest-priority unsuppressed firing finding of
	// its subject: the subject's root cause.
	Root bool `json:"root,omitempty"`
	// Published says whether emit should publish it: roots always,
	// secondaries when the catalogue says so.
	Published bool `json:"published,omitempty"`
	// Message is the reason's message rendered for the subject. A Pending
	// finding's is empty in the Result of an engine that defers them
	// (Options.DeferPendingMessages) until Result.WithMessages renders it.
	Message string `json:"message,omitempty"`
	// Summary is the reason's static summary, for publishers that carry
	// it beside the message (Alertmanager annotations); it is the
	// catalogue's, so it is left out of the finding's JSON.
	Summary string `json:"-"`
	// MessageErr is set when the message expression failed and the static
	// summary was used.
	MessageErr string `json:"messageError,omitempty"`
	// Err explains Unknown.
	Err string `json:"error,omitempty"`
	// Held is set when an Unknown evaluation kept a firing finding firing.
	Held bool `json:"held,omitempty"`

	// PendingSince is the start of the grace window.
	PendingSince time.Time `json:"pendingSince,omitzero"`
	// FiresAt is when the grace window ends.
	FiresAt time.Time `json:"firesAt,omitzero"`
	// FiringSince is when it started firing.
	FiringSince time.Time `json:"firingSince,omitzero"`
	// ClearingSince is when a firing finding's condition turned false.
	ClearingSince time.Time `json:"clearingSince,omitzero"`
	// ClearsAt is when it resolves if the condition stays false.
	ClearsAt time.Time `json:"clearsAt,omitzero"`
	// LastTrue is the last tick the condition held.
	LastTrue time.Time `json:"lastTrue,omitzero"`

	// SuppressedBy names the firing cause hiding it.
	SuppressedBy *CauseRef `json:"suppressedBy,omitempty"`
	// HeldBy names the pending cause holding it pending. A tick's findings
	// hidden or held by one cause share its CauseRef: read it, never
	// change it.
	HeldBy *CauseRef `json:"heldBy,omitempty"`

	// Duration is how long a resolved finding fired.
	Duration time.Duration `json:"duration,omitempty"`
	// WasPublished says a resolved finding had been published, so its
	// recovery deserves an Event.
	WasPublished bool `json:"wasPublished,omitempty"`
	// ResolvedBecause explains an unusual resolution (subject deleted,
	// reason removed from the catalogue).
	ResolvedBecause string `json:"resolvedBecause,omitempty"`

	// Cost is the CEL cost the finding's evaluations spent this tick.
	Cost uint64 `json:"cost,omitempty"`
}

// Result is the outcome of one tick.
type Result struct {
	// Time is the snapshot's time.
	Time time.Time `json:"time"`
	// Catalog and Version identify the catalogue that decided.
	Catalog string `json:"catalog"`
	Version string `json:"version"`
	// Findings holds every finding not simply false, ordered by subject
	// then evaluation order: Pending, Firing, Suppressed and Unknown ones.
	// Pending ones carry no Message when the engine defers them (see
	// WithMessages).
	Findings []*Finding `json:"findings"`
	// Resolved holds the findings that resolved this tick.
	Resolved []*Finding `json:"resolved,omitempty"`
	// Cost is the tick's total CEL cost.
	Cost uint64 `json:"cost"`
	// Evaluations counts condition evaluations.
	Evaluations int `json:"evaluations"`
	// UnknownReasons are the reasons Unknown on every subject they
	// evaluated for Options.UnknownTicks ticks or more: a catalogue
	// problem, reported once as an Event and always on /status and as a
	// metric.
	UnknownReasons []UnknownReason `json:"unknownReasons,omitempty"`
	// Starved are the reasons whose condition the tick's budget did not
	// reach on every subject, in the order they were evaluated: their
	// subjects not reached are Unknown for the tick, and the next tick
	// starts with the first of them (see fairness.go).
	Starved []StarvedReason `json:"starved,omitempty"`

	// deferred, when the tick left the messages of Pending findings
	// unrendered (Options.DeferPendingMessages), is what renders them.
	deferred *deferred
}

// deferred is what a Result needs to render its Pending findings' messages
// after the tick: the catalogue that decided and the snapshot it decided
// on. Neither costs the Result memory of its own: the engine holds the
// catalogue, and whoever keeps the Result for later reading (the daemon)
// keeps its snapshot for explain too.
type deferred struct {
	cat  *cel.Catalog
	snap *snapshot.Snapshot
}

// pending reports whether f's message was left to render on request.
func (d *deferred) pending(f *Finding) bool {
	return d != nil && f != nil && f.State == Pending && f.Message == ""
}

// WithMessages returns the result with the message of every Pending
// finding rendered, as a tick without Options.DeferPendingMessages renders
// them: the result itself when none was deferred, otherwise a copy whose
// Pending findings are copies, so that a Result read concurrently (the
// daemon's last tick, by /status) is never written. Rendering evaluates
// the message expressions on the tick's snapshot, within one tick's budget
// (cel.Options.TickBudget, plus the reserve Tick grants its second phase)
// and the per-expression cost limit, and stops when ctx ends (the reader
// gone): a message not rendered then is the reason's summary, as in a tick
// that ran out of budget.
func (r *Result) WithMessages(ctx context.Context) *Result {
	if r.deferred == nil {
		return r
	}
	out := *r
	out.deferred = nil
	out.Findings = slices.Clone(r.Findings)
	ev := r.deferred.evaluator(ctx)
	for i, f := range out.Findings {
		if !r.deferred.pending(f) {
			continue
		}
		c := *f
		if ctx.Err() == nil {
			c.Message = pendingMessage(r.deferred.cat, r.deferred.snap, ev, f)
		} else if reason := r.deferred.cat.Reason(f.Reason); reason != nil {
			c.Message = reason.Summary
		}
		out.Findings[i] = &c
	}
	return &out
}

// evaluator returns an evaluator of the tick's snapshot for rendering
// deferred messages, with the budget the tick had for them.
func (d *deferred) evaluator(ctx context.Context) *cel.Evaluator {
	ev := d.cat.NewEvaluator(ctx, d.snap)
	ev.Reserve()
	return ev
}

// Published returns the findings emit should publish.
func (r *Result) Published() []*Finding {
	var out []*Finding
	for _, f := range r.Findings {
		if f.Published {
			out = append(out, f)
		}
	}
	return out
}

// For returns the findings about subject s (matched by ID or by
// Kind/namespace/name).
func (r *Result) For(s string) []*Finding {
	var out []*Finding
	for _, f := range r.Findings {
		if f.Subject.String() == s || f.Subject.UID == s {
			out = append(out, f)
		}
	}
	return out
}

// Find returns the finding of reason on subject s, or nil.
func (r *Result) Find(reason, s string) *Finding {
	for _, f := range r.Findings {
		if f.Reason == reason && (f.Subject.String() == s || f.Subject.UID == s) {
			return f
		}
	}
	return nil
}

// Suppressed returns, for each firing cause, the findings it hides this
// tick, in the order of Findings: what a published root cause explains
// away. Causes are keyed by CauseOf.
func (r *Result) Suppressed() map[CauseRef][]*Finding {
	out := map[CauseRef][]*Finding{}
	for _, f := range r.Findings {
		if f.State == Suppressed && f.SuppressedBy != nil {
			c := CauseOf(f.SuppressedBy.Reason, f.SuppressedBy.Subject)
			out[c] = append(out[c], f)
		}
	}
	return out
}

// CauseOf is the key of a cause in Suppressed: its reason and its
// subject's kind, namespace and name, which is all a cause reference
// carries.
func CauseOf(reason string, s Subject) CauseRef {
	return CauseRef{Reason: reason, Subject: Subject{Kind: s.Kind, Namespace: s.Namespace, Name: s.Name}}
}
