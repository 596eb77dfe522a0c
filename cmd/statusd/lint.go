package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/lint"
	"statusd.io/statusd/pkg/ruletest"
)

func init() {
	commands["lint rules"] = command{
		summary: "Check catalogue files or directories and report every problem at once",
		run:     lintRules,
	}
}

// lintRules parses the flags of "statusd lint rules" and hands over to
// pkg/lint. Flags may come before or after the paths, as in kubectl.
func lintRules(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("statusd lint rules", flag.ContinueOnError)
	addInputCaps(fs)
	fs.SetOutput(stderr)
	var (
		format   = fs.String("format", string(lint.FormatText), "output format: text or json (an array of {file, line, column, severity, reason, message})")
		fatal    = fs.Bool("fatal-warnings", false, "exit 3 when there are warnings but no errors")
		cost     = fs.Uint64("cost-limit", cel.DefaultCostLimit, "largest estimated cost of one expression; keep it equal to the daemon's")
		sizeHint = fs.Uint64("source-size-hint", cel.DefaultSourceSizeHint, "objects assumed per source when estimating cost")
		tests    stringList
	)
	fs.Var(&tests, "tests", "rule-test file or directory (repeatable): warn about reasons and suppression edges no passing case exercises")
	help := func(out io.Writer) {
		fs.SetOutput(out)
		fmt.Fprintln(out, "Usage: statusd lint rules [flags] PATH...")
		fmt.Fprintln(out)
		fmt.Fprintln(out, "Lints catalogue files and directories (a directory contributes its *.yaml and")
		fmt.Fprintln(out, "*.yml files of kind Catalog) and reports every error and warning, sorted.")
		fmt.Fprintln(out, "Exit status: 0 clean or warnings only, 1 errors, 2 usage, 3 warnings with")
		fmt.Fprintln(out, "--fatal-warnings.")
		fmt.Fprintln(out)
		fmt.Fprintln(out, "Flags:")
		fs.PrintDefaults()
	}
	// The flag package prints a bad flag's error itself and then calls
	// Usage, also for -h; both cases are handled below instead.
	fs.Usage = func() {}
	paths, err := lintParseArgs(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		help(stdout)
		return lint.ExitOK
	case err != nil:
		// The flag package has printed the error.
		fmt.Fprintln(stderr, lintHint)
		return lint.ExitUsage
	}
	f, err := lint.ParseFormat(*format)
	if err != nil {
		return lintUsageError(stderr, "--format: %v", err)
	}
	if *cost == 0 || *sizeHint == 0 {
		return lintUsageError(stderr, "--cost-limit and --source-size-hint must be positive")
	}
	if len(paths) == 0 {
		return lintUsageError(stderr, "no catalogue given: name at least one file or directory")
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
	if err := r.Write(stdout, f); err != nil {
		fmt.Fprintf(stderr, "statusd lint rules: %v\n", err)
		return lint.ExitErrors
	}
	fmt.Fprintf(stderr, "%s: %s\n", strings.Join(paths, " "), r.Summary())
	return r.ExitCode()
}

// lintParseArgs parses flags wherever they appear among the positional
// arguments, which the flag package alone stops at. After "--" everything
// is a path.
func lintParseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		consumed := len(args) - fs.NArg()
		rest := fs.Args()
		if consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// lintHint follows every usage error, instead of the full help.
const lintHint = "Run 'statusd lint rules -h' for usage."

// lintUsageError reports a command line that parsed but makes no sense.
func lintUsageError(stderr io.Writer, format string, args ...any) int {
	fmt.Fprintf(stderr, "statusd lint rules: %s\n%s\n", fmt.Sprintf(format, args...), lintHint)
	return lint.ExitUsage
}
