package daemon

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes/fake"

	corev1 "k8s.io/api/core/v1"

	k8sruntime "k8s.io/apimachinery/pkg/runtime"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"statusd.io/statusd/internal/fixtures"
	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/engine"
	"statusd.io/statusd/pkg/loader"
	"statusd.io/statusd/pkg/prune"
	"statusd.io/statusd/pkg/reload"
	"statusd.io/statusd/pkg/snapshot"
)

const testCatalog = `apiVersion: statusd.io/v1alpha1
kind: Catalog
metadata: {name: daemon-test, version: "%s"}
sources:
  pods: {version: v1, resource: pods}
reasons:
- name: PodPending
  subject: pods
  when: object.?status.?phase.orValue("") == "Pending"
  summary: pending
`

func compile(t *testing.T, version string) *reload.Update {
	t.Helper()
	u := &reload.Update{Result: loader.Files([]*catalog.File{catalog.NewFile("c.yaml", []byte(strings.Replace(testCatalog, "%s", version, 1)))}, nil, "test", cel.Options{})}
	require.False(t, u.Rejected(), u.Problems.Error())
	return u
}

// memCatalogs is a catalogue watcher fed by the test; pending is what it
// says about a first catalogue not yet come.
type memCatalogs struct {
	updates chan *reload.Update
	pending error
}

func (m *memCatalogs) Pending(context.Context) error { return m.pending }

func (m *memCatalogs) Run(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

func (m *memCatalogs) Updates() <-chan *reload.Update { return m.updates }

// memNotifier records rejected catalogues.
type memNotifier struct {
	mu       sync.Mutex
	rejected []string
}

func (n *memNotifier) CatalogRejected(origin string, _ catalog.ErrorList, obj k8sruntime.Object) {
	n.mu.Lock()
	defer n.mu.Unlock()
	name := "<pod>"
	if cm, ok := obj.(*corev1.ConfigMap); ok {
		name = cm.Name
	}
	n.rejected = append(n.rejected, origin+" on "+name)
}

// memSources is an in-memory stand-in for the live sources: the loop's
// logic (debounce, resync, reload) is what is under test here; the real
// sources are tested against the API server in their own package.
type memSources struct {
	mu      sync.Mutex
	phase   string
	changed chan struct{}
	applied []string
	refuse  bool
}

func (m *memSources) Apply(c *catalog.Catalog, _ map[string]*prune.Tree) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.applied = append(m.applied, c.Metadata.Version)
	if m.refuse {
		return errors.New("sources refused")
	}
	return nil
}

func (m *memSources) Run(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

func (m *memSources) Snapshot(now time.Time) *snapshot.Snapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	b := snapshot.NewBuilder(now, snapshot.Cluster{Version: "v1.36.3"})
	b.Add("pods", snapshot.NewObject(map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": "p", "namespace": "ns", "uid": "u1"},
		"status":   map[string]any{"phase": m.phase},
	}))
	return b.Build()
}

func (m *memSources) Changed() <-chan struct{} { return m.changed }

// memPublisher records results and fails the test if two ticks overlap.
type memPublisher struct {
	inFlight atomic.Int32
	overlap  atomic.Bool
	forgot   atomic.Int32
	mu       sync.Mutex
	results  []*engine.Result
	ticks    chan *engine.Result

	stopped, drainedBeforeStop bool
}

func (p *memPublisher) Publish(res *engine.Result) {
	if p.inFlight.Add(1) > 1 {
		p.overlap.Store(true)
	}
	defer p.inFlight.Add(-1)
	p.mu.Lock()
	p.results = append(p.results, res)
	p.mu.Unlock()
	p.ticks <- res
}

func (p *memPublisher) Restore(context.Context) ([]engine.Restored, error) { return nil, nil }

func (p *memPublisher) Forget() { p.forgot.Add(1) }

func (p *memPublisher) Run(ctx context.Context) error {
	<-ctx.Done()
	p.mu.Lock()
	p.stopped = true
	p.mu.Unlock()
	return nil
}

// Drain records that it was called before Run stopped.
func (p *memPublisher) Drain(context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.drainedBeforeStop = !p.stopped
	return nil
}

func next(t *testing.T, p *memPublisher) *engine.Result {
	t.Helper()
	select {
	case r := <-p.ticks:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("no tick")
	}
	return nil
}

// harness is a daemon over in-memory parts and a fake clock.
type harness struct {
	d        *Daemon
	src      *memSources
	pub      *memPublisher
	catalogs *memCatalogs
	notifier *memNotifier
	clock    *clocktesting.FakeClock
	done     chan error
	cancel   context.CancelFunc
}

