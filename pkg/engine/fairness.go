package engine

import (
	"errors"
	"slices"

	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/snapshot"
)

// A tick is bounded by cel.Options.TickBudget. It evaluates every reason's
// condition on every subject first (conditions), and decides afterwards,
// in evaluation order (tick.reason), so that the order conditions are
// evaluated in is free. When the budget runs out, the subjects not reached
// are starved: Unknown for that tick, with cel.ErrBudget ("starved: tick
// budget exhausted"), which holds a firing finding and neither starts nor
// clears one, and Result.Starved lists them by reason. The next tick
// starts with the first reason that was starved and wraps around, so that
// over successive ticks every reason is evaluated: the budget starves
// different reasons in turn, never the same ones for ever.

// StarvedReason is a reason whose condition a tick's budget did not reach
// on every subject.
type StarvedReason struct {
	Reason string `json:"reason"`
	// Subjects is how many of its subjects were not evaluated.
	Subjects int `json:"subjects"`
}

// conditions are one reason's condition outcomes in one tick, by the
// subject's index in its source's objects followed by its stand-ins.
type conditions struct {
	// reached counts the subjects evaluated; the rest were starved.
	reached, starved int
	// results holds, in index order, the outcomes that need a decision:
	// every one but false, and false too where the subject has state.
	results []indexed
}

type indexed struct {
	index int
	cel.Result
}

// rotate returns reasons starting at the one named start (or at the first
// when it is not there) and wrapping around.
func rotate(reasons []*cel.Reason, start string) []*cel.Reason {
	i := slices.IndexFunc(reasons, func(r *cel.Reason) bool { return r.Name == start })
	if i <= 0 {
		return reasons
	}
	return append(slices.Clone(reasons[i:]), reasons[:i]...)
}

// conditions evaluates reason r's condition on each of its subjects until
// the tick's budget runs out.
func (t *tick) conditions(r *cel.Reason) *conditions {
	c := &conditions{}
	t.cur = &tally{}
	if t.tallies == nil {
		t.tallies = make(map[string]*tally, len(t.e.cat.Reasons))
	}
	t.tallies[r.Name] = t.cur
	set := t.snap.Set(r.Subject)
	if set == nil {
		return c
	}
	// False needs deciding only where the subject has state (a firing or
	// pending finding to clear or restart); most subjects are false with
	// none, and keeping their outcomes would cost a result per subject
	// for every reason with a finding anywhere. Only the reason's own
	// decisions (tick.reason) change its state, and they come after this,
	// so what is kept here is exactly what they need.
	recs := t.e.state[r.Name]
	objs := set.Objects()
	missing := t.missing(r.Subject, set)
	total := len(objs) + len(missing)
	for i := range total {
		var o *snapshot.Object
		if i < len(objs) {
			o = objs[i]
		} else {
			o = missing[i-len(objs)]
		}
		res := t.ev.When(r, o)
		if res.Outcome == cel.Unknown && errors.Is(res.Err, cel.ErrBudget) {
			c.starved = total - i
			break
		}
		c.reached++
		t.res.Evaluations++
		t.count(res)
		if res.Outcome != cel.False || len(recs) > 0 && recs[SubjectOf(o).ID()] != nil {
			c.results = append(c.results, indexed{index: i, Result: res})
		}
	}
	return c
}
