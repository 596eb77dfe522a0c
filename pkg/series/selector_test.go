package series

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mustSeries(t testing.TB, s string) Series {
	t.Helper()
	x, err := ParseSeries(s)
	require.NoError(t, err)
	return x
}

func mustSelector(t testing.TB, s string) *Selector {
	t.Helper()
	sel, err := ParseSelector(s)
	require.NoError(t, err)
	return sel
}

func TestParseSelector(t *testing.T) {
	tests := []struct {
		name     string
		selector string
		wantName string
		matches  []string
		misses   []string
	}{
		{
			name:     "bare name with colons",
			selector: "vllm:num_requests_waiting",
			wantName: "vllm:num_requests_waiting",
			matches:  []string{`vllm:num_requests_waiting`, `vllm:num_requests_waiting{model_name="a"}`},
			misses:   []string{`vllm:num_requests_running`},
		},
		{
			name:     "all four operators",
			selector: `m{a="1", b!="x", c=~"re.*", d!~"no|nope"}`,
			wantName: "m",
			matches:  []string{`m{a="1",c="re"}`, `m{a="1",b="y",c="really",d="yes"}`},
			misses:   []string{`m{a="1",b="x",c="re"}`, `m{a="1",c="are"}`, `m{a="1",c="re",d="nope"}`, `m{c="re"}`, `n{a="1",c="re"}`},
		},
		{
			name:     "regexp is anchored",
			selector: `m{a=~"b"}`,
			matches:  []string{`m{a="b"}`},
			misses:   []string{`m{a="ab"}`, `m{a="bc"}`},
			wantName: "m",
		},
		{
			name:     "absent label equals empty string",
			selector: `m{a="", b!="x", c=~"|z"}`,
			wantName: "m",
			matches:  []string{`m`, `m{c="z"}`},
			misses:   []string{`m{a="1"}`},
		},
		{
			name:     "spaces, tabs, newlines and a trailing comma",
			selector: " m \t{\n a = \"1\" ,\n} ",
			wantName: "m",
			matches:  []string{`m{a="1"}`},
		},
		{
			name:     "name in braces with __name__",
			selector: `{__name__="up", job="x"}`,
			wantName: "up",
			matches:  []string{`up{job="x"}`},
			misses:   []string{`down{job="x"}`},
		},
		{
			name:     "regexp on __name__ without a name",
			selector: `{__name__=~"vllm:num_requests_.*"}`,
			matches:  []string{`vllm:num_requests_running`, `vllm:num_requests_waiting`},
			misses:   []string{`vllm:gpu_cache_usage_perc`},
		},
		{
			name:     "quoted utf-8 name and label",
			selector: `{"http.server.duration", "http.method"="GET"}`,
			wantName: "http.server.duration",
			matches:  []string{`{"http.server.duration", "http.method"="GET"}`},
		},
		{
			name:     "single quotes, backticks and escapes",
			selector: "m{a='it\\'s \"x\"', b=`raw\\n`, c=\"tab\\t\"}",
			wantName: "m",
			matches:  []string{"m{a=\"it's \\\"x\\\"\", b=\"raw\\\\n\", c=\"tab\\t\"}"},
		},
		{
			name:     "empty braces after a name",
			selector: "m{}",
			wantName: "m",
			matches:  []string{"m"},
		},
		{
			name:     "matchers only, one not matching empty",
			selector: `{job="x"}`,
			matches:  []string{`up{job="x"}`, `down{job="x"}`},
			misses:   []string{`up`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sel, err := ParseSelector(tt.selector)
			require.NoError(t, err)
			assert.Equal(t, tt.wantName, sel.Name())
			for _, s := range tt.matches {
				assert.True(t, sel.Matches(mustSeries(t, s)), "should match %s", s)
			}
			for _, s := range tt.misses {
				assert.False(t, sel.Matches(mustSeries(t, s)), "should not match %s", s)
			}
		})
	}
}

