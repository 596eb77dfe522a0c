package alertmanager

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	clocktesting "k8s.io/utils/clock/testing"

	"statusd.io/statusd/pkg/engine"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeAM records what statusd posts, and answers with status.
type fakeAM struct {
	srv    *httptest.Server
	status atomic.Int32
	mu     sync.Mutex
	posts  [][]postable
	auth   []string
}

func newFakeAM(t *testing.T) *fakeAM {
	f := &fakeAM{}
	f.status.Store(http.StatusOK)
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v2/alerts" || r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		code := int(f.status.Load())
		if code != http.StatusOK {
			http.Error(w, "not now", code)
			return
		}
		var batch []postable
		if err := json.NewDecoder(r.Body).Decode(&batch); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.posts = append(f.posts, batch)
		f.auth = append(f.auth, r.Header.Get("Authorization"))
		f.mu.Unlock()
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// alerts returns every alert posted so far, flattened.
func (f *fakeAM) alerts() []postable {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []postable
	for _, b := range f.posts {
		out = append(out, b...)
	}
	return out
}

func (f *fakeAM) named(reason, name string) []postable {
	var out []postable
	for _, a := range f.alerts() {
		if a.Labels[LabelAlertname] == reason && a.Labels[LabelName] == name {
			out = append(out, a)
		}
	}
	return out
}

// harness runs a Sender on a fake clock until the test ends.
type harness struct {
	s     *Sender
	clock *clocktesting.FakeClock
	reg   *prometheus.Registry
}

func start(t *testing.T, opts Options) *harness {
	t.Helper()
	return startCtx(t, context.Background(), opts)
}

// startCtx is start with a context that stops the Sender earlier than the
// test's end, as a statusd restart does.
func startCtx(t *testing.T, parent context.Context, opts Options) *harness {
	t.Helper()
	h := &harness{clock: clocktesting.NewFakeClock(time.Now()), reg: prometheus.NewRegistry()}
	opts.Clock, opts.Registry = h.clock, h.reg
	s, err := New(opts)
	require.NoError(t, err)
	h.s = s
	ctx, cancel := context.WithCancel(parent)
	done := make(chan struct{})
	go func() {
		defer close(done)
		assert.NoError(t, s.Run(ctx))
	}()
	t.Cleanup(func() { cancel(); <-done })
	return h
}

// settled waits until every Alertmanager has the latest form of every
// alert, or has failed (when failing is set).
func (h *harness) settled(t *testing.T) {
	t.Helper()
	require.Eventually(t, func() bool {
		st := h.s.Stats()
		for _, n := range st.Pending {
			if n > 0 {
				return false
			}
		}
		return true
	}, 10*time.Second, 5*time.Millisecond, "alerts not delivered: %+v", h.s.Stats())
}

func TestSenderPublishesRootCausesOnly(t *testing.T) {
	am := newFakeAM(t)
	h := start(t, Options{URLs: []string{am.srv.URL}, Cluster: "prod-eu", ExternalURL: "http://statusd.example:8080/"})
	e := engine.New(compile(t, "1"), engine.Options{})
	w := newWorld()
	w.down["n1"] = true
	w.broken["p1"], w.broken["p2"], w.broken["p3"] = true, true, true
	w.tick(t, e, h.s)
	h.settled(t)

	node := am.named("NodeDown", "n1")
	require.Len(t, node, 1)
	want := labelsOf("NodeDown", "Node", "n1")
	want[LabelCluster] = "prod-eu"
	assert.Equal(t, want, node[0].Labels)
	assert.Equal(t, map[string]string{
		AnnotationMessage:        "node n1 is down",
		AnnotationSummary:        "The node is down.",
		AnnotationSuppressed:     "PodBroken on Pod/apps/p1, PodBroken on Pod/apps/p2",
		AnnotationExplain:        "http://statusd.example:8080/explain?subject=Node%2Fn1",
		AnnotationCatalogVersion: "1",
	}, node[0].Annotations)
	assert.Equal(t, "http://statusd.example:8080/explain?subject=Node%2Fn1", node[0].GeneratorURL)
	assert.True(t, node[0].EndsAt.After(h.clock.Now()), "a firing alert's endsAt lies ahead")
	assert.Len(t, am.named("PodBroken", "p3"), 1, "p3's node is up: it is its own root cause")
	assert.Empty(t, am.named("PodBroken", "p1"), "suppressed symptoms are never sent")
	assert.Empty(t, am.named("PodBroken", "p2"), "suppressed symptoms are never sent")
	assert.Len(t, am.alerts(), 2)
	assert.InDelta(t, 2, testutil.ToFloat64(h.s.metrics.sent.WithLabelValues(am.srv.URL)), 0)

	// The node comes back: NodeDown resolves, and the pods it hid are
	// now root causes of their own.
	w.down["n1"] = false
	res := w.tick(t, e, h.s)
	h.settled(t)
	node = am.named("NodeDown", "n1")
	require.Len(t, node, 2)
	assert.True(t, node[1].EndsAt.Equal(res.Time), "resolved with endsAt at the tick that saw it clear")
	assert.Len(t, am.named("PodBroken", "p1"), 1)
	assert.Len(t, am.named("PodBroken", "p2"), 1)
	assert.Equal(t, Stats{Firing: 3, Pending: map[string]int{am.srv.URL: 0}, Failures: map[string]int{am.srv.URL: 0}}, h.s.Stats(),
		"the delivered resolution is forgotten")
}

// TestSenderKeepsAPageANewCauseHides: a paged symptom that a cause found
// later hides stays firing, since the problem is still there; it resolves
// when it clears.
func TestSenderKeepsAPageANewCauseHides(t *testing.T) {
	am, h, e, w := pagedP3(t)
	require.Len(t, am.named("PodBroken", "p3"), 1)

	w.down["n2"] = true
	res := w.tick(t, e, h.s)
	h.settled(t)
	require.Len(t, am.named("NodeDown", "n2"), 1)
	for _, f := range res.Findings {
		if f.Reason == "PodBroken" {
			require.Equal(t, engine.Suppressed, f.State, "n2 hides p3")
		}
	}
	p3 := am.named("PodBroken", "p3")
	assert.True(t, p3[len(p3)-1].EndsAt.After(h.clock.Now()), "still firing: p3 is still broken")
	assert.Equal(t, 2, h.s.Stats().Firing)

	w.broken["p3"] = false
	res = w.tick(t, e, h.s)
	h.settled(t)
	p3 = am.named("PodBroken", "p3")
	require.Len(t, p3, 2)
	assert.True(t, p3[1].EndsAt.Equal(res.Time), "resolved when it cleared")
}

func TestSenderResendsBeforeEndsAtLapses(t *testing.T) {
	am := newFakeAM(t)
	h := start(t, Options{URLs: []string{am.srv.URL}, ResendInterval: time.Minute})
	e := engine.New(compile(t, "1"), engine.Options{})
	w := newWorld()
	w.broken["p3"] = true
	w.tick(t, e, h.s)
	h.settled(t)
	first := am.named("PodBroken", "p3")
	require.Len(t, first, 1)
	assert.True(t, h.clock.Now().Add(4*time.Minute).Equal(first[0].EndsAt), "endsAt four resend intervals ahead")

	// A tick before the interval sends nothing new.
	h.clock.Step(30 * time.Second)
	w.tick(t, e, h.s)
	h.settled(t)
	require.Len(t, am.named("PodBroken", "p3"), 1)

	h.clock.Step(30 * time.Second)
	require.Eventually(t, func() bool { return len(am.named("PodBroken", "p3")) == 2 }, 10*time.Second, 5*time.Millisecond)
	again := am.named("PodBroken", "p3")[1]
	assert.True(t, first[0].StartsAt.Equal(again.StartsAt), "the same alert, not a new one")
	assert.True(t, h.clock.Now().Add(4*time.Minute).Equal(again.EndsAt))
}

func TestSenderRetriesWithBackoffAndLosesNothing(t *testing.T) {
	am := newFakeAM(t)
	am.status.Store(http.StatusServiceUnavailable)
	h := start(t, Options{URLs: []string{am.srv.URL}, RetryBase: time.Second, RetryMax: 8 * time.Second, ResendInterval: 10 * time.Minute})
	e := engine.New(compile(t, "1"), engine.Options{})
	w := newWorld()
	w.broken["p3"] = true
	w.tick(t, e, h.s)

	// A minute of outage: failures back off 1s, 2s, 4s, 8s, 8s, ...
	failures := func() float64 { return testutil.ToFloat64(h.s.metrics.failures.WithLabelValues(am.srv.URL)) }
	require.Eventually(t, func() bool { return failures() == 1 }, 10*time.Second, 5*time.Millisecond)
	var waits []time.Duration
	for elapsed := time.Duration(0); elapsed < time.Minute; {
		n := failures()
		require.Eventually(t, h.clock.HasWaiters, 10*time.Second, time.Millisecond)
		st := h.s.Stats()
		wait := time.Duration(1<<min(st.Failures[am.srv.URL]-1, 3)) * time.Second
		waits = append(waits, wait)
		// Meanwhile the world changes: nothing of it may be lost.
		if elapsed == 0 {
			w.broken["p4"] = true
			w.tick(t, e, h.s)
		}
		if elapsed > 20*time.Second && w.broken["p3"] {
			w.broken["p3"] = false
			w.tick(t, e, h.s)
		}
		h.clock.Step(wait)
		elapsed += wait
		require.Eventually(t, func() bool { return failures() > n }, 10*time.Second, time.Millisecond)
	}
	assert.Equal(t, []time.Duration{1, 2, 4, 8, 8}, secondsOf(waits[:5]))
	assert.Empty(t, am.alerts())
	assert.InDelta(t, 2, testutil.ToFloat64(h.s.metrics.queue.WithLabelValues(am.srv.URL)), 0, "p3's resolution and p4")

	am.status.Store(http.StatusOK)
	require.Eventually(t, h.clock.HasWaiters, 10*time.Second, time.Millisecond)
	h.clock.Step(8 * time.Second)
	h.settled(t)
	p3 := am.named("PodBroken", "p3")
	require.Len(t, p3, 1, "only the latest form of p3 is sent: its resolution")
	assert.False(t, p3[0].EndsAt.After(time.Now()), "resolved")
	assert.Len(t, am.named("PodBroken", "p4"), 1)
	assert.InDelta(t, 0, testutil.ToFloat64(h.s.metrics.queue.WithLabelValues(am.srv.URL)), 0)
}

func secondsOf(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d / time.Second
	}
	return out
}

