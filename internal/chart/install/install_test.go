package install_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	authorizationv1 "k8s.io/api/authorization/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"statusd.io/statusd/internal/chart"
	"statusd.io/statusd/internal/testenv"
	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/loader"
	"statusd.io/statusd/pkg/rbac"
	"statusd.io/statusd/pkg/snapshot"
	"statusd.io/statusd/pkg/sources"
)

func TestMain(m *testing.M) {
	testenv.Main(m, testenv.Options{})
}

// waitTimeout bounds every wait for the cluster to converge (RBAC and
// discovery caches, CRDs becoming established) on a loaded machine.
const waitTimeout = time.Minute

// fieldManager names this test's server-side applies.
const fieldManager = "statusd-chart-test"

// newNamespace creates a namespace for one test and deletes it afterwards.
func newNamespace(t *testing.T, client kubernetes.Interface) string {
	t.Helper()
	ns, err := client.CoreV1().Namespaces().Create(t.Context(), &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "chart-"},
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

// render runs helm template (bin/helm, installed by make helm-lint) for the
// local control plane's Kubernetes version.
func render(t *testing.T, opts chart.RenderOptions) []*unstructured.Unstructured {
	t.Helper()
	helm, err := chart.Helm()
	require.NoError(t, err)
	v, err := testenv.Shared().Client().Discovery().ServerVersion()
	require.NoError(t, err)
	opts.KubeVersion = v.GitVersion
	out, err := chart.Render(t.Context(), helm, chart.Dir(), opts)
	require.NoError(t, err)
	objs, err := chart.Decode(out)
	require.NoError(t, err)
	require.NotEmpty(t, objs)
	return objs
}

func newApplier(t *testing.T, cfg *rest.Config) *chart.Applier {
	t.Helper()
	a, err := chart.NewApplier(cfg, fieldManager)
	require.NoError(t, err)
	return a
}

// installMonitoringCRDs creates the Prometheus Operator's ServiceMonitor
// and PrometheusRule definitions (testdata/crds) and waits until the API
// serves them.
func installMonitoringCRDs(t *testing.T, a *chart.Applier) {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "crds", "*.yaml"))
	require.NoError(t, err)
	require.Len(t, paths, 2)
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		require.NoError(t, err)
		objs, err := chart.Decode(raw)
		require.NoError(t, err)
		for _, o := range objs {
			require.NoError(t, a.Apply(t.Context(), o, false))
		}
	}
	for _, kind := range []string{"ServiceMonitor", "PrometheusRule"} {
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			a.Reset()
			probe := &unstructured.Unstructured{}
			probe.SetGroupVersionKind(schema.GroupVersionKind{Group: "monitoring.coreos.com", Version: "v1", Kind: kind})
			_, err := a.Resource(probe)
			assert.NoError(c, err)
		}, waitTimeout, 200*time.Millisecond, "%s never served", kind)
	}
}

// TestDryRunApply applies every object the chart renders, with several
// values, as a server-side dry run: the API server validates each against
// its schema (strictly: no unknown fields) and runs admission, and must
// accept them all.
func TestDryRunApply(t *testing.T) {
	env := testenv.Shared()
	admin := env.Client()
	a := newApplier(t, env.Config())
	installMonitoringCRDs(t, a)

	tests := []struct {
		name string
		opts chart.RenderOptions
		// kinds that must be among the rendered objects
		kinds []string
	}{
		{name: "defaults", kinds: []string{"Deployment", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "ConfigMap", "Service", "PodDisruptionBudget"}},
		{name: "monitoring", opts: chart.RenderOptions{Set: []string{"serviceMonitor.enabled=true", "prometheusRule.enabled=true", "prometheusRule.labels.release=kps"}}, kinds: []string{"ServiceMonitor", "PrometheusRule"}},
		{name: "single replica without leader election", opts: chart.RenderOptions{Release: "solo", Set: []string{"replicaCount=1", "leaderElection.enabled=false", "podDisruptionBudget.enabled=false", "spreadAcrossNodes=false"}}},
		{name: "own catalogue and rules", opts: chart.RenderOptions{Values: "catalog:\n  files:\n    mine.yaml: |\n      apiVersion: statusd.io/v1alpha1\n      kind: Catalog\n" +
			"rbac:\n  rules:\n    - apiGroups: [apps]\n      resources: [statefulsets]\n      verbs: [get, list, watch]\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := newNamespace(t, admin)
			tt.opts.Namespace = ns
			objs := render(t, tt.opts)
			var kinds []string
			for _, o := range objs {
				kinds = append(kinds, o.GetKind())
				require.NoError(t, a.Apply(t.Context(), o, true))
			}
			for _, k := range tt.kinds {
				assert.Contains(t, kinds, k)
			}
		})
	}

	t.Run("an unknown field is refused", func(t *testing.T) {
		ns := newNamespace(t, admin)
		for _, o := range render(t, chart.RenderOptions{Namespace: ns}) {
			if o.GetKind() != "Deployment" {
				continue
			}
			require.NoError(t, unstructured.SetNestedField(o.Object, "x", "spec", "template", "spec", "bogusField"))
			err := a.Apply(t.Context(), o, true)
			require.Error(t, err, "strict validation must refuse a misplaced field, or this test proves nothing")
			assert.Contains(t, err.Error(), "bogusField")
			return
		}
		t.Fatal("no Deployment rendered")
	})
}

