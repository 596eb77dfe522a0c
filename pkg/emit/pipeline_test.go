package emit_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clocktesting "k8s.io/utils/clock/testing"

	"statusd.io/statusd/internal/testenv"
	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/emit"
	"statusd.io/statusd/pkg/engine"
	"statusd.io/statusd/pkg/snapshot"
)

// snapshotOf builds a snapshot of the ConfigMaps of ns as they are in the
// API server now, stamped at.
func snapshotOf(t *testing.T, ns string, at time.Time) *snapshot.Snapshot {
	t.Helper()
	list, err := testenv.Shared().Client().CoreV1().ConfigMaps(ns).List(t.Context(), metav1.ListOptions{})
	require.NoError(t, err)
	b := snapshot.NewBuilder(at, snapshot.Cluster{Version: "v1.36.3"})
	for i := range list.Items {
		cm := &list.Items[i]
		cm.APIVersion, cm.Kind = "v1", "ConfigMap"
		u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(cm)
		require.NoError(t, err)
		b.Add("configmaps", snapshot.NewObject(u))
	}
	return b.Build()
}

// TestEngineAndWriterAcrossARestart runs the real engine over the real
// ConfigMaps: a fault fires after its grace and gets one Event; statusd
// restarts mid-fault (new engine, new writer, Restore); the fault is neither
// re-announced nor resolved; when it is fixed, a Resolved Event follows.
func TestEngineAndWriterAcrossARestart(t *testing.T) {
	leakCheck(t)
	src, errs := catalog.Load("testdata/catalog.yaml")
	require.NoError(t, errs.Err())
	cat, errs := cel.Compile(src, cel.Options{})
	require.NoError(t, errs.Err())
	cfg := testenv.Shared().Config()
	ns := newNamespace(t).Name
	subj := configMap(t, ns, "app-config", map[string]string{"broken": "true"})
	opts := func(instance string, clk *clocktesting.FakeClock) emit.Options {
		return emit.Options{Controller: "statusd.io/pipeline-" + ns, Instance: instance, Clock: clk}
	}
	tick := func(r *rig, e *engine.Engine, at time.Time) *engine.Result {
		res := e.Tick(t.Context(), snapshotOf(t, ns, at))
		r.tick(t, res)
		return res
	}

	e1 := engine.New(cat, engine.Options{})
	r1 := start(t, cfg, opts("statusd-a", clocktesting.NewFakeClock(t0)))
	tick(r1, e1, t0)
	assert.Empty(t, eventsAbout(t, subj), "pending during grace")
	res := tick(r1, e1, t0.Add(time.Minute))
	require.NotNil(t, res.Find("ConfigBroken", subj.String()))
	require.True(t, res.Find("ConfigBroken", subj.String()).Published)
	first := onlyEvent(t, subj, "ConfigBroken")
	assert.Equal(t, "config app-config is broken", first.Message)
	assert.Equal(t, "emit-pipeline", first.Annotations[emit.AnnotationCatalog])

	// Restart: everything in memory is gone.
	e2 := engine.New(cat, engine.Options{})
	r2 := start(t, cfg, opts("statusd-b", clocktesting.NewFakeClock(t0.Add(2*time.Minute))))
	restored, err := r2.w.Restore(t.Context())
	require.NoError(t, err)
	require.Len(t, restored, 1)
	e2.Restore(restored)
	for i := range 5 {
		res = tick(r2, e2, t0.Add(2*time.Minute+time.Duration(i)*30*time.Second))
		f := res.Find("ConfigBroken", subj.String())
		require.NotNil(t, f)
		assert.Equal(t, engine.Firing, f.State, "tick %d", i)
		assert.True(t, f.FiringSince.Equal(t0.Add(time.Minute)), "firing since survives the restart: %v", f.FiringSince)
		assert.Empty(t, res.Resolved)
	}
	assert.Zero(t, r2.reqs.writes(), "no duplicate, no re-announcement")

	// Fixed: cleared after its clear window, then one Resolved Event.
	cm, err := testenv.Shared().Client().CoreV1().ConfigMaps(ns).Get(t.Context(), "app-config", metav1.GetOptions{})
	require.NoError(t, err)
	cm.Data = nil
	_, err = testenv.Shared().Client().CoreV1().ConfigMaps(ns).Update(t.Context(), cm, metav1.UpdateOptions{})
	require.NoError(t, err)
	tick(r2, e2, t0.Add(5*time.Minute))
	res = tick(r2, e2, t0.Add(6*time.Minute))
	require.Len(t, res.Resolved, 1)
	ok := onlyEvent(t, subj, "ConfigBrokenResolved")
	assert.Equal(t, corev1.EventTypeNormal, ok.Type)
	assert.Equal(t, "ConfigBroken on ConfigMap/"+ns+"/app-config resolved after 5m", ok.Message)
	assert.Equal(t, 1, r2.reqs.count(http.MethodPost), "the Resolved Event is the new writer's only create")
	assert.Len(t, eventsAbout(t, subj), 2)
}
