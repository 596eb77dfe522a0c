package emit_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	k8stypes "k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	clocktesting "k8s.io/utils/clock/testing"

	"statusd.io/statusd/internal/testenv"
	"statusd.io/statusd/pkg/emit"
	"statusd.io/statusd/pkg/engine"
)

func TestMain(m *testing.M) {
	// The API server's audit log records every Event write, as an operator
	// would count statusd's cost on a real cluster (see auditedWrites).
	dir, err := os.MkdirTemp("", "emit-audit-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: audit log directory:", err)
		os.Exit(1)
	}
	auditLog = filepath.Join(dir, "audit.log")
	policy := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policy, []byte(auditPolicy), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: audit policy:", err)
		os.Exit(1)
	}
	// Lazily: the pure tests and FuzzMaterial need no control plane, and a
	// fuzz worker must not start one each time it runs TestMain.
	code := testenv.RunLazy(m, testenv.Options{APIServerArgs: []string{
		"--audit-policy-file=" + policy, "--audit-log-path=" + auditLog, "--audit-log-format=json", "--audit-log-mode=blocking",
	}})
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// t0 is the fake clock's start. The API server does not care that Event
// timestamps are not its own time.
var t0 = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

const (
	catalogName    = "emit-test"
	catalogVersion = "7"
	heartbeat      = 10 * time.Minute
	// waitTimeout bounds polling for the writer to settle on a loaded
	// two-core machine.
	waitTimeout = time.Minute
)

// leakCheck verifies, after every other cleanup of the test, that it left no
// goroutine behind. Connections of client-go's shared transports outlive a
// test by design and are not leaks.
func leakCheck(t *testing.T) {
	t.Helper()
	before := goleak.IgnoreCurrent()
	t.Cleanup(func() {
		goleak.VerifyNone(t, before,
			goleak.IgnoreAnyFunction("net/http.(*persistConn).readLoop"),
			goleak.IgnoreAnyFunction("net/http.(*persistConn).writeLoop"),
			goleak.IgnoreAnyFunction("net/http.(*http2ClientConn).readLoop"),
			goleak.IgnoreAnyFunction("golang.org/x/net/http2.(*ClientConn).readLoop"),
		)
	})
}

// requests counts the Event requests a client sends, by HTTP method, at the
// transport: what the API server sees, retries included.
type requests struct {
	mu sync.Mutex
	n  map[string]int
}

type countingTransport struct {
	next http.RoundTripper
	reqs *requests
}

func (c countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.Contains(r.URL.Path, "/events") {
		c.reqs.mu.Lock()
		c.reqs.n[r.Method]++
		c.reqs.mu.Unlock()
	}
	return c.next.RoundTrip(r)
}

func (r *requests) count(method string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n[method]
}

// writes is every create, update and patch sent.
func (r *requests) writes() int {
	return r.count(http.MethodPost) + r.count(http.MethodPatch) + r.count(http.MethodPut)
}

// rig is a running Writer on a fake clock whose requests are counted.
type rig struct {
	w     *emit.Writer
	clock *clocktesting.FakeClock
	reqs  *requests
}

// start runs a Writer as cfg's user until the test ends. opts.Clock, if
// unset, becomes a fake clock at t0.
func start(t *testing.T, cfg *rest.Config, opts emit.Options) *rig {
	t.Helper()
	r := &rig{reqs: &requests{n: map[string]int{}}}
	cfg = rest.CopyConfig(cfg)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return countingTransport{next: rt, reqs: r.reqs} })
	client, err := kubernetes.NewForConfig(cfg)
	require.NoError(t, err)
	if opts.Clock == nil {
		opts.Clock = clocktesting.NewFakeClock(t0)
	}
	r.clock, _ = opts.Clock.(*clocktesting.FakeClock)
	if opts.Instance == "" {
		opts.Instance = "statusd-0"
	}
	if opts.Heartbeat == 0 {
		opts.Heartbeat = heartbeat
	}
	if opts.QPS == 0 {
		opts.QPS, opts.Burst = 100, 100
	}
	opts.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	r.w, err = emit.NewWriter(client, opts)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	return r
}

// tick publishes res at its time and waits until the writer has written
// everything it decided to write.
func (r *rig) tick(t *testing.T, res *engine.Result) {
	t.Helper()
	r.clock.SetTime(res.Time)
	r.w.Publish(res)
	waitIdle(t, r.w)
}

func waitIdle(t *testing.T, w *emit.Writer) {
	t.Helper()
	require.Eventually(t, func() bool { return w.Stats().Pending == 0 }, waitTimeout, 5*time.Millisecond, "writer never settled: %+v", w.Stats())
}

// newNamespace creates a namespace for one test and deletes it (and its
// Events) afterwards.
func newNamespace(t *testing.T) *corev1.Namespace {
	t.Helper()
	client := testenv.Shared().Client()
	ns, err := client.CoreV1().Namespaces().Create(t.Context(), &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "emit-"},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		err := client.CoreV1().Namespaces().Delete(context.Background(), ns.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("delete namespace %s: %v", ns.Name, err)
		}
	})
	return ns
}

