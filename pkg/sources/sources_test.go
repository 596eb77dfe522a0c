package sources

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"statusd.io/statusd/internal/testenv"
	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/prune"
	"statusd.io/statusd/pkg/snapshot"
)

func TestMain(m *testing.M) {
	testenv.Main(m, testenv.Options{})
}

// waitTimeout bounds every wait for the cluster or the informers to
// converge; on a loaded two-core machine that takes seconds.
const waitTimeout = time.Minute

// poll is how often a wait re-checks.
const poll = 50 * time.Millisecond

// checkLeaks fails the test if it leaves goroutines behind. Register it
// first, so that it runs after every other cleanup. Idle HTTP connections
// (to the API server, to scrape targets) belong to shared transports and
// are not leaks; nor is the control plane's wait for a restarted
// kube-apiserver.
func checkLeaks(t *testing.T) {
	t.Helper()
	before := goleak.IgnoreCurrent()
	t.Cleanup(func() {
		goleak.VerifyNone(t, before,
			goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
			goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
			goleak.IgnoreTopFunction("net/http.(*http2ClientConn).readLoop"),
			goleak.IgnoreTopFunction("golang.org/x/net/http2.(*ClientConn).readLoop"),
			goleak.IgnoreAnyFunction("net/http.(*http2clientConnReadLoop).run"),
			goleak.IgnoreAnyFunction("golang.org/x/net/http2.(*clientConnReadLoop).run"),
			// The control plane's own: it waits for a restarted apiserver.
			goleak.IgnoreAnyFunction("statusd.io/statusd/internal/testenv.(*process).start.func3"),
		)
	})
}

// newNamespace creates a namespace for one test and deletes it afterwards.
func newNamespace(t *testing.T, client kubernetes.Interface, labels map[string]string) string {
	t.Helper()
	ns, err := client.CoreV1().Namespaces().Create(t.Context(), &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "sources-", Labels: labels},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		err := client.CoreV1().Namespaces().Delete(context.Background(), ns.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("delete namespace %s: %v", ns.Name, err)
		}
	})
	return ns.Name
}

// problems records OnSourceProblem calls.
type problems struct {
	mu    sync.Mutex
	calls []string // "source status"
}

func (p *problems) record(source string, st snapshot.Status, _ error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, source+" "+string(st))
}

func (p *problems) get() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.calls)
}

// run starts Sources on cfg with cat, waits for them to sync, and stops
// them (checking that Run returns) when the test ends. The caches keep
// whole objects.
func run(t *testing.T, cfg *rest.Config, cat *catalog.Catalog, opts Options) *Sources {
	t.Helper()
	return runWith(t, cfg, cat, nil, opts)
}

// runWith is run with the caches trimmed to fields.
func runWith(t *testing.T, cfg *rest.Config, cat *catalog.Catalog, fields map[string]*prune.Tree, opts Options) *Sources {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	s, err := New(cfg, opts)
	require.NoError(t, err)
	require.NoError(t, s.Apply(cat, fields))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(waitTimeout):
			t.Error("Run did not return after its context ended")
		}
	})
	wctx, wcancel := context.WithTimeout(t.Context(), waitTimeout)
	defer wcancel()
	require.NoError(t, s.WaitForSync(wctx))
	return s
}

// testWriter sends log lines to t.Log, so they show with a failing test.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// cat builds a catalogue of sources (no reasons: Sources reads only
// sources).
func cat(sources map[string]catalog.Source) *catalog.Catalog {
	return &catalog.Catalog{APIVersion: catalog.APIVersion, Kind: catalog.Kind, Sources: sources}
}

// names returns the namespace/name of every object of source in snap.
func names(snap *snapshot.Snapshot, source string) []string {
	set := snap.Set(source)
	if set == nil {
		return nil
	}
	out := []string{}
	for _, o := range set.Objects() {
		out = append(out, o.Key())
	}
	return out
}

func configMap(name string, labels map[string]string, data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}, Data: data}
}

