package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

// commandPaths lists every command of the tree, "" being statusd itself.
func commandPaths() []string {
	var out []string
	root := newRoot(io.Discard, io.Discard)
	var visit func(path string, c *cobra.Command)
	visit = func(path string, c *cobra.Command) {
		out = append(out, path)
		for _, sub := range c.Commands() {
			if sub.Hidden || sub.Name() == "help" {
				continue
			}
			visit(strings.TrimSpace(path+" "+sub.Name()), sub)
		}
	}
	visit("", root)
	return out
}

// TestHelpConventions checks, for every command and subcommand, that
// --help, -h and "statusd help CMD" print the same usage on stdout and exit
// 0, as kubectl and helm do; the usage text itself is golden.
func TestHelpConventions(t *testing.T) {
	paths := commandPaths()
	require.Contains(t, paths, "lint rules")
	require.Contains(t, paths, "completion bash")
	for _, path := range paths {
		name := strings.ReplaceAll(cmp.Or(path, "statusd"), " ", "-")
		t.Run(name, func(t *testing.T) {
			args := strings.Fields(path)
			want, code, stderr := runArgs(append(args, "--help"))
			require.Equal(t, 0, code, stderr)
			require.Empty(t, stderr)
			require.NotEmpty(t, want)
			for _, variant := range [][]string{append(args, "-h"), append([]string{"help"}, args...)} {
				got, code, stderr := runArgs(variant)
				assert.Equal(t, 0, code, "%v: %s", variant, stderr)
				assert.Empty(t, stderr, "%v", variant)
				assert.Equal(t, want, got, "%v prints the same usage as --help", variant)
			}
			lintGolden(t, filepath.Join("testdata", "cli", "golden", "help-"+name+".txt"), want)
		})
	}
}

// TestCommandLineConventions covers refusals, flags after arguments,
// version and completion, with their exact output golden.
func TestCommandLineConventions(t *testing.T) {
	tests := []struct {
		name string
		args []string
		exit int
	}{
		{name: "no-command-prints-help", args: nil},
		{name: "unknown-command", args: []string{"bogus"}, exit: 2},
		{name: "unknown-subcommand", args: []string{"lint", "bogus"}, exit: 2},
		{name: "typo-suggests", args: []string{"lnt"}, exit: 2},
		{name: "run-refuses-arguments", args: []string{"run", "help"}, exit: 2},
		{name: "rbac-refuses-arguments", args: []string{"rbac", "extra"}, exit: 2},
		{name: "version-refuses-arguments", args: []string{"version", "now"}, exit: 2},
		{name: "explain-needs-a-subject", args: []string{"explain"}, exit: 2},
		{name: "lint-rules-needs-a-path", args: []string{"lint", "rules"}, exit: 2},
		{name: "unknown-flag", args: []string{"eval", "--strict"}, exit: 2},
		{name: "flags-after-arguments", args: []string{"test", "rules", "../../pkg/ruletest/testdata/pass.yaml", "--run", "no such case"}},
		{name: "bad-output", args: []string{"version", "-o", "xml"}, exit: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, code, stderr := runArgs(tt.args)
			assert.Equal(t, tt.exit, code, "stderr:\n%s", stderr)
			got := fmt.Sprintf("$ statusd %s\n-- stdout --\n%s-- stderr --\n%s-- exit %d --\n", strings.Join(tt.args, " "), stdout, stderr, code)
			lintGolden(t, filepath.Join("testdata", "cli", "golden", tt.name+".txt"), got)
		})
	}
}

func TestVersion(t *testing.T) {
	table, code, stderr := runArgs([]string{"version"})
	require.Equal(t, 0, code, stderr)
	for _, field := range []string{"Version:", "Commit:", "Go version:", "Embedded catalog: statusd-shipped "} {
		assert.Contains(t, table, field)
	}
	for _, format := range []string{"json", "yaml"} {
		t.Run(format, func(t *testing.T) {
			out, code, stderr := runArgs([]string{"version", "-o", format})
			require.Equal(t, 0, code, stderr)
			var v versionInfo
			if format == "json" {
				require.NoError(t, json.Unmarshal([]byte(out), &v))
			} else {
				require.NoError(t, yaml.Unmarshal([]byte(out), &v))
			}
			assert.NotEmpty(t, v.Version)
			assert.NotEmpty(t, v.Commit)
			assert.True(t, strings.HasPrefix(v.GoVersion, "go"), v.GoVersion)
			assert.Equal(t, "statusd-shipped", v.Catalog)
			assert.NotEmpty(t, v.CatalogVersion)
		})
	}
}

func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		t.Run(shell, func(t *testing.T) {
			out, code, stderr := runArgs([]string{"completion", shell})
			require.Equal(t, 0, code, stderr)
			assert.Contains(t, out, "statusd")
		})
	}
	// The completion of a command's flags comes from the binary itself.
	out, code, stderr := runArgs([]string{"__complete", "lint", "rules", "--fat"})
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "--fatal-warnings")
}

func runArgs(args []string) (stdout string, code int, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return out.String(), code, errOut.String()
}