// configMap creates a ConfigMap to be a finding's subject.
func configMap(t *testing.T, ns, name string, data map[string]string) engine.Subject {
	t.Helper()
	cm, err := testenv.Shared().Client().CoreV1().ConfigMaps(ns).Create(t.Context(), &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Data:       data,
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	return engine.Subject{APIVersion: "v1", Kind: "ConfigMap", Namespace: ns, Name: name, UID: string(cm.UID)}
}

func namespaceSubject(ns *corev1.Namespace) engine.Subject {
	return engine.Subject{APIVersion: "v1", Kind: "Namespace", Name: ns.Name, UID: string(ns.UID)}
}

// eventsAbout lists every Event, in any namespace, whose involvedObject is
// the subject, and deletes those outside the test's namespaces when the
// test ends.
func eventsAbout(t *testing.T, s engine.Subject) []corev1.Event {
	t.Helper()
	client := testenv.Shared().Client()
	list, err := client.CoreV1().Events(metav1.NamespaceAll).List(t.Context(), metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("involvedObject.uid", s.UID).String(),
	})
	require.NoError(t, err)
	for _, ev := range list.Items {
		if ev.Namespace == metav1.NamespaceDefault || ev.Namespace == metav1.NamespaceSystem {
			t.Cleanup(func() {
				_ = client.CoreV1().Events(ev.Namespace).Delete(context.Background(), ev.Name, metav1.DeleteOptions{})
			})
		}
	}
	return list.Items
}

// onlyEvent returns the one Event about s with reason, failing unless there
// is exactly one.
func onlyEvent(t *testing.T, s engine.Subject, reason string) corev1.Event {
	t.Helper()
	var out []corev1.Event
	for _, ev := range eventsAbout(t, s) {
		if ev.Reason == reason {
			out = append(out, ev)
		}
	}
	require.Len(t, out, 1, "Events %s on %s", reason, s)
	return out[0]
}

// gather collects w through a pedantic registry (which also checks that
// Describe and Collect agree) and returns metric's values by verb.
func gather(t *testing.T, w *emit.Writer, metric string) map[string]float64 {
	t.Helper()
	return gatherBy(t, w, metric, "verb")
}

// gatherBy is gather by another label.
func gatherBy(t *testing.T, w *emit.Writer, metric, label string) map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(w))
	mfs, err := reg.Gather()
	require.NoError(t, err)
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != metric {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label {
					out[l.GetValue()] = m.GetCounter().GetValue()
				}
			}
		}
	}
	return out
}

func finding(s engine.Subject, reason, msg string, since time.Time) *engine.Finding {
	return &engine.Finding{
		Reason: reason, Layer: "config", Priority: 50, Severity: corev1.EventTypeWarning,
		Subject: s, State: engine.Firing, Root: true, Published: true,
		Message: msg, FiringSince: since,
	}
}

func result(at time.Time, fs ...*engine.Finding) *engine.Result {
	return &engine.Result{Time: at, Catalog: catalogName, Version: catalogVersion, Findings: fs}
}

func TestPublishCreatesOneEventOnTheSubject(t *testing.T) {
	leakCheck(t)
	cfg := testenv.Shared().Config()
	ns := newNamespace(t).Name
	fixed := newNamespace(t).Name

	tests := []struct {
		name    string
		opts    emit.Options
		cluster bool // the subject is a Namespace, not a ConfigMap
		wantNS  string
	}{
		{name: "namespaced subject, Event in its namespace", wantNS: ns},
		{name: "cluster-scoped subject, Event in default", cluster: true, wantNS: "default"},
		{name: "cluster-scoped subject, cluster namespace kube-system", opts: emit.Options{ClusterNamespace: "kube-system"}, cluster: true, wantNS: "kube-system"},
		{name: "fixed namespace kube-system", opts: emit.Options{Namespace: "kube-system"}, wantNS: "kube-system"},
		{name: "fixed namespace kube-system, cluster-scoped subject", opts: emit.Options{Namespace: "kube-system"}, cluster: true, wantNS: "kube-system"},
		{name: "fixed other namespace", opts: emit.Options{Namespace: fixed}, wantNS: fixed},
		{name: "fixed other namespace, cluster-scoped subject falls back to default", opts: emit.Options{Namespace: fixed}, cluster: true, wantNS: "default"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var subj engine.Subject
			if tc.cluster {
				subj = namespaceSubject(newNamespace(t))
			} else {
				subj = configMap(t, ns, "cm-"+string(rune('a'+i)), nil)
			}
			other := configMap(t, ns, "other-"+string(rune('a'+i)), nil)
			cause := engine.CauseRef{Reason: "ConfigBroken", Subject: engine.Subject{Kind: subj.Kind, Namespace: subj.Namespace, Name: subj.Name}}
			since := t0.Add(-3 * time.Minute)
			res := result(t0,
				finding(subj, "ConfigBroken", "config "+subj.Name+" is broken", since),
				&engine.Finding{Reason: "ConfigStale", Subject: subj, State: engine.Suppressed, SuppressedBy: &cause},
				&engine.Finding{Reason: "ConsumerFailing", Subject: other, State: engine.Suppressed, SuppressedBy: &cause},
			)
			r := start(t, cfg, tc.opts)
			r.tick(t, res)

			evs := eventsAbout(t, subj)
			require.Len(t, evs, 1, "exactly one Event")
			ev := evs[0]
			assert.Equal(t, tc.wantNS, ev.Namespace)
			assert.Equal(t, emit.EventName(subj, "ConfigBroken"), ev.Name)
			assert.Equal(t, "ConfigBroken", ev.Reason)
			assert.Equal(t, corev1.EventTypeWarning, ev.Type)
			assert.Equal(t, "config "+subj.Name+" is broken", ev.Message)
			assert.Equal(t, corev1.ObjectReference{
				APIVersion: subj.APIVersion, Kind: subj.Kind, Namespace: subj.Namespace, Name: subj.Name, UID: ev.InvolvedObject.UID,
			}, ev.InvolvedObject)
			assert.Equal(t, subj.UID, string(ev.InvolvedObject.UID))
			assert.Equal(t, emit.DefaultController, ev.ReportingController)
			assert.Equal(t, "statusd-0", ev.ReportingInstance)
			assert.Equal(t, emit.ActionDetected, ev.Action)
			assert.EqualValues(t, 1, ev.Count)
			assert.True(t, ev.EventTime.Time.Equal(since), "eventTime is the episode start: %v", ev.EventTime)
			assert.True(t, ev.FirstTimestamp.Time.Equal(since))
			assert.True(t, ev.LastTimestamp.Time.Equal(t0))
			assert.Equal(t, map[string]string{emit.LabelManagedBy: emit.ManagedBy}, ev.Labels)
			assert.Equal(t, map[string]string{
				emit.AnnotationCatalog:        catalogName,
				emit.AnnotationCatalogVersion: catalogVersion,
				emit.AnnotationLayer:          "config",
				emit.AnnotationPriority:       "50",
				emit.AnnotationRoot:           "true",
				emit.AnnotationSuppresses:     "ConfigStale, ConsumerFailing on ConfigMap/" + ns + "/" + other.Name,
				emit.AnnotationFiringSince:    since.Format(time.RFC3339Nano),
			}, ev.Annotations)
			assert.Empty(t, eventsAbout(t, other), "suppressed findings are not published")
		})
	}
}

