package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"statusd.io/statusd/internal/testenv"
	"statusd.io/statusd/pkg/emit"
)

// ensureNamespace creates a namespace unless an earlier test did.
func ensureNamespace(t *testing.T, name string) {
	t.Helper()
	_, err := testenv.Shared().Client().CoreV1().Namespaces().Create(context.Background(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if !apierrors.IsAlreadyExists(err) {
		require.NoError(t, err)
	}
}

// copyShipped copies the shipped catalogue's files into a new directory.
func copyShipped(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files, err := filepath.Glob("../../rules/catalog*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644))
	}
	return dir
}

// selfEvents lists the Events with reason about the replica's own pod.
func selfEvents(t *testing.T, r *replica, reason string) []corev1.Event {
	t.Helper()
	var out []corev1.Event
	for _, e := range events(t, testenv.Shared().Client(), reason) {
		if e.InvolvedObject.Kind == "Pod" && e.InvolvedObject.Name == r.name {
			out = append(out, e)
		}
	}
	return out
}

// waitSelfEvent waits for the one Event with reason about the replica's
// own pod (other tests' replicas write theirs on other objects).
func waitSelfEvent(t *testing.T, r *replica, reason string) corev1.Event {
	t.Helper()
	var got corev1.Event
	require.Eventually(t, func() bool {
		evs := selfEvents(t, r, reason)
		require.LessOrEqual(t, len(evs), 1, "duplicate %s Events: %+v", reason, evs)
		if len(evs) == 1 {
			got = evs[0]
			return true
		}
		return false
	}, 60*time.Second, 100*time.Millisecond, "no %s Event on %s", reason, r.name)
	return got
}

// TestRunTypesCRDsFromTheCluster: the daemon types custom resources from
// the schemas the cluster serves. On the control plane with every fixture
// CRD it loads the shipped catalogue (HelmReleases, whose CRD preserves
// unknown fields, stay dynamic), and a reload that misspells a field of a
// CRD with a schema is refused with the field named.
func TestRunTypesCRDsFromTheCluster(t *testing.T) {
	installCRDs(t)
	ensureNamespace(t, "statusd-run")
	dir := copyShipped(t)
	r := start(t, "typed", "--catalog", dir, "--leader-elect=false")
	r.waitReady(t)
	require.Eventually(t, func() bool {
		_, m := r.get("/metrics")
		return strings.Contains(m, "statusd_catalog_last_reload_successful 1")
	}, 30*time.Second, 100*time.Millisecond)
	assert.Contains(t, r.logs.String(), `msg="Catalogue loaded"`)
	assert.NotContains(t, r.logs.String(), "Catalogue rejected")

	// A reason on widgets reading a field the CRD does not have.
	extra := `apiVersion: statusd.io/v1alpha1
kind: Catalog
metadata: {name: statusd-shipped, version: "2026.11.0"}
sources:
  widgets: {group: example.com, version: v1, resource: widgets}
reasons:
- name: WidgetRed
  subject: widgets
  summary: a red widget
  when: object.spec.?colour.orValue("") == "red"
`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "catalog-zz-widgets.yaml"), []byte(extra), 0o644))
	rej := waitSelfEvent(t, r, emit.ReasonCatalogRejected)
	assert.Contains(t, rej.Message, `undefined field 'colour'; did you mean "color"?`)
	_, m := r.get("/metrics")
	assert.Contains(t, m, "statusd_catalog_last_reload_successful 0")

	// Fixed, it loads: the field exists in the served schema.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "catalog-zz-widgets.yaml"), []byte(strings.Replace(extra, "colour", "color", 1)), 0o644))
	require.Eventually(t, func() bool {
		_, m := r.get("/metrics")
		return strings.Contains(m, "statusd_catalog_last_reload_successful 1")
	}, 30*time.Second, 100*time.Millisecond, "the fixed catalogue never loaded")
}

