package ruletest

import (
	"fmt"
	"strings"
	"time"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/engine"
)

// kind names an expectation list, as written in the file.
type kind string

const (
	kFiring     kind = "firing"
	kPending    kind = "pending"
	kSuppressed kind = "suppressed"
	kUnknown    kind = "unknown"
	kResolved   kind = "resolved"
	kNotFiring  kind = "notFiring"
)

// check compares a tick's result with a step's expectations and returns a
// readable account of the differences ("" when everything matched):
// "- " lines are expected but missing, "+ " lines present but unexpected
// (in exact mode), followed by every finding actually present.
func check(s *Step, res *engine.Result, exact bool, cov *Coverage) string {
	var b strings.Builder
	matched := map[*engine.Finding]bool{}
	lists := []struct {
		k  kind
		es []Expectation
	}{
		{kFiring, s.Expect.Firing},
		{kPending, s.Expect.Pending},
		{kSuppressed, s.Expect.Suppressed},
		{kUnknown, s.Expect.Unknown},
		{kResolved, s.Expect.Resolved},
	}
	for _, l := range lists {
		for i := range l.es {
			e := &l.es[i]
			f, why := find(l.k, e, res)
			if f == nil {
				fmt.Fprintf(&b, "  - %s %s%s\n", l.k, describe(e), why)
				continue
			}
			matched[f] = true
			cov.record(l.k, e, f)
		}
	}
	for i := range s.Expect.NotFiring {
		e := &s.Expect.NotFiring[i]
		if f := firingOrSuppressed(e, res); f != nil {
			fmt.Fprintf(&b, "  - notFiring %s: but it is %s on %s\n", describe(e), strings.ToLower(string(f.State)), f.Subject)
			continue
		}
		cov.record(kNotFiring, e, nil)
	}
	if exact {
		for _, f := range append(append([]*engine.Finding{}, res.Findings...), res.Resolved...) {
			if !matched[f] {
				fmt.Fprintf(&b, "  + %s %s on %s (not expected; the case is exact)\n", stateKind(f), f.Reason, f.Subject)
			}
		}
	}
	if b.Len() == 0 {
		return ""
	}
	b.WriteString("    findings at this step:\n")
	if len(res.Findings)+len(res.Resolved) == 0 {
		b.WriteString("      (none)\n")
	}
	for _, f := range res.Findings {
		b.WriteString("      " + line(f, res.Time) + "\n")
	}
	for _, f := range res.Resolved {
		b.WriteString("      " + line(f, res.Time) + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

func stateKind(f *engine.Finding) kind {
	switch f.State {
	case engine.Pending:
		return kPending
	case engine.Suppressed:
		return kSuppressed
	case engine.Unknown:
		return kUnknown
	case engine.Resolved:
		return kResolved
	}
	return kFiring
}

// line renders a finding for the diff.
func line(f *engine.Finding, now time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-10s %s on %s", f.State, f.Reason, f.Subject)
	switch {
	case f.Root:
		b.WriteString(" (root cause)")
	case f.Held:
		b.WriteString(" (held: " + f.Err + ")")
	}
	if f.State == engine.Pending && !f.FiresAt.IsZero() {
		fmt.Fprintf(&b, " (grace ends in %s)", f.FiresAt.Sub(now))
	}
	if f.SuppressedBy != nil {
		fmt.Fprintf(&b, " suppressed by %s on %s", f.SuppressedBy.Reason, f.SuppressedBy.Subject)
	}
	if f.HeldBy != nil {
		fmt.Fprintf(&b, " held by pending %s on %s", f.HeldBy.Reason, f.HeldBy.Subject)
	}
	if f.State == engine.Unknown && f.Err != "" {
		fmt.Fprintf(&b, " error: %s", f.Err)
	}
	if f.State == engine.Resolved {
		fmt.Fprintf(&b, " after %s", f.Duration)
	}
	if f.Message != "" {
		fmt.Fprintf(&b, " message: %q", f.Message)
	}
	return b.String()
}

func describe(e *Expectation) string {
	s := e.Reason
	if e.Subject != "" {
		s += " on " + e.Subject
	}
	if e.By != "" {
		s += " by " + e.By
	}
	return s
}

func subjectMatches(want string, s engine.Subject) bool {
	return want == "" || want == s.String() || want == s.UID
}

// find looks for the finding an expectation names and checks its details.
// When the reason is present but a detail differs, why says which.
func find(k kind, e *Expectation, res *engine.Result) (*engine.Finding, string) {
	pool := res.Findings
	if k == kResolved {
		pool = res.Resolved
	}
	why := ""
	for _, f := range pool {
		if f.Reason != e.Reason || !subjectMatches(e.Subject, f.Subject) {
			continue
		}
		// A held finding (firing, kept by an Unknown evaluation) also
		// answers an unknown expectation.
		if got := stateKind(f); got != k && (k != kUnknown || !f.Held) {
			why = fmt.Sprintf(": it is %s", got)
			if f.State == engine.Pending && !f.FiresAt.IsZero() {
				why += fmt.Sprintf(" (grace ends at %s)", f.FiresAt.UTC().Format(time.RFC3339))
			}
			continue
		}
		if d := details(k, e, f); d != "" {
			why = ": " + d
			continue
		}
		return f, ""
	}
	if why == "" {
		why = ": no such finding"
	}
	return nil, why
}

func details(k kind, e *Expectation, f *engine.Finding) string {
	switch {
	case e.By != "" && k == kSuppressed && (f.SuppressedBy == nil || f.SuppressedBy.Reason != e.By):
		return fmt.Sprintf("suppressed by %v, not %s", causeName(f.SuppressedBy), e.By)
	case e.By != "" && k == kPending && (f.HeldBy == nil || f.HeldBy.Reason != e.By):
		return fmt.Sprintf("held by %v, not %s", causeName(f.HeldBy), e.By)
	case e.Root != nil && f.Root != *e.Root:
		return fmt.Sprintf("root is %t", f.Root)
	case e.Message != "" && !strings.Contains(f.Message, e.Message):
		return fmt.Sprintf("message %q does not contain %q", f.Message, e.Message)
	case e.MessageExact != "" && f.Message != e.MessageExact:
		return fmt.Sprintf("message %q is not %q", f.Message, e.MessageExact)
	case e.Error != "" && !strings.Contains(f.Err, e.Error):
		return fmt.Sprintf("error %q does not contain %q", f.Err, e.Error)
	}
	return ""
}

func causeName(c *engine.CauseRef) string {
	if c == nil {
		return "nothing"
	}
	return c.Reason
}

func firingOrSuppressed(e *Expectation, res *engine.Result) *engine.Finding {
	for _, f := range res.Findings {
		if f.Reason == e.Reason && subjectMatches(e.Subject, f.Subject) && (f.State == engine.Firing || f.State == engine.Suppressed) {
			return f
		}
	}
	return nil
}

func readCatalogFile(name string) (*catalog.File, error) {
	f, err := readCapped(name)
	if err != nil {
		return nil, fmt.Errorf("read objects: %w", err)
	}
	return f, nil
}
