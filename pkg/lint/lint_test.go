package lint_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/lint"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// uncovered stands in for the rule-test runner's coverage check: it claims
// that no test covers the first reason, so the test can see the hook's
// findings reach the report. It is not a coverage check.
func uncovered(_ []string, c *cel.Catalog) catalog.ErrorList {
	var l catalog.ErrorList
	r := c.Reasons[0]
	l.Warnf(r.Pos, r.Name, "no rule test covers this reason")
	return l
}

// mustNotRun is a coverage hook for catalogues with errors, where running
// rule tests would be pointless.
func mustNotRun([]string, *cel.Catalog) catalog.ErrorList {
	return catalog.ErrorList{{Msg: "coverage hook ran on a catalogue with errors"}}
}

func TestRules(t *testing.T) {
	tests := []struct {
		name   string
		paths  []string
		opts   lint.Options
		format lint.Format
		// exit is the command's exit status for this report.
		exit int
		// heads must all be among the findings' first lines; the golden
		// file holds the complete output.
		heads []string
	}{
		{name: "clean", paths: []string{"testdata/clean.good.yaml"}, exit: lint.ExitOK},
		{name: "clean-json", paths: []string{"testdata/clean.good.yaml"}, format: lint.FormatJSON, exit: lint.ExitOK},
		{
			name:  "done-when",
			paths: []string{"testdata/done-when.bad.yaml"},
			exit:  lint.ExitErrors,
			heads: []string{
				"testdata/done-when.bad.yaml:15:16: reason PodPending: suppression cycle: PodPending → PodCrashLooping → PodPending",
				"testdata/done-when.bad.yaml:20:39: reason PodCrashLooping: when: found no matching overload for '_+_' applied to '(int, string)'",
				`testdata/done-when.bad.yaml:22:3: unknown field "sevrity"; did you mean "severity"?`,
			},
		},
		{name: "done-when-json", paths: []string{"testdata/done-when.bad.yaml"}, format: lint.FormatJSON, exit: lint.ExitErrors},
		{name: "decode", paths: []string{"testdata/decode.bad.yaml"}, exit: lint.ExitErrors},
		{
			name:  "syntax",
			paths: []string{"testdata/syntax.bad.yaml"},
			exit:  lint.ExitErrors,
		},
		{
			name:  "quadratic",
			paths: []string{"testdata/quadratic.bad.yaml"},
			exit:  lint.ExitErrors,
		},
		{name: "warnings", paths: []string{"testdata/warnings.yaml"}, exit: lint.ExitOK},
		{name: "warnings-fatal", paths: []string{"testdata/warnings.yaml"}, opts: lint.Options{FatalWarnings: true}, exit: lint.ExitWarnings},
		{
			name:  "cost-near-limit",
			paths: []string{"testdata/warnings.yaml"},
			opts:  lint.Options{CEL: cel.Options{CostLimit: 1_000_000}},
			exit:  lint.ExitOK,
			heads: []string{"testdata/warnings.yaml:26:9: warning: reason NamesakeExists: when: estimated cost 600003 is near the limit 1000000"},
		},
		{
			name:  "cost-over-limit",
			paths: []string{"testdata/warnings.yaml"},
			opts:  lint.Options{CEL: cel.Options{CostLimit: 500_000}},
			exit:  lint.ExitErrors,
		},
		{
			name:  "source-size-hint",
			paths: []string{"testdata/warnings.yaml"},
			opts:  lint.Options{CEL: cel.Options{CostLimit: 1_000_000, SourceSizeHint: 1_000}},
			exit:  lint.ExitOK,
		},
		{name: "directory", paths: []string{"testdata/split"}, exit: lint.ExitErrors},
		{name: "two-files-merged", paths: []string{"testdata/split/base.yaml", "testdata/clean.good.yaml"}, exit: lint.ExitErrors},
		{name: "no-catalogue-in-directory", paths: []string{"testdata/tests-only"}, exit: lint.ExitErrors},
		{name: "missing-file", paths: []string{"testdata/clean.good.yaml", "testdata/missing.yaml"}, exit: lint.ExitErrors},
		{
			name:  "coverage-hook",
			paths: []string{"testdata/clean.good.yaml"},
			opts:  lint.Options{Coverage: uncovered, FatalWarnings: true},
			exit:  lint.ExitWarnings,
		},
		{
			name:  "coverage-hook-skipped-on-errors",
			paths: []string{"testdata/done-when.bad.yaml"},
			opts:  lint.Options{Coverage: mustNotRun},
			exit:  lint.ExitErrors,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := lint.Rules(tt.paths, tt.opts)

			var out bytes.Buffer
			require.NoError(t, r.Write(&out, tt.format))
			if tt.format == lint.FormatJSON {
				var findings []lint.Finding
				require.NoError(t, json.Unmarshal(out.Bytes(), &findings), "the JSON output must parse")
				assert.Len(t, findings, len(r.Findings))
			} else {
				fmt.Fprintf(&out, "-- %s\n", r.Summary())
			}
			ext := ".txt"
			if tt.format == lint.FormatJSON {
				ext = ".json"
			}
			golden(t, filepath.Join("testdata", "golden", tt.name+ext), out.Bytes())

			assert.Equal(t, tt.exit, r.ExitCode(), "exit code")
			heads := make([]string, len(r.Findings))
			for i, e := range r.Findings {
				heads[i] = e.Head()
			}
			for _, h := range tt.heads {
				assert.Contains(t, heads, h)
			}
		})
	}
}

func TestParseFormat(t *testing.T) {
	tests := []struct {
		in      string
		want    lint.Format
		wantErr string
	}{
		{in: "text", want: lint.FormatText},
		{in: "json", want: lint.FormatJSON},
		{in: "yaml", wantErr: `unknown format "yaml": want text or json`},
		{in: "", wantErr: `unknown format "": want text or json`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := lint.ParseFormat(tt.in)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// golden compares got with the golden file, or rewrites it under -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file: run go test ./pkg/lint -update")
	assert.Equal(t, string(want), string(got), "stale golden file %s: run go test ./pkg/lint -update and review the diff", path)
}
