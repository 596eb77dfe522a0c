// Command statusd diagnoses why things in a Kubernetes cluster are
// unhealthy, from a catalogue of reasons written in YAML and CEL.
//
// This package only parses flags and wires packages together; every
// behaviour a test would want lives in pkg/.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"statusd.io/statusd/pkg/report"
)

// command is one subcommand. Each lives in its own file and registers
// itself in commands.
type command struct {
	// summary is the one-line help.
	summary string
	// run executes the command with the arguments after its name and
	// returns the exit code.
	run func(args []string, stdout, stderr io.Writer) int
}

// commands maps "lint rules", "eval", ... to their implementations.
var commands = map[string]command{}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches to the longest registered command name that prefixes
// args, so "lint rules x.yaml" runs "lint rules" with [x.yaml].
//
// Everything a command writes passes through report.EscapingWriter: names,
// messages and snippets come from the cluster and the catalogue, and a
// control character in them must not reach the terminal raw. JSON and YAML
// already escape them, so machine output is unchanged.
func run(args []string, stdout, stderr io.Writer) int {
	stdout, stderr = report.EscapingWriter(stdout), report.EscapingWriter(stderr)
	for n := min(len(args), 2); n > 0; n-- {
		if c, ok := commands[strings.Join(args[:n], " ")]; ok {
			return c.run(args[n:], stdout, stderr)
		}
	}
	if len(args) > 0 && args[0] != "help" && args[0] != "-h" && args[0] != "--help" {
		fmt.Fprintf(stderr, "statusd: unknown command %q\n\n", strings.Join(args, " "))
		usage(stderr)
		return 2
	}
	usage(stdout)
	return 0
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: statusd <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-14s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'statusd <command> -h' for a command's flags.")
}