// pagedP3 is a Sender on a fake Alertmanager that has been sent the one
// root cause of its world: pod p3 broken.
func pagedP3(t *testing.T) (*fakeAM, *harness, *engine.Engine, *world) {
	t.Helper()
	am := newFakeAM(t)
	h := start(t, Options{URLs: []string{am.srv.URL}})
	e := engine.New(compile(t, "1"), engine.Options{})
	w := newWorld()
	w.broken["p3"] = true
	w.tick(t, e, h.s)
	h.settled(t)
	return am, h, e, w
}

func TestSenderHoldsAlertsWhileUnknown(t *testing.T) {
	am, h, e, w := pagedP3(t)

	// The pods source cannot be read: the finding is held, not resolved.
	h.s.Publish(e.Tick(context.Background(), snapshotWithFailedPods(t, e, w)))
	h.settled(t)
	require.Len(t, am.named("PodBroken", "p3"), 1, "nothing new is sent for a held finding")
	assert.Equal(t, 1, h.s.Stats().Firing)
}

func TestSenderBoundsAlerts(t *testing.T) {
	am := newFakeAM(t)
	am.status.Store(http.StatusServiceUnavailable)
	h := start(t, Options{URLs: []string{am.srv.URL}, MaxAlerts: 2})
	e := engine.New(compile(t, "1"), engine.Options{})
	w := newWorld()
	w.broken["p3"] = true
	w.tick(t, e, h.s)
	w.broken["p3"] = false
	w.broken["p4"] = true
	w.tick(t, e, h.s) // p3 resolved (undelivered), p4 firing: 2 alerts
	w.down["n1"] = true
	w.tick(t, e, h.s) // NodeDown: p3's resolution makes room
	st := h.s.Stats()
	assert.Equal(t, 2, st.Firing)
	assert.Equal(t, 0, st.Resolved)
	assert.InDelta(t, 1, testutil.ToFloat64(h.s.metrics.dropped.WithLabelValues("full")), 0)
	w.broken["p1"] = true
	w.down["n1"] = false
	w.tick(t, e, h.s) // n1 resolves (kept: a resolution of the 2), p1 fires: no room, as all held fire but one
	assert.LessOrEqual(t, h.s.Stats().Firing+h.s.Stats().Resolved, 2)
	assert.InDelta(t, 2, testutil.ToFloat64(h.s.metrics.dropped.WithLabelValues("full")), 0)
}