func TestParseSelectorErrors(t *testing.T) {
	tests := []struct {
		name       string
		selector   string
		wantOffset int
		wantMsg    string
	}{
		{name: "empty", selector: "", wantMsg: "empty selector"},
		{name: "only spaces", selector: "  ", wantMsg: "empty selector"},
		{name: "empty braces", selector: "{}", wantMsg: "empty selector"},
		{name: "matches everything", selector: `{a=""}`, wantMsg: "a selector needs a metric name or a matcher that does not match the empty string"},
		{name: "matches everything by regexp", selector: `{a=~".*"}`, wantMsg: "does not match the empty string"},
		{name: "unclosed brace", selector: `m{a="1"`, wantOffset: 7, wantMsg: "expected ',' or '}', found end of input"},
		{name: "missing value", selector: `m{a=}`, wantOffset: 4, wantMsg: "expected a quoted label value, found '}'"},
		{name: "unquoted value", selector: `m{a=b}`, wantOffset: 4, wantMsg: "expected a quoted label value, found 'b'"},
		{name: "bad operator", selector: `m{a<"1"}`, wantOffset: 3, wantMsg: `expected one of = != =~ !~ after label "a", found '<'`},
		{name: "bad label name", selector: `m{1a="1"}`, wantOffset: 2, wantMsg: "expected a label name or '}', found '1'"},
		{name: "unterminated string", selector: `m{a="1}`, wantOffset: 4, wantMsg: "unterminated quoted string"},
		{name: "newline in string", selector: "m{a=\"1\n\"}", wantOffset: 4, wantMsg: "unterminated quoted string"},
		{name: "bad escape", selector: `m{a="\q"}`, wantOffset: 4, wantMsg: "invalid escape in quoted string"},
		{name: "invalid utf-8 escape", selector: `m{a="\xff"}`, wantOffset: 4, wantMsg: "not valid UTF-8"},
		{name: "bad regexp", selector: `m{a=~"("}`, wantOffset: 5, wantMsg: `label "a": invalid regular expression`},
		{name: "trailing garbage", selector: `m{a="1"} x`, wantOffset: 9, wantMsg: "unexpected 'x'"},
		{name: "range suffix", selector: `m[5m]`, wantOffset: 1, wantMsg: "unexpected '['"},
		{name: "name twice", selector: `m{__name__="n"}`, wantOffset: 2, wantMsg: "metric name given twice"},
		{name: "quoted name twice", selector: `m{"n"}`, wantOffset: 2, wantMsg: "metric name given twice"},
		{name: "double comma", selector: `m{a="1",,}`, wantOffset: 8, wantMsg: "expected a label name or '}', found ','"},
		{name: "empty quoted label name", selector: `m{""="x"}`, wantOffset: 2, wantMsg: "empty label name"},
		{name: "bang alone", selector: `m{a!"x"}`, wantOffset: 3, wantMsg: "expected one of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSelector(tt.selector)
			var se *SyntaxError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, "selector", se.Kind)
			assert.Equal(t, tt.wantOffset, se.Offset)
			assert.Contains(t, se.Msg, tt.wantMsg)
			assert.Contains(t, err.Error(), `selector "`)
		})
	}
}

func TestParseSeries(t *testing.T) {
	tests := []struct {
		name    string
		series  string
		want    Series
		wantMsg string
	}{
		{
			name:   "sorted and without empty labels",
			series: `vllm:e2e_request_latency_seconds_bucket{model_name="llama", le="+Inf", x=""}`,
			want:   Series{Name: "vllm:e2e_request_latency_seconds_bucket", Labels: Labels{{"le", "+Inf"}, {"model_name", "llama"}}},
		},
		{name: "bare", series: "up", want: Series{Name: "up"}},
		{name: "no name", series: `{a="1"}`, wantMsg: "a series needs a metric name"},
		{name: "not equality", series: `m{a!="1"}`, wantMsg: `label "a": a series takes only = matchers, not !=`},
		{name: "regexp on the name", series: `{__name__=~"m"}`, wantMsg: "a series needs a metric name"},
		{name: "duplicate label", series: `m{a="1",a="2"}`, wantMsg: `duplicate label name "a"`},
		{name: "duplicate label, one empty", series: "m{a=``,a=\"1\"}", wantMsg: `duplicate label name "a"`},
		{name: "syntax", series: `m{`, wantMsg: "expected a label name or '}'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSeries(tt.series)
			if tt.wantMsg != "" {
				var se *SyntaxError
				require.ErrorAs(t, err, &se)
				assert.Equal(t, "series", se.Kind)
				assert.Contains(t, err.Error(), tt.wantMsg)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestMatchTypeString(t *testing.T) {
	assert.Equal(t, "=", MatchEqual.String())
	assert.Equal(t, "!=", MatchNotEqual.String())
	assert.Equal(t, "=~", MatchRegexp.String())
	assert.Equal(t, "!~", MatchNotRegexp.String())
	assert.Equal(t, "MatchType(9)", MatchType(9).String())
}
