package sources

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clocktesting "k8s.io/utils/clock/testing"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/series"
	"statusd.io/statusd/pkg/snapshot"
)

func TestPodTarget(t *testing.T) {
	named := &catalog.Scrape{Port: catalog.IntOrString{Str: "metrics"}, Path: "/metrics", Interval: catalog.Duration{D: 15 * time.Second}, Timeout: catalog.Duration{D: 5 * time.Second}}
	numbered := &catalog.Scrape{Port: catalog.IntOrString{Int: 9090}, Path: "/stats", Interval: catalog.Duration{D: 15 * time.Second}, Timeout: catalog.Duration{D: 5 * time.Second}}
	pod := func(status map[string]any, containers ...any) *snapshot.Object {
		return snapshot.NewObject(map[string]any{
			"apiVersion": "v1", "kind": "Pod",
			"metadata": map[string]any{"namespace": "ns", "name": "p", "uid": "u1"},
			"spec":     map[string]any{"containers": containers},
			"status":   status,
		})
	}
	port := func(name string, n int64) map[string]any {
		return map[string]any{"name": "c", "ports": []any{map[string]any{"name": name, "containerPort": n}}}
	}
	running := map[string]any{"phase": "Running", "podIP": "10.0.0.7"}
	cases := []struct {
		name    string
		pod     *snapshot.Object
		scrape  *catalog.Scrape
		want    string // URL
		wantErr string
		skip    bool // not a target
	}{
		{name: "named port", pod: pod(running, port("http", 80), port("metrics", 8000)), scrape: named, want: "http://10.0.0.7:8000/metrics"},
		{name: "number", pod: pod(running), scrape: numbered, want: "http://10.0.0.7:9090/stats"},
		{name: "IPv6", pod: pod(map[string]any{"podIP": "fd00::7"}, port("metrics", 8000)), scrape: named, want: "http://[fd00::7]:8000/metrics"},
		{name: "pending with an IP", pod: pod(map[string]any{"phase": "Pending", "podIP": "10.0.0.7"}), scrape: numbered, want: "http://10.0.0.7:9090/stats"},
		{
			name: "named port of an init container (a sidecar)",
			pod: snapshot.NewObject(map[string]any{
				"metadata": map[string]any{"namespace": "ns", "name": "p"},
				"spec":     map[string]any{"initContainers": []any{port("metrics", 7000)}},
				"status":   running,
			}),
			scrape: named, want: "http://10.0.0.7:7000/metrics",
		},
		{name: "no such port", pod: pod(running, port("http", 80)), scrape: named, wantErr: `pod has no container port named "metrics"`},
		{name: "port out of range", pod: pod(running), scrape: &catalog.Scrape{Port: catalog.IntOrString{Int: 70000}}, wantErr: "port 70000 is out of range"},
		{name: "not an IP", pod: pod(map[string]any{"podIP": "evil.example.com"}), scrape: numbered, wantErr: `pod IP "evil.example.com" is not an IP address`},
		{name: "no IP yet", pod: pod(map[string]any{"phase": "Pending"}), scrape: numbered, skip: true},
		{name: "succeeded", pod: pod(map[string]any{"phase": "Succeeded", "podIP": "10.0.0.7"}), scrape: numbered, skip: true},
		{name: "failed", pod: pod(map[string]any{"phase": "Failed", "podIP": "10.0.0.7"}), scrape: numbered, skip: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := podTarget(tc.pod, tc.scrape)
			if tc.skip {
				assert.False(t, ok)
				return
			}
			require.True(t, ok)
			assert.Equal(t, tc.want, got.url)
			if tc.wantErr != "" {
				require.EqualError(t, got.err, tc.wantErr)
			} else {
				require.NoError(t, got.err)
			}
			assert.Equal(t, "ns/p", got.key())
			assert.Equal(t, tc.scrape.Interval.D, got.interval)
		})
	}
}