func TestSenderDropsRefusedBatches(t *testing.T) {
	am := newFakeAM(t)
	am.status.Store(http.StatusBadRequest)
	h := start(t, Options{URLs: []string{am.srv.URL}})
	e := engine.New(compile(t, "1"), engine.Options{})
	w := newWorld()
	w.broken["p3"] = true
	w.tick(t, e, h.s)
	h.settled(t)
	assert.InDelta(t, 1, testutil.ToFloat64(h.s.metrics.dropped.WithLabelValues("refused")), 0)
	assert.Equal(t, 0, h.s.Stats().Failures[am.srv.URL], "a refusal is not retried")
}

func TestSenderSendsToEveryMember(t *testing.T) {
	a, b := newFakeAM(t), newFakeAM(t)
	b.status.Store(http.StatusBadGateway)
	h := start(t, Options{URLs: []string{a.srv.URL, b.srv.URL}, RetryBase: time.Second, RetryMax: time.Second})
	e := engine.New(compile(t, "1"), engine.Options{})
	w := newWorld()
	w.broken["p3"] = true
	w.tick(t, e, h.s)
	require.Eventually(t, func() bool { return len(a.named("PodBroken", "p3")) == 1 }, 10*time.Second, 5*time.Millisecond,
		"one member down does not hold up the other")
	require.Eventually(t, func() bool { return h.s.Stats().Failures[b.srv.URL] > 0 }, 10*time.Second, 5*time.Millisecond)
	b.status.Store(http.StatusOK)
	require.Eventually(t, h.clock.HasWaiters, 10*time.Second, time.Millisecond)
	h.clock.Step(time.Second)
	h.settled(t)
	assert.Len(t, b.named("PodBroken", "p3"), 1)
	assert.Len(t, a.named("PodBroken", "p3"), 1)
}

