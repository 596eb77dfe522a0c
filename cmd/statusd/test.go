package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"

	"github.com/spf13/cobra"

	"statusd.io/statusd/pkg/ruletest"
)

func init() {
	leaves = append(leaves, leaf{
		parent: "test",
		use:    "rules FILE|DIR...",
		short:  "Run catalogue rule tests (files or directories)",
		long: "Runs rule tests (kind RuleTest): each case feeds objects through the catalogue and\n" +
			"checks what fires, is suppressed or resolves. A line per case, a diff on failure;\n" +
			"exit 1 on any failure.",
		args:   atLeastOne("rule-test file or directory"),
		define: defineTestRules,
	})
}

func defineTestRules(fs *flag.FlagSet) func(*cobra.Command, []string) int {
	run := fs.String("run", "", "run only cases whose \"file: name\" matches this regular expression")
	junit := fs.String("junit", "", "also write a JUnit XML report to this file")
	requireCoverage := fs.Bool("require-coverage", false, "fail when a reason or suppression edge is not exercised by any case (lists every gap)")
	verbose := fs.Bool("verbose", false, "list every coverage gap, not only their number")
	output := fs.String("output", "table", "output format: table (a line per case, a diff on failure), json or yaml (every case with its failures, and each catalogue's coverage gaps)")
	return func(c *cobra.Command, args []string) int {
		return testRules(args, *run, *junit, *output, *requireCoverage, *verbose, c.OutOrStdout(), c.ErrOrStderr())
	}
}

// testRulesReport is test rules' -o json and -o yaml: what the table says,
// for CI systems that read it.
type testRulesReport struct {
	Passed   int                `json:"passed"`
	Failed   int                `json:"failed"`
	Cases    []testRulesCase    `json:"cases"`
	Coverage []testRulesCatalog `json:"coverage"`
}

type testRulesCase struct {
	File            string   `json:"file"`
	Name            string   `json:"name"`
	Passed          bool     `json:"passed"`
	Failures        []string `json:"failures,omitempty"`
	DurationSeconds float64  `json:"durationSeconds"`
}

// testRulesCatalog is one catalogue's coverage: every reason and
// suppression edge no case exercised.
type testRulesCatalog struct {
	Catalog string   `json:"catalog"`
	Gaps    []string `json:"gaps"`
}

func testRules(args []string, run, junit, output string, requireCoverage, verbose bool, stdout, stderr io.Writer) int {
	if err := checkOutput(output); err != nil {
		fmt.Fprintf(stderr, "statusd test rules: %v\n", err)
		return 2
	}
	// With -o json or yaml, stdout holds the document only; what the
	// table would say besides goes to stderr.
	table, say := stdout, stdout
	if output != "table" {
		table, say = io.Discard, stderr
	}
	var opts ruletest.Options
	if run != "" {
		re, err := regexp.Compile(run)
		if err != nil {
			fmt.Fprintf(stderr, "statusd test rules: --run: %v\n", err)
			return 2
		}
		opts.Run = re
	}
	files, err := ruletest.Collect(args...)
	if err != nil {
		fmt.Fprintf(stderr, "statusd test rules: %v\n", err)
		return 1
	}
	if len(files) == 0 {
		fmt.Fprintln(stderr, "statusd test rules: no rule-test files found")
		return 1
	}
	r := ruletest.NewRunner(opts)
	rep := r.RunAll(context.Background(), files, table)
	gaps := r.WriteSummary(table, rep, verbose || requireCoverage)
	if output != "table" {
		doc := testRulesReport{Passed: len(rep.Cases) - rep.Failed(), Failed: rep.Failed(), Cases: []testRulesCase{}, Coverage: []testRulesCatalog{}}
		for _, c := range rep.Cases {
			doc.Cases = append(doc.Cases, testRulesCase{File: c.File, Name: c.Name, Passed: c.Passed(), Failures: c.Failures, DurationSeconds: c.Duration.Seconds()})
		}
		for _, cov := range r.Coverages() {
			doc.Coverage = append(doc.Coverage, testRulesCatalog{Catalog: cov.Catalog, Gaps: append([]string{}, cov.Gaps()...)})
		}
		if err := printAs(stdout, output, doc, nil); err != nil {
			fmt.Fprintf(stderr, "statusd test rules: %v\n", err)
			return 1
		}
	}
	if junit != "" {
		f, err := os.Create(junit)
		if err != nil {
			fmt.Fprintf(stderr, "statusd test rules: %v\n", err)
			return 1
		}
		werr := ruletest.WriteJUnit(f, rep)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			fmt.Fprintf(stderr, "statusd test rules: %v\n", werr)
			return 1
		}
	}
	switch {
	case rep.Failed() > 0:
		return 1
	case len(rep.Cases) == 0 && run != "":
		// A run that executes nothing proves nothing.
		fmt.Fprintf(say, "no case ran: --run %q matches no case (it is matched against \"FILE: CASE NAME\")\n", run)
		return 1
	case len(rep.Cases) == 0:
		fmt.Fprintln(say, "no case ran: the rule-test files hold no cases")
		return 1
	case requireCoverage && gaps > 0:
		fmt.Fprintf(say, "coverage required: %d gaps\n", gaps)
		return 1
	}
	return 0
}