func TestInformersSeeChanges(t *testing.T) {
	checkLeaks(t)
	env := testenv.Shared()
	client := env.Client()
	team := "team-" + strings.ToLower(t.Name()[:4])
	ns := newNamespace(t, client, map[string]string{"team": team})
	other := newNamespace(t, client, nil)
	s := run(t, env.Config(), cat(map[string]catalog.Source{
		// Exact name and label selector: both server-side.
		"labelled": {Version: "v1", Resource: "configmaps", Namespaces: catalog.Namespaces{Names: []string{ns}}, Selector: "app=web"},
		// A glob: client-side over one cluster-wide informer.
		"glob": {Version: "v1", Resource: "configmaps", Namespaces: catalog.Namespaces{Names: []string{"sources-*"}}, Selector: "app=web"},
		// A namespace label selector: client-side, with namespace labels.
		"team": {Version: "v1", Resource: "configmaps", Namespaces: catalog.Namespaces{Selector: "team=" + team}, Selector: "app=web"},
		// Cluster-scoped, with a namespace selection that does not apply.
		"nodes": {Version: "v1", Resource: "nodes", Namespaces: catalog.Namespaces{Names: []string{ns}}},
	}), Options{})
	for name, st := range s.Status() {
		assert.Equal(t, snapshot.StatusReady, st.Status, "%s: %s", name, st.Error)
	}
	snap := s.Snapshot(time.Now())
	assert.Len(t, names(snap, "nodes"), 1, "the kwok node")

	cms := client.CoreV1().ConfigMaps
	drain(s.Changed())
	_, err := cms(ns).Create(t.Context(), configMap("web", map[string]string{"app": "web"}, map[string]string{"k": "1"}), metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = cms(ns).Create(t.Context(), configMap("db", map[string]string{"app": "db"}, nil), metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = cms(other).Create(t.Context(), configMap("web", map[string]string{"app": "web"}, nil), metav1.CreateOptions{})
	require.NoError(t, err)
	select {
	case <-s.Changed():
	case <-time.After(waitTimeout):
		t.Fatal("Changed did not signal a create")
	}

	t.Run("create", func(t *testing.T) {
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			snap := s.Snapshot(time.Now())
			assert.Equal(c, []string{ns + "/web"}, names(snap, "labelled"))
			assert.ElementsMatch(c, []string{ns + "/web", other + "/web"}, inNamespaces(names(snap, "glob"), ns, other))
			assert.Equal(c, []string{ns + "/web"}, inNamespaces(names(snap, "team"), ns, other))
		}, waitTimeout, poll)
	})
	t.Run("cache is trimmed", func(t *testing.T) {
		o := s.Snapshot(time.Now()).Set("labelled").Get(ns, "web")
		require.NotNil(t, o)
		md := o.Map()["metadata"].(map[string]any)
		assert.NotContains(t, md, "managedFields")
		assert.Equal(t, "ConfigMap", o.Kind)
		assert.Equal(t, map[string]any{"k": "1"}, o.Map()["data"])
	})
	t.Run("update", func(t *testing.T) {
		cm, err := cms(ns).Get(t.Context(), "web", metav1.GetOptions{})
		require.NoError(t, err)
		cm.Data["k"] = "2"
		_, err = cms(ns).Update(t.Context(), cm, metav1.UpdateOptions{})
		require.NoError(t, err)
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			o := s.Snapshot(time.Now()).Set("labelled").Get(ns, "web")
			if assert.NotNil(c, o) {
				assert.Equal(c, map[string]any{"k": "2"}, o.Map()["data"])
			}
		}, waitTimeout, poll)
	})
	t.Run("relabel leaves the selection", func(t *testing.T) {
		cm, err := cms(other).Get(t.Context(), "web", metav1.GetOptions{})
		require.NoError(t, err)
		cm.Labels["app"] = "db"
		_, err = cms(other).Update(t.Context(), cm, metav1.UpdateOptions{})
		require.NoError(t, err)
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			assert.Equal(c, []string{ns + "/web"}, inNamespaces(names(s.Snapshot(time.Now()), "glob"), ns, other))
		}, waitTimeout, poll)
	})
	t.Run("delete", func(t *testing.T) {
		require.NoError(t, cms(ns).Delete(t.Context(), "web", metav1.DeleteOptions{}))
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			snap := s.Snapshot(time.Now())
			assert.Empty(c, names(snap, "labelled"))
			assert.Empty(c, inNamespaces(names(snap, "team"), ns, other))
		}, waitTimeout, poll)
	})
	t.Run("informers are shared", func(t *testing.T) {
		// labelled: one in ns; glob and team share the cluster-wide
		// configmaps informer with app=web; team needs namespaces; nodes.
		assert.Equal(t, 4, s.Stats().Informers)
	})
}