// TestSteadyFaultWritesOncePerHeartbeat holds one fault for many heartbeat
// intervals and counts the requests the API server receives. The bound is
// 1 create + floor(held / heartbeat) patches: a patch is due at the first
// tick at least one heartbeat after the previous write, so late ticks only
// ever lower the count.
func TestSteadyFaultWritesOncePerHeartbeat(t *testing.T) {
	leakCheck(t)
	cfg := testenv.Shared().Config()
	ns := newNamespace(t).Name

	tests := []struct {
		name        string
		every       time.Duration
		held        time.Duration
		wantPatches int // exact; ticks that divide the heartbeat land on it
	}{
		{name: "30s ticks for ten heartbeats", every: 30 * time.Second, held: 10 * heartbeat, wantPatches: 10},
		{name: "5s ticks for two heartbeats", every: 5 * time.Second, held: 2 * heartbeat, wantPatches: 2},
		// 47s ticks reach a heartbeat 11s late each time: 611s apart, so 9
		// patches in 6000s.
		{name: "47s ticks for ten heartbeats", every: 47 * time.Second, held: 10 * heartbeat, wantPatches: 9},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			subj := configMap(t, ns, "steady-"+string(rune('a'+i)), nil)
			r := start(t, cfg, emit.Options{})
			ticks := 0
			for at := time.Duration(0); at <= tc.held; at += tc.every {
				r.tick(t, result(t0.Add(at), finding(subj, "ConfigBroken", "config is broken", t0)))
				ticks++
			}

			t.Logf("%d ticks over %v: %d POST, %d PATCH, %d PUT", ticks, tc.held,
				r.reqs.count(http.MethodPost), r.reqs.count(http.MethodPatch), r.reqs.count(http.MethodPut))
			assert.Equal(t, 1, r.reqs.count(http.MethodPost), "one create")
			assert.Equal(t, tc.wantPatches, r.reqs.count(http.MethodPatch), "one patch per heartbeat")
			assert.Zero(t, r.reqs.count(http.MethodPut), "no full updates")
			assert.Zero(t, r.reqs.count(http.MethodGet), "no reads")
			assert.LessOrEqual(t, r.reqs.writes(), 1+int(tc.held/heartbeat), "the documented bound")
			st := r.w.Stats()
			assert.Equal(t, map[string]float64{"create": 1, "patch": float64(tc.wantPatches), "get": 0, "list": 0},
				gather(t, r.w, "statusd_event_requests_total"), "the collector agrees")
			assert.Equal(t, uint64(1), st.Creates)
			assert.Equal(t, uint64(tc.wantPatches), st.Patches)
			assert.Empty(t, st.Failures)

			ev := onlyEvent(t, subj, "ConfigBroken")
			assert.Len(t, eventsAbout(t, subj), 1, "updated, never duplicated")
			assert.True(t, ev.FirstTimestamp.Time.Equal(t0))
			lastWrite := t0.Add(time.Duration(tc.wantPatches) * ((heartbeat + tc.every - 1) / tc.every) * tc.every)
			assert.True(t, ev.LastTimestamp.Time.Equal(lastWrite), "lastTimestamp %v is the last heartbeat's tick %v", ev.LastTimestamp, lastWrite)
			wantCount := int32((lastWrite.Sub(t0) / tc.every) + 1)
			assert.Equal(t, wantCount, ev.Count, "count is the ticks observed up to the last write")
		})
	}
}

