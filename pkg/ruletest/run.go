package ruletest

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/engine"
	"statusd.io/statusd/pkg/loader"
	"statusd.io/statusd/pkg/prune"
	"statusd.io/statusd/pkg/series"
	"statusd.io/statusd/pkg/snapshot"
)

// Options configure a run.
type Options struct {
	// Run selects cases whose "file: name" matches; all when nil.
	Run *regexp.Regexp
	// Compile sets the limits catalogues are compiled with.
	Compile cel.Options
	// Catalog, when set, is the catalogue every file runs against, whatever
	// catalogues it names: lint uses it to measure coverage of the very
	// catalogue it just compiled.
	Catalog *cel.Catalog
	// Prune trims every snapshot's objects to the fields the catalogue
	// reads (cel.Catalog.Fields), as the daemon's watch caches do, so that
	// the rule tests also check that trimming changes no finding.
	Prune bool
}

// CaseResult is the outcome of one case.
type CaseResult struct {
	File string
	Name string
	// Failures are readable descriptions of what did not match, one per
	// failed step, each with the findings actually present.
	Failures []string
	Duration time.Duration
}

// Passed reports whether the case passed.
func (c *CaseResult) Passed() bool { return len(c.Failures) == 0 }

// Report is the outcome of a run.
type Report struct {
	Cases    []*CaseResult
	Coverage *Coverage
}

// Failed counts failed cases.
func (r *Report) Failed() int {
	n := 0
	for _, c := range r.Cases {
		if !c.Passed() {
			n++
		}
	}
	return n
}

// Runner runs rule-test files, compiling each distinct catalogue once and
// accumulating coverage across files.
type Runner struct {
	opts     Options
	compiled map[string]*cel.Catalog
	coverage map[string]*Coverage // by catalogue key
}

// NewRunner returns a runner.
func NewRunner(opts Options) *Runner {
	return &Runner{opts: opts, compiled: map[string]*cel.Catalog{}, coverage: map[string]*Coverage{}}
}

// catalog loads and compiles the catalogue a test file names.
func (r *Runner) catalog(f *File) (*cel.Catalog, *Coverage, error) {
	if r.opts.Catalog != nil {
		const k = "\x00given"
		if _, ok := r.coverage[k]; !ok {
			r.compiled[k] = r.opts.Catalog
			r.coverage[k] = newCoverage(r.opts.Catalog)
		}
		return r.opts.Catalog, r.coverage[k], nil
	}
	paths := make([]string, len(f.Catalogs))
	for i, p := range f.Catalogs {
		if !filepath.IsAbs(p) {
			p = filepath.Join(f.dir, p)
		}
		paths[i] = filepath.Clean(p)
	}
	k := strings.Join(paths, "\x00")
	if c, ok := r.compiled[k]; ok {
		return c, r.coverage[k], nil
	}
	res := loader.Paths(paths, r.opts.Compile)
	if err := res.Err(); err != nil {
		return nil, nil, fmt.Errorf("catalogue %s: %w", strings.Join(paths, ", "), err)
	}
	c := res.Catalog
	r.compiled[k] = c
	r.coverage[k] = newCoverage(c)
	return c, r.coverage[k], nil
}