// inNamespaces keeps the keys in the given namespaces: other tests' objects
// may share the cluster.
func inNamespaces(keys []string, namespaces ...string) []string {
	out := []string{}
	for _, k := range keys {
		ns, _, _ := strings.Cut(k, "/")
		if slices.Contains(namespaces, ns) {
			out = append(out, k)
		}
	}
	return out
}

func drain(ch <-chan struct{}) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

// listCount counts LIST requests of resource in the given scope
// ("namespace", "cluster").
func listCount(t *testing.T, resource, scope string) float64 {
	t.Helper()
	n, err := testenv.Shared().ListRequests(t.Context(), resource, scope)
	require.NoError(t, err)
	return n
}

func TestNoListAfterSync(t *testing.T) {
	checkLeaks(t)
	env := testenv.Shared()
	client := env.Client()
	ns := newNamespace(t, client, nil)
	test := map[string]string{"test": "no-list"} // not the namespace's kube-root-ca.crt
	for i := range 20 {
		_, err := client.CoreV1().ConfigMaps(ns).Create(t.Context(), configMap(fmt.Sprintf("cm-%d", i), test, nil), metav1.CreateOptions{})
		require.NoError(t, err)
	}
	before := listCount(t, "configmaps", "namespace")
	s := run(t, env.Config(), cat(map[string]catalog.Source{
		"cms":  {Version: "v1", Resource: "configmaps", Namespaces: catalog.Namespaces{Names: []string{ns}}, Selector: "test=no-list"},
		"pods": {Version: "v1", Resource: "pods", Namespaces: catalog.Namespaces{Names: []string{ns}}},
	}), Options{Rediscover: 200 * time.Millisecond})
	synced := listCount(t, "configmaps", "namespace")
	lists := s.Stats().Lists
	t.Logf("LIST requests for the initial sync: apiserver %v (namespace-scoped configmaps), informers %d", synced-before, lists)
	require.Len(t, names(s.Snapshot(time.Now()), "cms"), 20)

	// Ticks while objects change, across several discovery periods.
	cms := client.CoreV1().ConfigMaps(ns)
	for i := range 20 {
		_, err := cms.Create(t.Context(), configMap(fmt.Sprintf("new-%d", i), test, nil), metav1.CreateOptions{})
		require.NoError(t, err)
		require.NoError(t, cms.Delete(t.Context(), fmt.Sprintf("cm-%d", i), metav1.DeleteOptions{}))
		s.Snapshot(time.Now())
	}
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		got := names(s.Snapshot(time.Now()), "cms")
		assert.Len(c, got, 20)
		assert.Contains(c, got, ns+"/new-19")
	}, waitTimeout, poll)
	for range 20 {
		s.Snapshot(time.Now())
		time.Sleep(50 * time.Millisecond) // let discovery run a few times
	}

	assert.InDelta(t, synced, listCount(t, "configmaps", "namespace"), 0, "LIST requests after the initial sync")
	assert.Equal(t, lists, s.Stats().Lists, "informer LIST calls after the initial sync")
}

