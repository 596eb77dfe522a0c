package engine

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/snapshot"
	"statusd.io/statusd/pkg/suppress"
)

// Options configure an engine.
type Options struct {
	// Logger receives state changes (never per-tick chatter); discarded when
	// nil.
	Logger *slog.Logger
	// UnknownTicks is how many consecutive ticks a reason must be Unknown
	// on every subject it evaluates before Result.UnknownReasons reports
	// it; DefaultUnknownTicks when zero.
	UnknownTicks int
	// DeferPendingMessages leaves the Message of Pending findings empty in
	// the Results Tick returns, to be rendered when something reads them
	// (Result.WithMessages, Explain). A Pending finding is seldom read: no
	// Event or alert carries it, only /status, explain and the one-shot
	// tools do. Rendering thousands of them on every tick, while a large
	// cluster grows, and holding them in the last tick's Result while the
	// next one builds its own, was a large part of the daemon's peak
	// memory, so the daemon sets it; the one-shot tools (eval, test rules)
	// read every message once and leave it unset.
	DeferPendingMessages bool
}

// key identifies a finding's state: a reason on a subject.
type key struct {
	reason  string
	subject string // Subject.ID()
}

// states holds the records by reason, then by subject ID, so that a
// reason's sweep for vanished subjects touches only its own records.
type states map[string]map[string]*record

func (s states) get(k key) *record { return s[k.reason][k.subject] }

func (s states) put(k key, rec *record) {
	m := s[k.reason]
	if m == nil {
		m = map[string]*record{}
		s[k.reason] = m
	}
	m[k.subject] = rec
}

func (s states) del(k key) { delete(s[k.reason], k.subject) }

// record is the state carried between ticks for one reason on one subject.
// Only the goroutine running Tick touches records, under Engine.mu.
type record struct {
	subject Subject
	// firstTrue is the first tick of the current episode that saw the
	// condition true; the grace window starts here unless grace.since says
	// otherwise.
	firstTrue time.Time
	lastTrue  time.Time
	firing    bool
	// firingSince is when it fired; zero while pending.
	firingSince time.Time
	// falseSince is when a firing finding's condition turned false.
	falseSince time.Time
	// published is set once the finding has been published in this
	// episode, so that its recovery is announced.
	published bool
	// seen marks records touched by the current tick.
	seen bool
	// standIn marks a record about the stand-in of a missing expected
	// object; target is where its Events go (see tick.targetOf), nil for
	// a real subject or a stand-in whose namespace does not exist either.
	standIn bool
	target  *Subject
}

// Engine turns a compiled catalogue and a stream of snapshots into
// findings, keeping grace, firing and clear timers between ticks. Tick,
// Reload and Restore may be called from different goroutines; they
// serialise on mu.
type Engine struct {
	mu      sync.Mutex
	cat     *cel.Catalog
	state   states
	dropped []*Finding // firing findings whose reason a reload removed
	log     *slog.Logger
	// startAt names the reason the next tick evaluates first: the first
	// one the last tick's budget did not reach, "" to start at the first.
	startAt string
	// streaks count each reason's all-Unknown ticks (unknown.go).
	streaks      map[string]*unknownStreak
	unknownTicks int
	deferPending bool
}

// New returns an engine for cat with no state.
func New(cat *cel.Catalog, opts Options) *Engine {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ut := opts.UnknownTicks
	if ut <= 0 {
		ut = DefaultUnknownTicks
	}
	return &Engine{cat: cat, state: states{}, log: log.With("component", "engine"), unknownTicks: ut, deferPending: opts.DeferPendingMessages}
}

// Catalog returns the catalogue in force.
func (e *Engine) Catalog() *cel.Catalog {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.cat
}