func TestPageText(t *testing.T) {
	cases := []struct{ name, page, contentType string }{
		{name: "gauges", page: goodPage, contentType: "text/plain"},
		{name: "histogram", contentType: "text/plain", page: `# TYPE vllm:e2e_request_latency_seconds histogram
vllm:e2e_request_latency_seconds_bucket{le="0.5",model_name="llama"} 1
vllm:e2e_request_latency_seconds_bucket{le="+Inf",model_name="llama"} 4
vllm:e2e_request_latency_seconds_sum{model_name="llama"} 7.25
vllm:e2e_request_latency_seconds_count{model_name="llama"} 4
`},
		{name: "special values and escapes", contentType: "text/plain", page: `a NaN
b +Inf
c -Inf
d{path="C:\\dir",quote="say \"hi\"",nl="a\nb"} 1e-09
`},
		{name: "UTF-8 names", contentType: "text/plain; version=1.0.0; escaping=allow-utf-8", page: `{"my.metric", "the.label"="v"} 2
`},
		{name: "OpenMetrics", contentType: "application/openmetrics-text; version=1.0.0", page: `# TYPE req counter
req_total{code="200"} 10
# EOF
`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			page, err := series.Parse(strings.NewReader(tc.page), tc.contentType, series.Limits{})
			require.NoError(t, err)
			text := pageText(page)
			again, err := series.Parse(strings.NewReader(text), "text/plain", series.Limits{})
			require.NoError(t, err, text)
			assert.Equal(t, fmt.Sprint(page.Samples()), fmt.Sprint(again.Samples()), text) // fmt: NaN != NaN
		})
	}
}

// newTestScraper returns a scraper over a fixed target list.
func newTestScraper(clk *clocktesting.FakeClock, targets ...target) *scraper {
	return newScraper(scraperOptions{
		client:    newHTTPClient(),
		clock:     clk,
		log:       slog.New(slog.DiscardHandler),
		limits:    series.Limits{MaxBytes: 1 << 20},
		workers:   2,
		retention: series.DefaultRetention,
		keep:      true,
	}, func() []target { return targets })
}

func TestFetch(t *testing.T) {
	hits := map[string]*atomic.Int32{}
	handle := func(name string, h http.HandlerFunc) (string, http.Handler) {
		hits[name] = &atomic.Int32{}
		return "/" + name, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits[name].Add(1); h(w, r) })
	}
	var accept atomic.Value
	mux := http.NewServeMux()
	mux.Handle(handle("good", func(w http.ResponseWriter, r *http.Request) {
		accept.Store(r.Header.Get("Accept"))
		_, _ = fmt.Fprint(w, "up 1\n")
	}))
	mux.Handle(handle("openmetrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/openmetrics-text; version=1.0.0; charset=utf-8")
		_, _ = fmt.Fprint(w, "# TYPE up gauge\nup 1\n# EOF\n")
	}))
	mux.Handle(handle("elsewhere", func(w http.ResponseWriter, _ *http.Request) { _, _ = fmt.Fprint(w, "up 1\n") }))
	mux.Handle(handle("redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/elsewhere", http.StatusFound) }))
	mux.Handle(handle("error", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "boom", http.StatusInternalServerError) }))
	mux.Handle(handle("declared-huge", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(2<<20))
		_, _ = w.Write([]byte("up 1\n"))
	}))
	mux.Handle(handle("huge", func(w http.ResponseWriter, _ *http.Request) {
		for range 2 << 10 {
			if _, err := fmt.Fprintf(w, "%s 1\n", strings.Repeat("x", 1020)); err != nil {
				return
			}
		}
	}))
	mux.Handle(handle("hang", func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	mux.Handle(handle("garbage", func(w http.ResponseWriter, _ *http.Request) { _, _ = fmt.Fprint(w, "{{{\n") }))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	cases := []struct {
		path    string
		wantErr []error
		msg     string
	}{
		{path: "good"},
		{path: "openmetrics"},
		{path: "redirect", msg: "unexpected status 302 Found"},
		{path: "error", msg: "unexpected status 500"},
		{path: "declared-huge", wantErr: []error{series.ErrTooLarge}, msg: "content length 2097152 exceeds 1048576 bytes"},
		{path: "huge", wantErr: []error{series.ErrTooLarge}, msg: "body exceeds 1048576 bytes"},
		{path: "hang", wantErr: []error{context.DeadlineExceeded}, msg: "timed out after 200ms"},
		{path: "garbage", wantErr: []error{series.ErrInvalidPage}},
	}
	sc := newTestScraper(clocktesting.NewFakeClock(time.Now()))
	t.Cleanup(sc.client.CloseIdleConnections)
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			tg := target{url: srv.URL + "/" + tc.path, timeout: 200 * time.Millisecond}
			page, err := sc.fetch(t.Context(), tg)
			if tc.wantErr == nil && tc.msg == "" {
				require.NoError(t, err)
				assert.Equal(t, 1, page.Len())
				return
			}
			require.Error(t, err)
			assert.Nil(t, page)
			assert.Contains(t, err.Error(), "scrape "+tg.url)
			assert.Contains(t, err.Error(), tc.msg)
			for _, want := range tc.wantErr {
				require.ErrorIs(t, err, want)
			}
		})
	}
	assert.Zero(t, hits["elsewhere"].Load(), "a redirect is not followed")
	assert.Contains(t, accept.Load(), "application/openmetrics-text")
	assert.Contains(t, accept.Load(), "text/plain")
	assert.NotContains(t, accept.Load(), "protobuf")
}

