package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"statusd.io/statusd/internal/chart"
	"statusd.io/statusd/internal/fixtures"
	"statusd.io/statusd/internal/testenv"
)

// statusdBin is the statusd binary under test, built once by TestMain, so
// that replicas run as real processes that can be killed.
var statusdBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "statusd-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	statusdBin = filepath.Join(dir, "statusd")
	if out, err := exec.Command("go", "build", "-o", statusdBin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build statusd: %v\n%s", err, out)
		os.Exit(1)
	}
	code := testenv.Run(m, testenv.Options{})
	if err := os.RemoveAll(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}

// replica is one running `statusd run`.
type replica struct {
	name string
	addr string
	cmd  *exec.Cmd
	logs *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// start runs a replica with args after the common flags; it is killed when
// the test ends.
func start(t *testing.T, name string, args ...string) *replica {
	t.Helper()
	r := &replica{name: name, addr: freeAddr(t), logs: &syncBuffer{}}
	common := []string{
		"run", "--kubeconfig", testenv.Shared().KubeconfigPath(), "--listen", r.addr,
		"--pod-name", name, "--pod-namespace", "statusd-run", "--resync", "1s", "--debounce", "50ms", "--log-level", "debug",
	}
	r.cmd = exec.Command(statusdBin, append(common, args...)...)
	r.cmd.Stdout, r.cmd.Stderr = r.logs, r.logs
	require.NoError(t, r.cmd.Start())
	t.Cleanup(func() {
		if r.cmd.ProcessState == nil {
			_ = r.cmd.Process.Kill()
			_ = r.cmd.Wait()
		}
		if t.Failed() {
			t.Logf("logs of %s:\n%s", name, tail(r.logs.String(), 60))
		}
	})
	return r
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func (r *replica) get(path string) (int, string) {
	resp, err := http.Get("http://" + r.addr + path)
	if err != nil {
		return 0, err.Error()
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (r *replica) waitReady(t *testing.T) {
	t.Helper()
	require.Eventually(t, func() bool { code, _ := r.get("/readyz"); return code == http.StatusOK }, 60*time.Second, 100*time.Millisecond, "%s never became ready", r.name)
}

// kill ends the replica the hard way: no Lease release, no goodbye.
func (r *replica) kill(t *testing.T) {
	t.Helper()
	require.NoError(t, r.cmd.Process.Signal(syscall.SIGKILL))
	_ = r.cmd.Wait()
}

// stop ends the replica as Kubernetes does: SIGTERM, then it must exit 0.
func (r *replica) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, r.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, r.cmd.Wait(), "statusd must exit 0 on SIGTERM")
}

const runCatalog = `apiVersion: statusd.io/v1alpha1
kind: Catalog
metadata: {name: run-test, version: "%s"}
sources:
  configmaps: {version: v1, resource: configmaps, namespaces: [statusd-run], selector: "statusd.io/test=fault"}
reasons:
- name: ConfigBroken
  layer: app
  priority: 10
  subject: configmaps
  when: object.?data.?state.orValue("") == "broken"
  message: '"%s: configmap " + object.metadata.name + " is broken: " + object.?data.?detail.orValue("no detail")'
`

func catalogConfigMap(version, prefix string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "statusd-catalog", Namespace: "statusd-run"},
		Data:       map[string]string{"catalog.yaml": fmt.Sprintf(runCatalog, version, prefix)},
	}
}

func fault(name, state, detail string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "statusd-run", Labels: map[string]string{"statusd.io/test": "fault"}},
		Data:       map[string]string{"state": state, "detail": detail},
	}
}

// events returns the Events in statusd-run with reason.
func events(t *testing.T, c kubernetes.Interface, reason string) []corev1.Event {
	t.Helper()
	return eventsIn(t, c, "statusd-run", reason)
}

// eventsIn returns the Events in namespace ns with reason.
func eventsIn(t *testing.T, c kubernetes.Interface, ns, reason string) []corev1.Event {
	t.Helper()
	list, err := c.CoreV1().Events(ns).List(context.Background(), metav1.ListOptions{})
	require.NoError(t, err)
	var out []corev1.Event
	for _, e := range list.Items {
		if e.Reason == reason {
			out = append(out, e)
		}
	}
	return out
}

