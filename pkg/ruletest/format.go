package ruletest

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"go.yaml.in/yaml/v3"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/snapshot"
	"statusd.io/statusd/pkg/yamlpos"
)

// Kind is the kind a rule-test file declares.
const Kind = "RuleTest"

// DefaultStart is the time t=0 of a case that does not set start.
const DefaultStart = "2026-01-01T00:00:00Z"

// File is a rule-test file: the catalogue files it tests and its cases.
type File struct {
	// APIVersion is statusd.io/v1alpha1, as for catalogues.
	APIVersion string `json:"apiVersion"`
	// Kind is RuleTest.
	Kind string `json:"kind"`
	// Catalogs are catalogue files or directories, relative to this file.
	Catalogs []string `json:"catalogs"`
	// Cases run independently, each with fresh engine state. A file needs
	// at least one.
	Cases []Case `json:"cases"`

	// Name is the path the file was read from.
	Name string `json:"-"`
	dir  string
}

// Case is a sequence of snapshots at time offsets, each with expectations.
type Case struct {
	Pos catalog.Pos `json:"-"`
	// Name identifies the case in reports and for --run.
	Name string `json:"name"`
	// Start is t=0, RFC 3339; DefaultStart when empty. Fixtures copied from
	// a cluster carry absolute timestamps, so a case can align with them.
	Start string `json:"start,omitempty"`
	// Exact makes every step's expectations exhaustive: a finding no
	// expectation names fails the case. Subset matching is the default.
	Exact bool `json:"exact,omitempty"`
	// Series are metric series in promtool's notation, scraped from t=0 at
	// their interval.
	Series []SeriesInput `json:"series,omitempty"`
	// Queries are the results of the catalogue's Prometheus query sources,
	// by source, then by series (name{labels} or {labels}), in promtool's
	// notation with one value per step: the n-th value is what the query
	// returned at the n-th step, _ or stale that the series was absent
	// then. A query source not listed here is not configured, as when
	// statusd runs without Prometheus: cluster.sourceStatus says absent
	// and any other read makes the condition false
	// (cel.ErrQueryNotConfigured); list it with no series ({}) for a query
	// that answered with none. A step fails a query with sources: {name:
	// {status: failed, error: ...}}.
	Queries map[string]map[string]string `json:"queries,omitempty"`
	// Steps are the snapshots, in increasing time.
	Steps []Step `json:"steps"`
}

// SeriesInput is one pod's series in promtool notation.
type SeriesInput struct {
	// Pod is namespace/name.
	Pod string `json:"pod"`
	// Interval between scrapes, 15s by default.
	Interval catalog.Duration `json:"interval,omitempty"`
	// Values maps a series (name{labels}) to its values, such as '0+5x40'.
	Values map[string]string `json:"values"`
}

// Step is one snapshot in a case.
type Step struct {
	Pos catalog.Pos `json:"-"`
	// At is the offset from the case's start.
	At catalog.Duration `json:"at"`
	// Cluster facts; inherited from the previous step when absent.
	Cluster *snapshot.Cluster `json:"cluster,omitempty"`
	// Objects are the cluster's objects at this step, as kubectl get -o yaml
	// prints them. When a step gives neither objects nor objectFiles, it
	// keeps the previous step's.
	Objects []map[string]any `json:"objects,omitempty"`
	// ObjectFiles are YAML files of objects, relative to the test file.
	ObjectFiles []string `json:"objectFiles,omitempty"`
	// Sources override source states (forbidden, failed); inherited.
	Sources map[string]snapshot.SourceState `json:"sources,omitempty"`
	// Metrics are scrapes taken at this step.
	Metrics []snapshot.Scrape `json:"metrics,omitempty"`
	// Expect is what must hold after the step's tick.
	Expect Expect `json:"expect,omitempty"`

	// objectNodes are the YAML nodes Objects were decoded from, in src, so
	// that a run checks them together with the objectFiles' objects.
	objectNodes []*yaml.Node
	src         *yamlpos.File
}

// Expect lists expected findings by state.
type Expect struct {
	// Firing findings: published (or publishable) root causes and
	// secondary findings.
	Firing []Expectation `json:"firing,omitempty"`
	// Pending findings: true, inside their grace window, or held by a
	// pending cause (by names it).
	Pending []Expectation `json:"pending,omitempty"`
	// Suppressed findings: firing but hidden by a cause (by names it).
	Suppressed []Expectation `json:"suppressed,omitempty"`
	// Unknown findings: the evaluation failed. A case where a reason's
	// expression fails must list it here, or the case fails.
	Unknown []Expectation `json:"unknown,omitempty"`
	// Resolved findings: a firing reason that cleared at this step.
	Resolved []Expectation `json:"resolved,omitempty"`
	// NotFiring asserts the reason neither fires nor is suppressed (on the
	// subject, or anywhere when subject is empty).
	NotFiring []Expectation `json:"notFiring,omitempty"`
}

// Expectation names a reason on a subject, with optional detail checks.
type Expectation struct {
	Pos catalog.Pos `json:"-"`
	// Reason is a reason of the tested catalogue; a name it lacks fails
	// the case.
	Reason string `json:"reason"`
	// Subject is Kind/namespace/name, Kind/name or a UID; empty matches
	// any. A subject no step's objects (or findings) have fails the case.
	Subject string `json:"subject,omitempty"`
	// By is the cause: suppressedBy for suppressed, heldBy for pending.
	By string `json:"by,omitempty"`
	// Root, when set, requires (or forbids) the finding being its
	// subject's root cause.
	Root *bool `json:"root,omitempty"`
	// Message must be a substring of the message.
	Message string `json:"message,omitempty"`
	// MessageExact must equal the message.
	MessageExact string `json:"messageExact,omitempty"`
	// Error must be a substring of an Unknown finding's error.
	Error string `json:"error,omitempty"`
}

