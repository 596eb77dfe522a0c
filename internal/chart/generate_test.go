package chart_test

import (
	"flag"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"statusd.io/statusd/internal/chart"
)

var update = flag.Bool("update", false, "rewrite the chart's generated files (make generate)")

// TestGenerated keeps the chart's generated files (the shipped catalogue,
// the ClusterRole's rules, values.schema.json) equal to what their sources
// generate; make generate runs it with -update and make verify fails on a
// diff.
func TestGenerated(t *testing.T) {
	dir := chart.Dir()
	want, err := chart.Generated(dir)
	require.NoError(t, err)
	if *update {
		require.NoError(t, chart.Write(dir, want))
	}
	stale, err := chart.Stale(dir, want)
	require.NoError(t, err)
	assert.Empty(t, stale, "the chart's generated files are stale: run make generate and commit charts/statusd\n%s", strings.Join(stale, "\n"))
}

// TestValuesSchemaErrors checks the generator refuses undocumented keys
// and malformed markers, each with its line.
func TestValuesSchemaErrors(t *testing.T) {
	tests := []struct {
		name    string
		values  string
		wantErr []string
	}{
		{name: "documented", values: "# -- A.\na: 1\nb:\n  # -- C.\n  c: x\n"},
		{name: "undocumented leaf", values: "a: 1\n", wantErr: []string{"line 1: a: undocumented"}},
		{name: "undocumented nested leaf", values: "b:\n  c: x\n", wantErr: []string{"line 2: b.c: undocumented"}},
		{name: "undocumented list", values: "# hello\nl: []\n", wantErr: []string{"l: undocumented"}},
		{name: "bad marker", values: "# -- A.\n# @schema minimum\na: 1\n", wantErr: []string{`a: "# @schema minimum": want`}},
		{name: "not a mapping", values: "- a\n", wantErr: []string{"one YAML mapping"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := chart.ValuesSchema([]byte(tt.values))
			if tt.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, w := range tt.wantErr {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}