// waitEvent waits until exactly one Event with reason exists in
// statusd-run and cond holds on it.
func waitEvent(t *testing.T, c kubernetes.Interface, reason string, within time.Duration, cond func(corev1.Event) bool) corev1.Event {
	t.Helper()
	return waitEventIn(t, c, "statusd-run", reason, within, cond)
}

// waitEventIn waits until exactly one Event with reason exists in ns and
// cond holds on it.
func waitEventIn(t *testing.T, c kubernetes.Interface, ns, reason string, within time.Duration, cond func(corev1.Event) bool) corev1.Event {
	t.Helper()
	var got corev1.Event
	require.Eventually(t, func() bool {
		evs := eventsIn(t, c, ns, reason)
		require.LessOrEqual(t, len(evs), 1, "duplicate %s Events: %+v", reason, evs)
		if len(evs) == 1 && cond(evs[0]) {
			got = evs[0]
			return true
		}
		return false
	}, within, 100*time.Millisecond, "no %s Event as expected", reason)
	return got
}

// leaseHolder is the holder of Lease namespace/name, empty when there is
// none (or the Lease cannot be read yet).
func leaseHolder(t *testing.T, c kubernetes.Interface, namespace, name string) string {
	t.Helper()
	l, err := c.CoordinationV1().Leases(namespace).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil || l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

// TestRunPublishesFaultsOnceAcrossRestartsAndFailover walks one fault
// through its life: published once, updated in place, kept across a crash,
// taken over by the standby when the leader dies, resolved once fixed.
func TestRunPublishesFaultsOnceAcrossRestartsAndFailover(t *testing.T) {
	env := testenv.Shared()
	c := env.Client()
	ctx := context.Background()
	ensureNamespace(t, "statusd-run") // the hostile-catalogue test may have made it
	_, err := c.CoreV1().ConfigMaps("statusd-run").Create(ctx, catalogConfigMap("1", "v1"), metav1.CreateOptions{})
	require.NoError(t, err)
	leaderFlags := []string{
		"--catalog-configmap", "statusd-run/statusd-catalog", "--leader-elect",
		"--lease-duration", "4s", "--renew-deadline", "3s", "--retry-period", "500ms",
	}

	a := start(t, "replica-a", leaderFlags...)
	b := start(t, "replica-b", leaderFlags...)
	a.waitReady(t)
	b.waitReady(t)
	require.Eventually(t, func() bool {
		h := leaseHolder(t, c, "statusd-run", "statusd")
		return h == "replica-a" || h == "replica-b"
	}, 30*time.Second, 100*time.Millisecond)

	// A fault: exactly one Warning Event, on the right object.
	began := time.Now()
	cm, err := c.CoreV1().ConfigMaps("statusd-run").Create(ctx, fault("payments", "broken", "disk full"), metav1.CreateOptions{})
	require.NoError(t, err)
	ev := waitEvent(t, c, "ConfigBroken", 10*time.Second, func(corev1.Event) bool { return true })
	t.Logf("fault to Event: %s", time.Since(began))
	assert.Equal(t, corev1.EventTypeWarning, ev.Type)
	assert.Equal(t, "v1: configmap payments is broken: disk full", ev.Message)
	assert.Equal(t, "ConfigMap", ev.InvolvedObject.Kind)
	assert.Equal(t, "payments", ev.InvolvedObject.Name)
	assert.Equal(t, cm.UID, ev.InvolvedObject.UID)
	assert.Equal(t, "statusd", ev.ReportingController)
	firstName := ev.Name

	// Several ticks later it is still the one Event.
	time.Sleep(3 * time.Second)
	require.Len(t, events(t, c, "ConfigBroken"), 1)

	// A changed message updates the same Event.
	cm.Data["detail"] = "disk full on /var"
	cm, err = c.CoreV1().ConfigMaps("statusd-run").Update(ctx, cm, metav1.UpdateOptions{})
	require.NoError(t, err)
	waitEvent(t, c, "ConfigBroken", 10*time.Second, func(e corev1.Event) bool {
		return e.Name == firstName && strings.HasSuffix(e.Message, "disk full on /var")
	})

	// The leader dies without releasing the Lease: the standby takes over
	// within the lease duration and continues the same Event.
	leader, standby := a, b
	if leaseHolder(t, c, "statusd-run", "statusd") == "replica-b" {
		leader, standby = b, a
	}
	leader.kill(t)
	killed := time.Now()
	require.Eventually(t, func() bool { return leaseHolder(t, c, "statusd-run", "statusd") == standby.name }, 15*time.Second, 100*time.Millisecond)
	t.Logf("failover: %s", time.Since(killed))
	cm.Data["detail"] = "disk full, seen by the new leader"
	cm, err = c.CoreV1().ConfigMaps("statusd-run").Update(ctx, cm, metav1.UpdateOptions{})
	require.NoError(t, err)
	waitEvent(t, c, "ConfigBroken", 10*time.Second, func(e corev1.Event) bool {
		return e.Name == firstName && strings.HasSuffix(e.Message, "seen by the new leader")
	})
	assert.Empty(t, events(t, c, "ConfigBrokenResolved"), "a failover is not a recovery")

	// A restart mid-fault (the new leader stops, a fresh replica starts):
	// no duplicate, no false Resolved.
	standby.stop(t)
	c2 := start(t, "replica-c", leaderFlags...)
	c2.waitReady(t)
	require.Eventually(t, func() bool { return leaseHolder(t, c, "statusd-run", "statusd") == "replica-c" }, 15*time.Second, 100*time.Millisecond)
	time.Sleep(3 * time.Second) // several ticks of the new replica
	require.Len(t, events(t, c, "ConfigBroken"), 1)
	assert.Empty(t, events(t, c, "ConfigBrokenResolved"))

	// The fault is fixed: a Normal Resolved Event follows.
	cm.Data["state"] = "ok"
	_, err = c.CoreV1().ConfigMaps("statusd-run").Update(ctx, cm, metav1.UpdateOptions{})
	require.NoError(t, err)
	res := waitEvent(t, c, "ConfigBrokenResolved", 10*time.Second, func(corev1.Event) bool { return true })
	assert.Equal(t, corev1.EventTypeNormal, res.Type)
	assert.Equal(t, "payments", res.InvolvedObject.Name)
	assert.Contains(t, res.Message, "resolved after")

	// Reload: a valid edit applies within 2 s ...
	cat, err := c.CoreV1().ConfigMaps("statusd-run").Get(ctx, "statusd-catalog", metav1.GetOptions{})
	require.NoError(t, err)
	cat.Data = catalogConfigMap("2", "v2").Data
	edited := time.Now()
	cat, err = c.CoreV1().ConfigMaps("statusd-run").Update(ctx, cat, metav1.UpdateOptions{})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		_, m := c2.get("/metrics")
		return strings.Contains(m, `statusd_catalog_info{catalog="run-test",hash=`) && strings.Contains(m, `version="2"} 1`)
	}, 2*time.Second, 20*time.Millisecond, "valid edit not applied within 2s")
	t.Logf("edit to reload: %s", time.Since(edited))
	_, err = c.CoreV1().ConfigMaps("statusd-run").Create(ctx, fault("orders", "broken", "queue stuck"), metav1.CreateOptions{})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		for _, e := range events(t, c, "ConfigBroken") {
			if e.InvolvedObject.Name == "orders" && strings.HasPrefix(e.Message, "v2: ") {
				return true
			}
		}
		return false
	}, 10*time.Second, 100*time.Millisecond, "the reloaded catalogue is not in force")

	// ... and an invalid edit keeps the old catalogue and says why.
	cat.Data["catalog.yaml"] = strings.Replace(cat.Data["catalog.yaml"], `when: object.?data.?state.orValue("") == "broken"`, `when: object.data.state +`, 1)
	_, err = c.CoreV1().ConfigMaps("statusd-run").Update(ctx, cat, metav1.UpdateOptions{})
	require.NoError(t, err)
	rej := waitEvent(t, c, "CatalogRejected", 10*time.Second, func(corev1.Event) bool { return true })
	assert.Equal(t, "statusd-catalog", rej.InvolvedObject.Name)
	assert.Contains(t, rej.Message, "configmap/statusd-run/statusd-catalog/catalog.yaml:11:")
	_, m := c2.get("/metrics")
	assert.Contains(t, m, "statusd_catalog_last_reload_successful 0")
	assert.Contains(t, m, `version="2"} 1`, "the previous catalogue stays in force")

	// SIGTERM: the replica finishes its tick, releases the Lease, exits 0.
	c2.stop(t)
	assert.Empty(t, leaseHolder(t, c, "statusd-run", "statusd"), "the Lease is released on SIGTERM")
}

