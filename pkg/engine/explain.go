package engine

import (
	"context"
	"fmt"
	"time"

	"statusd.io/statusd/pkg/catalog"

	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/snapshot"
)

// Explanation is everything statusd knows about one subject: for each
// reason that applies to it, the condition's value with its
// sub-expressions, the timers, the suppression chain and the cost.
type Explanation struct {
	Subject Subject `json:"subject"`
	Catalog string  `json:"catalog"`
	Version string  `json:"version"`
	// Scrape is the subject's scrape health and window coverage, when the
	// subject is a pod some metrics source scrapes.
	Scrape  *ScrapeCoverage      `json:"scrape,omitempty"`
	Reasons []*ReasonExplanation `json:"reasons"`
}

// ScrapeCoverage says how much metrics history statusd holds for a scraped
// pod: a windowed metric function answers only for windows no longer than
// Covered (see series.History.Coverage); longer ones are Unknown.
type ScrapeCoverage struct {
	// Source is the metrics source that selected the pod.
	Source string `json:"source"`
	// LastScrape and LastSuccess are the latest scrape and the latest
	// successful one; zero before the first.
	LastScrape  time.Time `json:"lastScrape,omitzero"`
	LastSuccess time.Time `json:"lastSuccess,omitzero"`
	// LastError is the latest scrape's error, if it failed.
	LastError string `json:"lastError,omitempty"`
	// Covered is how far back unbroken scrapes reach from the snapshot's
	// time.
	Covered time.Duration `json:"covered"`
}

// maxCoverage bounds the coverage explain reports: longer than any
// retention a History keeps.
const maxCoverage = 24 * time.Hour

// scrapeCoverage describes o's metrics history in snap, or nil.
func scrapeCoverage(snap *snapshot.Snapshot, o *snapshot.Object) *ScrapeCoverage {
	if o.Kind != "Pod" {
		return nil
	}
	pm := snap.Metrics(o.Namespace, o.Name)
	if pm == nil || pm.History == nil {
		return nil
	}
	st := pm.History.Status()
	sc := &ScrapeCoverage{
		Source: pm.Source, LastScrape: st.LastScrape, LastSuccess: st.LastSuccess,
		Covered: pm.History.Coverage(snap.Time, maxCoverage),
	}
	if st.LastError != nil {
		sc.LastError = st.LastError.Error()
	}
	return sc
}

// ReasonExplanation explains one reason on the subject.
type ReasonExplanation struct {
	Reason   string `json:"reason"`
	Layer    string `json:"layer,omitempty"`
	Priority int    `json:"priority"`
	// Origin is where the reason is declared (file:line), so that a
	// reason from an operator's overlay reads apart from a shipped one.
	Origin string `json:"origin,omitempty"`
	// When is the condition as written.
	When string `json:"when"`
	// Outcome is true, false or unknown.
	Outcome string `json:"outcome"`
	Err     string `json:"error,omitempty"`
	// Steps are the values of the condition's sub-expressions.
	Steps []cel.Step `json:"steps,omitempty"`
	// Finding is the tick's finding (state and timers); nil when the
	// condition is simply false.
	Finding *Finding `json:"finding,omitempty"`
	// Chain follows suppressedBy (or heldBy) up to the root cause.
	Chain []CauseRef `json:"chain,omitempty"`
	// Cost is the traced evaluation's cost.
	Cost uint64 `json:"cost"`
}

// Explain explains subject s (Kind/namespace/name, Kind/name or a UID) in
// snap, using res, the engine's result for that snapshot, for states and
// timers. It evaluates with state tracking, which is slower than a tick, so
// it is done on request only. A Pending finding's deferred message is
// rendered into a copy of the finding, as the tick would have rendered it.
func (e *Engine) Explain(ctx context.Context, snap *snapshot.Snapshot, res *Result, s string) (*Explanation, error) {
	cat := e.Catalog()
	ev := cat.NewEvaluator(ctx, snap)
	// render renders deferred messages of res, with res's own catalogue
	// and snapshot (see Options.DeferPendingMessages).
	var render *cel.Evaluator
	var out *Explanation
	for _, r := range cat.Reasons {
		set := snap.Set(r.Subject)
		if set == nil {
			continue
		}
		o := findByRef(set, s)
		if o == nil {
			// The stand-in of a missing expected object is explained
			// too, by its reference.
			for _, m := range standIns(cat.Source.Sources[r.Subject], set) {
				if m.Key() == s || SubjectOf(m).String() == s {
					o = m
				}
			}
		}
		if o == nil {
			continue
		}
		if out == nil {
			out = &Explanation{
				Subject: SubjectOf(o), Catalog: cat.Source.Metadata.Name, Version: cat.Source.Metadata.Version,
				Scrape: scrapeCoverage(snap, o),
			}
		}
		result, steps := ev.Trace(r, o)
		re := &ReasonExplanation{
			Reason: r.Name, Layer: r.Layer, Priority: r.Priority, Origin: catalog.Pos{File: r.Pos.File, Line: r.Pos.Line}.String(),
			When: r.When.Expr.Text, Outcome: result.Outcome.String(), Steps: steps, Cost: result.Cost,
		}
		if result.Err != nil {
			re.Err = result.Err.Error()
		}
		if res != nil {
			re.Finding = res.Find(r.Name, out.Subject.String())
			re.Chain = chain(res, re.Finding)
			if res.deferred.pending(re.Finding) {
				// Rendered on a copy: res may be read concurrently.
				if render == nil {
					render = res.deferred.evaluator(ctx)
				}
				f := *re.Finding
				f.Message = pendingMessage(res.deferred.cat, res.deferred.snap, render, re.Finding)
				re.Finding = &f
			}
		}
		out.Reasons = append(out.Reasons, re)
	}
	if out == nil {
		return nil, fmt.Errorf("subject %q is not an object of any source the catalogue evaluates", s)
	}
	return out, nil
}

// chain follows suppressedBy and heldBy links from f to the root cause,
// stopping on a repeat (which a checked DAG cannot produce, but a result
// from another catalogue version could).
func chain(res *Result, f *Finding) []CauseRef {
	var out []CauseRef
	seen := map[string]bool{}
	for f != nil {
		next := f.SuppressedBy
		if next == nil {
			next = f.HeldBy
		}
		if next == nil {
			break
		}
		id := next.Reason + "|" + next.Subject.String()
		if seen[id] {
			break
		}
		seen[id] = true
		out = append(out, *next)
		f = res.Find(next.Reason, next.Subject.String())
	}
	return out
}

// findByRef finds Kind/namespace/name, Kind/name, namespace/name or a UID.
func findByRef(set *snapshot.Set, s string) *snapshot.Object {
	if o := set.ByUID(s); o != nil {
		return o
	}
	subj := parseSubject(s)
	for _, o := range set.Objects() {
		if o.Name != subj.Name {
			continue
		}
		if (subj.Kind == "" || subj.Kind == o.Kind || subj.Namespace == "" && subj.Kind == o.Namespace) &&
			(subj.Namespace == "" || subj.Namespace == o.Namespace) {
			return o
		}
	}
	return nil
}
