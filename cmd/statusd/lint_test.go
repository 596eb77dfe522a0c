package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"statusd.io/statusd/pkg/lint"
)

// The -update flag is shared by every command's test in this package;
// whichever file gets there first registers it.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files")
	}
}

func TestLintRules(t *testing.T) {
	const dir = "testdata/lint/"
	tests := []struct {
		name string
		args []string
		exit int
		// json says stdout must parse as the findings array.
		json bool
	}{
		{name: "clean-directory", args: []string{dir + "dir"}, exit: lint.ExitOK},
		{name: "done-when", args: []string{dir + "done-when.yaml"}, exit: lint.ExitErrors},
		{name: "done-when-json", args: []string{"--format", "json", dir + "done-when.yaml"}, exit: lint.ExitErrors, json: true},
		{name: "clean-json", args: []string{"--format=json", dir + "dir"}, exit: lint.ExitOK, json: true},
		{name: "warnings", args: []string{dir + "warnings.yaml"}, exit: lint.ExitOK},
		{name: "fatal-warnings", args: []string{"--fatal-warnings", dir + "warnings.yaml"}, exit: lint.ExitWarnings},
		{name: "fatal-warnings-with-errors", args: []string{"--fatal-warnings", dir + "done-when.yaml"}, exit: lint.ExitErrors},
		{name: "flags-after-paths", args: []string{dir + "warnings.yaml", "--fatal-warnings", "--format", "json"}, exit: lint.ExitWarnings, json: true},
		{name: "cost-limit-warns", args: []string{"--cost-limit", "1000000", dir + "warnings.yaml"}, exit: lint.ExitOK},
		{name: "cost-limit-refuses", args: []string{"--cost-limit", "500000", dir + "warnings.yaml"}, exit: lint.ExitErrors},
		{name: "source-size-hint", args: []string{"--cost-limit", "1000000", "--source-size-hint", "1000", dir + "warnings.yaml"}, exit: lint.ExitOK},
		{name: "several-paths", args: []string{dir + "dir", dir + "done-when.yaml"}, exit: lint.ExitErrors},
		{name: "double-dash", args: []string{"--", "--format"}, exit: lint.ExitErrors},
		{name: "missing-path", args: []string{dir + "missing.yaml"}, exit: lint.ExitErrors},
		{name: "usage-no-paths", args: nil, exit: lint.ExitUsage},
		{name: "usage-bad-format", args: []string{"--format", "xml", dir + "dir"}, exit: lint.ExitUsage},
		{name: "yaml", args: []string{"-o", "yaml", dir + "done-when.yaml"}, exit: lint.ExitErrors},
		{name: "output-json-after-paths", args: []string{dir + "warnings.yaml", "-o", "json"}, exit: lint.ExitOK, json: true},
		{name: "usage-unknown-flag", args: []string{"--strict", dir + "dir"}, exit: lint.ExitUsage},
		{name: "usage-bad-number", args: []string{"--cost-limit", "lots", dir + "dir"}, exit: lint.ExitUsage},
		{name: "usage-zero-limit", args: []string{"--cost-limit", "0", dir + "dir"}, exit: lint.ExitUsage},
		{name: "help", args: []string{"-h"}, exit: lint.ExitOK},
		{name: "typed", args: []string{dir + "typed.yaml"}, exit: lint.ExitErrors},
		{name: "typed-crd", args: []string{"--crd", dir + "crd-widgets.yaml", dir + "typed.yaml"}, exit: lint.ExitErrors},
		{name: "typed-crd-missing", args: []string{"--crd", dir + "missing.yaml", dir + "typed.yaml"}, exit: lint.ExitErrors},
		{name: "joins", args: []string{dir + "joins.yaml"}, exit: lint.ExitErrors},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"lint", "rules"}, tt.args...), &stdout, &stderr)
			assert.Equal(t, tt.exit, code, "exit code; stderr:\n%s", stderr.String())
			if tt.json {
				var findings []lint.Finding
				require.NoError(t, json.Unmarshal(stdout.Bytes(), &findings), "stdout must be one JSON array")
			}
			got := fmt.Sprintf("$ statusd lint rules %s\n-- stdout --\n%s-- stderr --\n%s-- exit %d --\n",
				strings.Join(tt.args, " "), stdout.String(), stderr.String(), code)
			lintGolden(t, filepath.Join("testdata", "lint", "golden", tt.name+".txt"), got)
		})
	}
}

// lintGolden compares got with a golden file, or rewrites it under -update.
func lintGolden(t *testing.T, path, got string) {
	t.Helper()
	if flag.Lookup("update").Value.String() == "true" {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file: run go test ./cmd/statusd -run TestLintRules -update")
	assert.Equal(t, string(want), got, "stale golden file %s: run go test ./cmd/statusd -run TestLintRules -update and review the diff", path)
}
