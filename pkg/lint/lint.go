package lint

import (
	"fmt"
	"strings"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/loader"
)

// Exit codes of statusd lint rules, shared by the command and its tests so
// that CI scripts can rely on them.
const (
	// ExitOK: no errors, and no warnings either or warnings not fatal.
	ExitOK = 0
	// ExitErrors: at least one error; the daemon would refuse the catalogue.
	ExitErrors = 1
	// ExitUsage: the command line was wrong; nothing was linted.
	ExitUsage = 2
	// ExitWarnings: only warnings, and they were made fatal.
	ExitWarnings = 3
)

// CoverageFunc reports the reasons of a compiled catalogue that no rule test
// covers. It is a hook rather than an import so that lint stays free of the
// engine and the rule-test runner, and so that the runner may lint a
// catalogue before testing it without an import cycle. paths are the paths
// lint was given (rule tests live beside their catalogues); the entries it
// returns are added to the report as they are, so an uncovered reason
// should be a warning.
type CoverageFunc func(paths []string, c *cel.Catalog) catalog.ErrorList

// Options configure a lint run. The zero value lints with the daemon's
// default limits and no coverage check.
type Options struct {
	// CEL carries the cost limits; lint should use the ones the daemon runs
	// with, or it accepts catalogues the daemon refuses.
	CEL cel.Options
	// FatalWarnings makes warnings fail the run (ExitWarnings), for CI
	// that wants a catalogue free of unused declarations.
	FatalWarnings bool
	// Coverage, when set, is called once the catalogue compiled without
	// errors. Nil skips the check: no rule-test runner is wired in yet.
	Coverage CoverageFunc
}

// Report is the outcome of linting one catalogue.
type Report struct {
	// Findings holds every error and warning, sorted by file, line and
	// column, duplicates removed.
	Findings catalog.ErrorList
	// Compiled is false when the expressions were not checked because a
	// file could not be read or parsed; fixing those errors may reveal more.
	Compiled bool
	// Reasons is how many reasons the catalogue declares.
	Reasons int

	fatalWarnings bool
}

// Rules lints the catalogue made of the given files and directories (a
// directory contributes its files of kind Catalog), loaded as the daemon
// loads it (pkg/loader). It never fails as a whole: every problem,
// including an unreadable path, is a finding.
func Rules(paths []string, opts Options) *Report {
	return check(paths, loader.Paths(paths, opts.CEL), opts)
}

// check gathers the findings of a load and runs the coverage hook; it is
// apart from Rules so that the fuzz target can run it on catalogues in
// memory.
func check(paths []string, res *loader.Result, opts Options) *Report {
	r := &Report{Findings: res.Problems, Compiled: res.Compiled, fatalWarnings: opts.FatalWarnings}
	if res.Source != nil {
		r.Reasons = len(res.Source.Reasons)
	}
	if opts.Coverage != nil && res.Catalog != nil && r.Findings.Err() == nil {
		cov := opts.Coverage(paths, res.Catalog)
		cov.AttachSnippets(res.Files)
		r.Findings = append(r.Findings, cov...)
	}
	r.finish()
	return r
}

// finish sorts the findings and drops exact duplicates: the decoder, the
// validator and the compiler may each notice the same problem.
func (r *Report) finish() {
	r.Findings.Sort()
	out := r.Findings[:0]
	for i, e := range r.Findings {
		if i > 0 && same(r.Findings[i-1], e) {
			continue
		}
		out = append(out, e)
	}
	clear(r.Findings[len(out):])
	r.Findings = out
}

func same(a, b *catalog.Error) bool {
	return a.Pos == b.Pos && a.Reason == b.Reason && a.Msg == b.Msg && a.Warning == b.Warning
}

// Errors counts the findings that make the catalogue unusable.
func (r *Report) Errors() int { return len(r.Findings.Errors()) }

// Warnings counts the findings that do not stop the catalogue from loading.
func (r *Report) Warnings() int { return len(r.Findings.Warnings()) }

// ExitCode maps the report to the command's exit status: errors beat
// warnings, and warnings fail only when Options.FatalWarnings was set.
func (r *Report) ExitCode() int {
	switch {
	case r.Errors() > 0:
		return ExitErrors
	case r.fatalWarnings && r.Warnings() > 0:
		return ExitWarnings
	}
	return ExitOK
}

// Summary is the one-line verdict printed after the findings, such as
// "2 errors, 1 warning" or "ok: 12 reasons"; it agrees with ExitCode, so
// fatal warnings are not called ok.
func (r *Report) Summary() string {
	var b strings.Builder
	errs, warns := r.Errors(), r.Warnings()
	switch {
	case errs == 0 && warns > 0 && r.fatalWarnings:
		fmt.Fprintf(&b, "%s, fatal", plural(warns, "warning"))
	case errs == 0:
		fmt.Fprintf(&b, "ok: %s", plural(r.Reasons, "reason"))
		if warns > 0 {
			fmt.Fprintf(&b, ", %s", plural(warns, "warning"))
		}
	default:
		fmt.Fprintf(&b, "%s, %s", plural(errs, "error"), plural(warns, "warning"))
	}
	if !r.Compiled {
		b.WriteString("; expressions not checked: fix the files that could not be read or parsed first")
	}
	return b.String()
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
