package ruletest

import (
	"fmt"
	"regexp"
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
// not say so fails the case too: an Unknown reason neither fires nor
// clears, so a case that passes with it proves nothing about the reason.
// The one exemption is an outage the case's own input explains (see
// exemptUnknown): a source the case marks unreadable, an object the case
// scraped nothing for, a window the case's scrapes do not yet cover, a
// scrape the case made fail. That is how a metrics reason behaves on
// objects nothing scrapes, the cluster's state rather than a mistake, and
// a case about something else need not list it. An error of the expression
// (a field read that is absent, a type mismatch, a misspelt metric on a
// target the case did scrape) is never exempt.

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
		if f.State != engine.Unknown || exemptUnknown(f.Err) || expectsUnknown(c, f) {
			continue
		}
		msg += fmt.Sprintf("  - %s is Unknown on %s: %s\n    (an Unknown reason neither fires nor clears; fix the expression or the objects, or expect it: unknown: [{reason: %s}])\n",
			f.Reason, f.Subject, f.Err, f.Reason)
	}
	if msg == "" {
		return ""
	}
	where := ""
	if p := c.Steps[si].Pos; p.Line > 0 {
		where = p.String() + ": "
	}
	return fmt.Sprintf("%sstep %d (at %s):\n%s", where, si+1, c.Steps[si].At.D, msg[:len(msg)-1])
}

// exemptUnknown reports whether an Unknown's error is an outage the case's
// own input explains, which the case need not list:
//   - a source the case marks unreadable (sources: {name: {status:
//     failed}}): "source ... cannot be read";
//   - metrics of an object the case scraped nothing for: "... is not
//     scraped by any metrics source", "not scraped yet", "no pods to read
//     metrics from";
//   - the case's scrapes not (or no longer) answering: a window not yet
//     covered, stale data, a failed, oversized, invalid or out-of-order
//     scrape.
//
// Never exempt: an error of the expression itself (no such key, no such
// overload, an index out of range, ...), even when it quotes a string
// that reads like an outage (object.data["no data"]); a target the case
// scraped that lacks the series the reason asks for ("no series
// matches"), which may be a misspelt metric or label; and the tick's cost
// budget. Findings carry their error as text, so the messages statusd's
// sources and metrics code write are matched, as whole segments.
func exemptUnknown(err string) bool {
	if exprFailure.MatchString(err) {
		return false
	}
	return inputOutage.MatchString(err)
}

var (
	// exprFailure matches the errors CEL's evaluation itself reports.
	exprFailure = regexp.MustCompile(`(^|: )(no such (key|overload|attribute|field|property)|no matching overload|unsupported|index out of range|division by zero|modulus by zero|divide by zero|type conversion error|integer overflow|int overflow|invalid argument)`)
	// inputOutage matches the outages a case's input explains, each the
	// whole of a segment that starts the error or follows ": ".
	inputOutage = regexp.MustCompile(`(^|: )(` + strings.Join([]string{
		`source "?[^" ]+"? cannot be read: `,
		regexp.QuoteMeta(series.ErrNoData.Error()) + `: \S+ \S+ is not scraped by any metrics source$`,
		regexp.QuoteMeta(series.ErrNoData.Error()) + `: not scraped yet$`,
		regexp.QuoteMeta(series.ErrNoData.Error()) + `: no pods to read metrics from$`,
		regexp.QuoteMeta(series.ErrNotCovered.Error()) + `: `,
		regexp.QuoteMeta(series.ErrStale.Error()),
		regexp.QuoteMeta(series.ErrScrapeFailed.Error()),
		regexp.QuoteMeta(series.ErrTooLarge.Error()),
		regexp.QuoteMeta(series.ErrInvalidPage.Error()),
		regexp.QuoteMeta(series.ErrOutOfOrder.Error()),
	}, "|") + `)`)
)

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