// setup builds a daemon whose first catalogue (version 1) is queued. The
// sources' change channel is unbuffered, so that a test's send returns
// only once the loop has taken it, and a second send only once the loop
// has handled the first: the test knows the debounce timer is armed
// without sleeping.
func setup(t *testing.T, opts Options) *harness {
	t.Helper()
	h := &harness{
		src:      &memSources{phase: "Running", changed: make(chan struct{})},
		pub:      &memPublisher{ticks: make(chan *engine.Result, 100)},
		catalogs: &memCatalogs{updates: make(chan *reload.Update, 1)},
		notifier: &memNotifier{},
		clock:    clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)),
	}
	h.catalogs.updates <- compile(t, "1")
	opts.Sources, opts.Publisher, opts.Catalogs, opts.Notifier, opts.Clock = h.src, h.pub, h.catalogs, h.notifier, h.clock
	d, err := New(opts)
	require.NoError(t, err)
	h.d = d
	return h
}

// run starts the daemon and waits for its first tick.
func (h *harness) run(t *testing.T) *engine.Result {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan error, 1)
	go func() { h.done <- h.d.Run(ctx) }()
	t.Cleanup(func() { h.stop(t) })
	return next(t, h.pub)
}

// stop ends the daemon and checks it stopped cleanly.
func (h *harness) stop(t *testing.T) {
	t.Helper()
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.cancel = nil
	select {
	case err := <-h.done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("daemon did not stop")
	}
	assert.False(t, h.pub.overlap.Load(), "ticks overlapped")
}

// change signals a change of the sources.
func (h *harness) change(phase string) {
	h.src.mu.Lock()
	h.src.phase = phase
	h.src.mu.Unlock()
	h.src.changed <- struct{}{}
}

// noTick checks that no tick happened: the fake clock fires due timers
// inside Step, so a tick not queued by now is not coming.
func noTick(t *testing.T, p *memPublisher) {
	t.Helper()
	select {
	case r := <-p.ticks:
		t.Fatalf("unexpected tick at %s", r.Time)
	default:
	}
}

func TestDebounce(t *testing.T) {
	h := setup(t, Options{Resync: time.Hour, Debounce: 200 * time.Millisecond})
	first := h.run(t)
	assert.Empty(t, first.Published(), "a running pod is healthy")

	// A burst of changes costs one tick, a debounce period after the first.
	h.change("Pending")
	h.change("Pending") // returns once the loop handled the first: the timer is armed
	h.clock.Step(199 * time.Millisecond)
	h.change("Pending")
	noTick(t, h.pub)
	h.clock.Step(time.Millisecond)
	res := next(t, h.pub)
	require.Len(t, res.Published(), 1)
	assert.Equal(t, "PodPending", res.Published()[0].Reason)
	noTick(t, h.pub)

	// The next change arms a new timer.
	h.change("Running")
	h.change("Running")
	h.clock.Step(200 * time.Millisecond)
	assert.Empty(t, next(t, h.pub).Published())
}

func TestResyncTicksWithoutChanges(t *testing.T) {
	h := setup(t, Options{Resync: 30 * time.Second, Debounce: time.Second})
	h.run(t)
	for i := range 3 {
		h.clock.Step(30*time.Second - time.Millisecond)
		noTick(t, h.pub)
		h.clock.Step(time.Millisecond)
		res := next(t, h.pub)
		assert.Equal(t, h.clock.Now(), res.Time, "tick %d is of the clock's time", i)
	}
}

func TestRunWaitsForTheFirstCatalogue(t *testing.T) {
	tests := []struct {
		name  string
		first *reload.Update
		want  string
	}{
		{name: "rejected", first: &reload.Update{Result: loader.Files([]*catalog.File{catalog.NewFile("c.yaml", []byte("kind: Catalog\n"))}, nil, "test", cel.Options{})}, want: "catalogue from test rejected:\nc.yaml:1:1: missing apiVersion"},
		{name: "none", want: "no catalogue within 1m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := setup(t, Options{})
			<-h.catalogs.updates
			if tt.first != nil {
				h.catalogs.updates <- tt.first
			}
			done := make(chan error, 1)
			go func() { done <- h.d.Run(context.Background()) }()
			if tt.first == nil {
				for !h.clock.HasWaiters() {
					runtime.Gosched()
				}
				h.clock.Step(time.Minute)
			}
			err := <-done
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Empty(t, h.src.applied, "nothing started")
		})
	}
}