// TestMaterialChangeIsWrittenAtOnceAndDriftAtTheHeartbeat walks a finding
// through messages and types: a change of its material content (a word, a
// name, the Event type) is written at once; a change of live figures only
// waits for the heartbeat, which carries the latest message.
func TestMaterialChangeIsWrittenAtOnceAndDriftAtTheHeartbeat(t *testing.T) {
	leakCheck(t)
	cfg := testenv.Shared().Config()
	ns := newNamespace(t).Name

	type step struct {
		at            time.Duration
		msg, severity string
		wantWrites    int    // cumulative
		wantMessage   string // the Event's message after the step
		// notHolding marks a tick whose condition did not hold: "clearing"
		// (turned false, waiting out its clear window), "held" (Unknown,
		// kept firing) or "error" (the message failed to render).
		notHolding string
	}
	const (
		web0a = "pod web-0 is not ready since 10:00:00Z: 2 of 5 replicas ready"
		web0b = "pod web-0 is not ready since 10:00:00Z: 0 of 5 replicas ready"
		web1  = "pod web-1 is not ready since 10:04:00Z: 0 of 5 replicas ready"
		web1b = "pod web-1 is not ready since 10:04:00Z: 1 of 5 replicas ready"
		crash = "pod web-1 is crash looping since 10:04:00Z: 1 of 5 replicas ready"
	)
	tests := []struct {
		name       string
		steps      []step
		wantCauses map[string]uint64
	}{
		{name: "live figures drift, then a pod and a reason change", steps: []step{
			{0, web0a, "Warning", 1, web0a, ""},
			{30 * time.Second, web0b, "Warning", 1, web0a, ""},
			{9 * time.Minute, web0b, "Warning", 1, web0a, ""},
			{heartbeat, web0b, "Warning", 2, web0b, ""},
			{heartbeat + 30*time.Second, web1, "Warning", 3, web1, ""},
			{heartbeat + time.Minute, web1b, "Warning", 3, web1, ""},
			{heartbeat + 2*time.Minute, crash, "Warning", 4, crash, ""},
			{2*heartbeat + time.Minute, crash, "Warning", 4, crash, ""},
			{2*heartbeat + 2*time.Minute, crash, "Warning", 5, crash, ""},
		}, wantCauses: map[string]uint64{"create": 1, "change": 2, "heartbeat": 2, "resolve": 0}},
		{name: "type changes", steps: []step{
			{0, "degraded", "Normal", 1, "degraded", ""},
			{30 * time.Second, "degraded", "Warning", 2, "degraded", ""},
			{time.Minute, "degraded", "Warning", 2, "degraded", ""},
		}, wantCauses: map[string]uint64{"create": 1, "change": 1, "heartbeat": 0, "resolve": 0}},
		{name: "a flapping finding writes each form once, then waits for the heartbeat", steps: []step{
			{0, web1, "Warning", 1, web1, ""},
			{30 * time.Second, crash, "Warning", 2, crash, ""},
			{time.Minute, web1b, "Warning", 2, crash, ""},
			{90 * time.Second, crash, "Warning", 2, crash, ""},
			{2 * time.Minute, web1, "Warning", 2, crash, ""},
			{heartbeat + 30*time.Second, web1, "Warning", 3, web1, ""},
			{heartbeat + time.Minute, web0a, "Warning", 4, web0a, ""},
		}, wantCauses: map[string]uint64{"create": 1, "change": 2, "heartbeat": 1, "resolve": 0}},
		{name: "ticks where the condition does not hold keep the last message", steps: []step{
			{0, crash, "Warning", 1, crash, ""},
			{30 * time.Second, "pod web-1 is crash looping since 10:04:00Z: ", "Warning", 1, crash, "clearing"},
			{time.Minute, "A pod is crash looping.", "Warning", 1, crash, "error"},
			{90 * time.Second, "pod web-1 is crash looping since ?: ", "Warning", 1, crash, "held"},
			{heartbeat, "pod web-1 is crash looping since 10:04:00Z: ", "Warning", 2, crash, "clearing"},
			{heartbeat + 30*time.Second, web1, "Warning", 3, web1, ""},
		}, wantCauses: map[string]uint64{"create": 1, "change": 1, "heartbeat": 1, "resolve": 0}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			subj := configMap(t, ns, "change-"+string(rune('a'+i)), nil)
			r := start(t, cfg, emit.Options{})
			for j, s := range tc.steps {
				f := finding(subj, "ReplicasMissing", s.msg, t0)
				f.Severity = s.severity
				switch s.notHolding {
				case "clearing":
					f.ClearingSince = t0.Add(s.at)
				case "held":
					f.Held = true
				case "error":
					f.MessageErr = "no such key: status"
				}
				r.tick(t, result(t0.Add(s.at), f))
				assert.Equal(t, s.wantWrites, r.reqs.writes(), "writes after step %d", j)
				ev := onlyEvent(t, subj, "ReplicasMissing")
				assert.Equal(t, s.wantMessage, ev.Message, "step %d", j)
				assert.Equal(t, s.severity, ev.Type, "step %d", j)
			}
			assert.Equal(t, tc.wantCauses, r.w.Stats().Writes)
			got := gatherBy(t, r.w, "statusd_event_writes_total", "cause")
			for c, n := range tc.wantCauses {
				assert.InDelta(t, float64(n), got[c], 0, "the collector agrees on %s", c)
			}
		})
	}
}

