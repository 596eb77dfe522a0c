package engine

import (
	"statusd.io/statusd/pkg/cel"
)

// DefaultUnknownTicks is how many consecutive ticks a reason must be
// Unknown on every subject it evaluates before it is reported.
const DefaultUnknownTicks = 10

// UnknownReason is a reason that has been Unknown on every subject it
// evaluated for at least Options.UnknownTicks consecutive ticks: almost
// always a mistake in the catalogue (a field that does not exist, a
// comparison of mismatched types), which neither fires nor clears and so
// would otherwise go unnoticed.
type UnknownReason struct {
	Reason string `json:"reason"`
	// Ticks is the length of the streak so far.
	Ticks int `json:"ticks"`
	// Subjects is how many subjects it evaluated in the last tick.
	Subjects int `json:"subjects"`
	// Err is the last tick's error on one of them.
	Err string `json:"error"`
	// New is true on the tick the streak reached the threshold: the one
	// tick that should announce it.
	New bool `json:"new,omitempty"`
}

// unknownStreak counts one reason's consecutive all-Unknown ticks; it is
// keyed by the reason's hash, so a redefined reason starts over.
type unknownStreak struct {
	hash  string
	ticks int
}

// tally counts one tick's outcomes of one reason; outage counts the
// Unknowns the cluster's data explains (cel.Outage), err is the first
// error of the others.
type tally struct {
	evaluated, unknown, outage int
	err                        string
}

// count records one evaluation's outcome of the reason being evaluated
// (t.cur, set by tick.reason): a field increment in the hot path, no map.
func (t *tick) count(res cel.Result) {
	c := t.cur
	c.evaluated++
	if res.Outcome != cel.Unknown {
		return
	}
	c.unknown++
	switch {
	case cel.Outage(res.Err):
		c.outage++
	case res.Err != nil && c.err == "":
		c.err = res.Err.Error()
	}
}

// closeUnknown extends or ends every reason's streak after a tick and
// reports those at or past the threshold. A reason that evaluated no
// subject keeps its streak as it is: nothing was learnt; so does one whose
// every Unknown was an outage of the data it reads (a source forbidden,
// Prometheus down), which says nothing about the catalogue. A streak ends at
// the first tick where one subject evaluates; the reason then drops out of
// UnknownReasons (so out of /status and the metric) without an
// announcement of its own, since the Warning it caused was about the
// catalogue and ages out, and a later streak is announced afresh (New).
// Streaks outlive a reload that leaves the reason's hash unchanged.
func (t *tick) closeUnknown() {
	e := t.e
	threshold := e.unknownTicks
	if e.streaks == nil {
		e.streaks = map[string]*unknownStreak{}
	}
	live := make(map[string]bool, len(e.cat.Reasons))
	for _, r := range e.cat.Reasons {
		live[r.Name] = true
		s := e.streaks[r.Name]
		if s == nil || s.hash != r.Hash {
			s = &unknownStreak{hash: r.Hash}
			e.streaks[r.Name] = s
		}
		c := t.tallies[r.Name]
		switch {
		case c == nil || c.evaluated == 0:
			continue
		case c.unknown < c.evaluated:
			s.ticks = 0
			continue
		case c.outage == c.unknown:
			continue
		}
		s.ticks++
		if s.ticks >= threshold {
			t.res.UnknownReasons = append(t.res.UnknownReasons, UnknownReason{
				Reason: r.Name, Ticks: s.ticks, Subjects: c.evaluated, Err: c.err, New: s.ticks == threshold,
			})
		}
	}
	for name := range e.streaks {
		if !live[name] {
			delete(e.streaks, name)
		}
	}
}