// TestRunWaitsOutAnUnreachableAPIServer: a replica started while the API
// server is down keeps waiting for its catalogue past FirstCatalogTimeout,
// serving /healthz meanwhile, and starts once the catalogue comes; an error
// waiting cannot cure ends the wait at the bound, naming it.
func TestRunWaitsOutAnUnreachableAPIServer(t *testing.T) {
	refused := &url.Error{Op: "Get", URL: "https://127.0.0.1:6443/api/v1/namespaces/statusd/configmaps", Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}
	forbidden := apierrors.NewForbidden(schema.GroupResource{Resource: "configmaps"}, "statusd-catalog", errors.New("RBAC: access denied"))
	tests := []struct {
		name    string
		pending error
		want    string // the error Run ends with; empty: it keeps waiting
	}{
		{name: "connection refused", pending: fmt.Errorf("list catalogue configmap statusd/catalog: %w", refused)},
		{name: "server unavailable", pending: apierrors.NewServiceUnavailable("etcd is down")},
		{name: "too many requests", pending: apierrors.NewTooManyRequests("slow down", 1)},
		{name: "forbidden", pending: forbidden, want: `no catalogue within 1m0s: configmaps "statusd-catalog" is forbidden: RBAC: access denied`},
		{name: "unauthorized", pending: apierrors.NewUnauthorized("token expired"), want: "no catalogue within 1m0s: token expired"},
		{name: "certificate", pending: &url.Error{Op: "Get", URL: "https://127.0.0.1:6443/", Err: x509.UnknownAuthorityError{}}, want: "no catalogue within 1m0s: Get \"https://127.0.0.1:6443/\": x509: certificate signed by unknown authority"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, err := fixtures.FreeAddr()
			require.NoError(t, err)
			h := setup(t, Options{Listen: addr})
			first := <-h.catalogs.updates
			h.catalogs.pending = tt.pending
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- h.d.Run(ctx) }()
			require.Eventually(t, func() bool {
				resp, err := http.Get("http://" + addr + "/healthz")
				if err != nil {
					return false
				}
				_ = resp.Body.Close()
				return resp.StatusCode == http.StatusOK
			}, 10*time.Second, 10*time.Millisecond, "/healthz is served before the first catalogue")
			resp, err := http.Get("http://" + addr + "/readyz")
			require.NoError(t, err)
			_ = resp.Body.Close()
			assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "not ready without a catalogue")
			for range 3 {
				for !h.clock.HasWaiters() {
					runtime.Gosched()
				}
				h.clock.Step(time.Minute)
				if tt.want != "" {
					break
				}
			}
			if tt.want != "" {
				err := <-done
				require.Error(t, err)
				assert.Equal(t, tt.want, err.Error())
				assert.Empty(t, h.src.applied, "nothing started")
				return
			}
			select {
			case err := <-done:
				t.Fatalf("Run gave up after 3m of an unreachable API server: %v", err)
			default:
			}
			h.catalogs.updates <- first
			require.Eventually(t, func() bool {
				h.src.mu.Lock()
				defer h.src.mu.Unlock()
				return len(h.src.applied) == 1
			}, 10*time.Second, time.Millisecond, "the catalogue that comes at last is applied")
			cancel()
			require.NoError(t, <-done)
		})
	}
}

func TestReloadSwapsOrKeepsTheCatalogue(t *testing.T) {
	h := setup(t, Options{Resync: time.Hour})
	h.run(t)
	srv := httptest.NewServer(h.d.Handler())
	defer srv.Close()

	h.catalogs.updates <- compile(t, "2")
	require.Eventually(t, func() bool { return h.d.Engine().Catalog().Source.Metadata.Version == "2" }, 5*time.Second, time.Millisecond)
	assert.Equal(t, []string{"1", "2"}, h.src.applied)
	assert.Contains(t, get(t, srv.URL+"/metrics"), "statusd_catalog_last_reload_successful 1")

	bad := &reload.Update{
		Result: loader.Files([]*catalog.File{catalog.NewFile("c.yaml", []byte("kind: Catalog\n"))}, nil, "configmap/ns/cm", cel.Options{}),
		Object: &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm", Namespace: "ns"}},
	}
	require.True(t, bad.Rejected())
	h.d.reload(bad)
	assert.Equal(t, "2", h.d.Engine().Catalog().Source.Metadata.Version, "a rejected catalogue changes nothing")
	assert.Equal(t, []string{"configmap/ns/cm on cm"}, h.notifier.rejected, "the Event goes on the ConfigMap the update came from")
	m := get(t, srv.URL+"/metrics")
	assert.Contains(t, m, "statusd_catalog_last_reload_successful 0")
	assert.Contains(t, m, `statusd_catalog_reloads_total{outcome="rejected"} 1`)
	assert.Contains(t, m, `statusd_catalog_info{catalog="daemon-test"`)

	h.src.mu.Lock()
	h.src.refuse = true
	h.src.mu.Unlock()
	h.d.reload(compile(t, "3"))
	assert.Equal(t, "2", h.d.Engine().Catalog().Source.Metadata.Version, "a catalogue the sources refuse changes nothing")
}