func TestResolvedWritesNormalEventAndRecurrenceReusesTheEvent(t *testing.T) {
	leakCheck(t)
	cfg := testenv.Shared().Config()
	ns := newNamespace(t).Name
	subj := configMap(t, ns, "flapping", nil)
	r := start(t, cfg, emit.Options{})

	// First episode: fires at t0, resolves 42 minutes later.
	r.tick(t, result(t0, finding(subj, "ConfigBroken", "config is broken", t0)))
	gone := finding(subj, "ConfigBroken", "", t0)
	gone.State, gone.Published, gone.WasPublished, gone.Duration = engine.Resolved, false, true, 42*time.Minute
	res := result(t0.Add(42 * time.Minute))
	res.Resolved = []*engine.Finding{gone}
	r.tick(t, res)

	ok := onlyEvent(t, subj, "ConfigBrokenResolved")
	assert.Equal(t, emit.ResolvedEventName(subj, "ConfigBroken"), ok.Name)
	assert.Equal(t, corev1.EventTypeNormal, ok.Type)
	assert.Equal(t, emit.ActionResolved, ok.Action)
	assert.Equal(t, "ConfigBroken on ConfigMap/"+ns+"/flapping resolved after 42m", ok.Message)
	assert.Equal(t, subj.UID, string(ok.InvolvedObject.UID))
	assert.Equal(t, "ConfigBroken", ok.Annotations[emit.AnnotationResolves])
	assert.Equal(t, "42m0s", ok.Annotations[emit.AnnotationDuration])
	assert.Equal(t, t0.Format(time.RFC3339Nano), ok.Annotations[emit.AnnotationFiringSince])
	assert.EqualValues(t, 1, ok.Count)
	assert.Zero(t, r.w.Stats().Firing, "the firing record is forgotten")
	firing := onlyEvent(t, subj, "ConfigBroken")
	assert.EqualValues(t, 1, firing.Count, "the firing Event is left alone to age out")

	// A resolved finding that was never published announces nothing.
	quiet := finding(subj, "ConfigQuiet", "", t0)
	quiet.State, quiet.Published, quiet.WasPublished = engine.Resolved, false, false
	res = result(t0.Add(43 * time.Minute))
	res.Resolved = []*engine.Finding{quiet}
	r.tick(t, res)
	assert.Len(t, eventsAbout(t, subj), 2)

	// Second episode: the same Event, restarted, not counted on the old one.
	second := t0.Add(time.Hour)
	r.tick(t, result(second, finding(subj, "ConfigBroken", "config is broken again", second)))
	firing = onlyEvent(t, subj, "ConfigBroken")
	assert.Equal(t, emit.EventName(subj, "ConfigBroken"), firing.Name)
	assert.EqualValues(t, 1, firing.Count)
	assert.True(t, firing.FirstTimestamp.Time.Equal(second), "firstTimestamp %v", firing.FirstTimestamp)
	assert.True(t, firing.EventTime.Time.Equal(second), "eventTime %v", firing.EventTime)
	assert.Equal(t, "config is broken again", firing.Message)

	gone = finding(subj, "ConfigBroken", "", second)
	gone.State, gone.Published, gone.WasPublished, gone.Duration = engine.Resolved, false, true, 90*time.Second
	res = result(second.Add(90 * time.Second))
	res.Resolved = []*engine.Finding{gone}
	r.tick(t, res)
	ok = onlyEvent(t, subj, "ConfigBrokenResolved")
	assert.EqualValues(t, 2, ok.Count, "the Resolved Event counts resolutions")
	assert.Equal(t, "ConfigBroken on ConfigMap/"+ns+"/flapping resolved after 1m30s", ok.Message)
	assert.Equal(t, second.Format(time.RFC3339Nano), ok.Annotations[emit.AnnotationFiringSince])
	assert.Len(t, eventsAbout(t, subj), 2, "one firing and one Resolved Event, whatever the episodes")
}

// TestUnpublishedRecordIsForgottenAndTheEventTakenOver: a firing finding
// that stops being published (a new cause suppresses it) keeps no record for
// ever; published again, it takes its Event over instead of duplicating it.
func TestUnpublishedRecordIsForgottenAndTheEventTakenOver(t *testing.T) {
	leakCheck(t)
	ns := newNamespace(t).Name
	subj := configMap(t, ns, "hidden", nil)
	r := start(t, testenv.Shared().Config(), emit.Options{})
	f := finding(subj, "ConfigBroken", "config is broken", t0)
	r.tick(t, result(t0, f))
	require.Equal(t, 1, r.w.Stats().Firing)

	r.tick(t, result(t0.Add(time.Hour)))
	assert.Equal(t, 1, r.w.Stats().Firing, "kept within six heartbeats")
	r.tick(t, result(t0.Add(time.Hour+heartbeat+time.Second)))
	assert.Zero(t, r.w.Stats().Firing, "forgotten after six heartbeats")

	r.tick(t, result(t0.Add(2*time.Hour), f))
	ev := onlyEvent(t, subj, "ConfigBroken")
	assert.EqualValues(t, 1, ev.Count, "a record rebuilt from nothing counts afresh")
	assert.True(t, ev.FirstTimestamp.Time.Equal(t0), "the same episode")
	assert.True(t, ev.LastTimestamp.Time.Equal(t0.Add(2*time.Hour)))
	assert.Equal(t, 2, r.reqs.count(http.MethodPost), "a create that finds the name taken...")
	assert.Equal(t, 1, r.reqs.count(http.MethodPatch), "...becomes a patch")
	assert.Empty(t, r.w.Stats().Failures, "a taken name is not a failure")
}