func TestCustomResourceLifecycle(t *testing.T) {
	checkLeaks(t)
	env := testenv.Shared()
	dyn, err := dynamic.NewForConfig(env.Config())
	require.NoError(t, err)
	ns := newNamespace(t, env.Client(), nil)
	var got problems
	s := run(t, env.Config(), cat(map[string]catalog.Source{
		"widgets": {Group: "sources.statusd.io", Version: "v1", Resource: "widgets", Optional: true},
		"gadgets": {Group: "sources.statusd.io", Version: "v1", Resource: "gadgets"},
		"cms":     {Version: "v1", Resource: "configmaps", Namespaces: catalog.Namespaces{Names: []string{ns}}},
	}), Options{Rediscover: 200 * time.Millisecond, OnSourceProblem: got.record})

	st := s.Status()
	assert.Equal(t, snapshot.StatusAbsent, st["widgets"].Status)
	assert.Equal(t, snapshot.StatusFailed, st["gadgets"].Status)
	assert.Contains(t, st["gadgets"].Error, "sources.statusd.io/v1/gadgets is not served")
	assert.Equal(t, snapshot.StatusReady, st["cms"].Status)
	// The problem is reported after the state is stored, outside the
	// lock, so Status may show it a moment before the report arrives.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, []string{"gadgets failed"}, got.get())
	}, waitTimeout, poll)
	assert.False(t, s.Snapshot(time.Now()).HasResource("sources.statusd.io/v1/widgets"))
	informers := s.Stats().Informers

	crds := dyn.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"})
	_, err = crds.Create(t.Context(), widgetCRD(), metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = crds.Delete(context.Background(), "widgets.sources.statusd.io", metav1.DeleteOptions{}) })

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, snapshot.StatusReady, s.Status()["widgets"].Status)
	}, waitTimeout, poll, "the CRD becomes a live source without a restart")
	assert.True(t, s.Snapshot(time.Now()).HasResource("sources.statusd.io/v1/widgets"))
	assert.Equal(t, informers+1, s.Stats().Informers)

	widgets := dyn.Resource(schema.GroupVersionResource{Group: "sources.statusd.io", Version: "v1", Resource: "widgets"}).Namespace(ns)
	_, err = widgets.Create(t.Context(), &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "sources.statusd.io/v1", "kind": "Widget",
		"metadata": map[string]any{"name": "w1"},
		"spec":     map[string]any{"size": int64(3)},
	}}, metav1.CreateOptions{})
	require.NoError(t, err)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, []string{ns + "/w1"}, names(s.Snapshot(time.Now()), "widgets"))
	}, waitTimeout, poll)

	require.NoError(t, crds.Delete(t.Context(), "widgets.sources.statusd.io", metav1.DeleteOptions{}))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, snapshot.StatusAbsent, s.Status()["widgets"].Status)
		assert.Equal(c, informers, s.Stats().Informers, "the informer is stopped")
	}, waitTimeout, poll, "a deleted CRD makes its source absent")
	snap := s.Snapshot(time.Now())
	assert.Empty(t, names(snap, "widgets"))
	assert.Equal(t, snapshot.StatusAbsent, snap.Set("widgets").Status)
	assert.Equal(t, []string{"gadgets failed"}, got.get(), "no other problem reported")
}

func widgetCRD() *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1",
		"kind":       "CustomResourceDefinition",
		"metadata":   map[string]any{"name": "widgets.sources.statusd.io"},
		"spec": map[string]any{
			"group": "sources.statusd.io",
			"scope": "Namespaced",
			"names": map[string]any{"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
			"versions": []any{map[string]any{
				"name": "v1", "served": true, "storage": true,
				"schema": map[string]any{"openAPIV3Schema": map[string]any{
					"type": "object", "x-kubernetes-preserve-unknown-fields": true,
				}},
			}},
		},
	}}
}

