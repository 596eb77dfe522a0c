package series

import (
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const omType = "application/openmetrics-text; version=1.0.0; charset=utf-8"

func readTestdata(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return string(b)
}

// valueOf returns the value of the series written s in p, failing the test
// when p does not hold it.
func valueOf(t *testing.T, p *Page, s string) float64 {
	t.Helper()
	want, err := ParseSeries(s)
	require.NoError(t, err)
	for _, x := range p.Samples() {
		if compareSeries(x.Series, want) == 0 {
			return x.Value
		}
	}
	require.Failf(t, "series not in page", "%s", s)
	return 0
}

func TestParse(t *testing.T) {
	const llama = `model_name="meta-llama/Llama-3.1-8B-Instruct"`
	tests := []struct {
		name        string
		body        string
		contentType string
		limits      Limits
		wantLen     int
		want        map[string]float64 // series -> value
		wantErr     error
		wantMsg     string
	}{
		{
			name:        "vllm text page",
			body:        readTestdata(t, "vllm.txt"),
			contentType: "text/plain; version=0.0.4; charset=utf-8",
			wantLen:     207,
			want: map[string]float64{
				"vllm:num_requests_waiting{" + llama + "}":                                                             7,
				"vllm:num_requests_running{" + llama + "}":                                                             3,
				"vllm:e2e_request_latency_seconds_bucket{le=\"+Inf\"," + llama + "}":                                   10230,
				"vllm:e2e_request_latency_seconds_count{" + llama + "}":                                                10230,
				"vllm:request_success_total{finished_reason=\"abort\"," + llama + "}":                                  31,
				"vllm:lora_requests_info{max_lora=\"0\"}":                                                              1.73214592e+09,
				"python_gc_objects_collected_total{generation=\"0\"}":                                                  18293,
				"process_resident_memory_bytes":                                                                        3.912192e+09,
				"vllm:e2e_request_latency_seconds_sum{" + llama + "}":                                                  61380.4,
				"vllm:time_to_first_token_seconds_bucket{le=\"0.001\"," + llama + "}":                                  1868,
				"vllm:cpu_prefix_cache_hit_rate{" + llama + "}":                                                        -1,
				"vllm:request_success_created{finished_reason=\"stop\"," + llama + "}":                                 1.7321459213e+09,
				"vllm:iteration_tokens_total_bucket{le=\"8192.0\"," + llama + "}":                                      84179,
				"vllm:request_max_num_generation_tokens_sum{" + llama + "}":                                            4.1e+07,
				"vllm:gpu_cache_usage_perc{" + llama + "}":                                                             0.4173,
				"python_info{implementation=\"CPython\",major=\"3\",minor=\"12\",patchlevel=\"8\",version=\"3.12.8\"}": 1,
			},
		},
		{
			name:        "openmetrics page with exemplars, timestamps and OpenMetrics-only types",
			body:        readTestdata(t, "openmetrics.txt"),
			contentType: omType,
			wantLen:     22,
			want: map[string]float64{
				`vllm:num_requests_waiting{model_name="llama"}`:                           5,
				`vllm:request_success_total{finished_reason="length",model_name="llama"}`: 8,
				`vllm:e2e_request_latency_seconds_bucket{le="1.0",model_name="llama"}`:    40,
				`build_info{version="0.6.4",revision="a1b2c3"}`:                           1,
				`cache_state{cache_state="cold"}`:                                         0,
				`queue_depth_gcount`:                                                      4,
				`mystery`:                                                                 42,
				`{"http.server.duration_total", "http.method"="GET"}`:                     7,
			},
		},
		{
			name:    "no content type reads as text",
			body:    "up 1\n",
			wantLen: 1,
			want:    map[string]float64{"up": 1},
		},
		{
			name:        "garbled content type reads as text",
			body:        "up 1\n",
			contentType: "text/plain; ;;=",
			wantLen:     1,
		},
		{
			name:    "empty body is an empty page",
			body:    "",
			wantLen: 0,
		},
		{
			name:    "last line without newline",
			body:    "# TYPE up gauge\nup 1",
			wantLen: 1,
			want:    map[string]float64{"up": 1},
		},
		{
			name:    "comment-only last line without newline",
			body:    "up 1\n# EOF",
			wantLen: 1,
		},
		{
			name:    "labels are sorted and empty values dropped",
			body:    `m{z="1",a="2",e=""} 3` + "\n",
			wantLen: 1,
			want:    map[string]float64{`m{a="2",z="1"}`: 3},
		},
		{
			name:    "special values",
			body:    "a NaN\nb +Inf\nc -Inf\nd 1e-3\n",
			wantLen: 4,
			want:    map[string]float64{"b": math.Inf(1), "c": math.Inf(-1), "d": 0.001},
		},
		{
			name:    "text timestamps are accepted and ignored",
			body:    "up 1 1732145920123\n",
			wantLen: 1,
			want:    map[string]float64{"up": 1},
		},
		{
			name:    "indented comment is a comment",
			body:    "  # TYPE up counter\nup 1\n",
			wantLen: 1,
		},
		{
			name:    "garbage html",
			body:    readTestdata(t, "garbage.txt"),
			wantErr: ErrInvalidPage,
			wantMsg: "invalid metrics page: text format parsing error in line 1",
		},
		{
			name:    "garbage bytes",
			body:    readTestdata(t, "garbage.bin"),
			wantErr: ErrInvalidPage,
		},
		{
			name:    "line numbers survive blanked comments",
			body:    "# HELP up x\n# TYPE up gauge\nup 1\nup{ 2\n",
			wantErr: ErrInvalidPage,
			wantMsg: "line 4",
		},
		{
			name:    "value is not a number",
			body:    "up one\n",
			wantErr: ErrInvalidPage,
			wantMsg: `expected float as value, got "one"`,
		},
		{
			name:    "duplicate series",
			body:    "up{a=\"1\"} 1\nup{a=\"1\"} 2\n",
			wantErr: ErrInvalidPage,
			wantMsg: `duplicate series up{a="1"}`,
		},
		{
			name:    "duplicate label name",
			body:    "up{a=\"1\",a=\"2\"} 1\n",
			wantErr: ErrInvalidPage,
			wantMsg: "duplicate label names",
		},
		{
			name:    "invalid UTF-8 label value",
			body:    "up{a=\"\xff\"} 1\n",
			wantErr: ErrInvalidPage,
			wantMsg: "invalid label value",
		},
		{
			name:        "openmetrics without EOF is truncated",
			body:        "up 1\n",
			contentType: omType,
			wantErr:     ErrInvalidPage,
			wantMsg:     "does not end with # EOF",
		},
		{
			name:        "openmetrics with content after EOF",
			body:        "up 1\n# EOF\nup 2\n",
			contentType: omType,
			wantErr:     ErrInvalidPage,
			wantMsg:     "line 3: content after # EOF",
		},
		{
			name:        "openmetrics blank lines after EOF are tolerated",
			body:        "up 1\n# EOF\n\n",
			contentType: omType,
			wantLen:     1,
		},
		{
			name:        "protobuf is refused",
			body:        "\x00\x01",
			contentType: "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited",
			wantErr:     ErrInvalidPage,
			wantMsg:     "is not supported",
		},
		{
			name:    "huge page over the byte limit",
			body:    readTestdata(t, "huge.txt"),
			limits:  Limits{MaxBytes: 256 << 10},
			wantErr: ErrTooLarge,
			wantMsg: "scrape too large: body exceeds 262144 bytes",
		},
		{
			name:    "huge page under a large enough limit",
			body:    readTestdata(t, "huge.txt"),
			wantLen: 7170,
		},
		{
			name:    "exactly at the byte limit",
			body:    "up 1\n",
			limits:  Limits{MaxBytes: 5},
			wantLen: 1,
		},
		{
			name:    "one byte over the byte limit",
			body:    "up 10\n",
			limits:  Limits{MaxBytes: 5},
			wantErr: ErrTooLarge,
			wantMsg: "body exceeds 5 bytes",
		},
		{
			name:    "too many series",
			body:    readTestdata(t, "vllm.txt"),
			limits:  Limits{MaxSeries: 200},
			wantErr: ErrTooLarge,
			wantMsg: "page has 207 series, more than 200",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse(strings.NewReader(tt.body), tt.contentType, tt.limits)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.Contains(t, err.Error(), tt.wantMsg)
				assert.Nil(t, p)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantLen, p.Len())
			for s, v := range tt.want {
				assert.InDelta(t, v, valueOf(t, p, s), 1e-9, s)
			}
			// Pages are sorted and hold every series once.
			for i := 1; i < p.Len(); i++ {
				assert.Negative(t, compareSeries(p.Samples()[i-1].Series, p.Samples()[i].Series))
			}
		})
	}
}