// TestRestartContinuesTheSameEvent stops a writer mid-fault and starts a new
// one, as a restart or a new leader does: Restore hands back the firing
// state, the first ticks write nothing, the next heartbeat patches the same
// Event, and a fault resolved before the restart is not restored.
func TestRestartContinuesTheSameEvent(t *testing.T) {
	leakCheck(t)
	cfg := testenv.Shared().Config()
	ns := newNamespace(t).Name
	fixedNS := newNamespace(t).Name
	since := t0.Add(-5 * time.Minute).Add(123456789 * time.Nanosecond)

	tests := []struct {
		name      string
		namespace string // Options.Namespace
		wantLists int
	}{
		{name: "Events in the subjects' namespaces", wantLists: 1},
		// Cluster-scoped subjects' Events are in default, so Restore lists
		// two namespaces.
		{name: "Events in a fixed namespace", namespace: fixedNS, wantLists: 2},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sfx := string(rune('a' + i))
			firing := []engine.Subject{
				configMap(t, ns, "still-broken-"+sfx, nil),
				namespaceSubject(newNamespace(t)),
			}
			fixed := configMap(t, ns, "fixed-before-restart-"+sfx, nil)
			// Restore sees only this case's Events.
			controller := "statusd.io/restart-" + ns + "-" + sfx
			firingFindings := func() []*engine.Finding {
				var fs []*engine.Finding
				for _, s := range firing {
					fs = append(fs, finding(s, "ConfigBroken", "config is broken", since))
				}
				return fs
			}

			old := start(t, cfg, emit.Options{Controller: controller, Namespace: tc.namespace, Instance: "statusd-old"})
			for j := range 4 {
				at := t0.Add(time.Duration(j) * 30 * time.Second)
				res := result(at, append(firingFindings(), finding(fixed, "ConfigBroken", "config is broken", since))...)
				if j == 3 {
					gone := finding(fixed, "ConfigBroken", "", since)
					gone.State, gone.Published, gone.WasPublished, gone.Duration = engine.Resolved, false, true, at.Sub(since)
					res = result(at, firingFindings()...)
					res.Resolved = []*engine.Finding{gone}
				}
				old.tick(t, res)
			}
			require.Equal(t, 4, old.reqs.count(http.MethodPost), "three firing Events and one Resolved")
			require.Zero(t, old.reqs.count(http.MethodPatch), "no heartbeat yet")
			var before []corev1.Event
			for _, s := range firing {
				ev := onlyEvent(t, s, "ConfigBroken")
				// Observations between writes ride along with the next
				// write; the three unwritten ones die with the old process.
				require.EqualValues(t, 1, ev.Count)
				before = append(before, ev)
			}

			// The restart: a new writer, a little later, as another instance.
			nw := start(t, cfg, emit.Options{
				Controller: controller, Namespace: tc.namespace, Instance: "statusd-new",
				Clock: clocktesting.NewFakeClock(t0.Add(2 * time.Minute)),
			})
			restored, err := nw.w.Restore(t.Context())
			require.NoError(t, err)
			require.Equal(t, []engine.Restored{
				{Reason: "ConfigBroken", Subject: firing[0], FiringSince: since},
				{Reason: "ConfigBroken", Subject: firing[1], FiringSince: since},
			}, restored, "the resolved one is not restored")
			assert.Equal(t, tc.wantLists, nw.reqs.count(http.MethodGet), "LISTs")
			assert.Equal(t, 2, nw.w.Stats().Firing)

			for j := range 20 {
				at := t0.Add(2*time.Minute + time.Duration(j)*20*time.Second) // up to t0+8m20s
				nw.tick(t, result(at, firingFindings()...))
			}
			assert.Zero(t, nw.reqs.writes(), "nothing re-announced, nothing resolved")

			nw.tick(t, result(t0.Add(heartbeat), firingFindings()...))
			assert.Equal(t, 2, nw.reqs.count(http.MethodPatch), "the heartbeat after the last write before the restart")
			assert.Zero(t, nw.reqs.count(http.MethodPost), "no create")

			for k, s := range firing {
				after := onlyEvent(t, s, "ConfigBroken")
				assert.Equal(t, before[k].Namespace+"/"+before[k].Name, after.Namespace+"/"+after.Name)
				assert.Equal(t, before[k].UID, after.UID, "the same object, patched")
				assert.Equal(t, "statusd-new", after.ReportingInstance)
				assert.Equal(t, before[k].Count+21, after.Count, "the count continues")
				assert.True(t, after.EventTime.Time.Equal(since.Truncate(time.Microsecond)))
				assert.Len(t, eventsAbout(t, s), 1, "no duplicate, no false resolution")
			}
			assert.Len(t, eventsAbout(t, fixed), 2, "the fixed subject keeps its firing and Resolved Events, and nothing more")
		})
	}
}