// waitIdle waits until the scheduler sleeps on the fake clock with no
// scrape in flight, so that a clock step finds it waiting.
func waitIdle(t *testing.T, sc *scraper, clk *clocktesting.FakeClock) {
	t.Helper()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.True(c, clk.HasWaiters())
		sc.mu.Lock()
		defer sc.mu.Unlock()
		for _, st := range sc.targets {
			assert.False(c, st.busy)
		}
	}, 10*time.Second, time.Millisecond)
}

func TestSchedule(t *testing.T) {
	checkLeaks(t)
	var mu sync.Mutex
	hits := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.Path]++
		mu.Unlock()
		_, _ = fmt.Fprint(w, "up 1\n")
	}))
	t.Cleanup(srv.Close)

	start := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	clk := clocktesting.NewFakeClock(start)
	fast := target{namespace: "ns", name: "fast", uid: "1", url: srv.URL + "/fast", interval: 10 * time.Second, timeout: time.Second}
	slow := target{namespace: "ns", name: "slow", uid: "2", url: srv.URL + "/slow", interval: 30 * time.Second, timeout: time.Second}
	broken := target{namespace: "ns", name: "broken", uid: "3", err: errors.New("pod has no container port named \"metrics\""), interval: 10 * time.Second, timeout: time.Second}
	sc := newTestScraper(clk, fast, slow, broken)
	t.Cleanup(sc.client.CloseIdleConnections)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { sc.run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	const span = 60 * time.Second
	for range span / time.Second {
		waitIdle(t, sc, clk)
		clk.Step(time.Second)
	}
	waitIdle(t, sc, clk)

	// Each target is scraped at its offset, then every interval.
	want := func(tg target) int { return int((span-offset(tg.key(), tg.interval))/tg.interval) + 1 }
	mu.Lock()
	assert.Equal(t, want(fast), hits["/fast"])
	assert.Equal(t, want(slow), hits["/slow"])
	mu.Unlock()
	targets, scrapes, failures := sc.stats()
	assert.Equal(t, 3, targets)
	assert.Equal(t, uint64(want(fast)+want(slow)+want(broken)), scrapes)
	assert.Equal(t, uint64(want(broken)), failures, "a pod without its port fails every scrape")

	now := clk.Now()
	hs := map[string]*series.History{}
	for _, pm := range sc.histories() {
		hs[pm.Name] = pm.History
	}
	up, err := series.ParseSelector("up")
	require.NoError(t, err)
	v, err := hs["fast"].Value(now, up)
	require.NoError(t, err)
	assert.InDelta(t, 1.0, v, 0)
	st := hs["fast"].Status()
	last := start.Add(offset(fast.key(), fast.interval) + time.Duration(want(fast)-1)*fast.interval)
	assert.Equal(t, last.Add(time.Second-1).Truncate(time.Second), st.LastScrape.UTC(), "scraped at the first step at or after its time")
	_, err = hs["broken"].Value(now, up)
	require.ErrorIs(t, err, series.ErrScrapeFailed)
	assert.Contains(t, err.Error(), `no container port named "metrics"`)

	t.Run("silence makes a target stale", func(t *testing.T) {
		// Reading far past the last scrape: Unknown, not the last value.
		_, err := hs["fast"].Value(now.Add(staleAfter(fast.interval, fast.timeout)+time.Second), up)
		require.ErrorIs(t, err, series.ErrStale)
	})
}

func TestScrapeAllRecordsInOrder(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = fmt.Fprint(w, "up 1\n") }))
	t.Cleanup(srv.Close)
	clk := clocktesting.NewFakeClock(time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC))
	sc := newTestScraper(clk, target{namespace: "ns", name: "p", url: srv.URL, interval: 10 * time.Second, timeout: time.Second})
	t.Cleanup(sc.client.CloseIdleConnections)

	// The clock does not move between the two: the second is recorded a
	// millisecond later rather than refused as out of order.
	require.NoError(t, sc.scrapeAll(t.Context()))
	require.NoError(t, sc.scrapeAll(t.Context()))
	_, scrapes, failures := sc.stats()
	assert.Equal(t, uint64(2), scrapes)
	assert.Zero(t, failures)
	pages := sc.pages()
	require.Len(t, pages, 1)
	assert.Equal(t, snapshot.Scrape{Pod: "ns/p", At: "2026-11-21T10:00:00.001Z", Text: "up 1\n"}, pages[0])
}