// Reload swaps in a new catalogue. State carries over for reasons whose
// definition (cel.Reason.Hash) did not change, as Prometheus copies alert
// state across rule reloads; other state is dropped, and firing findings of
// reasons that disappeared or changed are reported resolved on the next
// tick, so that their Events do not linger.
func (e *Engine) Reload(cat *cel.Catalog) {
	e.mu.Lock()
	defer e.mu.Unlock()
	kept, dropped := 0, 0
	for reason, recs := range e.state {
		old, nw := e.cat.Reason(reason), cat.Reason(reason)
		if old != nil && nw != nil && old.Hash == nw.Hash {
			kept += len(recs)
			continue
		}
		dropped += len(recs)
		for _, rec := range recs {
			if !rec.firing || !rec.published {
				continue
			}
			because := "reason removed from the catalogue"
			if nw != nil {
				because = "reason redefined in the catalogue"
			}
			f := &Finding{Reason: reason, Subject: rec.subject, State: Resolved, WasPublished: true, ResolvedBecause: because}
			if old != nil {
				f.Layer, f.Priority, f.Severity = old.Layer, old.Priority, string(old.Level())
			}
			e.dropped = append(e.dropped, f)
		}
		delete(e.state, reason)
	}
	e.cat = cat
	e.log.Info("Catalogue swapped", "catalog", cat.Source.Metadata.Name, "version", cat.Source.Metadata.Version, "keptState", kept, "droppedState", dropped)
}

// Forget drops the state of every finding, as a new engine would start,
// keeping the catalogue. A replica that lost leadership forgets: another
// replica decided and published meanwhile, so its next term starts from
// what was published (Restore), not from what it decided before.
func (e *Engine) Forget() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.state, e.dropped = states{}, nil
}

// Restored is a firing finding rebuilt from outside (statusd's own Events
// after a restart), so that a restart neither re-announces it nor resolves
// it falsely.
type Restored struct {
	Reason      string
	Subject     Subject
	FiringSince time.Time
}

// Restore seeds firing state. Findings already known are left alone.
func (e *Engine) Restore(rs []Restored) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, r := range rs {
		if e.cat.Reason(r.Reason) == nil {
			continue
		}
		k := key{r.Reason, r.Subject.ID()}
		if e.state.get(k) != nil {
			continue
		}
		e.state.put(k, &record{subject: r.Subject, firstTrue: r.FiringSince, lastTrue: r.FiringSince, firing: true, firingSince: r.FiringSince, published: true})
	}
}

// Tick evaluates the catalogue on snap, at snap.Time, and advances every
// timer. Ticks may come at any interval: windows compare times, never count
// ticks.
func (e *Engine) Tick(ctx context.Context, snap *snapshot.Snapshot) *Result {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := &tick{
		e:     e,
		now:   snap.Time,
		snap:  snap,
		ev:    e.cat.NewEvaluator(ctx, snap),
		index: suppress.NewIndex(e.cat.Graph),
		res: &Result{
			Time:    snap.Time,
			Catalog: e.cat.Source.Metadata.Name,
			Version: e.cat.Source.Metadata.Version,
		},
	}
	for _, recs := range e.state {
		for _, rec := range recs {
			rec.seen = false
		}
	}
	t.res.Resolved = append(t.res.Resolved, e.dropped...)
	e.dropped = nil
	// Conditions first, from where the last tick's budget ran out (see
	// fairness.go), then decisions in evaluation order, every cause before
	// its symptoms.
	conds := make(map[string]*conditions, len(e.cat.Reasons))
	next := ""
	for _, r := range rotate(e.cat.Reasons, e.startAt) {
		c := t.conditions(r)
		conds[r.Name] = c
		if c.starved > 0 {
			t.res.Starved = append(t.res.Starved, StarvedReason{Reason: r.Name, Subjects: c.starved})
			if next == "" {
				next = r.Name
			}
		}
	}
	e.startAt = next
	t.ev.Reserve()
	for _, r := range e.cat.Reasons {
		t.reason(r, conds[r.Name])
	}
	t.prioritise()
	t.closeUnknown()
	if e.deferPending {
		t.res.deferred = &deferred{cat: e.cat, snap: snap}
	}
	t.res.Cost = t.ev.Spent()
	// What this tick did not read, the next is unlikely to: the memory of
	// a large cluster's cache is mostly objects the gates rule out.
	cel.Forget(snap)
	return t.res
}