func TestShutdownDrainsTheWriterBeforeStoppingIt(t *testing.T) {
	h := setup(t, Options{})
	h.run(t)
	h.stop(t)
	h.pub.mu.Lock()
	defer h.pub.mu.Unlock()
	assert.True(t, h.pub.stopped)
	assert.True(t, h.pub.drainedBeforeStop)
}

func TestHTTPEndpoints(t *testing.T) {
	h := setup(t, Options{Resync: time.Hour, Debounce: time.Millisecond})
	srv := httptest.NewServer(h.d.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/readyz")
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "not ready before the first tick")

	h.src.phase = "Pending"
	h.run(t)

	assert.Equal(t, "ok\n", get(t, srv.URL+"/readyz"))
	assert.Equal(t, "ok\n", get(t, srv.URL+"/healthz"))
	var st struct {
		Leader bool
		Ready  bool
		Result engine.Result
	}
	require.NoError(t, json.Unmarshal([]byte(get(t, srv.URL+"/status")), &st))
	assert.True(t, st.Leader)
	require.Len(t, st.Result.Findings, 1)
	assert.Equal(t, "PodPending", st.Result.Findings[0].Reason)

	var ex engine.Explanation
	require.NoError(t, json.Unmarshal([]byte(get(t, srv.URL+"/explain?subject=Pod/ns/p")), &ex))
	require.Len(t, ex.Reasons, 1)
	assert.Equal(t, "true", ex.Reasons[0].Outcome)

	resp, err = http.Get(srv.URL + "/explain?subject=Pod/ns/nope")
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)

	m := get(t, srv.URL+"/metrics")
	assert.Contains(t, m, `statusd_findings{layer="",reason="PodPending",state="Firing"} 1`)
	assert.Contains(t, m, "statusd_tick_duration_seconds_count")
}

// pendingCatalog has a reason whose grace keeps the test pod Pending, with
// a message.
const pendingCatalog = `apiVersion: statusd.io/v1alpha1
kind: Catalog
metadata: {name: daemon-test, version: "1"}
sources:
  pods: {version: v1, resource: pods}
reasons:
- name: PodSlow
  subject: pods
  when: object.?status.?phase.orValue("") == "Pending"
  grace: 1h
  message: '"pod " + object.metadata.namespace + "/" + object.metadata.name + " is " + object.status.phase'
  summary: slow
`

// TestHTTPRendersDeferredMessages: the daemon's ticks leave Pending
// findings' messages unrendered, and /status and /explain render them as
// a tick would have, while ticks go on.
func TestHTTPRendersDeferredMessages(t *testing.T) {
	h := setup(t, Options{Resync: time.Hour, Debounce: time.Millisecond})
	<-h.catalogs.updates
	u := &reload.Update{Result: loader.Files([]*catalog.File{catalog.NewFile("c.yaml", []byte(pendingCatalog))}, nil, "test", cel.Options{})}
	require.False(t, u.Rejected(), u.Problems.Error())
	h.catalogs.updates <- u
	srv := httptest.NewServer(h.d.Handler())
	defer srv.Close()
	h.src.phase = "Pending"
	res := h.run(t)
	require.Len(t, res.Findings, 1)
	require.Equal(t, engine.Pending, res.Findings[0].State)
	assert.Empty(t, res.Findings[0].Message, "the tick defers a Pending finding's message")

	const want = "pod ns/p is Pending"
	getJSON := func(path string, v any) error {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			return err
		}
		defer func() { _ = resp.Body.Close() }()
		return json.NewDecoder(resp.Body).Decode(v)
	}
	// check never stops the test, so that it may run off its goroutine.
	check := func() {
		var st struct{ Result engine.Result }
		if err := getJSON("/status", &st); err != nil {
			t.Errorf("/status: %v", err)
		} else if assert.Len(t, st.Result.Findings, 1) {
			assert.Equal(t, want, st.Result.Findings[0].Message, "/status")
		}
		var ex engine.Explanation
		if err := getJSON("/explain?subject=Pod/ns/p", &ex); err != nil {
			t.Errorf("/explain: %v", err)
		} else if assert.Len(t, ex.Reasons, 1) && assert.NotNil(t, ex.Reasons[0].Finding) {
			assert.Equal(t, want, ex.Reasons[0].Finding.Message, "/explain")
		}
	}
	check()
	// Readers render while ticks run (go test -race).
	var wg sync.WaitGroup
	wg.Go(func() {
		for range 10 {
			check()
		}
	})
	for range 10 {
		h.change("Pending")
		h.change("Pending") // returns once the loop handled the first: the timer is armed
		h.clock.Step(time.Millisecond)
		next(t, h.pub)
	}
	wg.Wait()
	last, _ := h.d.Last()
	assert.Empty(t, last.Findings[0].Message, "readers render into copies, never into the daemon's result")
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
	return string(b)
}

