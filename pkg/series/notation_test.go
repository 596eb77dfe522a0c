package series

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// steps writes expected expansions compactly: a float64 is a value, "_" is
// missing and "stale" is stale.
func steps(vs ...any) []Step {
	out := make([]Step, len(vs))
	for i, v := range vs {
		switch x := v.(type) {
		case int:
			out[i] = Step{Value: float64(x)}
		case float64:
			out[i] = Step{Value: x}
		case string:
			out[i] = Step{Missing: x == "_", Stale: x == "stale"}
		}
	}
	return out
}

func TestParseNotation(t *testing.T) {
	tests := []struct {
		name     string
		notation string
		want     []Step
	}{
		// The examples of promtool's documentation.
		{name: "a+bxn yields n+1 values", notation: "-2+4x3", want: steps(-2, 2, 6, 10)},
		{name: "a-bxn decrements", notation: " 1-2x4", want: steps(1, -1, -3, -5, -7)},
		{name: "axn repeats n+1 times", notation: " 1x4", want: steps(1, 1, 1, 1, 1)},
		{name: "missing and stale", notation: " 1 _x3 stale", want: steps(1, "_", "_", "_", "stale")},
		{name: "counter", notation: "0+5x10", want: steps(0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50)},
		{name: "plain list", notation: "1 2 3", want: steps(1, 2, 3)},
		{name: "repeat", notation: "10x5", want: steps(10, 10, 10, 10, 10, 10)},
		{name: "_x3 is three missing, not four", notation: "_x3", want: steps("_", "_", "_")},
		{name: "single missing", notation: "_", want: steps("_")},
		{name: "stale alone", notation: "stale", want: steps("stale")},
		{name: "x0 is one value", notation: "7x0", want: steps(7)},
		{name: "_x0 is nothing", notation: "_x0 1", want: steps(1)},
		{name: "empty", notation: "", want: nil},
		{name: "only spaces", notation: "  \t\n ", want: nil},
		{name: "newlines separate like spaces", notation: "1\n2\r\n3", want: steps(1, 2, 3)},
		{name: "explicit plus sign", notation: "+3 -3", want: steps(3, -3)},
		{name: "floats and exponents", notation: "1.5 .5 5. 1e3 2.5e-1 1E+2", want: steps(1.5, 0.5, 5.0, 1000, 0.25, 100)},
		{name: "leading zero is octal as in promtool", notation: "010 08 0", want: steps(8, 8, 0)},
		{name: "0x3 is zero four times, hexadecimal is off", notation: "0x3", want: steps(0, 0, 0, 0)},
		{name: "repetition count is decimal", notation: "1x010", want: steps(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1)},
		{name: "float increments add up as in promtool", notation: "0.1+0.1x2", want: steps(0.1, 0.2, 0.30000000000000004)},
		{name: "increment of a float start", notation: "1.5+0.5x2", want: steps(1.5, 2.0, 2.5)},
		{name: "negative start and negative increment", notation: "-1-1x2", want: steps(-1, -2, -3)},
		{name: "infinities", notation: "Inf -inf +INF", want: steps(math.Inf(1), math.Inf(-1), math.Inf(1))},
		{name: "infinite start with an increment", notation: "Inf+1x1", want: steps(math.Inf(1), math.Inf(1))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseNotation(tt.notation)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseNotationNaN(t *testing.T) {
	got, err := ParseNotation("NaN nan stale+1x2")
	require.NoError(t, err)
	require.Len(t, got, 5)
	for i, s := range []Step{got[0], got[1], got[3], got[4]} {
		assert.True(t, math.IsNaN(s.Value), "step %d", i)
		assert.False(t, s.Stale || s.Missing, "step %d", i)
	}
	// An increment after stale counts from NaN, as in promtool: only the
	// first value is the end marker.
	assert.Equal(t, Step{Stale: true}, got[2])
}

// TestParseNotationBound checks that exactly MaxSteps values, in one item
// or several of every kind, are accepted: the bound refuses only the
// value past it (TestParseNotationErrors).
func TestParseNotationBound(t *testing.T) {
	for _, notation := range []string{"0x99999", "_x99999 1", "0+1x99998 stale", "_x50000 1x49998 2"} {
		got, err := ParseNotation(notation)
		require.NoError(t, err, notation)
		assert.Len(t, got, MaxSteps, notation)
	}
}

func TestParseNotationErrors(t *testing.T) {
	tests := []struct {
		name       string
		notation   string
		wantOffset int
		wantMsg    string
	}{
		{name: "times without value", notation: "x3", wantOffset: 0, wantMsg: `expected a number or stale, found "x3"`},
		{name: "increment without times", notation: "1+2", wantOffset: 3, wantMsg: "expected x and a count after the increment"},
		{name: "stale cannot repeat with x", notation: "stalex3", wantOffset: 0, wantMsg: `found "stalex3"`},
		{name: "stale with a sign", notation: "-stale", wantOffset: 0, wantMsg: `found "stale"`},
		{name: "stale as increment", notation: "1+stalex2", wantOffset: 1, wantMsg: `found "stalex2"`},
		{name: "missing increment number", notation: "1+x3", wantOffset: 1, wantMsg: `found "x3"`},
		{name: "Inf takes no x, as promtool reads one word", notation: "0+Infx1", wantOffset: 1, wantMsg: `found "Infx1"`},
		{name: "missing count", notation: "1x", wantOffset: 2, wantMsg: "expected a number"},
		{name: "missing count after _", notation: "_x", wantOffset: 2, wantMsg: "expected a number"},
		{name: "_ followed by junk", notation: "_3", wantOffset: 1, wantMsg: "expected x after _"},
		{name: "negative count", notation: "1x-3", wantOffset: 2, wantMsg: `expected a number, found "-3"`},
		{name: "fractional count", notation: "1x3.5", wantOffset: 2, wantMsg: `invalid repetition count "3.5"`},
		{name: "count with exponent", notation: "1x1e3", wantOffset: 2, wantMsg: `invalid repetition count "1e3"`},
		{name: "junk after count", notation: "1x3y", wantOffset: 2, wantMsg: `invalid number "3y"`},
		{name: "sign after count", notation: "1x3+1", wantOffset: 3, wantMsg: `unexpected "+1" after the count`},
		{name: "two counts", notation: "1x3x2", wantOffset: 3, wantMsg: `unexpected "x2" after the count`},
		{name: "duration is not a number here", notation: "1m", wantOffset: 0, wantMsg: `invalid number "1m"`},
		{name: "word", notation: "1 foo", wantOffset: 2, wantMsg: `expected a number or stale, found "foo"`},
		{name: "bad exponent", notation: "1e", wantOffset: 0, wantMsg: `invalid number "1e"`},
		{name: "lone dot", notation: ".", wantOffset: 0, wantMsg: "expected a number"},
		{name: "lone sign", notation: "-", wantOffset: 1, wantMsg: "expected a number"},
		{name: "native histogram", notation: "{{schema:0 sum:1}}", wantOffset: 0, wantMsg: "native histogram values are not supported"},
		{name: "offset counts from the whole input", notation: "1 2 3 oops", wantOffset: 6, wantMsg: `found "oops"`},
		{name: "expansion too large", notation: "1x100000000", wantOffset: 0, wantMsg: "expands to more than 100000 values"},
		{name: "many items too large together", notation: "_x60000 _x60000", wantOffset: 8, wantMsg: "expands to more than 100000 values"},
		{name: "count overflows", notation: "1x99999999999999999999", wantOffset: 2, wantMsg: "invalid repetition count"},
		{name: "increment expansion too large", notation: "0+1x100000", wantOffset: 0, wantMsg: "expands to more than"},
		{name: "one value past a full expansion", notation: "0x99999 0", wantOffset: 8, wantMsg: "expands to more than 100000 values"},
		{name: "stale past a full expansion", notation: "_x100000 stale", wantOffset: 9, wantMsg: "expands to more than 100000 values"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseNotation(tt.notation)
			var se *SyntaxError
			require.ErrorAs(t, err, &se, "got %v", got)
			assert.Equal(t, "values", se.Kind)
			assert.Equal(t, tt.wantOffset, se.Offset)
			assert.Contains(t, se.Msg, tt.wantMsg)
		})
	}
}

func TestLoad(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	h := newTestHistory(t, Options{})
	require.NoError(t, h.Load(t0, time.Minute,
		Input{Series: `vllm:num_requests_waiting{model_name="a"}`, Values: "1 2 _ 4 stale"},
		Input{Series: `vllm:num_requests_waiting{model_name="b"}`, Values: "10x2"},
	))
	sel := mustSelector(t, "vllm:num_requests_waiting")
	tests := []struct {
		name    string
		at      time.Duration
		want    float64
		wantErr error
	}{
		{name: "first step", at: 0, want: 11},
		{name: "between steps holds the previous", at: 90 * time.Second, want: 12},
		{name: "missing keeps the previous sample", at: 2 * time.Minute, want: 12},
		{name: "b ends with its values, a goes on", at: 3 * time.Minute, want: 14},
		{name: "stale ends a, b is out of values but still fresh", at: 4 * time.Minute, want: 10},
		{name: "before the first step", at: -time.Second, wantErr: ErrNoData},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := h.Value(t0.Add(tt.at), sel)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.InDelta(t, tt.want, got, 1e-9)
		})
	}
	assert.Equal(t, t0.Add(4*time.Minute), h.Status().LastScrape)
}

