package ruletest

import (
	"fmt"
	"sort"
	"strings"

	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/engine"
	"statusd.io/statusd/pkg/series"
	"statusd.io/statusd/pkg/yamlpos"
)

// A rule test must not pass by being vacuous. An expectation that names a
// reason the catalogue lacks (notFiring: Quadratik) or a subject no step
// holds (notFiring on a pod that does not exist) is true of every
// catalogue, so it fails the case, at its position, instead of passing and
// counting towards coverage. A reason that is Unknown where the case does
// not say so fails too, when the expression itself failed (a field read
// that is absent, a type mismatch, the cost limit): an Unknown reason
// neither fires nor clears, so a case that passes with it proves nothing
// about the reason. An Unknown that reports a data outage (no series, a
// window not yet covered, a failed or stale scrape, a source that cannot be read) is how a metrics
// reason behaves on objects nothing scrapes; it is the cluster's state,
// not a mistake in the catalogue, and a case need not list it.

// expectations lists every expectation of a step with its kind.
func (s *Step) expectations() []struct {
	k kind
	e *Expectation
} {
	var out []struct {
		k kind
		e *Expectation
	}
	for _, l := range []struct {
		k  kind
		es []Expectation
	}{
		{kFiring, s.Expect.Firing},
		{kPending, s.Expect.Pending},
		{kSuppressed, s.Expect.Suppressed},
		{kUnknown, s.Expect.Unknown},
		{kResolved, s.Expect.Resolved},
		{kNotFiring, s.Expect.NotFiring},
	} {
		for i := range l.es {
			out = append(out, struct {
				k kind
				e *Expectation
			}{l.k, &l.es[i]})
		}
	}
	return out
}

// unknownReasons reports expectations naming a reason (or a by) the
// catalogue does not declare.
func unknownReasons(c *Case, cat *cel.Catalog) []string {
	var names []string
	for _, r := range cat.Reasons {
		names = append(names, r.Name)
	}
	sort.Strings(names)
	var out []string
	for si := range c.Steps {
		for _, x := range c.Steps[si].expectations() {
			if cat.Reason(x.e.Reason) == nil {
				out = append(out, fmt.Sprintf("%s: step %d: %s %s: the catalogue has no reason %q%s",
					x.e.Pos, si+1, x.k, x.e.Reason, x.e.Reason, yamlpos.Suggest(x.e.Reason, names)))
			}
			if x.e.By != "" && cat.Reason(x.e.By) == nil {
				out = append(out, fmt.Sprintf("%s: step %d: %s %s by %s: the catalogue has no reason %q%s",
					x.e.Pos, si+1, x.k, x.e.Reason, x.e.By, x.e.By, yamlpos.Suggest(x.e.By, names)))
			}
		}
	}
	return out
}

// subjectSet collects the subjects a case can name: every object of every
// step (as Kind/namespace/name, Kind/name and UID), and every subject a
// finding was about (absence subjects have no object).
type subjectSet map[string]bool

func (s subjectSet) addObjects(objs []map[string]any) {
	for _, o := range objs {
		kind, _ := o["kind"].(string)
		md, _ := o["metadata"].(map[string]any)
		name, _ := md["name"].(string)
		ns, _ := md["namespace"].(string)
		uid, _ := md["uid"].(string)
		s[engine.Subject{Kind: kind, Namespace: ns, Name: name}.String()] = true
		if uid != "" {
			s[uid] = true
		}
	}
}

func (s subjectSet) addResult(res *engine.Result) {
	for _, fs := range [][]*engine.Finding{res.Findings, res.Resolved} {
		for _, f := range fs {
			s[f.Subject.String()] = true
			if f.Subject.UID != "" {
				s[f.Subject.UID] = true
			}
		}
	}
}

// missingSubjects reports expectations whose subject is in no step's
// objects and no finding of the case.
func missingSubjects(c *Case, seen subjectSet) []string {
	var out []string
	for si := range c.Steps {
		for _, x := range c.Steps[si].expectations() {
			if x.e.Subject != "" && !seen[x.e.Subject] {
				out = append(out, fmt.Sprintf("%s: step %d: %s %s on %s: no step of this case has that subject (write it Kind/namespace/name, Kind/name for a cluster-scoped object, or its UID)",
					x.e.Pos, si+1, x.k, x.e.Reason, x.e.Subject))
			}
		}
	}
	return out
}

// unexpectedUnknown reports findings that are Unknown at a step when no
// unknown expectation of the case names their reason (and subject).
func unexpectedUnknown(c *Case, si int, res *engine.Result) string {
	var msg string
	for _, f := range res.Findings {
		if f.State != engine.Unknown || dataOutage(f.Err) || expectsUnknown(c, f) {
			continue
		}
		msg += fmt.Sprintf("  - %s is Unknown on %s: %s\n    (an Unknown reason neither fires nor clears; fix the expression or the objects, or expect it: unknown: [{reason: %s}])\n",
			f.Reason, f.Subject, f.Err, f.Reason)
	}
	if msg == "" {
		return ""
	}
	return fmt.Sprintf("step %d (at %s):\n%s", si+1, c.Steps[si].At.D, msg[:len(msg)-1])
}

// dataOutage reports whether an Unknown's error is about missing data
// rather than the expression. Findings carry their error as text, so the
// sentinels' messages are matched.
func dataOutage(err string) bool {
	for _, e := range []error{series.ErrNoData, series.ErrNotCovered, series.ErrStale, series.ErrScrapeFailed, series.ErrTooLarge, series.ErrInvalidPage, series.ErrOutOfOrder, cel.ErrBudget} {
		if strings.Contains(err, e.Error()) {
			return true
		}
	}
	return strings.Contains(err, "cannot be read: ")
}

func expectsUnknown(c *Case, f *engine.Finding) bool {
	for si := range c.Steps {
		for _, e := range c.Steps[si].Expect.Unknown {
			if e.Reason == f.Reason && subjectMatches(e.Subject, f.Subject) {
				return true
			}
		}
	}
	return false
}

// fork returns an empty coverage of the same catalogue: a case records
// into its own, merged only when the case passes, so that a failing case
// (a vacuous expectation among them) covers nothing.
func (c *Coverage) fork() *Coverage { return newCoverage(c.cat) }

// merge adds what another coverage of the same catalogue recorded.
func (c *Coverage) merge(o *Coverage) {
	for _, p := range [][2]map[string]bool{{c.fired, o.fired}, {c.quiet, o.quiet}, {c.pending, o.pending}, {c.edges, o.edges}} {
		for k := range p[1] {
			p[0][k] = true
		}
	}
}