// tick is one Tick's working state.
type tick struct {
	e     *Engine
	now   time.Time
	snap  *snapshot.Snapshot
	ev    *cel.Evaluator
	index *suppress.Index
	// joiner computes named joins' keys, reading the snapshot's other
	// objects (owner chains, EndpointSlices); built on first use.
	joiner *suppress.Joiner
	res    *Result
	// tallies count outcomes per reason for the Unknown streaks; cur is
	// the reason being evaluated.
	tallies map[string]*tally
	cur     *tally
	// standIns holds each source's stand-ins for missing expected
	// objects, built on first use (see missing).
	standIns map[string][]*snapshot.Object
	// refs holds one CauseRef per cause, shared by every finding the cause
	// hides or holds: a pending Deployment holds each of its pods'.
	refs map[suppress.Cause]*CauseRef
}

// reason decides reason r on every subject from its conditions (c),
// evaluated earlier in the tick.
func (t *tick) reason(r *cel.Reason, c *conditions) {
	set := t.snap.Set(r.Subject)
	readable := set != nil && set.Status != snapshot.StatusForbidden && set.Status != snapshot.StatusFailed
	if set != nil {
		i, next := 0, 0
		visit := func(o *snapshot.Object) {
			defer func() { i++ }()
			if i >= c.reached {
				// Starved: Unknown, which holds a firing finding and keeps
				// a pending one pending, and starts nothing.
				if t.e.state.get(key{r.Name, SubjectOf(o).ID()}) != nil {
					t.apply(r, o, cel.Result{Outcome: cel.Unknown, Err: cel.ErrBudget})
				}
				return
			}
			if next < len(c.results) && c.results[next].index == i {
				t.apply(r, o, c.results[next].Result)
				next++
			}
			// Otherwise false with no state: nothing to decide.
		}
		for _, o := range set.Objects() {
			visit(o)
		}
		for _, o := range t.missing(r.Subject, set) {
			visit(o)
		}
	}
	// Records whose subject was not in this snapshot: the object is gone
	// (resolve), or the source cannot be read (hold: absence of evidence is
	// not recovery).
	for id, rec := range t.e.state[r.Name] {
		if rec.seen {
			continue
		}
		if !readable && set != nil {
			rec.seen = true
			f := t.finding(r, rec, Unknown)
			f.Err = "source " + r.Subject + " cannot be read: " + set.Err
			f.Held = rec.firing
			t.res.Findings = append(t.res.Findings, f)
			continue
		}
		if rec.firing {
			f := t.finding(r, rec, Resolved)
			f.Duration = t.now.Sub(rec.firingSince)
			f.WasPublished = rec.published
			f.ResolvedBecause = "subject no longer exists"
			if rec.standIn {
				f.ResolvedBecause = "the expected object exists"
			}
			t.res.Resolved = append(t.res.Resolved, f)
			t.e.log.Info("Finding resolved", "reason", r.Name, "subject", rec.subject.String(), "because", f.ResolvedBecause)
		}
		delete(t.e.state[r.Name], id)
	}
}

