package series

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// seedLines returns the lines of a testdata seed file.
func seedLines(f *testing.F, name string) []string {
	f.Helper()
	return strings.Split(strings.TrimSuffix(readTestdata(f, name), "\n"), "\n")
}

func FuzzParse(f *testing.F) {
	// Whole pages make slow seeds: every input the fuzzer finds
	// interesting is minimised byte by byte. So the testdata pages go in
	// one metric family at a time, the small ones whole.
	for _, name := range []string{"vllm.txt", "openmetrics.txt"} {
		for i, family := range strings.Split(readTestdata(f, name), "\n# HELP ") {
			if i > 0 {
				family = "# HELP " + family
			}
			f.Add([]byte(family), name == "openmetrics.txt")
		}
	}
	for _, name := range []string{"openmetrics.txt", "garbage.txt", "garbage.bin"} {
		f.Add([]byte(readTestdata(f, name)), name == "openmetrics.txt")
	}
	f.Add([]byte("up 1\n# EOF\n"), true)
	f.Add([]byte(`m{a="1"} 1 # {t="x"} 2 3`+"\n# EOF"), true)
	f.Fuzz(func(t *testing.T, body []byte, om bool) {
		contentType := ""
		if om {
			contentType = omType
		}
		p, err := Parse(bytes.NewReader(body), contentType, Limits{MaxBytes: 1 << 16, MaxSeries: 2000})
		if err != nil {
			require.True(t, errors.Is(err, ErrInvalidPage) || errors.Is(err, ErrTooLarge), "unclassified error: %v", err)
			return
		}
		// A parsed page is canonical: rebuilding it changes nothing, and a
		// History takes it.
		again, err := NewPage(p.Samples())
		require.NoError(t, err)
		require.Equal(t, p.keys, again.keys)
		h := newTestHistory(t, Options{})
		require.NoError(t, h.Append(t0, p))
		assert.Equal(t, p.Len(), h.Status().Series)
	})
}

// requireSyntaxError checks that err is a *SyntaxError pointing into input.
func requireSyntaxError(t *testing.T, err error, input string) {
	t.Helper()
	var se *SyntaxError
	require.ErrorAs(t, err, &se)
	require.GreaterOrEqual(t, se.Offset, 0)
	require.LessOrEqual(t, se.Offset, len(input))
}

func FuzzSelector(f *testing.F) {
	for _, s := range seedLines(f, "selectors.txt") {
		f.Add(s)
	}
	probe := []Series{
		{Name: "vllm:num_requests_waiting", Labels: Labels{{"model_name", "llama"}}},
		{Name: "m", Labels: Labels{{"a", "1"}, {"c", "re"}}},
		{Name: "http.server.duration"},
	}
	f.Fuzz(func(t *testing.T, s string) {
		sel, err := ParseSelector(s)
		if err != nil {
			requireSyntaxError(t, err, s)
			return
		}
		require.Equal(t, strings.TrimSpace(s), sel.String())
		for _, x := range probe {
			sel.Matches(x)
		}
		if x, err := ParseSeries(s); err == nil {
			// A series literal selects itself.
			require.True(t, sel.Matches(x), "%q does not match its own series %s", s, x)
		}
	})
}

func FuzzNotation(f *testing.F) {
	for _, s := range seedLines(f, "notations.txt") {
		f.Add(s)
	}
	sel := mustSelector(f, "c")
	f.Fuzz(func(t *testing.T, s string) {
		steps, err := ParseNotation(s)
		if err != nil {
			requireSyntaxError(t, err, s)
			return
		}
		require.LessOrEqual(t, len(steps), MaxSteps)
		for _, st := range steps {
			require.False(t, st.Missing && st.Stale)
		}
		if len(steps) > 500 {
			return
		}
		// Whatever the values, loading and querying them answers or
		// explains, and never panics.
		h := newTestHistory(t, Options{})
		require.NoError(t, h.Load(t0, 10*time.Second,
			Input{Series: "c", Values: s},
			Input{Series: `c_bucket{le="1"}`, Values: s},
			Input{Series: `c_bucket{le="+Inf"}`, Values: s}))
		now := t0.Add(time.Duration(len(steps)) * 10 * time.Second)
		for _, q := range []func() (float64, error){
			func() (float64, error) { return h.Value(now, sel) },
			func() (float64, error) { return h.Rate(now, sel, time.Minute) },
			func() (float64, error) { return h.Delta(now, sel, time.Minute) },
			func() (float64, error) { return h.MinOverTime(now, sel, time.Minute) },
			func() (float64, error) { return h.Quantile(now, 0.9, sel, time.Minute) },
		} {
			if v, err := q(); err != nil {
				require.Zero(t, v)
			}
		}
	})
}