// endless is a reader that never ends, like a target that streams forever.
type endless struct{ read int64 }

func (e *endless) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = "up 1\n"[(e.read+int64(i))%5]
	}
	e.read += int64(len(b))
	return len(b), nil
}

func TestParseStopsReadingPastTheLimit(t *testing.T) {
	r := &endless{}
	_, err := Parse(r, "", Limits{MaxBytes: 1 << 20})
	require.ErrorIs(t, err, ErrTooLarge)
	assert.LessOrEqual(t, r.read, int64(1<<20+1), "read past the limit")
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("connection reset by peer") }

func TestParseReadError(t *testing.T) {
	_, err := Parse(io.MultiReader(strings.NewReader("up 1\n"), failingReader{}), "", Limits{})
	require.Error(t, err)
	assert.Equal(t, "read body: connection reset by peer", err.Error())
}

func TestNewPage(t *testing.T) {
	tests := []struct {
		name    string
		samples []Sample
		want    []Sample
		wantMsg string
	}{
		{
			name: "canonicalises and sorts",
			samples: []Sample{
				{Series: Series{Name: "b"}, Value: 2},
				{Series: Series{Name: "a", Labels: Labels{{"z", "1"}, {"y", ""}, {"x", "2"}}}, Value: 1},
			},
			want: []Sample{
				{Series: Series{Name: "a", Labels: Labels{{"x", "2"}, {"z", "1"}}}, Value: 1},
				{Series: Series{Name: "b"}, Value: 2},
			},
		},
		{
			name:    "empty name",
			samples: []Sample{{Series: Series{}}},
			wantMsg: "empty metric name",
		},
		{
			name:    "reserved label",
			samples: []Sample{{Series: Series{Name: "a", Labels: Labels{{"__name__", "b"}}}}},
			wantMsg: `invalid label name "__name__"`,
		},
		{
			name:    "invalid UTF-8",
			samples: []Sample{{Series: Series{Name: "a", Labels: Labels{{"l", "\xff"}}}}},
			wantMsg: "not valid UTF-8",
		},
		{
			name:    "duplicate label",
			samples: []Sample{{Series: Series{Name: "a", Labels: Labels{{"l", "1"}, {"l", "2"}}}}},
			wantMsg: `duplicate label name "l"`,
		},
		{
			name: "same series twice once canonical",
			samples: []Sample{
				{Series: Series{Name: "a", Labels: Labels{{"l", "1"}}}},
				{Series: Series{Name: "a", Labels: Labels{{"l", "1"}, {"m", ""}}}},
			},
			wantMsg: `duplicate series a{l="1"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewPage(tt.samples)
			if tt.wantMsg != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantMsg)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, p.Samples())
		})
	}
}

func TestSeriesString(t *testing.T) {
	tests := []struct {
		name   string
		series Series
		want   string
	}{
		{name: "bare", series: Series{Name: "up"}, want: "up"},
		{name: "colon name", series: Series{Name: "vllm:num_requests_running", Labels: Labels{{"model_name", "llama"}}}, want: `vllm:num_requests_running{model_name="llama"}`},
		{name: "utf-8 name", series: Series{Name: "http.requests"}, want: `{"http.requests"}`},
		{name: "utf-8 name and label", series: Series{Name: "http.requests", Labels: Labels{{"http.method", "GET"}}}, want: `{"http.requests", "http.method"="GET"}`},
		{name: "escapes", series: Series{Name: "m", Labels: Labels{{"a", "x\"y\n"}}}, want: `m{a="x\"y\n"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.series.String())
			back, err := ParseSeries(tt.want)
			require.NoError(t, err)
			assert.Equal(t, tt.series, back)
		})
	}
}
