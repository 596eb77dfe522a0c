package sources

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"statusd.io/statusd/internal/testenv"
	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/engine"
)

// absenceCatalog expects a CRD and a Deployment in namespace NS; each
// reason fires on the stand-in of a missing one after a minute.
const absenceCatalog = `apiVersion: statusd.io/v1alpha1
kind: Catalog
metadata: {name: absence-live, version: "1"}
sources:
  namespaces: {version: v1, resource: namespaces}
  crds:
    group: apiextensions.k8s.io
    version: v1
    resource: customresourcedefinitions
    expect:
    - {kind: CustomResourceDefinition, names: [gizmos.absence.statusd.io]}
  controllers:
    group: apps
    version: v1
    resource: deployments
    namespaces: [NS]
    expect:
    - {kind: Deployment, names: [NS/controller]}
reasons:
- name: CRDMissing
  subject: crds
  when: |
    object.metadata.name == "gizmos.absence.statusd.io" &&
    (object.metadata.?annotations[?"statusd.io/missing"].hasValue() ||
     !cluster.hasResource("absence.statusd.io/v1/gizmos"))
  grace: 1m
  summary: A CRD is missing.
- name: ControllerMissing
  subject: controllers
  when: object.metadata.?annotations[?"statusd.io/missing"].hasValue()
  grace: 1m
  summary: The controller is missing.
`

// TestAbsenceLive: expected objects against the real API server, with
// discovery: a CRD and a Deployment that do not exist are reported after
// their grace (the Deployment's Event about its Namespace), and resolve
// once they are created and the informers see them.
func TestAbsenceLive(t *testing.T) {
	checkLeaks(t)
	env := testenv.Shared()
	ns := newNamespace(t, env.Client(), nil)
	path := filepath.Join(t.TempDir(), "catalog.yaml")
	require.NoError(t, os.WriteFile(path, []byte(strings.ReplaceAll(absenceCatalog, "NS", ns)), 0o600))
	src, errs := catalog.Load(path)
	require.NoError(t, errs.Err())
	compiled, errs := cel.Compile(src, cel.Options{})
	require.NoError(t, errs.Err())
	s := run(t, env.Config(), src, Options{Rediscover: 200 * time.Millisecond})
	e := engine.New(compiled, engine.Options{})
	ctx := t.Context()
	crdSubject, depSubject := "CustomResourceDefinition/gizmos.absence.statusd.io", "Deployment/"+ns+"/controller"

	t0 := time.Now()
	res := e.Tick(ctx, s.Snapshot(t0))
	require.NotNil(t, res.Find("CRDMissing", crdSubject), "the missing CRD has a stand-in")
	assert.Equal(t, engine.Pending, res.Find("CRDMissing", crdSubject).State)
	dep := res.Find("ControllerMissing", depSubject)
	require.NotNil(t, dep)
	assert.Equal(t, engine.Pending, dep.State)
	require.NotNil(t, dep.Target, "an Event target that exists")
	assert.Equal(t, "Namespace", dep.Target.Kind)
	assert.Equal(t, ns, dep.Target.Name)
	assert.NotEmpty(t, dep.Target.UID)

	res = e.Tick(ctx, s.Snapshot(t0.Add(time.Minute)))
	assert.Equal(t, engine.Firing, res.Find("CRDMissing", crdSubject).State)
	assert.Equal(t, engine.Firing, res.Find("ControllerMissing", depSubject).State)

	// Install both.
	dyn, err := dynamic.NewForConfig(env.Config())
	require.NoError(t, err)
	crds := dyn.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"})
	crd := widgetCRD()
	crd.Object["metadata"] = map[string]any{"name": "gizmos.absence.statusd.io"}
	spec := crd.Object["spec"].(map[string]any)
	spec["group"] = "absence.statusd.io"
	spec["names"] = map[string]any{"plural": "gizmos", "singular": "gizmo", "kind": "Gizmo", "listKind": "GizmoList"}
	_, err = crds.Create(ctx, crd, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = crds.Delete(context.Background(), "gizmos.absence.statusd.io", metav1.DeleteOptions{}) })
	one := int32(1)
	_, err = env.Client().AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "controller"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &one,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "controller"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "controller"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "registry.k8s.io/pause:3.10"}}},
			},
		},
	}, metav1.CreateOptions{})
	require.NoError(t, err)

	// Once the informers and discovery see them, both resolve.
	resolved := map[string]string{} // reason → why
	at := t0.Add(2 * time.Minute)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		at = at.Add(time.Second)
		res := e.Tick(ctx, s.Snapshot(at))
		for _, f := range res.Resolved {
			resolved[f.Reason] = f.ResolvedBecause
		}
		assert.Nil(c, res.Find("CRDMissing", crdSubject))
		assert.Nil(c, res.Find("ControllerMissing", depSubject))
		assert.Len(c, resolved, 2)
	}, waitTimeout, poll)
	assert.Equal(t, map[string]string{"CRDMissing": "the expected object exists", "ControllerMissing": "the expected object exists"}, resolved)
}