func TestLongMessagesAreCutAtARuneBoundary(t *testing.T) {
	leakCheck(t)
	cfg := testenv.Shared().Config()
	ns := newNamespace(t)
	tests := []struct {
		name    string
		cluster bool // a cluster-scoped subject forces the eventTime branch of validation
		first   string
		second  string
	}{
		{name: "three-byte runes", first: strings.Repeat("日本", 400), second: strings.Repeat("語", 700)},
		{name: "four-byte runes off by one", first: "x" + strings.Repeat("🔥", 300), second: "xy" + strings.Repeat("🔥", 300)},
		{name: "two-byte runes on a cluster-scoped subject", cluster: true, first: strings.Repeat("é", 1000), second: "ü" + strings.Repeat("é", 1000)},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			subj := configMap(t, ns.Name, "long-"+string(rune('a'+i)), nil)
			if tc.cluster {
				subj = namespaceSubject(newNamespace(t))
			}
			r := start(t, cfg, emit.Options{})
			rejected := emit.ResolvedEventName(subj, "Untruncated")
			_, err := testenv.Shared().Client().CoreV1().Events(nsFor(subj)).Create(t.Context(), &corev1.Event{
				ObjectMeta:     metav1.ObjectMeta{Name: rejected},
				InvolvedObject: corev1.ObjectReference{Kind: subj.Kind, Namespace: subj.Namespace, Name: subj.Name, UID: k8stypes.UID(subj.UID)},
				Reason:         "Untruncated", Message: tc.first, Type: corev1.EventTypeWarning, Action: "Detected",
				EventTime:           metav1.NewMicroTime(t0),
				ReportingController: "statusd", ReportingInstance: "test",
			}, metav1.CreateOptions{})
			require.True(t, apierrors.IsInvalid(err), "the API server refuses the whole message: %v", err)

			for j, msg := range []string{tc.first, tc.second} {
				r.tick(t, result(t0.Add(time.Duration(j)*time.Minute), finding(subj, "ConfigBroken", msg, t0)))
				ev := onlyEvent(t, subj, "ConfigBroken")
				assert.LessOrEqual(t, len(ev.Message), emit.MaxMessageBytes, "write %d", j)
				assert.Greater(t, len(ev.Message), emit.MaxMessageBytes-8, "write %d: cut no further than needed", j)
				assert.True(t, utf8.ValidString(ev.Message), "write %d", j)
				assert.True(t, strings.HasPrefix(msg, strings.TrimSuffix(ev.Message, "…")), "write %d keeps the head", j)
			}
			assert.Equal(t, 1, r.reqs.count(http.MethodPost))
			assert.Equal(t, 1, r.reqs.count(http.MethodPatch), "the changed long message is a changed message")
			assert.Empty(t, r.w.Stats().Failures)
		})
	}
}

// TestRejectedWritesAreRetriedWithoutBlocking publishes while the API server
// refuses or cannot be reached: Publish returns at once, failures and
// retries are counted, backoff is on the (fake) clock, and once writes are
// allowed the same Events appear exactly once.
func TestRejectedWritesAreRetriedWithoutBlocking(t *testing.T) {
	leakCheck(t)
	env := testenv.Shared()
	ns := newNamespace(t).Name

	// A port nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closedAddr := l.Addr().String()
	require.NoError(t, l.Close())

	tests := []struct {
		name  string
		user  string // RBAC user; "" means the admin at an address nothing serves
		verb  string
		grant bool // grant the user Event writes and expect the Events
	}{
		{name: "forbidden until granted", user: "statusd-no-events", verb: "create", grant: true},
		{name: "nothing listening", verb: "create"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := env.Config()
			if tc.user != "" {
				cfg = env.ConfigFor(tc.user)
			} else {
				cfg.Host = "https://" + closedAddr
			}
			var subjects []engine.Subject
			for j := range 3 {
				subjects = append(subjects, configMap(t, ns, "denied-"+string(rune('a'+i))+string(rune('0'+j)), nil))
			}
			r := start(t, cfg, emit.Options{RetryBase: time.Second, RetryMax: 4 * time.Second})
			publish := func(at time.Time) {
				var fs []*engine.Finding
				for _, s := range subjects {
					fs = append(fs, finding(s, "ConfigBroken", "config is broken", t0))
				}
				r.clock.SetTime(at)
				r.w.Publish(result(at, fs...))
			}

			began := time.Now()
			for j := range 50 {
				publish(t0.Add(time.Duration(j) * time.Second))
			}
			assert.Less(t, time.Since(began), time.Second, "50 ticks of Publish must not wait for the API server")

			// Failures are counted; retries come as the fake clock passes the
			// backoff, never on their own.
			require.Eventually(t, func() bool { return r.w.Stats().Failures[tc.verb] >= 3 }, waitTimeout, 5*time.Millisecond)
			require.Eventually(t, func() bool {
				r.clock.Step(5 * time.Second)
				return r.w.Stats().Retries >= 9
			}, waitTimeout, 20*time.Millisecond, "retries: %+v", r.w.Stats())
			st := r.w.Stats()
			assert.GreaterOrEqual(t, st.Failures[tc.verb], st.Retries, "every retry follows a failure")
			assert.Zero(t, st.Dropped, "a refusal that may pass is not dropped")
			assert.Equal(t, 3, st.Pending)
			for _, s := range subjects {
				assert.Empty(t, eventsAbout(t, s))
			}
			began = time.Now()
			publish(r.clock.Now())
			// Writes back off on the fake clock, so a Publish that waited for
			// them would not return at all; the bound is loose for a busy
			// machine under the race detector.
			assert.Less(t, time.Since(began), time.Second, "Publish with writes backing off")

			if !tc.grant {
				return
			}
			grantEventWrites(t, ns, tc.user)
			require.Eventually(t, func() bool {
				r.clock.Step(5 * time.Second)
				return r.w.Stats().Pending == 0
			}, waitTimeout, 50*time.Millisecond, "never written: %+v", r.w.Stats())
			for _, s := range subjects {
				ev := onlyEvent(t, s, "ConfigBroken")
				assert.EqualValues(t, 51, ev.Count, "every tick counted while the writes failed")
			}
		})
	}
}

// nsFor is where an Event about s lives with default Options.
func nsFor(s engine.Subject) string {
	if s.Namespace == "" {
		return metav1.NamespaceDefault
	}
	return s.Namespace
}