func TestLoadErrors(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	tests := []struct {
		name     string
		start    time.Time
		interval time.Duration
		inputs   []Input
		wantErr  error
		wantMsg  string
	}{
		{name: "bad series", start: t0, interval: time.Minute, inputs: []Input{{Series: "m{", Values: "1"}}, wantMsg: `load on target "test": series "m{"`},
		{name: "bad values", start: t0, interval: time.Minute, inputs: []Input{{Series: "m", Values: "1 x"}}, wantMsg: `series m: values "1 x": offset 2`},
		{name: "duplicate series", start: t0, interval: time.Minute, inputs: []Input{{Series: `m{a="1"}`, Values: "1"}, {Series: `m{a="1",b=""}`, Values: "2"}}, wantErr: ErrInvalidArgument, wantMsg: "given twice, as inputs 0 and 1"},
		{name: "zero interval", start: t0, interval: 0, wantErr: ErrInvalidArgument, wantMsg: "interval 0s is shorter than 1ms"},
		{name: "before what is loaded", start: t0.Add(-time.Hour), interval: time.Minute, inputs: []Input{{Series: "m", Values: "1"}}, wantErr: ErrOutOfOrder},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newTestHistory(t, Options{})
			require.NoError(t, h.Load(t0, time.Minute, Input{Series: "seed", Values: "1"}))
			before := h.Status()
			err := h.Load(tt.start, tt.interval, tt.inputs...)
			require.Error(t, err)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
			}
			assert.Contains(t, err.Error(), tt.wantMsg)
			assert.Equal(t, before, h.Status(), "a failed Load records nothing")
		})
	}
}

func TestLoadSeriesLimit(t *testing.T) {
	h := newTestHistory(t, Options{MaxSeries: 2})
	err := h.Load(time.Unix(0, 0), time.Minute, Input{Series: "a", Values: "1"}, Input{Series: "b", Values: "1"}, Input{Series: "c", Values: "1"})
	require.ErrorIs(t, err, ErrTooLarge)
	assert.Contains(t, err.Error(), "3 series, more than 2")
}