// ErrInvalid is matched (errors.Is) by every problem in a rule-test file's
// content, apart from the catalogue it names (catalog.ErrInvalid).
var ErrInvalid = errors.New("invalid rule test")

// MaxBytes caps each rule-test file and each objects file a test names.
// The CLI's --max-test-bytes sets it at start-up.
var MaxBytes int64 = DefaultMaxBytes

// DefaultMaxBytes is MaxBytes unless a flag raises it.
const DefaultMaxBytes = 16 << 20

// MaxBytesFlag is the flag that raises MaxBytes, named in errors.
const MaxBytesFlag = "--max-test-bytes"

// readCapped reads a regular file of at most MaxBytes.
func readCapped(name string) (*yamlpos.File, error) {
	return yamlpos.ReadFile(name, yamlpos.Cap{Bytes: MaxBytes, Flag: MaxBytesFlag})
}

// ReadFile reads and strictly decodes a rule-test file.
func ReadFile(name string) (*File, error) {
	f, err := readCapped(name)
	if err != nil {
		return nil, fmt.Errorf("read rule test: %w", err)
	}
	return Decode(f)
}

// Decode strictly decodes a rule-test file; every problem is reported with
// its position.
func Decode(f *yamlpos.File) (*File, error) {
	var out File
	root, d, err := yamlpos.DecodeSingle(f, "rule-test", ErrInvalid, &out)
	if err != nil {
		return nil, err
	}
	errs := d.Errors()
	if out.Kind != Kind {
		errs.Errorf(d.Pos(root), "", "kind is %q, want %s", out.Kind, Kind)
	}
	if len(out.Catalogs) == 0 {
		errs.Errorf(d.Pos(root), "", "catalogs is required: name the catalogue files this test runs against")
	}
	if len(out.Cases) == 0 {
		// A file without cases tests nothing; passing would hide a
		// mis-indented or misspelt cases key.
		errs.Errorf(d.Pos(root), "", "no cases: a rule-test file needs at least one case under cases")
	}
	for i := range out.Cases {
		validateCase(&out.Cases[i], &errs)
	}
	checkObjects(f, root, &out, &errs)
	if len(errs) > 0 {
		errs.AttachSnippets([]*yamlpos.File{f})
		errs.Sort()
		return nil, errs.WithKind(ErrInvalid)
	}
	out.Name = f.Name
	out.dir = filepath.Dir(f.Name)
	return &out, nil
}

func validateCase(c *Case, errs *catalog.ErrorList) {
	if c.Name == "" {
		errs.Errorf(c.Pos, "", "case needs a name")
	}
	if c.Start != "" {
		if _, err := time.Parse(time.RFC3339, c.Start); err != nil {
			errs.Errorf(c.Pos, "", "case %q: start %q is not RFC 3339", c.Name, c.Start)
		}
	}
	if len(c.Steps) == 0 {
		errs.Errorf(c.Pos, "", "case %q has no steps", c.Name)
	}
	var last time.Duration = -1
	for _, s := range c.Steps {
		if s.At.Param != "" {
			errs.Errorf(s.At.Pos, "", "case %q: at must be a duration such as 0m or 6m", c.Name)
		}
		if s.At.D <= last {
			errs.Errorf(s.At.Pos, "", "case %q: step at %s does not come after the previous step", c.Name, s.At.D)
		}
		last = s.At.D
	}
	for _, si := range c.Series {
		if si.Interval.Param != "" {
			errs.Errorf(si.Interval.Pos, "", "case %q: interval must be a duration", c.Name)
		}
	}
}

// checkObjects checks each step's inline objects (snapshot.Checker) with
// their positions, so that a malformed object fails the file when it is
// read, every problem at once, rather than making a case's findings wrong.
// The objects named by objectFiles are checked, together with these, when
// the step runs.
func checkObjects(f *yamlpos.File, root *yaml.Node, out *File, errs *catalog.ErrorList) {
	cases := seq(yamlpos.Field(root, "cases"))
	for i := range out.Cases {
		if i >= len(cases) {
			return
		}
		steps := seq(yamlpos.Field(resolve(cases[i]), "steps"))
		for j := range out.Cases[i].Steps {
			s := &out.Cases[i].Steps[j]
			if j >= len(steps) || len(s.Objects) == 0 {
				continue
			}
			nodes := seq(yamlpos.Field(resolve(steps[j]), "objects"))
			if len(nodes) != len(s.Objects) {
				continue // the decoder has reported why
			}
			c := snapshot.NewChecker()
			for k := range s.Objects {
				s.Objects[k] = snapshot.Normalize(s.Objects[k]).(map[string]any)
				c.Add(f, nodes[k], s.Objects[k])
			}
			if err := c.Err(); err != nil {
				var list yamlpos.ErrorList
				if errors.As(err, &list) {
					for _, e := range list {
						e.Kind = nil // in a rule-test file: ErrInvalid, stamped by Decode
					}
					*errs = append(*errs, list...)
				}
			}
			s.objectNodes, s.src = nodes, f
		}
	}
}

// seq returns the items of a sequence node, through aliases; nil for any
// other node.
func seq(n *yaml.Node) []*yaml.Node {
	n = resolve(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}

func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}
