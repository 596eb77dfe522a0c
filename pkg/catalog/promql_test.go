package catalog_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"statusd.io/statusd/pkg/catalog"
)

func TestCheckPromQL(t *testing.T) {
	tests := []struct {
		name, q   string
		line, col int
		msg       string
	}{
		{name: "selector", q: `kubelet_volume_stats_used_bytes{namespace=~"iaas-.*"}`},
		{name: "quantile", q: "histogram_quantile(0.99,\n  sum by (le, model_name) (rate(vllm:e2e_request_latency_seconds_bucket[5m])))"},
		{name: "brackets in strings", q: `up{job="a)b]c}", x='"'} # trailing ) comment`},
		{name: "raw string", q: "label_replace(up, \"a\", `$1`, \"b\", `(.*)`)"},
		{name: "unclosed", q: "sum(rate(x[5m])", line: 1, col: 3, msg: `'(' is never closed`},
		{name: "mismatch", q: "sum(rate(x[5m)))", line: 1, col: 13, msg: `')' closes '[' opened at line 1 column 11`},
		{name: "stray", q: "up)", line: 1, col: 2, msg: `unexpected ')'`},
		{name: "string", q: "up{job=\"a}", line: 1, col: 7, msg: "string literal is not terminated"},
		{name: "second line", q: "sum(\n  up{job=\"a)\n}", line: 2, col: 9, msg: "string literal is not terminated on its line"},
		{name: "empty", q: "  # nothing\n", line: 1, col: 0, msg: "query is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := catalog.CheckPromQL(tt.q)
			if tt.msg == "" {
				require.NoError(t, err)
				return
			}
			var pe *catalog.PromQLError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tt.msg, pe.Msg)
			assert.Equal(t, []int{tt.line, tt.col}, []int{pe.Line, pe.Col})
		})
	}
}

func FuzzCheckPromQL(f *testing.F) {
	for _, s := range []string{`up`, `sum(rate(x[5m])) by (a)`, "a{b=\"c\"", "`x", "(]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		if err := catalog.CheckPromQL(q); err != nil {
			var pe *catalog.PromQLError
			if !errors.As(err, &pe) || pe.Line < 1 || pe.Col < 0 {
				t.Fatalf("bad error %v", err)
			}
		}
	})
}
