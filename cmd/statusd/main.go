// Command statusd diagnoses why things in a Kubernetes cluster are
// unhealthy, from a catalogue of reasons written in YAML and CEL.
//
// This package only parses flags and wires packages together; every
// behaviour a test would want lives in pkg/. The command line follows
// kubectl's and helm's habits (spf13/cobra): --help and "statusd help CMD"
// print usage on stdout and exit 0, flags may follow positional arguments,
// unexpected arguments are refused, -o chooses the output format, and
// "statusd completion bash|zsh|fish" prints a completion script.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"statusd.io/statusd/pkg/report"
)

// exitCode is a command's non-zero exit status, returned through cobra as
// an error once the command has printed what went wrong.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// exitUsage is the status of a command line that could not be parsed.
const exitUsage = 2

// leaf describes one command that does something.
type leaf struct {
	// parent is "" for a top-level command, else the group ("lint",
	// "test") it belongs to.
	parent string
	// use is cobra's usage line: the name, then the arguments.
	use   string
	short string
	long  string
	// args validates the positional arguments.
	args cobra.PositionalArgs
	// define registers the command's flags and returns its body, which
	// returns the exit status.
	define func(fs *flag.FlagSet) func(c *cobra.Command, args []string) int
}

// leaves are the commands, registered by the file that implements each.
var leaves []leaf

// groups are the commands that only hold subcommands.
var groups = map[string]string{
	"lint": "Check catalogues",
	"test": "Run catalogue rule tests",
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command line and returns the exit status. It builds a
// fresh command tree each time, so that tests can run many command lines
// in one process.
//
// Everything a command writes passes through report.EscapingWriter: names,
// messages and snippets come from the cluster and the catalogue, and a
// control character in them must not reach the terminal raw. JSON and YAML
// already escape them, so machine output is unchanged.
func run(args []string, stdout, stderr io.Writer) int {
	stdout, stderr = report.EscapingWriter(stdout), report.EscapingWriter(stderr)
	root := newRoot(stdout, stderr)
	if args == nil {
		args = []string{} // cobra reads os.Args when given nil
	}
	root.SetArgs(args)
	c, err := root.ExecuteC()
	var code exitCode
	switch {
	case err == nil:
		return 0
	case errors.As(err, &code):
		return int(code)
	}
	// A command line cobra could not parse: say why and where to look.
	fmt.Fprintf(stderr, "Error: %v\nRun '%s --help' for usage.\n", err, c.CommandPath())
	return exitUsage
}

// newRoot builds the command tree, writing to stdout and stderr.
func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "statusd",
		Short: "Diagnose why things in a Kubernetes cluster are unhealthy",
		Long: "statusd watches a cluster, evaluates a catalogue of reasons written in YAML and CEL,\n" +
			"and publishes the root causes of what is unhealthy as Kubernetes Events.",
		Args:          noArgs,
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE: func(c *cobra.Command, _ []string) error {
			// statusd alone prints help, as kubectl and helm do.
			return c.Help()
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return err })
	// Before the completion command is added: it binds the writer then.
	root.SetOut(stdout)
	root.SetErr(stderr)
	parents := map[string]*cobra.Command{"": root}
	for name, short := range groups {
		g := &cobra.Command{Use: name, Short: short, Args: noArgs, RunE: func(c *cobra.Command, _ []string) error { return c.Help() }}
		root.AddCommand(g)
		parents[name] = g
	}
	for _, l := range leaves {
		parents[l.parent].AddCommand(l.command())
	}
	// Added now rather than on Execute, so that the tree is complete for
	// tests and help.
	root.InitDefaultCompletionCmd()
	return root
}

// command builds the cobra command of l. Its flags are declared on a Go
// flag set (the pflag set takes them over), so each command's file reads
// like ordinary Go flag code.
func (l leaf) command() *cobra.Command {
	fs := flag.NewFlagSet(l.use, flag.ContinueOnError)
	body := l.define(fs)
	if l.use != "version" { // the one command that reads no file
		addInputCaps(fs)
	}
	c := &cobra.Command{
		Use:   l.use,
		Short: l.short,
		Long:  l.long,
		Args:  l.args,
		RunE: func(c *cobra.Command, args []string) error {
			if code := body(c, args); code != 0 {
				return exitCode(code)
			}
			return nil
		},
	}
	fs.VisitAll(func(gf *flag.Flag) {
		pf := pflag.PFlagFromGoFlag(gf)
		switch pf.Name {
		case "output":
			pf.Shorthand = "o" // as kubectl's -o
		case "verbose":
			pf.Shorthand = "v"
		}
		c.Flags().AddFlag(pf)
	})
	c.Flags().SortFlags = false
	return c
}

// noArgs refuses positional arguments, naming them: "statusd run help"
// must not start the daemon.
func noArgs(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if c.HasSubCommands() {
		return fmt.Errorf("unknown command %q for %q%s", args[0], c.CommandPath(), suggestions(c, args[0]))
	}
	return fmt.Errorf("%q takes no arguments, got %q", c.CommandPath(), strings.Join(args, " "))
}

// atLeastOne refuses a command line without positional arguments, naming
// what is missing.
func atLeastOne(what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) == 0 {
			return fmt.Errorf("no %s given", what)
		}
		return nil
	}
}

// exactlyOne wants one positional argument, named by what.
func exactlyOne(what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != 1 {
			return fmt.Errorf("want exactly one %s, got %d arguments", what, len(args))
		}
		return nil
	}
}

func suggestions(c *cobra.Command, arg string) string {
	s := c.SuggestionsFor(arg)
	if len(s) == 0 {
		return ""
	}
	return fmt.Sprintf("; did you mean %q?", s[0])
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// Type names the flag's value in help, as pflag does for its own lists.
func (s *stringList) Type() string { return "stringArray" }