// TestLostLeadershipStandsBy takes the Lease away from the leader (another
// holder renews it, as after the leader was frozen or cut off from the API
// server for longer than its renew deadline): the daemon must stop ticking,
// forget what it queued, stay up as a standby, and lead again, starting
// from Restore, once the Lease is free.
func TestLostLeadershipStandsBy(t *testing.T) {
	client := fake.NewClientset()
	h := setup(t, Options{LeaderElection: &LeaderElection{
		Client: client, Namespace: "statusd", Name: "statusd", Identity: "me",
		LeaseDuration: 600 * time.Millisecond, RenewDeadline: 400 * time.Millisecond, RetryPeriod: 100 * time.Millisecond,
	}})
	h.run(t)
	require.True(t, h.d.leading.Load())
	assert.True(t, h.d.opts.LeaderElection.Held(), "renewed just now")

	// Another replica holds the Lease and keeps renewing it.
	leases := client.CoordinationV1().Leases("statusd")
	steal := func() {
		l, err := leases.Get(t.Context(), "statusd", metav1.GetOptions{})
		require.NoError(t, err)
		other, dur := "other", int32(1)
		l.Spec.HolderIdentity, l.Spec.LeaseDurationSeconds = &other, &dur
		now := metav1.NewMicroTime(time.Now())
		l.Spec.RenewTime, l.Spec.AcquireTime = &now, &now
		_, err = leases.Update(t.Context(), l, metav1.UpdateOptions{})
		require.NoError(t, err)
	}
	stop := time.Now().Add(3 * time.Second)
	for h.d.leading.Load() && time.Now().Before(stop) {
		steal()
		time.Sleep(50 * time.Millisecond)
	}
	require.False(t, h.d.leading.Load(), "leadership lost")
	assert.False(t, h.d.opts.LeaderElection.Held(), "writes fenced")
	assert.Positive(t, h.pub.forgot.Load(), "queued writes forgotten")
	select {
	case err := <-h.done:
		t.Fatalf("Run returned after losing the Lease: %v", err)
	default:
	}
	for range len(h.pub.ticks) {
		<-h.pub.ticks
	}

	// The other replica stops renewing: this one leads again and ticks.
	require.Eventually(t, h.d.leading.Load, 10*time.Second, 20*time.Millisecond, "leads again")
	next(t, h.pub)
}

// TestHeldByOwnClock: a replica holds the Lease while it leads and its
// last renewal began less than the renew deadline ago; a leader frozen
// longer than that (a zombie) no longer does, whatever client-go thinks.
func TestHeldByOwnClock(t *testing.T) {
	le := &LeaderElection{RenewDeadline: time.Second}
	assert.False(t, le.Held(), "not leading")
	le.leading.Store(true)
	le.renewed.Store(time.Now().UnixNano())
	assert.True(t, le.Held())
	le.renewed.Store(time.Now().Add(-2 * time.Second).UnixNano())
	assert.False(t, le.Held(), "last renewal older than the renew deadline")
	le.renewed.Store(time.Now().UnixNano())
	le.leading.Store(false)
	assert.False(t, le.Held(), "leadership lost")
}

// TestProfiling serves Go's profiles only when asked to.
func TestProfiling(t *testing.T) {
	for _, on := range []bool{false, true} {
		t.Run(fmt.Sprint(on), func(t *testing.T) {
			h := setup(t, Options{Profiling: on})
			srv := httptest.NewServer(h.d.Handler())
			defer srv.Close()
			for _, path := range []string{"/debug/pprof/", "/debug/pprof/heap", "/debug/pprof/goroutine?debug=1"} {
				resp, err := http.Get(srv.URL + path)
				require.NoError(t, err)
				body, err := io.ReadAll(resp.Body)
				require.NoError(t, err)
				_ = resp.Body.Close()
				if !on {
					assert.Equal(t, http.StatusNotFound, resp.StatusCode, path)
					continue
				}
				assert.Equal(t, http.StatusOK, resp.StatusCode, path)
				assert.NotEmpty(t, body, path)
			}
		})
	}
}