// apply advances reason r's state on subject o by the outcome of its
// condition.
func (t *tick) apply(r *cel.Reason, o *snapshot.Object, res cel.Result) {
	subj := SubjectOf(o)
	k := key{r.Name, subj.ID()}
	rec := t.e.state.get(k)
	if rec != nil && !rec.standIn && IsStandIn(o) {
		// Restored from an Event after a restart: the target is known
		// again once the stand-in is seen.
		rec.standIn, rec.target = true, t.targetOf(subj)
	}
	var f *Finding
	switch res.Outcome {
	case cel.False:
		if rec == nil {
			return
		}
		rec.seen = true
		if !rec.firing {
			// A pending condition that stops holding starts over.
			t.e.state.del(k)
			return
		}
		if rec.falseSince.IsZero() {
			rec.falseSince = t.now
		}
		if t.now.Sub(rec.falseSince) >= r.Clear.D {
			f = t.finding(r, rec, Resolved)
			f.Duration = t.now.Sub(rec.firingSince)
			f.WasPublished = rec.published
			f.Cost = res.Cost
			t.res.Resolved = append(t.res.Resolved, f)
			t.e.state.del(k)
			t.e.log.Info("Finding resolved", "reason", r.Name, "subject", subj.String(), "firedFor", f.Duration)
			return
		}
		// Still firing while it clears: hysteresis.
		f = t.finding(r, rec, Firing)
		f.ClearingSince = rec.falseSince
		f.ClearsAt = rec.falseSince.Add(r.Clear.D)
		t.addCause(r, o, f, suppress.Firing)
		t.suppressOrPublish(r, o, f)
	case cel.Unknown:
		if rec == nil {
			f = &Finding{Subject: subj, State: Unknown, Err: res.Err.Error(), Cost: res.Cost}
			if IsStandIn(o) {
				f.Target = t.targetOf(subj)
			}
			t.fill(r, f)
			t.res.Findings = append(t.res.Findings, f)
			return
		}
		rec.seen = true
		// Unknown neither fires nor clears: a clear window needs an
		// unbroken run of false, and a grace window an unbroken run of true
		// (it keeps its start, but cannot complete on an Unknown tick).
		rec.falseSince = time.Time{}
		if rec.firing {
			// Held: the fault is not known to be over, so it stays firing.
			f = t.finding(r, rec, Firing)
			f.Held = true
			f.Err = res.Err.Error()
			f.Cost = res.Cost
			t.addCause(r, o, f, suppress.Firing)
			t.suppressOrPublish(r, o, f)
			return
		}
		f = t.finding(r, rec, Unknown)
		f.Err = res.Err.Error()
		f.Cost = res.Cost
		t.addCause(r, o, f, suppress.Pending)
		t.res.Findings = append(t.res.Findings, f)
		return
	case cel.True:
		if rec == nil {
			// A record outlives the object's version: its strings are
			// copied, since those read from a cached object alias the
			// object's whole encoding (pkg/compact).
			subj = subj.clone()
			k.subject = strings.Clone(k.subject)
			rec = &record{subject: subj, firstTrue: t.now}
			if IsStandIn(o) {
				rec.standIn, rec.target = true, t.targetOf(subj)
			}
			t.e.state.put(k, rec)
		}
		rec.seen = true
		rec.subject = subj
		rec.lastTrue = t.now
		rec.falseSince = time.Time{}
		if rec.firing {
			f = t.finding(r, rec, Firing)
			f.Cost = res.Cost
			t.addCause(r, o, f, suppress.Firing)
			t.suppressOrPublish(r, o, f)
			return
		}
		start := rec.firstTrue
		if r.Since != nil {
			if since, err := t.ev.Since(r, o); err == nil && !since.IsZero() && !since.After(t.now) {
				start = since
			}
		}
		f = t.finding(r, rec, Pending)
		f.Cost = res.Cost
		f.PendingSince = start
		f.FiresAt = start.Add(r.Grace.For.D)
		if t.now.Before(f.FiresAt) {
			t.addCause(r, o, f, suppress.Pending)
			t.holdOrPend(r, o, f)
			return
		}
		// Grace has passed. A pending cause still holds it back.
		if held, cause := t.heldBy(r, o); held {
			f.HeldBy = cause
			t.addCause(r, o, f, suppress.Pending)
			t.res.Findings = append(t.res.Findings, f)
			return
		}
		rec.firing = true
		rec.firingSince = t.now
		f.State = Firing
		f.FiringSince = t.now
		t.addCause(r, o, f, suppress.Firing)
		t.suppressOrPublish(r, o, f)
		t.e.log.Info("Finding firing", "reason", r.Name, "subject", subj.String())
	}
}

// finding builds a finding from a record.
func (t *tick) finding(r *cel.Reason, rec *record, st State) *Finding {
	f := &Finding{
		Subject:      rec.subject,
		State:        st,
		PendingSince: rec.firstTrue,
		FiringSince:  rec.firingSince,
		LastTrue:     rec.lastTrue,
		Target:       rec.target,
	}
	t.fill(r, f)
	return f
}