// TestServiceAccountPermissions installs the chart's ServiceAccount, roles,
// bindings and catalogue ConfigMap for real and checks, with a real token
// for that ServiceAccount, that it can do what statusd does and nothing it
// must not.
func TestServiceAccountPermissions(t *testing.T) {
	env := testenv.Shared()
	admin := env.Client()
	ns := newNamespace(t, admin)
	const release = "perm"
	name := release + "-statusd"
	configMap := name + "-catalog"

	a := newApplier(t, env.Config())
	for _, o := range render(t, chart.RenderOptions{Release: release, Namespace: ns}) {
		switch o.GetKind() {
		case "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "ConfigMap":
			require.NoError(t, a.Apply(t.Context(), o, false))
		}
	}
	t.Cleanup(func() {
		ctx := context.Background()
		_ = admin.RbacV1().ClusterRoleBindings().Delete(ctx, name, metav1.DeleteOptions{})
		_ = admin.RbacV1().ClusterRoles().Delete(ctx, name, metav1.DeleteOptions{})
	})

	cfg, err := env.ConfigForServiceAccount(t.Context(), ns, name)
	require.NoError(t, err)
	sa, err := kubernetes.NewForConfig(cfg)
	require.NoError(t, err)
	saDyn, err := dynamic.NewForConfig(cfg)
	require.NoError(t, err)

	// The RBAC authorizer reads roles and bindings from an informer: wait
	// until the binding is in force before asserting anything.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		_, err := sa.CoreV1().Pods("").List(t.Context(), metav1.ListOptions{Limit: 1})
		assert.NoError(c, err)
	}, waitTimeout, 100*time.Millisecond)

	res := loader.Embedded(cel.Options{})
	cat, errs := res.Source, res.Problems
	require.NoError(t, errs.Err())
	granted, err := rbac.ClusterRules(cat)
	require.NoError(t, err)

	t.Run("reads every source of the shipped catalogue", func(t *testing.T) {
		served := servedResources(t, admin)
		for _, srcName := range cat.SourceNames() {
			src := cat.Sources[srcName]
			if src.IsQuery() {
				continue // read from Prometheus, not the API server: nothing to grant
			}
			gvr := schema.GroupVersionResource{Group: src.Group, Version: src.Version, Resource: src.Resource}
			if src.IsMetrics() {
				gvr = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
			}
			for _, verb := range []string{"get", "list", "watch"} {
				assert.True(t, allowed(t, sa, verb, gvr.Group, gvr.Resource, "", ""), "source %s: %s %s cluster-wide", srcName, verb, gvr)
			}
			if !served[gvr] {
				continue // an optional CRD not installed here: the review above is all there is to check
			}
			_, err := saDyn.Resource(gvr).List(t.Context(), metav1.ListOptions{Limit: 1})
			require.NoError(t, err, "source %s: list %s", srcName, gvr)
			w, err := saDyn.Resource(gvr).Watch(t.Context(), metav1.ListOptions{})
			if assert.NoError(t, err, "source %s: watch %s", srcName, gvr) {
				w.Stop()
			}
		}
	})

	t.Run("publishes and restores Events", func(t *testing.T) {
		for _, verb := range []string{"create", "patch", "update", "get", "list", "watch"} {
			for _, where := range []string{"", "kube-system", ns} {
				assert.True(t, allowed(t, sa, verb, "", "events", where, ""), "%s events in %q", verb, where)
			}
		}
		ev, err := sa.CoreV1().Events(ns).Create(t.Context(), &corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Name: "statusd-test", Labels: map[string]string{"app.kubernetes.io/managed-by": "statusd"}},
			InvolvedObject: corev1.ObjectReference{APIVersion: "v1", Kind: "ConfigMap", Namespace: ns, Name: configMap},
			Reason:         "ChartTest",
			Message:        "written with the chart's ServiceAccount",
			Type:           corev1.EventTypeWarning,
			Source:         corev1.EventSource{Component: "statusd"},
			Count:          1,
		}, metav1.CreateOptions{})
		require.NoError(t, err)
		_, err = sa.CoreV1().Events(ns).Patch(t.Context(), ev.Name, types.MergePatchType, []byte(`{"count":2}`), metav1.PatchOptions{})
		require.NoError(t, err)
		list, err := sa.CoreV1().Events("").List(t.Context(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/managed-by=statusd"})
		require.NoError(t, err)
		assert.Len(t, list.Items, 1)
	})

	t.Run("holds the Lease and only it", func(t *testing.T) {
		leases := sa.CoordinationV1().Leases(ns)
		holder := "pod-a"
		_, err := leases.Create(t.Context(), &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec:       coordinationv1.LeaseSpec{HolderIdentity: &holder},
		}, metav1.CreateOptions{})
		require.NoError(t, err)
		lease, err := leases.Get(t.Context(), name, metav1.GetOptions{})
		require.NoError(t, err)
		holder = "pod-b"
		lease.Spec.HolderIdentity = &holder
		_, err = leases.Update(t.Context(), lease, metav1.UpdateOptions{})
		require.NoError(t, err)

		// The Lease is named like the release's objects, so another
		// release's statusd in this namespace (its Lease "statusd") is
		// out of reach.
		_, err = leases.Get(t.Context(), "statusd", metav1.GetOptions{})
		assert.True(t, apierrors.IsForbidden(err), "another release's Lease: %v", err)
		_, err = sa.CoordinationV1().Leases("kube-system").Get(t.Context(), "kube-controller-manager", metav1.GetOptions{})
		assert.True(t, apierrors.IsForbidden(err), "a Lease in another namespace: %v", err)
	})

	t.Run("reads its catalogue ConfigMaps and no other", func(t *testing.T) {
		cms := sa.CoreV1().ConfigMaps(ns)
		// The shipped catalogue's, and the operator's overlay's (empty
		// until an overlay is given).
		for _, cm := range []string{configMap, name + "-catalog-overlay"} {
			_, err := cms.Get(t.Context(), cm, metav1.GetOptions{})
			require.NoError(t, err)
			// What pkg/reload does: list and watch with a field selector on
			// the name, which RBAC authorizes as a request for that name.
			byName := metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", cm).String()}
			list, err := cms.List(t.Context(), byName)
			require.NoError(t, err)
			require.Len(t, list.Items, 1)
			if cm == configMap {
				assert.NotEmpty(t, list.Items[0].Data)
			}
			w, err := cms.Watch(t.Context(), byName)
			require.NoError(t, err)
			w.Stop()
		}

		_, err = cms.List(t.Context(), metav1.ListOptions{})
		assert.True(t, apierrors.IsForbidden(err), "list every ConfigMap: %v", err)
		_, err = cms.Get(t.Context(), "kube-root-ca.crt", metav1.GetOptions{})
		assert.True(t, apierrors.IsForbidden(err), "another ConfigMap: %v", err)
		_, err = sa.CoreV1().ConfigMaps("").List(t.Context(), metav1.ListOptions{})
		assert.True(t, apierrors.IsForbidden(err), "ConfigMaps cluster-wide: %v", err)
	})

	t.Run("never reads Secrets", func(t *testing.T) {
		_, err := admin.CoreV1().Secrets(ns).Create(t.Context(), &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "token"}, StringData: map[string]string{"k": "v"},
		}, metav1.CreateOptions{})
		require.NoError(t, err)
		for _, verb := range []string{"get", "list", "watch"} {
			for _, where := range []string{"", ns, "kube-system"} {
				assert.False(t, allowed(t, sa, verb, "", "secrets", where, ""), "%s secrets in %q", verb, where)
			}
		}
		_, err = sa.CoreV1().Secrets(ns).Get(t.Context(), "token", metav1.GetOptions{})
		assert.True(t, apierrors.IsForbidden(err), "get: %v", err)
		_, err = sa.CoreV1().Secrets("").List(t.Context(), metav1.ListOptions{})
		assert.True(t, apierrors.IsForbidden(err), "list: %v", err)
		_, err = sa.CoreV1().Secrets(ns).Watch(t.Context(), metav1.ListOptions{})
		assert.True(t, apierrors.IsForbidden(err), "watch: %v", err)
	})

	outside := notGranted(granted)
	t.Run("a resource no source names is forbidden", func(t *testing.T) {
		for _, verb := range []string{"get", "list", "watch"} {
			assert.False(t, allowed(t, sa, verb, outside.Group, outside.Resource, "", ""), "%s %s", verb, outside)
		}
		_, err := saDyn.Resource(outside).List(t.Context(), metav1.ListOptions{})
		assert.True(t, apierrors.IsForbidden(err), "list %s: %v", outside, err)
	})

	t.Run("statusd's sources run with the identity: shipped sources read, an ungranted one is forbidden", func(t *testing.T) {
		// The shipped catalogue plus one source the chart does not grant,
		// read by pkg/sources (what statusd run watches with) as the
		// chart's ServiceAccount. The ungranted source must come out
		// Forbidden, every other Ready (or Absent: an optional CRD not
		// installed here), and nothing may crash.
		withExtra := *cat
		withExtra.Sources = map[string]catalog.Source{"ungranted": {Group: outside.Group, Version: outside.Version, Resource: outside.Resource}}
		for k, v := range cat.Sources {
			withExtra.Sources[k] = v
		}
		srcs, err := sources.New(cfg, sources.Options{})
		require.NoError(t, err)
		require.NoError(t, srcs.Apply(&withExtra, nil))
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- srcs.Run(ctx) }()
		defer func() {
			cancel()
			select {
			case err := <-done:
				if err != nil && !errors.Is(err, context.Canceled) {
					t.Errorf("sources: %v", err)
				}
			case <-time.After(waitTimeout):
				t.Error("sources did not stop")
			}
		}()
		wctx, wcancel := context.WithTimeout(ctx, waitTimeout)
		defer wcancel()
		require.NoError(t, srcs.WaitForSync(wctx))

		status := srcs.Status()
		watched := 0 // query sources are Prometheus's, not pkg/sources'
		for _, src := range withExtra.Sources {
			if !src.IsQuery() {
				watched++
			}
		}
		require.Len(t, status, watched)
		for srcName, st := range status {
			switch {
			case srcName == "ungranted":
				assert.Equal(t, snapshot.StatusForbidden, st.Status, "ungranted source: %+v", st)
			case withExtra.Sources[srcName].Optional:
				assert.Contains(t, []snapshot.Status{snapshot.StatusReady, snapshot.StatusAbsent}, st.Status, "source %s: %+v", srcName, st)
			default:
				assert.Equal(t, snapshot.StatusReady, st.Status, "source %s: %+v", srcName, st)
			}
		}
	})
}

