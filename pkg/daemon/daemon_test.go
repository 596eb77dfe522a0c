package daemon

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/engine"
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
	u := reload.Compile([]*catalog.File{catalog.NewFile("c.yaml", []byte(strings.Replace(testCatalog, "%s", version, 1)))}, cel.Options{}, "test")
	require.False(t, u.Rejected(), u.Problems.Error())
	return u
}

// memSources is an in-memory stand-in for the live sources: the loop's
// logic (debounce, resync, reload) is what is under test here; the real
// sources are tested against the API server in their own package.
type memSources struct {
	mu      sync.Mutex
	phase   string
	changed chan struct{}
	applied []string
}

func (m *memSources) Apply(c *catalog.Catalog, _ map[string]*prune.Tree) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.applied = append(m.applied, c.Metadata.Version)
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

func (m *memSources) set(phase string) {
	m.mu.Lock()
	m.phase = phase
	m.mu.Unlock()
	select {
	case m.changed <- struct{}{}:
	default:
	}
}

// memPublisher records results and fails the test if two ticks overlap.
type memPublisher struct {
	inFlight atomic.Int32
	overlap  atomic.Bool
	mu       sync.Mutex
	results  []*engine.Result
	ticks    chan *engine.Result
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

func setup(t *testing.T, opts Options) (*Daemon, *memSources, *memPublisher) {
	t.Helper()
	src := &memSources{phase: "Running", changed: make(chan struct{}, 1)}
	pub := &memPublisher{ticks: make(chan *engine.Result, 100)}
	u := compile(t, "1")
	opts.Sources, opts.Publisher, opts.Catalog, opts.CatalogHash = src, pub, u.Catalog, u.Hash
	d, err := New(opts)
	require.NoError(t, err)
	return d, src, pub
}

func TestLoopTicksOnChangeAndResync(t *testing.T) {
	d, src, pub := setup(t, Options{Resync: time.Hour, Debounce: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()

	first := next(t, pub)
	assert.Empty(t, first.Published(), "a running pod is healthy")

	// A burst of changes costs one tick, soon after the change.
	began := time.Now()
	src.set("Pending")
	src.set("Pending")
	res := next(t, pub)
	t.Logf("change to tick: %s", time.Since(began))
	require.Len(t, res.Published(), 1)
	assert.Equal(t, "PodPending", res.Published()[0].Reason)

	cancel()
	require.NoError(t, <-done)
	assert.False(t, pub.overlap.Load(), "ticks overlapped")
}

func TestResyncTicksWithoutChanges(t *testing.T) {
	d, _, pub := setup(t, Options{Resync: 30 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	for range 3 {
		next(t, pub)
	}
	cancel()
	require.NoError(t, <-done)
}

func TestReloadSwapsOrKeepsTheCatalogue(t *testing.T) {
	var rejected []*reload.Update
	d, src, _ := setup(t, Options{OnReject: func(u *reload.Update) { rejected = append(rejected, u) }})
	srv := httptest.NewServer(d.Handler())
	defer srv.Close()

	d.Reload(compile(t, "2"))
	assert.Equal(t, "2", d.Engine().Catalog().Source.Metadata.Version)
	assert.Equal(t, []string{"1", "2"}, src.applied)
	assert.Contains(t, get(t, srv.URL+"/metrics"), "statusd_catalog_last_reload_successful 1")

	bad := reload.Compile([]*catalog.File{catalog.NewFile("c.yaml", []byte("kind: Catalog\n"))}, cel.Options{}, "test")
	require.True(t, bad.Rejected())
	d.Reload(bad)
	assert.Equal(t, "2", d.Engine().Catalog().Source.Metadata.Version, "a rejected catalogue changes nothing")
	require.Len(t, rejected, 1)
	m := get(t, srv.URL+"/metrics")
	assert.Contains(t, m, "statusd_catalog_last_reload_successful 0")
	assert.Contains(t, m, `statusd_catalog_reloads_total{outcome="rejected"} 1`)
	assert.Contains(t, m, `statusd_catalog_info{catalog="daemon-test"`)
}

func TestHTTPEndpoints(t *testing.T) {
	d, src, pub := setup(t, Options{Resync: time.Hour, Debounce: time.Millisecond})
	srv := httptest.NewServer(d.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/readyz")
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "not ready before the first tick")

	src.phase = "Pending"
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	next(t, pub)

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
	cancel()
	require.NoError(t, <-done)
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