// TestSenderSendsTheBearerToken checks that the token file is read on
// every POST, so that a rotated token is used from the next one.
func TestSenderSendsTheBearerToken(t *testing.T) {
	am := newFakeAM(t)
	token := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(token, []byte("first\n"), 0o600))
	h := start(t, Options{URLs: []string{am.srv.URL}, BearerTokenFile: token})
	e := engine.New(compile(t, "1"), engine.Options{})
	w := newWorld()
	w.broken["p3"] = true
	w.tick(t, e, h.s)
	h.settled(t)
	require.NoError(t, os.WriteFile(token, []byte("rotated"), 0o600))
	w.broken["p4"] = true
	w.tick(t, e, h.s)
	h.settled(t)
	am.mu.Lock()
	defer am.mu.Unlock()
	assert.Equal(t, []string{"Bearer first", "Bearer rotated"}, am.auth)
}

func TestOptionsErrors(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want []string
	}{
		{"no URL", Options{}, []string{"at least one Alertmanager URL"}},
		{"bad URLs", Options{URLs: []string{"alertmanager:9093", "http://a:9093", "http://a:9093"}}, []string{`"alertmanager:9093": want http(s)`, `"http://a:9093" given twice`}},
		{"bad external URL", Options{URLs: []string{"http://a"}, ExternalURL: "statusd"}, []string{`external URL "statusd"`}},
		{"negative", Options{URLs: []string{"http://a"}, ResendInterval: -1, MaxBatch: -1, MaxAlerts: -1}, []string{"resend interval must be positive", "max batch", "max alerts"}},
		{"retry", Options{URLs: []string{"http://a"}, RetryBase: time.Minute, RetryMax: time.Second}, []string{"retry max 1s is below retry base 1m0s"}},
		{"missing token file", Options{URLs: []string{"http://a"}, BearerTokenFile: "/nonexistent/token"}, []string{"alertmanager bearer token file", "no such file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.opts)
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestTruncateKeepsRunes(t *testing.T) {
	s := strings.Repeat("é", 10)
	got := truncate(s, 9)
	assert.LessOrEqual(t, len(got), 9)
	assert.True(t, strings.HasSuffix(got, "…"))
	assert.Equal(t, "abc", truncate("abc", 9))
}