// TestWritesAreRateLimited: a burst of new findings drains at Options.QPS
// after Options.Burst, in real time (the token bucket protects a real API
// server, so it is the one thing not on the fake clock). Publish itself
// returns at once.
func TestWritesAreRateLimited(t *testing.T) {
	leakCheck(t)
	ns := newNamespace(t).Name
	const n, qps, burst = 8, 10, 2
	var fs []*engine.Finding
	for i := range n {
		fs = append(fs, finding(configMap(t, ns, "burst-"+string(rune('a'+i)), nil), "ConfigBroken", "config is broken", t0))
	}
	r := start(t, testenv.Shared().Config(), emit.Options{QPS: qps, Burst: burst})
	began := time.Now()
	r.w.Publish(result(t0, fs...))
	// Waiting for tokens would take (n-burst)/qps = 600ms; half of that
	// leaves room for a busy machine under the race detector.
	assert.Less(t, time.Since(began), time.Duration(n-burst)*time.Second/qps/2, "Publish does not wait for tokens")
	waitIdle(t, r.w)
	elapsed := time.Since(began)
	t.Logf("%d creates at %d/s after a burst of %d took %v", n, qps, burst, elapsed)
	assert.GreaterOrEqual(t, elapsed, time.Duration(n-burst)*time.Second/qps-50*time.Millisecond, "the bucket paced the writes")
	assert.Equal(t, n, r.reqs.count(http.MethodPost))
}

// grantEventWrites lets user write Events in ns, as statusd's Role does.
func grantEventWrites(t *testing.T, ns, user string) {
	t.Helper()
	client := testenv.Shared().Client()
	_, err := client.RbacV1().Roles(ns).Create(t.Context(), &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "statusd-events"},
		Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{""}, Resources: []string{"events"},
			Verbs: []string{"create", "patch", "get", "list"},
		}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = client.RbacV1().RoleBindings(ns).Create(t.Context(), &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "statusd-events"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "statusd-events"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
}

// TestDrainWritesWhatWasPublished checks the shutdown path: Drain returns
// once every Event published before it has been written, without polling,
// and returns at once for a Writer that is not running.
func TestDrainWritesWhatWasPublished(t *testing.T) {
	leakCheck(t)
	ns := newNamespace(t).Name
	r := start(t, testenv.Shared().Config(), emit.Options{})
	// A first tick written in full shows the writer is running (Drain
	// returns at once for a Writer whose Run has not begun).
	first := configMap(t, ns, "drain-first", nil)
	r.tick(t, result(t0, finding(first, "ConfigBroken", "broken", t0)))
	fs := []*engine.Finding{finding(first, "ConfigBroken", "broken", t0)}
	var subjects []engine.Subject
	for i := range 5 {
		s := configMap(t, ns, "drain-"+string(rune('a'+i)), nil)
		subjects = append(subjects, s)
		fs = append(fs, finding(s, "ConfigBroken", "broken", t0))
	}
	r.w.Publish(result(t0, fs...))
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	require.NoError(t, r.w.Drain(ctx))
	assert.Zero(t, r.w.Stats().Pending, "nothing left queued")
	for _, s := range subjects {
		assert.Len(t, eventsAbout(t, s), 1, "Event about %s written before Drain returned", s.Name)
	}

	idle, err := emit.NewWriter(testenv.Shared().Client(), emit.Options{Instance: "idle"})
	require.NoError(t, err)
	require.NoError(t, idle.Drain(context.Background()), "a Writer that is not running has nothing to drain")
}

// TestMayWriteFencesWritesAndForgetDropsThem runs a Writer whose replica
// does not hold the Lease (MayWrite false, as a leader frozen past its
// Lease finds on waking): nothing is written, the write stays queued and
// retried; Forget (leadership lost) drops it, so nothing is written once
// writing is allowed again either; a later Publish (a new term) writes.
func TestMayWriteFencesWritesAndForgetDropsThem(t *testing.T) {
	leakCheck(t)
	ns := newNamespace(t).Name
	var may atomic.Bool
	r := start(t, testenv.Shared().Config(), emit.Options{MayWrite: may.Load, RetryBase: time.Millisecond, RetryMax: 5 * time.Millisecond})
	s := configMap(t, ns, "fenced", nil)
	r.clock.SetTime(t0)
	r.w.Publish(result(t0, finding(s, "ConfigBroken", "broken", t0)))
	require.Eventually(t, func() bool { return r.w.Stats().Retries > 0 }, waitTimeout, 5*time.Millisecond, "the write was refused and put back")
	assert.Equal(t, 1, r.w.Stats().Pending, "and stays queued")
	// Step the fake clock past several retry delays: still nothing.
	for range 5 {
		r.clock.Step(10 * time.Millisecond)
		time.Sleep(10 * time.Millisecond)
	}
	assert.Zero(t, r.reqs.writes(), "no write while the Lease is not held")
	assert.Empty(t, eventsAbout(t, s))

	r.w.Forget()
	may.Store(true)
	for range 5 {
		r.clock.Step(10 * time.Millisecond)
		time.Sleep(10 * time.Millisecond)
	}
	waitIdle(t, r.w)
	assert.Zero(t, r.reqs.writes(), "a forgotten write is never made")
	assert.Empty(t, eventsAbout(t, s))

	r.tick(t, result(t0.Add(time.Second), finding(s, "ConfigBroken", "broken", t0)))
	assert.Len(t, eventsAbout(t, s), 1, "the next term writes")
}
