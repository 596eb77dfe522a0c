// Package report renders engine results for people: the root-cause table
// of statusd eval and the explain view. Scripts use the JSON or YAML of the
// engine's own types instead.
package report

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"statusd.io/statusd/pkg/engine"
)

// Table prints one row per subject that has a firing, pending, suppressed
// or unknown finding: its root cause, severity and message, then its
// secondary, suppressed, pending and unknown reasons.
func Table(w io.Writer, res *engine.Result) error {
	type row struct {
		root                                 *engine.Finding
		secondary, suppressed, pending, unkn []string
	}
	rows := map[string]*row{}
	var order []string
	get := func(s string) *row {
		r, ok := rows[s]
		if !ok {
			r = &row{}
			rows[s] = r
			order = append(order, s)
		}
		return r
	}
	for _, f := range res.Findings {
		r := get(f.Subject.String())
		switch {
		case f.State == engine.Firing && f.Root:
			r.root = f
		case f.State == engine.Firing:
			r.secondary = append(r.secondary, f.Reason)
		case f.State == engine.Suppressed:
			r.suppressed = append(r.suppressed, f.Reason+"←"+f.SuppressedBy.Reason)
		case f.State == engine.Pending:
			p := f.Reason
			if f.HeldBy != nil {
				p += " (held by " + f.HeldBy.Reason + ")"
			} else if !f.FiresAt.IsZero() {
				p += " (fires in " + roundDuration(f.FiresAt.Sub(res.Time)) + ")"
			}
			r.pending = append(r.pending, p)
		case f.State == engine.Unknown:
			r.unkn = append(r.unkn, f.Reason)
		}
	}
	fmt.Fprintf(w, "catalogue %s %s at %s\n", res.Catalog, res.Version, res.Time.UTC().Format(time.RFC3339))
	if len(order) == 0 {
		// What resolved this tick is news even when nothing else is wrong.
		_, err := fmt.Fprintln(w, "no findings: every subject is healthy")
		resolved(w, res)
		return err
	}
	// Subjects with a root cause first, in subject order.
	slices.SortStableFunc(order, func(a, b string) int {
		ra, rb := rows[a].root != nil, rows[b].root != nil
		switch {
		case ra && !rb:
			return -1
		case !ra && rb:
			return 1
		}
		return strings.Compare(a, b)
	})
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SUBJECT\tROOT CAUSE\tSEVERITY\tMESSAGE\tSECONDARY\tSUPPRESSED\tPENDING\tUNKNOWN")
	for _, s := range order {
		r := rows[s]
		root, sev, msg := "-", "-", "-"
		if r.root != nil {
			root, sev, msg = r.root.Reason, r.root.Severity, oneLine(r.root.Message)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s, root, sev, msg,
			list(r.secondary), list(r.suppressed), list(r.pending), list(r.unkn))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	resolved(w, res)
	return nil
}

func resolved(w io.Writer, res *engine.Result) {
	for _, f := range res.Resolved {
		fmt.Fprintf(w, "resolved: %s on %s after %s\n", f.Reason, f.Subject, roundDuration(f.Duration))
	}
}

func list(s []string) string {
	if len(s) == 0 {
		return "-"
	}
	return strings.Join(s, ", ")
}

// oneLine keeps the table one row per subject.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func roundDuration(d time.Duration) string {
	switch {
	case d >= time.Minute:
		return d.Round(time.Second).String()
	case d > 0:
		return d.Round(time.Millisecond).String()
	}
	return "0s"
}

// Explain prints the explain view of one subject.
func Explain(w io.Writer, ex *engine.Explanation) error {
	fmt.Fprintf(w, "subject %s (uid %s)\ncatalogue %s %s\n", ex.Subject, orDash(ex.Subject.UID), ex.Catalog, ex.Version)
	if sc := ex.Scrape; sc != nil {
		// Windows up to the coverage answer; longer ones are Unknown.
		fmt.Fprintf(w, "scraped by %s: %s of unbroken history (windows up to that are covered)", sc.Source, sc.Covered)
		if !sc.LastSuccess.IsZero() {
			fmt.Fprintf(w, ", last success %s", sc.LastSuccess.UTC().Format(time.RFC3339))
		}
		if sc.LastError != "" {
			fmt.Fprintf(w, ", last scrape failed: %s", oneLine(sc.LastError))
		}
		fmt.Fprintln(w)
	}
	for _, r := range ex.Reasons {
		fmt.Fprintf(w, "\n%s  [layer %s, priority %d]\n", r.Reason, orDash(r.Layer), r.Priority)
		fmt.Fprintf(w, "  when: %s\n", oneLine(r.When))
		fmt.Fprintf(w, "  => %s", r.Outcome)
		if r.Err != "" {
			fmt.Fprintf(w, " (%s)", r.Err)
		}
		fmt.Fprintf(w, "   cost %d\n", r.Cost)
		for _, s := range r.Steps {
			fmt.Fprintf(w, "  %s%s = %s\n", strings.Repeat("  ", s.Depth+1), s.Expr, s.Value)
		}
		f := r.Finding
		if f == nil {
			fmt.Fprintln(w, "  state: inactive")
			continue
		}
		fmt.Fprintf(w, "  state: %s", f.State)
		if f.Root {
			fmt.Fprint(w, " (root cause)")
		}
		if f.Held {
			fmt.Fprint(w, " (held by an unknown evaluation)")
		}
		fmt.Fprintln(w)
		timer := func(name string, t time.Time) {
			if !t.IsZero() {
				fmt.Fprintf(w, "  %s: %s\n", name, t.UTC().Format(time.RFC3339))
			}
		}
		timer("pending since", f.PendingSince)
		if f.State == engine.Pending {
			timer("fires at", f.FiresAt)
		}
		timer("firing since", f.FiringSince)
		timer("clearing since", f.ClearingSince)
		timer("clears at", f.ClearsAt)
		if f.Message != "" {
			fmt.Fprintf(w, "  message: %s\n", oneLine(f.Message))
		}
		if f.MessageErr != "" {
			fmt.Fprintf(w, "  message error (summary used): %s\n", oneLine(f.MessageErr))
		}
		if len(r.Chain) > 0 {
			parts := []string{r.Reason}
			for _, c := range r.Chain {
				parts = append(parts, c.Reason+" on "+c.Subject.String())
			}
			verb := "suppressed"
			if f.State == engine.Pending {
				verb = "held"
			}
			fmt.Fprintf(w, "  %s: %s\n", verb, strings.Join(parts, " ← "))
		}
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