// allowed asks the API server, as the client's own identity, whether it may
// do verb on group/resource in namespace ("" for cluster-wide).
func allowed(t *testing.T, client kubernetes.Interface, verb, group, resource, namespace, name string) bool {
	t.Helper()
	r, err := client.AuthorizationV1().SelfSubjectAccessReviews().Create(t.Context(), &authorizationv1.SelfSubjectAccessReview{
		Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
			Verb: verb, Group: group, Resource: resource, Namespace: namespace, Name: name,
		}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	return r.Status.Allowed
}

// servedResources lists what the control plane serves.
func servedResources(t *testing.T, client kubernetes.Interface) map[schema.GroupVersionResource]bool {
	t.Helper()
	_, lists, err := client.Discovery().ServerGroupsAndResources()
	require.NoError(t, err)
	served := map[schema.GroupVersionResource]bool{}
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		require.NoError(t, err)
		for _, r := range l.APIResources {
			if !strings.Contains(r.Name, "/") {
				served[gv.WithResource(r.Name)] = true
			}
		}
	}
	return served
}

// notGranted picks a served, readable-by-admin resource that rules do not
// grant, so the test keeps working as the shipped catalogue grows.
func notGranted(rules []rbacv1.PolicyRule) schema.GroupVersionResource {
	candidates := []schema.GroupVersionResource{
		{Group: "apps", Version: "v1", Resource: "statefulsets"},
		{Group: "batch", Version: "v1", Resource: "cronjobs"},
		{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles"},
		{Group: "scheduling.k8s.io", Version: "v1", Resource: "priorityclasses"},
	}
	for _, c := range candidates {
		granted := false
		for _, r := range rules {
			granted = granted || (slices.Contains(r.APIGroups, c.Group) && slices.Contains(r.Resources, c.Resource))
		}
		if !granted {
			return c
		}
	}
	panic("every candidate resource is granted; add one the shipped catalogue does not watch")
}
