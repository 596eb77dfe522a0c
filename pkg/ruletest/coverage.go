package ruletest

import (
	"fmt"
	"strings"

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

// Gaps lists what no case exercised, one line each, in evaluation order.
func (c *Coverage) Gaps() []string {
	var out []string
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
			out = append(out, fmt.Sprintf("reason %s: %s", r.Name, strings.Join(missing, "; ")))
		}
	}
	for _, e := range c.cat.Graph.Edges() {
		if !c.edges[e.Cause+"→"+e.Symptom] {
			out = append(out, fmt.Sprintf("edge %s → %s (%s): no case where the cause suppresses the symptom", e.Cause, e.Symptom, e.Join))
		}
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
