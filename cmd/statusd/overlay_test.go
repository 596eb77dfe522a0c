package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"statusd.io/statusd/internal/testenv"
)

// overlayBase is the catalogue the operator does not edit (the chart's
// shipped catalogue ConfigMap), in namespace statusd-overlay.
const overlayBase = `apiVersion: statusd.io/v1alpha1
kind: Catalog
metadata: {name: overlay-test, version: "1"}
sources:
  configmaps: {version: v1, resource: configmaps, namespaces: [statusd-overlay], selector: "statusd.io/test=fault"}
reasons:
- name: ConfigBroken
  layer: app
  priority: 10
  subject: configmaps
  when: object.?data.?state.orValue("") == "broken"
  message: '"configmap " + object.metadata.name + " is broken"'
`

// overlayOps is the operator's overlay (the chart's second ConfigMap): a
// reason of its own, hidden behind the shipped ConfigBroken on the same
// object.
const overlayOps = `apiVersion: statusd.io/v1alpha1
kind: CatalogOverlay
metadata: {name: ops, version: "%s"}
reasons:
- name: ConfigDegraded
  layer: app
  priority: 5
  subject: configmaps
  when: object.?data.?state.orValue("") in ["degraded", "broken"]
  message: '"%s: configmap " + object.metadata.name + " is degraded"'
  suppressedBy: [{reason: ConfigBroken, join: sameSubject}]
`

// TestRunLoadsTheOverlayConfigMap runs statusd as the chart does, on the
// catalogue ConfigMap and the overlay ConfigMap, and edits the overlay:
// the overlay's reason publishes, an edit reloads within seconds, and a
// broken overlay is refused whole with the previous catalogue in force.
func TestRunLoadsTheOverlayConfigMap(t *testing.T) {
	env := testenv.Shared()
	c := env.Client()
	ctx := context.Background()
	const ns = "statusd-overlay"
	_, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	require.NoError(t, err)
	cms := c.CoreV1().ConfigMaps(ns)
	_, err = cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "statusd-catalog"}, Data: map[string]string{"catalog.yaml": overlayBase}}, metav1.CreateOptions{})
	require.NoError(t, err)
	over, err := cms.Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "statusd-catalog-overlay"},
		Data:       map[string]string{"ops.yaml": fmt.Sprintf(overlayOps, "1", "v1")},
	}, metav1.CreateOptions{})
	require.NoError(t, err)

	r := start(t, "overlay", "--catalog-configmap", ns+"/statusd-catalog", "--catalog-configmap", ns+"/statusd-catalog-overlay", "--leader-elect=false")
	r.waitReady(t)
	_, m := r.get("/metrics")
	assert.Contains(t, m, `version="1+ops.1"} 1`, "one catalogue of both ConfigMaps")

	// The overlay's reason publishes; the shipped cause hides it where it
	// fires.
	for name, state := range map[string]string{"cache": "degraded", "queue": "broken"} {
		_, err = cms.Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"statusd.io/test": "fault"}},
			Data:       map[string]string{"state": state},
		}, metav1.CreateOptions{})
		require.NoError(t, err)
	}
	ev := waitEventIn(t, c, ns, "ConfigDegraded", 10*time.Second, func(corev1.Event) bool { return true })
	assert.Equal(t, "cache", ev.InvolvedObject.Name)
	assert.Equal(t, "v1: configmap cache is degraded", ev.Message)
	waitEventIn(t, c, ns, "ConfigBroken", 10*time.Second, func(e corev1.Event) bool { return e.InvolvedObject.Name == "queue" })
	time.Sleep(2 * time.Second) // ticks in which a ConfigDegraded on queue would be published
	require.Len(t, eventsIn(t, c, ns, "ConfigDegraded"), 1, "ConfigBroken hides ConfigDegraded on queue")

	// An overlay edit reloads within seconds, and its reason reads the new
	// definition.
	over.Data["ops.yaml"] = fmt.Sprintf(overlayOps, "2", "v2")
	edited := time.Now()
	over, err = cms.Update(ctx, over, metav1.UpdateOptions{})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		_, m := r.get("/metrics")
		return strings.Contains(m, `version="1+ops.2"} 1`)
	}, 5*time.Second, 20*time.Millisecond, "overlay edit not applied")
	t.Logf("overlay edit to reload: %s", time.Since(edited))
	waitEventIn(t, c, ns, "ConfigDegraded", 10*time.Second, func(e corev1.Event) bool { return strings.HasPrefix(e.Message, "v2: ") })

	// A broken overlay is refused whole, on the overlay's ConfigMap, and
	// the last good catalogue stays in force.
	over.Data["ops.yaml"] = strings.Replace(over.Data["ops.yaml"], `in ["degraded", "broken"]`, `in [`, 1)
	_, err = cms.Update(ctx, over, metav1.UpdateOptions{})
	require.NoError(t, err)
	rej := waitEventIn(t, c, ns, "CatalogRejected", 10*time.Second, func(corev1.Event) bool { return true })
	assert.Equal(t, "statusd-catalog-overlay", rej.InvolvedObject.Name)
	assert.Contains(t, rej.Message, "configmap/statusd-overlay/statusd-catalog-overlay/ops.yaml:")
	_, m = r.get("/metrics")
	assert.Contains(t, m, "statusd_catalog_last_reload_successful 0")
	assert.Contains(t, m, `version="1+ops.2"} 1`, "the previous catalogue stays in force")
	r.stop(t)
}