// TestRunShippedCatalogue is the done-when: statusd run with the
// shipped catalogue against the local control plane publishes a root
// cause. It runs as the Helm chart's ServiceAccount, with exactly the
// chart's RBAC, and must tick without a single forbidden source. The
// HelmRelease CRD is created after statusd starts, so that source must come
// alive by discovery.
func TestRunShippedCatalogue(t *testing.T) {
	env := testenv.Shared()
	c := env.Client()
	ctx := context.Background()
	kubeconfig := chartServiceAccount(t, env)
	r := start(t, "shipped", "--kubeconfig", kubeconfig, "--catalog", "../../rules/catalog.yaml", "--leader-elect",
		"--leader-election-namespace", "statusd", "--pod-namespace", "statusd")
	r.waitReady(t)

	dyn, err := dynamic.NewForConfig(env.Config())
	require.NoError(t, err)
	require.NoError(t, fixtures.CreateHelmReleaseCRD(ctx, dyn))
	ns := "iaas-addon-kuberay-t1"
	_, err = c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	require.NoError(t, err)
	createFailedHelmRelease(t, env, ns, "kuberay-t1")

	ev := waitEventIn(t, c, ns, "AddonInstallFailed", 60*time.Second, func(corev1.Event) bool { return true })
	assert.Equal(t, "HelmRelease", ev.InvolvedObject.Kind)
	assert.Equal(t, "kuberay-t1", ev.InvolvedObject.Name)
	assert.Contains(t, ev.Message, "InstallFailed")
	_, status := r.get("/status")
	assert.Contains(t, status, `"reason": "AddonInstallFailed"`)
	_, metrics := r.get("/metrics")
	assert.NotContains(t, metrics, "statusd_source_problems_total{", "a source was forbidden or failed under the chart's RBAC")
	assert.Regexp(t, `statusd_ticks_total [1-9]`, metrics)
	assert.NotContains(t, strings.ToLower(r.logs.String()), "forbidden")
}