func (t *tick) fill(r *cel.Reason, f *Finding) {
	f.Reason, f.Layer, f.Priority, f.Severity, f.Summary = r.Name, r.Layer, r.Priority, string(r.Level()), r.Summary
}

// keys returns subject o's join keys for edge e, on the cause or symptom
// side.
func (t *tick) keys(e suppress.Edge, o *snapshot.Object, asCause bool) []string {
	cause := t.e.cat.Reason(e.Cause)
	ce := cause.Edges[e.Index]
	if ce.Join.Kind != catalog.JoinKey {
		if t.joiner == nil {
			t.joiner = suppress.NewJoiner(t.e.cat.Source, t.snap)
		}
		return t.joiner.Keys(ce.Join.Kind, o, asCause)
	}
	k, err := t.ev.Key(ce, o)
	if err != nil || k == "" {
		return nil
	}
	return []string{k}
}

// addCause records f as an active cause for the reason's outgoing edges.
func (t *tick) addCause(r *cel.Reason, o *snapshot.Object, f *Finding, st suppress.State) {
	for _, e := range t.e.cat.Graph.EdgesOf(r.Name) {
		t.index.Add(e, t.keys(e, o, true), suppress.Cause{Reason: r.Name, Subject: f.Subject.String(), Priority: r.Priority, State: st})
	}
}

// match finds the cause joined to symptom subject o.
func (t *tick) match(r *cel.Reason, o *snapshot.Object) (suppress.Cause, bool) {
	if len(t.e.cat.Graph.CausesOf(r.Name)) == 0 {
		return suppress.Cause{}, false
	}
	return t.index.Match(r.Name, func(e suppress.Edge) []string { return t.keys(e, o, false) })
}

// causeRef returns the reference to cause c, made once per tick.
func (t *tick) causeRef(c suppress.Cause) *CauseRef {
	if ref := t.refs[c]; ref != nil {
		return ref
	}
	if t.refs == nil {
		t.refs = map[suppress.Cause]*CauseRef{}
	}
	ref := &CauseRef{Reason: c.Reason, Subject: parseSubject(c.Subject)}
	t.refs[c] = ref
	return ref
}

// heldBy reports whether a pending cause holds a not-yet-firing symptom.
func (t *tick) heldBy(r *cel.Reason, o *snapshot.Object) (bool, *CauseRef) {
	c, ok := t.match(r, o)
	if !ok || c.State != suppress.Pending {
		return false, nil
	}
	return true, t.causeRef(c)
}

// holdOrPend files a pending finding, noting a firing cause that will hide
// it anyway, for explain.
func (t *tick) holdOrPend(r *cel.Reason, o *snapshot.Object, f *Finding) {
	if c, ok := t.match(r, o); ok {
		if c.State == suppress.Firing {
			f.SuppressedBy = t.causeRef(c)
		} else {
			f.HeldBy = t.causeRef(c)
		}
	}
	t.res.Findings = append(t.res.Findings, f)
}

// suppressOrPublish files a firing finding: hidden when a firing cause joins
// it, otherwise a candidate for publication, decided by prioritise.
func (t *tick) suppressOrPublish(r *cel.Reason, o *snapshot.Object, f *Finding) {
	if c, ok := t.match(r, o); ok && c.State == suppress.Firing {
		f.State = Suppressed
		f.SuppressedBy = t.causeRef(c)
		f.Published = false
	}
	t.res.Findings = append(t.res.Findings, f)
	// Messages are rendered for what an operator may look at: firing,
	// suppressed and pending findings alike.
	msg, err := t.ev.Message(r, o)
	f.Message = msg
	if err != nil {
		f.MessageErr = err.Error()
	}
}