func TestForbiddenSource(t *testing.T) {
	checkLeaks(t)
	env := testenv.Shared()
	client := env.Client()
	ns := newNamespace(t, client, nil)
	const user = "statusd-limited"
	// Everything statusd reads here except configmaps.
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "statusd-limited"},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"pods", "namespaces", "nodes", "services"}, Verbs: []string{"get", "list", "watch"}},
			{APIGroups: []string{"apps"}, Resources: []string{"*"}, Verbs: []string{"get", "list", "watch"}},
		},
	}
	_, err := client.RbacV1().ClusterRoles().Create(t.Context(), role, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = client.RbacV1().ClusterRoles().Delete(context.Background(), role.Name, metav1.DeleteOptions{})
	})
	_, err = client.RbacV1().ClusterRoleBindings().Create(t.Context(), &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "statusd-limited"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: user}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = client.RbacV1().ClusterRoleBindings().Delete(context.Background(), "statusd-limited", metav1.DeleteOptions{})
	})

	var got problems
	s := run(t, env.ConfigFor(user), cat(map[string]catalog.Source{
		"pods":        {Version: "v1", Resource: "pods", Namespaces: catalog.Namespaces{Names: []string{ns}}},
		"deployments": {Group: "apps", Version: "v1", Resource: "deployments"},
		"cms":         {Version: "v1", Resource: "configmaps", Namespaces: catalog.Namespaces{Names: []string{ns}}},
	}), Options{OnSourceProblem: got.record})

	st := s.Status()
	assert.Equal(t, snapshot.StatusForbidden, st["cms"].Status)
	assert.Contains(t, st["cms"].Error, `cannot list resource "configmaps"`)
	assert.Equal(t, snapshot.StatusReady, st["pods"].Status)
	assert.Equal(t, snapshot.StatusReady, st["deployments"].Status)

	// Everything else keeps working.
	_, err = client.CoreV1().Pods(ns).Create(t.Context(), &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p"},
		Spec:       corev1.PodSpec{SchedulerName: "none", Containers: []corev1.Container{{Name: "c", Image: "registry.invalid/c:1"}}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		snap := s.Snapshot(time.Now())
		assert.Equal(c, []string{ns + "/p"}, names(snap, "pods"))
		assert.Equal(c, snapshot.StatusForbidden, snap.Set("cms").Status)
	}, waitTimeout, poll)

	// Reported once, however often the reflector retries (its first
	// retries come within a few seconds).
	time.Sleep(3 * time.Second)
	s.Snapshot(time.Now())
	assert.Equal(t, []string{"cms forbidden"}, got.get())
	assert.Equal(t, map[string]uint64{"cms": 1}, s.Stats().Problems)

	t.Run("granting access recovers", func(t *testing.T) {
		role.Rules[0].Resources = append(role.Rules[0].Resources, "configmaps")
		_, err := client.RbacV1().ClusterRoles().Update(t.Context(), role, metav1.UpdateOptions{})
		require.NoError(t, err)
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			assert.Equal(c, snapshot.StatusReady, s.Status()["cms"].Status)
		}, waitTimeout, poll)
		assert.Equal(t, []string{"cms forbidden"}, got.get())
	})
}

func TestAPIServerRestart(t *testing.T) {
	checkLeaks(t)
	env := testenv.Shared()
	client := env.Client()
	ns := newNamespace(t, client, nil)
	cms := client.CoreV1().ConfigMaps(ns)
	test := map[string]string{"test": "restart"}
	_, err := cms.Create(t.Context(), configMap("before", test, map[string]string{"k": "1"}), metav1.CreateOptions{})
	require.NoError(t, err)
	var got problems
	s := run(t, env.Config(), cat(map[string]catalog.Source{
		"cms": {Version: "v1", Resource: "configmaps", Namespaces: catalog.Namespaces{Names: []string{ns}}, Selector: "test=restart"},
	}), Options{Rediscover: 200 * time.Millisecond, OnSourceProblem: got.record})
	require.Equal(t, []string{ns + "/before"}, names(s.Snapshot(time.Now()), "cms"))

	require.NoError(t, env.StopAPIServer())
	time.Sleep(time.Second) // let the watch notice, and discovery fail
	snap := s.Snapshot(time.Now())
	assert.Equal(t, []string{ns + "/before"}, names(snap, "cms"), "the cache keeps serving")
	assert.Equal(t, snapshot.StatusReady, snap.Set("cms").Status)
	require.NoError(t, env.StartAPIServer(t.Context()))

	_, err = cms.Create(t.Context(), configMap("after", test, nil), metav1.CreateOptions{})
	require.NoError(t, err)
	cm, err := cms.Get(t.Context(), "before", metav1.GetOptions{})
	require.NoError(t, err)
	cm.Data["k"] = "2"
	_, err = cms.Update(t.Context(), cm, metav1.UpdateOptions{})
	require.NoError(t, err)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		snap := s.Snapshot(time.Now())
		assert.Equal(c, []string{ns + "/after", ns + "/before"}, names(snap, "cms"))
		if o := snap.Set("cms").Get(ns, "before"); assert.NotNil(c, o) {
			assert.Equal(c, map[string]any{"k": "2"}, o.Map()["data"])
		}
	}, waitTimeout, poll, "changes made after the restart are seen")
	assert.Equal(t, snapshot.StatusReady, s.Status()["cms"].Status)
	assert.Empty(t, got.get(), "a restart of the API server is not a source problem")
}

