package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"

	"statusd.io/statusd/pkg/ruletest"
)

func init() {
	commands["test rules"] = command{summary: "Run catalogue rule tests (files or directories)", run: testRules}
}

func testRules(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("statusd test rules", flag.ContinueOnError)
	addInputCaps(fs)
	fs.SetOutput(stderr)
	run := fs.String("run", "", "run only cases whose \"file: name\" matches this regular expression")
	junit := fs.String("junit", "", "also write a JUnit XML report to this file")
	requireCoverage := fs.Bool("require-coverage", false, "fail when a reason or suppression edge is not exercised by any case")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: statusd test rules [flags] FILE|DIR...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	var opts ruletest.Options
	if *run != "" {
		re, err := regexp.Compile(*run)
		if err != nil {
			fmt.Fprintf(stderr, "statusd test rules: --run: %v\n", err)
			return 2
		}
		opts.Run = re
	}
	files, err := ruletest.Collect(fs.Args()...)
	if err != nil {
		fmt.Fprintf(stderr, "statusd test rules: %v\n", err)
		return 1
	}
	if len(files) == 0 {
		fmt.Fprintln(stderr, "statusd test rules: no rule-test files found")
		return 1
	}
	r := ruletest.NewRunner(opts)
	rep := r.RunAll(context.Background(), files, stdout)
	gaps := r.WriteSummary(stdout, rep)
	if *junit != "" {
		f, err := os.Create(*junit)
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
	case *requireCoverage && gaps > 0:
		fmt.Fprintf(stdout, "coverage required: %d gaps\n", gaps)
		return 1
	}
	return 0
}