// TestRunAnnouncesAReasonUnknownEverywhere: a reason Unknown on every
// subject it evaluates for ten ticks is announced once, by one Warning
// Event about the catalogue (on statusd's pod, not the subjects) naming
// the reason and the error, and listed in /status and the metric for as
// long as it stays so. Once it evaluates on one subject, it leaves /status
// and the metric; no Event says so (the Warning's own count and age tell
// when it was last true).
func TestRunAnnouncesAReasonUnknownEverywhere(t *testing.T) {
	ns := "statusd-unknown"
	ensureNamespace(t, ns)
	ensureNamespace(t, "statusd-run")
	c := testenv.Shared().Client()
	ctx := context.Background()
	for _, name := range []string{"a", "b"} {
		_, err := c.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"statusd.io/test": "unknown"}},
			Data:       map[string]string{"other": "x"},
		}, metav1.CreateOptions{})
		require.NoError(t, err)
	}
	cat := `apiVersion: statusd.io/v1alpha1
kind: Catalog
metadata: {name: unknown-test, version: "1"}
sources:
  configmaps: {version: v1, resource: configmaps, namespaces: [statusd-unknown], selector: "statusd.io/test=unknown"}
reasons:
- name: StateBroken
  subject: configmaps
  summary: the state is broken
  # state is read without a guard: Unknown on every ConfigMap without it.
  when: object.?data.orValue({})["state"] == "broken"
`
	file := filepath.Join(t.TempDir(), "catalog.yaml")
	require.NoError(t, os.WriteFile(file, []byte(cat), 0o644))
	r := start(t, "unknown", "--catalog", file, "--leader-elect=false")
	r.waitReady(t)

	type status struct {
		Result struct {
			UnknownReasons []struct {
				Reason   string `json:"reason"`
				Ticks    int    `json:"ticks"`
				Subjects int    `json:"subjects"`
				Err      string `json:"error"`
			} `json:"unknownReasons"`
		} `json:"result"`
	}
	readStatus := func() status {
		_, body := r.get("/status")
		var st status
		require.NoError(t, json.Unmarshal([]byte(body), &st), body)
		return st
	}
	ev := waitSelfEvent(t, r, emit.ReasonReasonUnknown)
	assert.Equal(t, corev1.EventTypeWarning, ev.Type)
	assert.Equal(t, "Pod", ev.InvolvedObject.Kind, "the Event is about statusd, not a subject")
	assert.Contains(t, ev.Message, "reason StateBroken has been Unknown on all 2 subjects it evaluates for 10 ticks")
	assert.Contains(t, ev.Message, "no such key: state")
	st := readStatus()
	require.Len(t, st.Result.UnknownReasons, 1)
	assert.Equal(t, "StateBroken", st.Result.UnknownReasons[0].Reason)
	assert.Equal(t, 2, st.Result.UnknownReasons[0].Subjects)
	assert.Contains(t, st.Result.UnknownReasons[0].Err, "no such key: state")
	_, m := r.get("/metrics")
	assert.Regexp(t, `statusd_reason_unknown_ticks\{reason="StateBroken"\} (1[0-9]|[2-9][0-9])`, m)

	// More ticks: still the one Event, once, and nothing about the subjects.
	require.Eventually(t, func() bool {
		st := readStatus()
		return len(st.Result.UnknownReasons) == 1 && st.Result.UnknownReasons[0].Ticks >= 15
	}, 30*time.Second, 200*time.Millisecond)
	evs := selfEvents(t, r, emit.ReasonReasonUnknown)
	require.Len(t, evs, 1)
	assert.EqualValues(t, 1, evs[0].Count, "announced once, not every tick")
	for _, e := range eventsIn(t, c, ns, "StateBroken") {
		t.Errorf("an Event about a subject: %+v", e)
	}

	// One ConfigMap gets a state: the reason evaluates there, so it is no
	// longer Unknown everywhere; it leaves /status and the metric.
	cm, err := c.CoreV1().ConfigMaps(ns).Get(ctx, "a", metav1.GetOptions{})
	require.NoError(t, err)
	cm.Data["state"] = "ok"
	_, err = c.CoreV1().ConfigMaps(ns).Update(ctx, cm, metav1.UpdateOptions{})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(readStatus().Result.UnknownReasons) == 0 }, 30*time.Second, 200*time.Millisecond)
	_, m = r.get("/metrics")
	assert.NotContains(t, m, `statusd_reason_unknown_ticks{reason="StateBroken"}`)
	evs = selfEvents(t, r, emit.ReasonReasonUnknown)
	require.Len(t, evs, 1)
	assert.EqualValues(t, 1, evs[0].Count)
}