// prioritise picks each subject's root cause among its unsuppressed firing
// findings, marks what to publish, renders messages of pending findings
// unless they are deferred, and sorts the result.
func (t *tick) prioritise() {
	bySubject := map[string][]*Finding{}
	for _, f := range t.res.Findings {
		if f.State == Firing {
			bySubject[f.Subject.ID()] = append(bySubject[f.Subject.ID()], f)
		}
	}
	publishAll := t.e.cat.Source.Settings.PublishSecondary
	for _, fs := range bySubject {
		slices.SortFunc(fs, func(a, b *Finding) int {
			return cmp.Or(cmp.Compare(b.Priority, a.Priority), cmp.Compare(t.rank(a.Reason), t.rank(b.Reason)))
		})
		for i, f := range fs {
			f.Root = i == 0
			f.Published = f.Root || publishAll
			if f.Published {
				k := key{f.Reason, f.Subject.ID()}
				if rec := t.e.state.get(k); rec != nil {
					rec.published = true
				}
			}
		}
	}
	if !t.e.deferPending {
		t.renderPending()
	}
	order := func(a, b *Finding) int {
		return cmp.Or(compareRefs(a.Subject, b.Subject), cmp.Compare(t.rank(a.Reason), t.rank(b.Reason)))
	}
	slices.SortFunc(t.res.Findings, order)
	slices.SortFunc(t.res.Resolved, order)
}

// renderPending renders the messages of the tick's Pending findings (see
// Options.DeferPendingMessages).
func (t *tick) renderPending() {
	for _, f := range t.res.Findings {
		if f.State == Pending && f.Message == "" {
			f.Message = pendingMessage(t.e.cat, t.snap, t.ev, f)
		}
	}
}

// pendingMessage renders the message of Pending finding f, decided by cat
// on snap, with ev; "" when its subject is not an object of snap (the
// stand-in of a missing object). A Pending finding's message error is not
// reported: the summary stands in, and the finding is not published.
func pendingMessage(cat *cel.Catalog, snap *snapshot.Snapshot, ev *cel.Evaluator, f *Finding) string {
	r := cat.Reason(f.Reason)
	if r == nil {
		return ""
	}
	set := snap.Set(r.Subject)
	if set == nil {
		return ""
	}
	o := findObject(set, f.Subject)
	if o == nil {
		return ""
	}
	msg, _ := ev.Message(r, o)
	return msg
}

// compareRefs orders subjects as their references (Subject.String) compare,
// without building them: sorting a tick's findings compares n log n pairs.
func compareRefs(a, b Subject) int {
	return compareJoined(refParts(a), refParts(b))
}

// refParts are the pieces Subject.String joins.
func refParts(s Subject) [5]string {
	if s.Namespace == "" {
		return [5]string{s.Kind, "/", s.Name}
	}
	return [5]string{s.Kind, "/", s.Namespace, "/", s.Name}
}

// compareJoined compares the concatenations of a's and b's pieces, as
// strings.Compare would.
func compareJoined(a, b [5]string) int {
	ai, bi := 0, 0 // the piece
	ao, bo := 0, 0 // the offset in it
	for {
		for ai < len(a) && ao == len(a[ai]) {
			ai, ao = ai+1, 0
		}
		for bi < len(b) && bo == len(b[bi]) {
			bi, bo = bi+1, 0
		}
		switch {
		case ai == len(a) && bi == len(b):
			return 0
		case ai == len(a):
			return -1
		case bi == len(b):
			return 1
		}
		// Compare the longest run both pieces have left at once.
		n := min(len(a[ai])-ao, len(b[bi])-bo)
		if c := strings.Compare(a[ai][ao:ao+n], b[bi][bo:bo+n]); c != 0 {
			return c
		}
		ao, bo = ao+n, bo+n
	}
}

func (t *tick) rank(reason string) int {
	if r := t.e.cat.Reason(reason); r != nil {
		return r.Rank
	}
	return -1
}

func findObject(set *snapshot.Set, s Subject) *snapshot.Object {
	if s.UID != "" {
		if o := set.ByUID(s.UID); o != nil {
			return o
		}
	}
	return set.Get(s.Namespace, s.Name)
}

// parseSubject reverses Subject.String for cause references.
func parseSubject(s string) Subject {
	parts := strings.SplitN(s, "/", 3)
	switch len(parts) {
	case 3:
		return Subject{Kind: parts[0], Namespace: parts[1], Name: parts[2]}
	case 2:
		return Subject{Kind: parts[0], Name: parts[1]}
	}
	return Subject{Name: s}
}