// Coverages returns the coverage of every catalogue run so far.
func (r *Runner) Coverages() []*Coverage {
	var out []*Coverage
	for _, k := range slices.Sorted(mapsKeys(r.coverage)) {
		out = append(out, r.coverage[k])
	}
	return out
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// RunFile runs a file's selected cases.
func (r *Runner) RunFile(ctx context.Context, f *File) ([]*CaseResult, error) {
	cat, cov, err := r.catalog(f)
	if err != nil {
		return nil, err
	}
	var out []*CaseResult
	for i := range f.Cases {
		c := &f.Cases[i]
		if r.opts.Run != nil && !r.opts.Run.MatchString(f.Name+": "+c.Name) {
			continue
		}
		began := time.Now()
		res := &CaseResult{File: f.Name, Name: c.Name}
		var fields map[string]*prune.Tree
		if r.opts.Prune {
			fields = cat.Fields()
		}
		caseCov := cov.fork()
		res.Failures = runCase(ctx, f, c, cat, caseCov, fields)
		if len(res.Failures) == 0 {
			cov.merge(caseCov)
		}
		res.Duration = time.Since(began)
		out = append(out, res)
	}
	return out, nil
}

// runCase drives one case through a fresh engine, with objects trimmed to
// fields when it is not nil.
func runCase(ctx context.Context, f *File, c *Case, cat *cel.Catalog, cov *Coverage, fields map[string]*prune.Tree) []string {
	start, _ := time.Parse(time.RFC3339, cmpOr(c.Start, DefaultStart))
	eng := engine.New(cat, engine.Options{})
	pods := map[string]*snapshot.PodMetrics{}
	loadedUntil := map[string]int{} // series input index → steps loaded
	var objects []map[string]any
	var cluster snapshot.Cluster
	var states map[string]snapshot.SourceState
	failures := unknownReasons(c, cat)
	seen := subjectSet{}
	for si, step := range c.Steps {
		now := start.Add(step.At.D)
		if step.Objects != nil || step.ObjectFiles != nil {
			objs, err := stepObjects(f, &step)
			if err != nil {
				return append(failures, fmt.Sprintf("step %d (at %s): %v", si+1, step.At.D, err))
			}
			objects = objs
			seen.addObjects(objs)
		}
		if step.Cluster != nil {
			cluster = *step.Cluster
		}
		if step.Sources != nil {
			states = step.Sources
		}
		b := snapshot.NewBuilder(now, snapshot.ServedDefault(cat.Source, cluster))
		// Objects are decoded afresh for every step: each snapshot owns its
		// objects, as each informer read does.
		b.Select(cat.Source, cloneAll(objects), states)
		if err := feedMetrics(c, &step, start, now, pods, loadedUntil); err != nil {
			return append(failures, fmt.Sprintf("step %d (at %s): metrics: %v", si+1, step.At.D, err))
		}
		for _, pm := range pods {
			b.AddMetrics(pm)
		}
		if err := addQueries(b, c, si, now, states); err != nil {
			return append(failures, fmt.Sprintf("step %d (at %s): queries: %v", si+1, step.At.D, err))
		}
		snap := b.Build()
		if fields != nil {
			snap = snapshot.Trim(snap, fields)
		}
		res := eng.Tick(ctx, snap)
		seen.addResult(res)
		if msg := check(&step, res, c.Exact, cov); msg != "" {
			failures = append(failures, fmt.Sprintf("step %d (at %s):\n%s", si+1, step.At.D, msg))
		}
		if msg := unexpectedUnknown(c, si, res); msg != "" {
			failures = append(failures, msg)
		}
	}
	return append(failures, missingSubjects(c, seen)...)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// stepObjects returns a step's objects, inline and from its objectFiles,
// checked together (snapshot.Checker): an object twice in one step, even
// from two files, is an error.
func stepObjects(f *File, s *Step) ([]map[string]any, error) {
	objs := make([]map[string]any, 0, len(s.Objects))
	c := snapshot.NewChecker()
	for i, o := range s.Objects {
		o = snapshot.Normalize(o).(map[string]any)
		if i < len(s.objectNodes) {
			c.Add(s.src, s.objectNodes[i], o)
		}
		objs = append(objs, o)
	}
	for _, name := range s.ObjectFiles {
		if !filepath.IsAbs(name) {
			name = filepath.Join(f.dir, name)
		}
		file, err := readCatalogFile(name)
		if err != nil {
			return nil, err
		}
		more, err := c.Decode(file)
		if err != nil {
			return nil, err
		}
		objs = append(objs, more...)
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	return objs, nil
}

// cloneAll deep-copies objects so that one step's evaluation caches never
// leak into the next.
func cloneAll(objs []map[string]any) []map[string]any {
	out := make([]map[string]any, len(objs))
	for i, o := range objs {
		out[i] = clone(o).(map[string]any)
	}
	return out
}

func clone(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, val := range x {
			m[k] = clone(val)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, val := range x {
			l[i] = clone(val)
		}
		return l
	}
	return v
}

// feedMetrics brings each pod's history up to now: the notation series'
// scrapes due by now, then the step's own scrapes. Histories only ever see
// the past, as a live scraper's do.
func feedMetrics(c *Case, s *Step, start, now time.Time, pods map[string]*snapshot.PodMetrics, loaded map[string]int) error {
	pm := func(pod, source string) (*snapshot.PodMetrics, error) {
		if p, ok := pods[pod]; ok {
			return p, nil
		}
		ns, name, ok := strings.Cut(pod, "/")
		if !ok || ns == "" || name == "" {
			return nil, fmt.Errorf("pod %q must be namespace/name", pod)
		}
		p, err := snapshot.NewPodMetrics(ns, name, source, series.Options{Retention: time.Hour})
		if err != nil {
			return nil, err
		}
		pods[pod] = p
		return p, nil
	}
	for i, in := range c.Series {
		interval := in.Interval.D
		if interval == 0 {
			interval = catalog.DefaultScrapeInterval
		}
		p, err := pm(in.Pod, "")
		if err != nil {
			return err
		}
		due := int(now.Sub(start)/interval) + 1 // scrapes at 0, interval, ... <= now
		key := strconv.Itoa(i)
		from := loaded[key]
		if due <= from {
			continue
		}
		var inputs []series.Input
		for _, name := range slices.Sorted(mapsKeys(in.Values)) {
			steps, err := series.ParseNotation(in.Values[name])
			if err != nil {
				return fmt.Errorf("series %s: %w", name, err)
			}
			if from >= len(steps) {
				continue
			}
			inputs = append(inputs, series.Input{Series: name, Values: render(steps[from:min(due, len(steps))])})
		}
		if len(inputs) > 0 {
			if err := p.History.Load(start.Add(time.Duration(from)*interval), interval, inputs...); err != nil {
				return err
			}
		}
		loaded[key] = due
	}
	for _, sc := range s.Metrics {
		p, err := pm(sc.Pod, sc.Source)
		if err != nil {
			return err
		}
		at := now
		if sc.At != "" {
			if at, err = time.Parse(time.RFC3339, sc.At); err != nil {
				return fmt.Errorf("at %q is not RFC 3339", sc.At)
			}
		}
		if err := snapshot.Record(p, at, sc.Text, sc.Error); err != nil {
			return err
		}
	}
	return nil
}

// render writes notation steps back as notation, so that a slice of a
// series loads with the same semantics (missing, stale) as the whole.
func render(steps []series.Step) string {
	parts := make([]string, len(steps))
	for i, s := range steps {
		switch {
		case s.Missing:
			parts[i] = "_"
		case s.Stale:
			parts[i] = "stale"
		case math.IsInf(s.Value, 1):
			parts[i] = "Inf"
		case math.IsInf(s.Value, -1):
			parts[i] = "-Inf"
		case math.IsNaN(s.Value):
			parts[i] = "NaN"
		default:
			// 'f' never writes an exponent, whose + the notation would read as a step.
			parts[i] = strconv.FormatFloat(s.Value, 'f', -1, 64)
		}
	}
	return strings.Join(parts, " ")
}

// addQueries adds each query source's result at step si: the series whose
// notation has a value at that index, or the failure the step's sources
// state gives the source.
func addQueries(b *snapshot.Builder, c *Case, si int, now time.Time, states map[string]snapshot.SourceState) error {
	for _, source := range slices.Sorted(mapsKeys(c.Queries)) {
		res := &snapshot.QueryResult{Source: source, Status: snapshot.StatusReady, At: now}
		if st, ok := states[source]; ok && st.Status != snapshot.StatusReady {
			res.Status, res.Err = st.Status, cmpOr(st.Error, string(st.Status))
			b.AddQuery(res)
			continue
		}
		values := c.Queries[source]
		for _, name := range slices.Sorted(mapsKeys(values)) {
			labels, err := snapshot.ParseQuerySeries(name)
			if err != nil {
				return fmt.Errorf("%s: %w", source, err)
			}
			steps, err := series.ParseNotation(values[name])
			if err != nil {
				return fmt.Errorf("%s: series %s: %w", source, name, err)
			}
			if si >= len(steps) || steps[si].Missing || steps[si].Stale {
				continue
			}
			res.Samples = append(res.Samples, snapshot.QuerySample{Labels: labels, Value: steps[si].Value})
		}
		b.AddQuery(res)
	}
	return nil
}
