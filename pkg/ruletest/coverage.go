package ruletest

import (
	"context"
	"fmt"
	"io"
	"strings"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/engine"
)

// Coverage records which reasons and suppression edges the passing
// expectations exercised. A reason is covered when some case saw it fire
// and some case asserted it quiet; a reason with a grace window also needs
// a case inside the window; an edge is covered when some case saw the
// cause hide the symptom.
type Coverage struct {
	// Catalog names the catalogue, for the report.
	Catalog string
	cat     *cel.Catalog
	fired   map[string]bool
	quiet   map[string]bool
	pending map[string]bool
	edges   map[string]bool // cause→symptom
}

func newCoverage(c *cel.Catalog) *Coverage {
	return &Coverage{
		Catalog: c.Source.Metadata.Name + " " + c.Source.Metadata.Version,
		cat:     c,
		fired:   map[string]bool{}, quiet: map[string]bool{}, pending: map[string]bool{}, edges: map[string]bool{},
	}
}

func (c *Coverage) record(k kind, e *Expectation, f *engine.Finding) {
	switch k {
	case kFiring:
		c.fired[e.Reason] = true
	case kNotFiring:
		c.quiet[e.Reason] = true
	case kPending:
		c.pending[e.Reason] = true
	case kSuppressed:
		// A suppressed finding was also found firing-eligible.
		c.fired[e.Reason] = true
		if f.SuppressedBy != nil {
			c.edges[f.SuppressedBy.Reason+"→"+f.Reason] = true
		}
	}
}

// gap is one thing no case exercised, with where it is declared.
type gap struct {
	pos    catalog.Pos
	reason string
	msg    string
}

func (c *Coverage) gaps() []gap {
	var out []gap
	for _, r := range c.cat.Reasons {
		var missing []string
		if !c.fired[r.Name] {
			missing = append(missing, "no case where it fires")
		}
		if !c.quiet[r.Name] {
			missing = append(missing, "no case where it does not fire (notFiring)")
		}
		if r.Grace.For.D > 0 && !c.pending[r.Name] {
			missing = append(missing, fmt.Sprintf("no case inside its %s grace window (pending)", r.Grace.For.D))
		}
		if len(missing) > 0 {
			out = append(out, gap{pos: r.Pos, reason: r.Name, msg: strings.Join(missing, "; ")})
		}
	}
	for _, e := range c.cat.Graph.Edges() {
		if !c.edges[e.Cause+"→"+e.Symptom] {
			pos := c.cat.Reason(e.Cause).Edges[e.Index].Pos
			out = append(out, gap{pos: pos, reason: e.Cause, msg: fmt.Sprintf("edge %s → %s (%s): no case where the cause suppresses the symptom", e.Cause, e.Symptom, e.Join)})
		}
	}
	return out
}

// Gaps lists what no case exercised, one line each, in evaluation order.
func (c *Coverage) Gaps() []string {
	var out []string
	for _, g := range c.gaps() {
		if strings.HasPrefix(g.msg, "edge ") {
			out = append(out, g.msg)
			continue
		}
		out = append(out, "reason "+g.reason+": "+g.msg)
	}
	return out
}

// Warnings returns the gaps as catalogue warnings at the declarations they
// concern, for statusd lint rules --tests.
func (c *Coverage) Warnings() catalog.ErrorList {
	var out catalog.ErrorList
	for _, g := range c.gaps() {
		out.Warnf(g.pos, g.reason, "rule tests: %s", g.msg)
	}
	return out
}

// CoverageWarnings runs the rule tests in files against the compiled
// catalogue c (whatever catalogues the files name) and returns a warning at
// every reason and suppression edge no passing case exercises. A file that
// cannot run is a warning too: its cases cover nothing.
func CoverageWarnings(ctx context.Context, c *cel.Catalog, files []string) catalog.ErrorList {
	r := NewRunner(Options{Catalog: c})
	rep := r.RunAll(ctx, files, io.Discard)
	var out catalog.ErrorList
	for _, cr := range rep.Cases {
		if !cr.Passed() && cr.Name == "(file)" {
			out.Warnf(catalog.Pos{File: cr.File}, "", "rule tests: %s", firstLine(cr.Failures[0]))
		}
	}
	for _, cov := range r.Coverages() {
		out = append(out, cov.Warnings()...)
	}
	return out
}

// Uncovered returns the reasons with no firing case, for lint's coverage
// warning.
func (c *Coverage) Uncovered() []string {
	var out []string
	for _, r := range c.cat.Reasons {
		if !c.fired[r.Name] {
			out = append(out, r.Name)
		}
	}
	return out
}
