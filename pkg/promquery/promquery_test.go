package promquery

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/snapshot"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"), goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"))
}

// catalogue returns a compiled-enough catalogue of query sources.
func catalogue(t testing.TB, sources string) *catalog.Catalog {
	t.Helper()
	c, errs := catalog.Parse(catalog.NewFile("c.yaml", []byte(`apiVersion: statusd.io/v1alpha1
kind: Catalog
metadata: {name: q, version: "1"}
sources:
  pods: {version: v1, resource: pods}
`+sources+`reasons:
- {name: R, subject: pods, when: "true", summary: s}
`)))
	require.NoError(t, errs.Err())
	return c
}

// fakeProm answers /api/v1/query by the query text. The second result
// returns the Authorization headers seen so far; the handler runs on many
// goroutines at once, so they are kept under a lock.
func fakeProm(t *testing.T, answers map[string]func(w http.ResponseWriter)) (*httptest.Server, func() []string) {
	var (
		mu   sync.Mutex
		auth []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		mu.Lock()
		auth = append(auth, r.Header.Get("Authorization"))
		mu.Unlock()
		f, ok := answers[r.Form.Get("query")]
		if !ok {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = fmt.Fprintf(w, `{"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected %q"}`, r.Form.Get("query"))
			return
		}
		// An answer may block (a slow Prometheus); it writes to a recorder
		// so that nothing touches w after the handler gave up on it.
		rec := httptest.NewRecorder()
		done := make(chan struct{})
		go func() { defer close(done); f(rec) }()
		select {
		case <-done:
			maps.Copy(w.Header(), rec.Header())
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	return srv, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(auth)
	}
}

func vector(samples ...string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"status":"success","data":{"resultType":"vector","result":[%s]}}`, strings.Join(samples, ","))
	}
}

func TestRunResults(t *testing.T) {
	slow := make(chan struct{})
	t.Cleanup(func() { close(slow) })
	srv, auth := fakeProm(t, map[string]func(http.ResponseWriter){
		"restarts": vector(`{"metric":{"namespace":"a","pod":"p1"},"value":[1,"4"]}`, `{"metric":{"namespace":"a","pod":"p2"},"value":[1,"0"]}`),
		"none":     vector(),
		"many":     vector(`{"metric":{"a":"1"},"value":[1,"1"]}`, `{"metric":{"a":"2"},"value":[1,"1"]}`, `{"metric":{"a":"3"},"value":[1,"1"]}`),
		"scalar": func(w http.ResponseWriter) {
			_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"scalar","result":[1,"2.5"]}}`))
		},
		"matrix": func(w http.ResponseWriter) {
			_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"matrix","result":[]}}`))
		},
		"huge":      vector(`{"metric":{"a":"` + strings.Repeat("x", 4096) + `"},"value":[1,"1"]}`),
		"slow":      func(http.ResponseWriter) { <-slow },
		"servererr": func(w http.ResponseWriter) { w.WriteHeader(http.StatusServiceUnavailable) },
	})
	token := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(token, []byte("s3cret\n"), 0o600))
	r, err := New(Options{URL: srv.URL, BearerTokenFile: token, MaxBytes: 2048})
	require.NoError(t, err)
	c := catalogue(t, `  restarts: {prometheus: {query: restarts}}
  none: {prometheus: {query: none}}
  many: {prometheus: {query: many, maxSeries: 2}}
  scalar: {prometheus: {query: scalar}}
  matrix: {prometheus: {query: matrix}}
  huge: {prometheus: {query: huge}}
  slow: {prometheus: {query: slow, timeout: 200ms}}
  servererr: {prometheus: {query: servererr}}
  typo: {prometheus: {query: typo}}