// chartServiceAccount applies the chart's ServiceAccount, roles and
// bindings (not its Deployment: kwok runs no containers) and returns a
// kubeconfig with a real token of that ServiceAccount.
func chartServiceAccount(t *testing.T, env *testenv.Env) string {
	t.Helper()
	ctx := context.Background()
	helm, err := chart.Helm()
	require.NoError(t, err)
	out, err := chart.Render(ctx, helm, chart.Dir(), chart.RenderOptions{})
	require.NoError(t, err)
	objs, err := chart.Decode(out)
	require.NoError(t, err)
	_, err = env.Client().CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "statusd"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	a, err := chart.NewApplier(env.Config(), "statusd-test")
	require.NoError(t, err)
	for _, obj := range objs {
		switch obj.GetKind() {
		case "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "ConfigMap":
			require.NoError(t, a.Apply(ctx, obj, false))
		}
	}
	cfg, err := env.ConfigForServiceAccount(ctx, "statusd", "statusd")
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "statusd-sa.kubeconfig")
	require.NoError(t, fixtures.WriteKubeconfig(path, cfg))
	return path
}

// createFailedHelmRelease creates a HelmRelease whose install failed, as
// helm-controller reports it.
func createFailedHelmRelease(t *testing.T, env *testenv.Env, ns, name string) {
	t.Helper()
	dyn, err := dynamic.NewForConfig(env.Config())
	require.NoError(t, err)
	require.NoError(t, fixtures.CreateHelmRelease(context.Background(), dyn, ns, name, "kuberay-operator", []any{
		fixtures.Condition("Ready", "False", "InstallFailed", "Helm install failed for release "+ns+"/"+name+" with chart kuberay-operator@1.4.2: context deadline exceeded"),
	}))
}
