package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/lint"
	"statusd.io/statusd/pkg/ruletest"
)

func init() {
	leaves = append(leaves, leaf{
		parent: "lint",
		use:    "rules PATH...",
		short:  "Check catalogue files or directories and report every problem at once",
		long: "Lints catalogue files and directories (a directory contributes its *.yaml and\n" +
			"*.yml files of kind Catalog) and reports every error and warning, sorted.\n" +
			"Exit status: 0 clean or warnings only, 1 errors, 2 usage, 3 warnings with\n" +
			"--fatal-warnings.",
		args:   atLeastOne("catalogue: name at least one file or directory"),
		define: defineLintRules,
	})
}

// defineLintRules declares the flags of "statusd lint rules" and hands over
// to pkg/lint.
func defineLintRules(fs *flag.FlagSet) func(*cobra.Command, []string) int {
	var (
		output   = fs.String("output", "table", "output format: table, json (an array of {file, line, column, severity, reason, message}) or yaml")
		format   = fs.String("format", "", "deprecated: use -o (text is -o table)")
		fatal    = fs.Bool("fatal-warnings", false, "exit 3 when there are warnings but no errors")
		cost     = fs.Uint64("cost-limit", cel.DefaultCostLimit, "largest estimated cost of one expression; keep it equal to the daemon's")
		sizeHint = fs.Uint64("source-size-hint", cel.DefaultSourceSizeHint, "objects assumed per source when estimating cost")
		tests    stringList
	)
	fs.Var(&tests, "tests", "rule-test file or directory (repeatable): warn about reasons and suppression edges no passing case exercises")
	return func(c *cobra.Command, paths []string) int {
		stdout, stderr := c.OutOrStdout(), c.ErrOrStderr()
		out := *output
		if *format != "" && !c.Flags().Changed("output") {
			out = map[string]string{"text": "table"}[*format]
			if out == "" {
				out = *format
			}
		}
		if err := checkOutput(out); err != nil {
			return lintUsageError(stderr, "%v", err)
		}
		if *cost == 0 || *sizeHint == 0 {
			return lintUsageError(stderr, "--cost-limit and --source-size-hint must be positive")
		}
		opts := lint.Options{
			CEL:           cel.Options{CostLimit: *cost, SourceSizeHint: *sizeHint},
			FatalWarnings: *fatal,
		}
		if len(tests) > 0 {
			opts.Coverage = func(_ []string, c *cel.Catalog) catalog.ErrorList {
				files, err := ruletest.Collect(tests...)
				if err != nil {
					return catalog.ErrorList{{Pos: catalog.Pos{File: strings.Join(tests, ",")}, Msg: err.Error()}}
				}
				return ruletest.CoverageWarnings(context.Background(), c, files)
			}
		}
		r := lint.Rules(paths, opts)
		if err := writeLint(stdout, r, out); err != nil {
			fmt.Fprintf(stderr, "statusd lint rules: %v\n", err)
			return lint.ExitErrors
		}
		fmt.Fprintf(stderr, "%s: %s\n", strings.Join(paths, " "), r.Summary())
		return r.ExitCode()
	}
}

// writeLint writes the report as text (-o table), or as the JSON array of
// findings, or that array as YAML.
func writeLint(w io.Writer, r *lint.Report, output string) error {
	switch output {
	case "json":
		return r.Write(w, lint.FormatJSON)
	case "yaml":
		var buf bytes.Buffer
		if err := r.Write(&buf, lint.FormatJSON); err != nil {
			return err
		}
		y, err := yaml.JSONToYAML(buf.Bytes())
		if err != nil {
			return fmt.Errorf("render yaml: %w", err)
		}
		_, err = w.Write(y)
		return err
	}
	return r.Write(w, lint.FormatText)
}

// lintHint follows every usage error, instead of the full help.
const lintHint = "Run 'statusd lint rules --help' for usage."

// lintUsageError reports a command line that parsed but makes no sense.
func lintUsageError(stderr io.Writer, format string, args ...any) int {
	fmt.Fprintf(stderr, "statusd lint rules: %s\n%s\n", fmt.Sprintf(format, args...), lintHint)
	return lint.ExitUsage
}