`)
	at := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	results := map[string]*snapshot.QueryResult{}
	for _, res := range r.Run(context.Background(), at, c) {
		results[res.Source] = res
	}
	require.Len(t, results, 9)
	assert.Equal(t, &snapshot.QueryResult{Source: "restarts", Status: snapshot.StatusReady, At: at, Samples: []snapshot.QuerySample{
		{Labels: map[string]string{"namespace": "a", "pod": "p1"}, Value: 4},
		{Labels: map[string]string{"namespace": "a", "pod": "p2"}, Value: 0},
	}}, results["restarts"])
	assert.Equal(t, snapshot.StatusReady, results["none"].Status, "no series is an answer: absent")
	assert.Empty(t, results["none"].Samples)
	assert.Equal(t, []snapshot.QuerySample{{Labels: map[string]string{}, Value: 2.5}}, results["scalar"].Samples)
	for name, want := range map[string]string{
		"many":      "result has 3 series, over the cap of 2",
		"matrix":    "result is a matrix; want an instant vector or a scalar",
		"huge":      "over the size cap",
		"slow":      "timed out after 200ms",
		"servererr": "503",
		"typo":      "parse error",
	} {
		assert.Equal(t, snapshot.StatusFailed, results[name].Status, name)
		assert.Contains(t, results[name].Err, want, name)
		assert.Empty(t, results[name].Samples, name)
	}
	for _, a := range auth() {
		assert.Equal(t, "Bearer s3cret", a)
	}
}

func TestRunTickTimeoutAndConcurrency(t *testing.T) {
	release := make(chan struct{})
	inFlight, peak := 0, 0
	started := make(chan struct{}, 10)
	mu := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu <- struct{}{}
		inFlight++
		peak = max(peak, inFlight)
		<-mu
		started <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
		mu <- struct{}{}
		inFlight--
		<-mu
		vector()(w)
	}))
	defer srv.Close()
	defer close(release)
	r, err := New(Options{URL: srv.URL, Concurrency: 2, TickTimeout: 300 * time.Millisecond})
	require.NoError(t, err)
	c := catalogue(t, `  a: {prometheus: {query: a}}
  b: {prometheus: {query: b}}
  c: {prometheus: {query: c}}
  d: {prometheus: {query: d}}
`)
	began := time.Now()
	res := r.Run(context.Background(), time.Now(), c)
	assert.Less(t, time.Since(began), 5*time.Second, "the tick's timeout bounds the run")
	require.Len(t, res, 4)
	notRun := 0
	for _, q := range res {
		assert.Equal(t, snapshot.StatusFailed, q.Status, q.Source)
		if strings.Contains(q.Err, "not run within the tick's 300ms") {
			notRun++
		}
	}
	// Which two sources win the two slots is up to the scheduler.
	assert.Equal(t, 2, notRun, "the two queries without a slot before the deadline are not run: %+v", res)
	mu <- struct{}{} // the handlers may still be running
	got := peak
	<-mu
	assert.Equal(t, 2, got, "at most Concurrency queries in flight")
}

// TestQueryTimeoutCaps checks that Options.QueryTimeout cuts a
// catalogue's longer per-query timeout, and leaves a shorter one alone.
func TestQueryTimeoutCaps(t *testing.T) {
	slow := make(chan struct{})
	t.Cleanup(func() { close(slow) })
	srv, _ := fakeProm(t, map[string]func(http.ResponseWriter){
		"slow": func(http.ResponseWriter) { <-slow },
	})
	tests := []struct {
		name    string
		cap     time.Duration
		sources string
		want    string
	}{
		{name: "capped", cap: 150 * time.Millisecond, sources: "  s: {prometheus: {query: slow, timeout: 30s}}\n", want: "timed out after 150ms"},
		{name: "source-shorter", cap: 5 * time.Second, sources: "  s: {prometheus: {query: slow, timeout: 100ms}}\n", want: "timed out after 100ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := New(Options{URL: srv.URL, QueryTimeout: tt.cap})
			require.NoError(t, err)
			began := time.Now()
			res := r.Run(context.Background(), time.Now(), catalogue(t, tt.sources))
			require.Len(t, res, 1)
			assert.Equal(t, snapshot.StatusFailed, res[0].Status)
			assert.Contains(t, res[0].Err, tt.want)
			assert.Less(t, time.Since(began), 3*time.Second)
		})
	}
}

func TestNewErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts Options
		want string
	}{
		{"no URL", Options{}, `prometheus URL ""`},
		{"no scheme", Options{URL: "prometheus:9090"}, "want http(s)"},
		{"half a cert", Options{URL: "http://p", CertFile: "c"}, "needs both a cert file and a key file"},
		{"bad CA", Options{URL: "http://p", CAFile: "/nonexistent"}, "prometheus CA file"},
		{"negative query timeout", Options{URL: "http://p", QueryTimeout: -time.Second}, "must be positive"},
		{"query timeout over the tick's", Options{URL: "http://p", QueryTimeout: time.Minute, TickTimeout: 10 * time.Second}, "query timeout 1m0s exceeds the tick timeout 10s"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.opts)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}
