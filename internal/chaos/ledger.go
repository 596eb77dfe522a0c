package main

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"statusd.io/statusd/internal/loadgen"
)

// Injection is one infrastructure fault the run injected: its kind (such
// as "apiserverKill") and when it began and ended. An instant fault (a
// SIGKILL) has End equal to Start.
type Injection struct {
	Kind  string    `json:"kind"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// AppFault is one entry of the ledger of application faults: a root cause
// the run put in place on Subject ("Kind/namespace/name") at Start and
// removed at End (zero when it was still in place when the run ended).
// Grace is the reason's grace: statusd may not report it earlier.
//
// A status write that timed out or lost its connection may still have
// landed, so the run retries it and counts the fault from the attempt that
// landed; StartTried and EndTried keep when the first attempt began, when
// an attempt failed first. From then on statusd may already see the
// change, so an Event after it is not false: a Warning's firing-since or a
// Resolved before Start or End but after the first attempt.
type AppFault struct {
	Reason     string        `json:"reason"`
	Subject    string        `json:"subject"`
	Start      time.Time     `json:"start"`
	End        time.Time     `json:"end,omitzero"`
	StartTried time.Time     `json:"startTried,omitzero"`
	EndTried   time.Time     `json:"endTried,omitzero"`
	Grace      time.Duration `json:"grace"`
}

// from is the earliest the fault may have been in place.
func (f AppFault) from() time.Time {
	if !f.StartTried.IsZero() {
		return f.StartTried
	}
	return f.Start
}

// until is the earliest the fault may have been removed; zero while it
// was never removed.
func (f AppFault) until() time.Time {
	if !f.EndTried.IsZero() {
		return f.EndTried
	}
	return f.End
}

// Write is one write of one of statusd's Events, as the run's watch saw it
// (the Event created or changed): At is when the run saw it.
type Write struct {
	At        time.Time `json:"at"`
	Namespace string    `json:"namespace"`
	Name      string    `json:"name"`
	// Reason is the Event's reason; Resolves is set on a Resolved Event
	// (the reason it resolves).
	Reason   string `json:"reason"`
	Resolves string `json:"resolves,omitempty"`
	Type     string `json:"type"`
	Subject  string `json:"subject"`
	Instance string `json:"instance"`
	// FiringSince is the episode the Event is about: its start.
	FiringSince time.Time `json:"firingSince,omitzero"`
}

// EventObject is one Event object statusd created (about a finding): two
// objects with the same Reason and Subject are a duplicate.
type EventObject struct {
	Namespace string    `json:"namespace"`
	Name      string    `json:"name"`
	Reason    string    `json:"reason"`
	Subject   string    `json:"subject"`
	Created   time.Time `json:"created"`
}

// Tick is a tick of the replica holding the Lease, as the run's sampling of
// statusd_ticks_total saw it.
type Tick struct {
	At       time.Time `json:"at"`
	Instance string    `json:"instance"`
}

// Exit is a statusd process ending: Injected when the run killed it.
type Exit struct {
	At       time.Time `json:"at"`
	Instance string    `json:"instance"`
	Injected bool      `json:"injected"`
	Why      string    `json:"why"`
}

// Holder is a Lease holder the run saw from At on.
type Holder struct {
	At       time.Time `json:"at"`
	Identity string    `json:"identity"`
}

// Ledger is everything the checker compares: what was injected and what
// statusd did.
type Ledger struct {
	Injections []Injection   `json:"injections"`
	Faults     []AppFault    `json:"faults"`
	Writes     []Write       `json:"-"`
	Objects    []EventObject `json:"-"`
	Ticks      []Tick        `json:"-"`
	Exits      []Exit        `json:"exits"`
	Holders    []Holder      `json:"holders"`
	// End is when the run stopped watching; faults still in place then
	// need no Resolved.
	End time.Time `json:"end"`
}

// Rules are the checker's bounds, documented in the report.
type Rules struct {
	// Bound is how long after a fault's grace statusd may take to publish
	// it (or its Resolved after it ends), measured from the fault's start
	// or, when a blocking injection (Blocking) overlaps that window, from
	// the injection's end.
	Bound time.Duration `json:"boundSeconds"`
	// Slack absorbs the run's own observation delays: a watch event seen
	// a moment after the write, a sample every two seconds.
	Slack time.Duration `json:"slackSeconds"`
	// Blocking are the injection kinds during which statusd cannot see
	// or publish anything (the API unreachable, no leader, Event writes
	// refused).
	Blocking map[string]bool `json:"blocking"`
}

// Quiet names the entry of anomalies that overlap no injection.
const Quiet = "none (application faults only)"

// Result is the checker's verdict for one kind of fault.
type Result struct {
	Name     string `json:"name"`
	Injected int    `json:"injected"`
	// Missed counts application faults in place for their grace plus the
	// bound (extended past blocking injections) that got no Warning in
	// that time; MissedResolved those removed that got no Resolved Event
	// within the bound.
	Missed         int `json:"missed"`
	MissedResolved int `json:"missedResolved"`
	// Duplicates counts Event objects beyond the first for one (reason,
	// subject).
	Duplicates int `json:"duplicates"`
	// FalseResolved counts Resolved Events written while their fault was
	// still in place.
	FalseResolved int `json:"falseResolved"`
	// FalseWarnings counts Warning episodes that match no application
	// fault, and Warnings written longer than the bound after their fault
	// had ended (a rewrite from a view a few seconds old is late, not
	// false).
	FalseWarnings int `json:"falseWarnings"`
	// ZombieWrites counts Event writes by a replica that did not hold the
	// Lease at the time.
	ZombieWrites int `json:"zombieWrites"`
	// Crashed counts statusd exits the run did not inject.
	Crashed int `json:"crashed"`
	// Recovery is, per injection, the seconds from its end to the first
	// tick of the Lease holder after which every root cause in place is
	// published and every one removed is resolved; NotRecovered counts
	// injections after which that never happened.
	RecoveryP50  float64   `json:"recoveryP50Seconds"`
	RecoveryP99  float64   `json:"recoveryP99Seconds"`
	RecoveryMax  float64   `json:"recoveryMaxSeconds"`
	Recoveries   []float64 `json:"recoverySeconds"`
	NotRecovered int       `json:"notRecovered"`
	// Details lists each anomaly counted, for the report.
	Details []string `json:"details,omitempty"`
}

// Check compares a run's ledger with what statusd did and returns one
// Result per injection kind (in kinds' order), then one for the
// application faults as a whole, then Quiet. An anomaly counts under every
// kind whose injection window (start to end plus the bound) contains it, or
// under Quiet when none does; the application-fault entry counts every
// anomaly once. It is a pure function of its inputs.
func Check(l Ledger, r Rules, kinds []string, appKind string) []Result {
	c := &checker{l: l, r: r, byKind: map[string]*Result{}}
	for _, k := range kinds {
		c.entry(k)
	}
	c.total = &Result{Name: appKind, Injected: len(l.Faults)}
	quiet := c.entry(Quiet)
	for _, in := range l.Injections {
		c.entry(in.Kind).Injected++
	}
	c.l.Writes = slices.Clone(l.Writes)
	sort.SliceStable(c.l.Writes, func(i, j int) bool { return c.l.Writes[i].At.Before(c.l.Writes[j].At) })
	c.l.Objects = slices.Clone(l.Objects)
	c.missed()
	c.duplicates()
	c.falseWrites()
	c.zombies()
	c.crashes()
	c.recoveries()
	out := make([]Result, 0, len(kinds)+2)
	for _, k := range kinds {
		out = append(out, *c.byKind[k])
	}
	out = append(out, *c.total, *quiet)
	for i := range out {
		finish(&out[i])
	}
	return out
}

type checker struct {
	l      Ledger
	r      Rules
	byKind map[string]*Result
	total  *Result
	order  []string
}

func (c *checker) entry(kind string) *Result {
	if e := c.byKind[kind]; e != nil {
		return e
	}
	e := &Result{Name: kind}
	c.byKind[kind] = e
	c.order = append(c.order, kind)
	return e
}

// blame returns the entries an anomaly over [from, to] counts under.
func (c *checker) blame(from, to time.Time) []*Result {
	var out []*Result
	seen := map[string]bool{}
	for _, in := range c.l.Injections {
		if seen[in.Kind] {
			continue
		}
		if !in.Start.After(to) && !in.End.Add(c.r.Bound).Before(from) {
			seen[in.Kind] = true
			out = append(out, c.entry(in.Kind))
		}
	}
	if len(out) == 0 {
		out = append(out, c.entry(Quiet))
	}
	return out
}

func (c *checker) count(from, to time.Time, field func(*Result) *int, detail string) {
	for _, e := range append(c.blame(from, to), c.total) {
		*field(e)++
		e.Details = append(e.Details, detail)
	}
}

// deadline is when statusd must have published something that became due
// at t after wait: t+wait+Bound, where a blocking injection overlapping
// that window moves t to the injection's end (repeatedly, for
// injections that follow one another).
func (c *checker) deadline(t time.Time, wait time.Duration) time.Time {
	for {
		moved := false
		d := t.Add(wait + c.r.Bound)
		for _, in := range c.l.Injections {
			if !c.r.Blocking[in.Kind] {
				continue
			}
			if !in.Start.After(d) && in.End.After(t) {
				t = in.End
				moved = true
				break
			}
		}
		if !moved {
			return t.Add(wait + c.r.Bound)
		}
	}
}

// episodeOf reports whether w is about fault f: same reason and subject,
// and an episode that began while f was in place.
func (c *checker) episodeOf(w Write, f AppFault, reason string) bool {
	if reason != f.Reason || w.Subject != f.Subject {
		return false
	}
	if w.FiringSince.IsZero() {
		return false
	}
	if w.FiringSince.Before(f.from().Add(-c.r.Slack)) {
		return false
	}
	return f.End.IsZero() || !w.FiringSince.After(f.End.Add(c.r.Slack))
}

func isResolved(w Write) bool { return w.Resolves != "" }

func (c *checker) missed() {
	for _, f := range c.l.Faults {
		due := c.deadline(f.Start, f.Grace)
		var warned time.Time
		for _, w := range c.l.Writes {
			if !isResolved(w) && w.Type == "Warning" && c.episodeOf(w, f, w.Reason) {
				warned = w.At
				break
			}
		}
		switch {
		case !warned.IsZero() && !warned.After(due):
		case !f.End.IsZero() && f.End.Before(due):
			// Removed before it was due: statusd may or may not have
			// said so, both are right.
			if warned.IsZero() {
				continue
			}
		case due.After(c.l.End):
			// Due after the run stopped watching.
			continue
		default:
			c.count(f.Start, due, func(r *Result) *int { return &r.Missed },
				fmt.Sprintf("missed: %s on %s from %s, due by %s, published %s", f.Reason, f.Subject, clock(f.Start), clock(due), orNever(warned)))
			continue
		}
		if warned.IsZero() || f.End.IsZero() {
			continue
		}
		rdue := c.deadline(f.End, 0)
		if rdue.After(c.l.End) {
			continue
		}
		var resolved time.Time
		for _, w := range c.l.Writes {
			if isResolved(w) && c.episodeOf(w, f, w.Resolves) && !w.At.Before(f.until()) {
				resolved = w.At
				break
			}
		}
		if resolved.IsZero() || resolved.After(rdue) {
			c.count(f.End, rdue, func(r *Result) *int { return &r.MissedResolved },
				fmt.Sprintf("missed Resolved: %s on %s removed %s, due by %s, resolved %s", f.Reason, f.Subject, clock(f.End), clock(rdue), orNever(resolved)))
		}
	}
}

func (c *checker) duplicates() {
	groups := map[string][]EventObject{}
	for _, o := range c.l.Objects {
		k := o.Reason + " " + o.Subject
		groups[k] = append(groups[k], o)
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		objs := groups[k]
		sort.Slice(objs, func(i, j int) bool { return objs[i].Created.Before(objs[j].Created) })
		for _, o := range objs[1:] {
			c.count(o.Created, o.Created, func(r *Result) *int { return &r.Duplicates },
				fmt.Sprintf("duplicate: %s on %s: %s/%s besides %s/%s", o.Reason, o.Subject, o.Namespace, o.Name, objs[0].Namespace, objs[0].Name))
		}
	}
}

// falseWrites counts Resolved Events for faults still in place and
// Warnings that match no fault or come after it ended.
func (c *checker) falseWrites() {
	type episode struct {
		reason, subject string
		since           time.Time
	}
	counted := map[episode]bool{}
	for _, w := range c.l.Writes {
		if isResolved(w) {
			for _, f := range c.l.Faults {
				if f.Reason != w.Resolves || f.Subject != w.Subject {
					continue
				}
				inPlace := !w.At.Before(f.Start.Add(c.r.Slack)) && (f.End.IsZero() || w.At.Before(f.until()))
				// A Resolved for an episode before this fault is a
				// late resolution, not a false one.
				earlier := !w.FiringSince.IsZero() && w.FiringSince.Before(f.from().Add(-c.r.Slack))
				if inPlace && !earlier {
					c.count(w.At, w.At, func(r *Result) *int { return &r.FalseResolved },
						fmt.Sprintf("false Resolved: %s on %s at %s by %s while in place since %s", w.Resolves, w.Subject, clock(w.At), w.Instance, clock(f.Start)))
				}
			}
			continue
		}
		if w.Type != "Warning" {
			continue
		}
		var match *AppFault
		for i, f := range c.l.Faults {
			if c.episodeOf(w, f, w.Reason) {
				match = &c.l.Faults[i]
				break
			}
		}
		ep := episode{w.Reason, w.Subject, w.FiringSince}
		switch {
		case match == nil:
			if counted[ep] {
				continue
			}
			counted[ep] = true
			c.count(w.At, w.At, func(r *Result) *int { return &r.FalseWarnings },
				fmt.Sprintf("false Warning: %s on %s at %s by %s (episode since %s) matches no injected fault", w.Reason, w.Subject, clock(w.At), w.Instance, clock(w.FiringSince)))
		case !match.End.IsZero() && w.At.After(match.End.Add(c.r.Bound)):
			c.count(w.At, w.At, func(r *Result) *int { return &r.FalseWarnings },
				fmt.Sprintf("stale Warning: %s on %s at %s by %s, its fault removed at %s", w.Reason, w.Subject, clock(w.At), w.Instance, clock(match.End)))
		}
	}
}

// holderAt is the Lease holder at t, "" before the first one seen.
func (c *checker) holderAt(t time.Time) string {
	h := ""
	for _, x := range c.l.Holders {
		if x.At.After(t) {
			break
		}
		h = x.Identity
	}
	return h
}

// zombies counts writes by a replica that did not hold the Lease: neither
// when the write was seen nor Slack before.
func (c *checker) zombies() {
	for _, w := range c.l.Writes {
		if len(c.l.Holders) == 0 || w.Instance == "" {
			continue
		}
		if c.holderAt(w.At) == w.Instance || c.holderAt(w.At.Add(-c.r.Slack)) == w.Instance {
			continue
		}
		c.count(w.At, w.At, func(r *Result) *int { return &r.ZombieWrites },
			fmt.Sprintf("zombie write: %s %s on %s at %s by %s while %s held the Lease", w.Type, w.Reason, w.Subject, clock(w.At), w.Instance, c.holderAt(w.At)))
	}
}

func (c *checker) crashes() {
	for _, x := range c.l.Exits {
		if x.Injected {
			continue
		}
		c.count(x.At, x.At, func(r *Result) *int { return &r.Crashed },
			fmt.Sprintf("crash: %s exited at %s: %s", x.Instance, clock(x.At), x.Why))
	}
}

// recoveries times each injection's recovery: its end to the first tick of
// the Lease holder by which every obligation outstanding at the end was
// met (the Warning of a fault in place, the Resolved of a fault removed).
func (c *checker) recoveries() {
	for _, in := range c.l.Injections {
		e := c.entry(in.Kind)
		end := in.End
		var tick time.Time
		for _, t := range c.l.Ticks {
			if t.At.After(end) {
				tick = t.At
				break
			}
		}
		if tick.IsZero() {
			e.NotRecovered++
			e.Details = append(e.Details, fmt.Sprintf("not recovered: %s ended %s, no tick of the Lease holder after it", in.Kind, clock(end)))
			continue
		}
		done, ok := tick, true
		for _, f := range c.l.Faults {
			if f.Start.After(end) {
				continue
			}
			var warned, resolved time.Time
			for _, w := range c.l.Writes {
				if !isResolved(w) && w.Type == "Warning" && warned.IsZero() && c.episodeOf(w, f, w.Reason) {
					warned = w.At
				}
				if isResolved(w) && resolved.IsZero() && c.episodeOf(w, f, w.Resolves) && !f.End.IsZero() && !w.At.Before(f.until()) {
					resolved = w.At
				}
			}
			inPlace := f.End.IsZero() || f.End.After(end)
			switch {
			case inPlace && warned.After(end):
				done = later(done, warned)
			case inPlace && warned.IsZero() && (f.End.IsZero() || f.End.Sub(later(f.Start, end)) > f.Grace+c.r.Bound):
				// In place long enough after the injection and never
				// published: counted as missed; never recovered.
				ok = false
			case !inPlace && !warned.IsZero() && resolved.After(end):
				done = later(done, resolved)
			case !inPlace && !warned.IsZero() && resolved.IsZero() && f.End.After(in.Start):
				ok = false
			}
		}
		if !ok {
			e.NotRecovered++
			e.Details = append(e.Details, fmt.Sprintf("not recovered: %s ended %s, a root cause was never published or resolved", in.Kind, clock(end)))
			continue
		}
		e.Recoveries = append(e.Recoveries, math.Round(done.Sub(end).Seconds()*10)/10)
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func finish(r *Result) {
	if len(r.Recoveries) > 0 {
		r.RecoveryP50 = loadgen.Quantile(r.Recoveries, 0.5)
		r.RecoveryP99 = loadgen.Quantile(r.Recoveries, 0.99)
		r.RecoveryMax = slices.Max(r.Recoveries)
	}
}

func clock(t time.Time) string { return t.UTC().Format("15:04:05.0") }

func orNever(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return clock(t)
}