func TestApplyRefusesSecrets(t *testing.T) {
	checkLeaks(t)
	env := testenv.Shared()
	ns := newNamespace(t, env.Client(), nil)
	good := cat(map[string]catalog.Source{
		"cms": {Version: "v1", Resource: "configmaps", Namespaces: catalog.Namespaces{Names: []string{ns}}},
	})
	s := run(t, env.Config(), good, Options{})

	cases := []struct {
		name string
		src  catalog.Source
		want error
	}{
		{name: "secrets", src: catalog.Source{Version: "v1", Resource: "secrets"}, want: ErrSecrets},
		{name: "secrets in one namespace", src: catalog.Source{Version: "v1", Resource: "secrets", Namespaces: catalog.Namespaces{Names: []string{ns}}}, want: ErrSecrets},
		{name: "Secrets capitalised", src: catalog.Source{Version: "v1", Resource: "Secrets"}, want: ErrSecrets},
		{name: "group core, singular", src: catalog.Source{Group: "core", Version: "v1", Resource: "secret"}, want: ErrSecrets},
		{name: "core wildcard", src: catalog.Source{Version: "v1", Resource: "*"}, want: ErrSecrets},
		{name: "bad selector", src: catalog.Source{Version: "v1", Resource: "pods", Selector: "a in (b"}},
		{name: "no resource", src: catalog.Source{Version: "v1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bad := cat(map[string]catalog.Source{"cms": good.Sources["cms"], "bad": tc.src})
			err := s.Apply(bad, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), `source "bad"`)
			if tc.want != nil {
				require.ErrorIs(t, err, tc.want)
			}
			assert.Equal(t, []string{"cms"}, slices.Sorted(maps.Keys(s.Status())), "the previous catalogue stays")
			assert.Equal(t, 1, s.Stats().Informers)
		})
	}
	// A custom resource named secrets in another group is not a Secret.
	require.NoError(t, s.Apply(cat(map[string]catalog.Source{
		"vault": {Group: "vault.example.com", Version: "v1", Resource: "secrets", Optional: true},
	}), nil))
	assert.Equal(t, snapshot.StatusAbsent, s.Status()["vault"].Status)
}

func TestApplyKeepsUnchangedInformers(t *testing.T) {
	checkLeaks(t)
	env := testenv.Shared()
	ns := newNamespace(t, env.Client(), nil)
	cms := catalog.Source{Version: "v1", Resource: "configmaps", Namespaces: catalog.Namespaces{Names: []string{ns}}}
	pods := catalog.Source{Version: "v1", Resource: "pods", Namespaces: catalog.Namespaces{Names: []string{ns}}}
	s := run(t, env.Config(), cat(map[string]catalog.Source{"cms": cms, "pods": pods}), Options{})
	lists := s.Stats().Lists

	// Renaming a source and dropping another: the configmaps informer
	// stays, with its cache (no new LIST), the pods informer stops.
	require.NoError(t, s.Apply(cat(map[string]catalog.Source{"renamed": cms}), nil))
	assert.Equal(t, 1, s.Stats().Informers)
	assert.Equal(t, snapshot.StatusReady, s.Status()["renamed"].Status)
	assert.Equal(t, lists, s.Stats().Lists)

	// A new selection starts a new informer.
	require.NoError(t, s.Apply(cat(map[string]catalog.Source{"renamed": cms, "pods": pods}), nil))
	assert.Equal(t, 2, s.Stats().Informers)
	wctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	require.NoError(t, s.WaitForSync(wctx))
	assert.Equal(t, snapshot.StatusReady, s.Status()["pods"].Status)
}
