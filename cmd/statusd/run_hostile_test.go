package main

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"statusd.io/statusd/internal/testenv"
)

const hostileNS = "statusd-hostile"

// hostileCatalog is a good catalogue: a fault ConfigMap in hostileNS is a
// finding whose message starts with the catalogue's version.
const hostileCatalog = `apiVersion: statusd.io/v1alpha1
kind: Catalog
metadata: {name: hostile-test, version: "%[1]s"}
%[2]s
sources:
  configmaps: {version: v1, resource: configmaps, namespaces: [statusd-hostile], selector: "statusd.io/test=fault"}
reasons:
- name: ConfigBroken
  subject: configmaps
  when: %[3]s
  message: '"v%[1]s: configmap " + object.metadata.name + " is broken"'
`

func hostileCatalogWith(version, header, when string) string {
	if when == "" {
		when = `object.?data.?state.orValue("") == "broken"`
	}
	return fmt.Sprintf(hostileCatalog, version, header, when)
}

// TestRunKeepsLastGoodCatalogue hands a running statusd, through its
// catalogue ConfigMap on the local control plane, each kind of bad
// catalogue in turn. Each time the previous catalogue stays in force
// (findings keep coming), a CatalogRejected Event on the ConfigMap says
// why, the reload metrics count the rejection; a good edit afterwards is
// applied.
func TestRunKeepsLastGoodCatalogue(t *testing.T) {
	env := testenv.Shared()
	c := env.Client()
	ctx := context.Background()
	// The replica's Lease lives in statusd-run (start's --pod-namespace),
	// which this test, run first in file order, must not assume exists.
	ensureNamespace(t, "statusd-run")
	_, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: hostileNS}}, metav1.CreateOptions{})
	require.NoError(t, err)
	cm, err := c.CoreV1().ConfigMaps(hostileNS).Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "statusd-catalog", Namespace: hostileNS},
		Data:       map[string]string{"catalog.yaml": hostileCatalogWith("1", "", "")},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	// A cap well under a ConfigMap's 1 MiB, so the API server takes the
	// oversize catalogue and statusd must refuse it.
	const maxBytes = 64 << 10
	r := start(t, "hostile", "--catalog-configmap", hostileNS+"/statusd-catalog", "--leader-elect=false", "--max-catalog-bytes", strconv.Itoa(maxBytes))
	r.waitReady(t)
	fault := func(name string) {
		t.Helper()
		_, err := c.CoreV1().ConfigMaps(hostileNS).Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: hostileNS, Labels: map[string]string{"statusd.io/test": "fault"}},
			Data:       map[string]string{"state": "broken"},
		}, metav1.CreateOptions{})
		require.NoError(t, err)
	}
	fault("first")
	waitFinding(t, c, "first", "v1: ")

	deep := strings.Repeat("[", 300) + "1" + strings.Repeat("]", 300)
	tests := []struct {
		name string
		data map[string]string
		why  string // in the CatalogRejected Event
	}{
		{name: "YAML syntax error", data: map[string]string{"catalog.yaml": hostileCatalogWith("2", "", "") + "reasons: [\n"}, why: "invalid YAML"},
		{name: "schema error", data: map[string]string{"catalog.yaml": strings.Replace(hostileCatalogWith("2", "", ""), "subject:", "subjekt:", 1)}, why: `unknown field "subjekt"`},
		{name: "CEL type error", data: map[string]string{"catalog.yaml": hostileCatalogWith("2", "", `object.data.state + 1`)}, why: "when must return bool, got int"},
		{name: "over the size cap", data: map[string]string{"catalog.yaml": hostileCatalogWith("2", "", "") + "#" + strings.Repeat("x", maxBytes) + "\n"}, why: "raise it with --max-catalog-bytes"},
		{name: "include escaping", data: map[string]string{"catalog.yaml": hostileCatalogWith("2", "includes: [../../../../etc/passwd]", "")}, why: `include "../../../../etc/passwd" uses ".."`},
		{name: "absolute include", data: map[string]string{"catalog.yaml": hostileCatalogWith("2", "includes: [/proc/self/environ]", "")}, why: "is absolute"},
		{name: "include of a key that is absent", data: map[string]string{"catalog.yaml": hostileCatalogWith("2", "includes: [missing.yaml]", "")}, why: `include "missing.yaml" names no .yaml or .yml key of the ConfigMap`},
		{name: "deeply nested literal", data: map[string]string{"catalog.yaml": hostileCatalogWith("2", "", `size(`+deep+`) > 0`)}, why: "recursion limit exceeded"},
		{name: "not a catalogue at all", data: map[string]string{"catalog.yaml": "root:x:0:0:TOPSECRET:/root:/bin/bash\n"}, why: "a catalogue must be a mapping, got a string"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cm.Data = tc.data
			cm, err = c.CoreV1().ConfigMaps(hostileNS).Update(ctx, cm, metav1.UpdateOptions{})
			require.NoError(t, err)
			ev := waitRejected(t, c, tc.why)
			assert.Equal(t, "statusd-catalog", ev.InvolvedObject.Name, "the Event is on the ConfigMap")
			assert.Contains(t, ev.Message, "the previous catalogue stays in force")
			assert.NotContains(t, ev.Message, "TOPSECRET")
			assert.NotContains(t, ev.Message, "PATH=")
			require.Eventually(t, func() bool {
				_, m := r.get("/metrics")
				return rejectedReloads(m) == i+1
			}, 10*time.Second, 50*time.Millisecond, "the reload metric counts the rejection")
			_, m := r.get("/metrics")
			assert.Contains(t, m, "statusd_catalog_last_reload_successful 0")
			assert.Regexp(t, `statusd_catalog_info\{catalog="hostile-test",hash="[^"]*",version="1"\} 1`, m, "the previous catalogue stays in force")
		})
	}

	// Findings keep coming under the catalogue kept...
	fault("second")
	waitFinding(t, c, "second", "v1: ")
	assert.NotContains(t, r.logs.String(), "TOPSECRET", "nothing of a file that is not a catalogue is logged")

	// ... and the next good edit is applied.
	cm.Data = map[string]string{"catalog.yaml": hostileCatalogWith("3", "", "")}
	_, err = c.CoreV1().ConfigMaps(hostileNS).Update(ctx, cm, metav1.UpdateOptions{})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		_, m := r.get("/metrics")
		return strings.Contains(m, `version="3"} 1`) && strings.Contains(m, "statusd_catalog_last_reload_successful 1")
	}, 10*time.Second, 50*time.Millisecond, "a good edit after the bad ones is applied")
	fault("third")
	waitFinding(t, c, "third", "v3: ")
}

// waitFinding waits for the ConfigBroken Event on ConfigMap name, whose
// message starts with prefix (the catalogue version that found it).
func waitFinding(t *testing.T, c kubernetes.Interface, name, prefix string) {
	t.Helper()
	require.Eventually(t, func() bool {
		for _, e := range eventsIn(t, c, hostileNS, "ConfigBroken") {
			if e.InvolvedObject.Name == name && strings.HasPrefix(e.Message, prefix) {
				return true
			}
		}
		return false
	}, 20*time.Second, 100*time.Millisecond, "no finding on %s from the catalogue %q", name, prefix)
}

// waitRejected waits for a CatalogRejected Event whose message holds why.
func waitRejected(t *testing.T, c kubernetes.Interface, why string) corev1.Event {
	t.Helper()
	var got corev1.Event
	require.Eventually(t, func() bool {
		for _, e := range eventsIn(t, c, hostileNS, "CatalogRejected") {
			if strings.Contains(e.Message, why) {
				got = e
				return true
			}
		}
		return false
	}, 20*time.Second, 100*time.Millisecond, "no CatalogRejected Event saying %q", why)
	return got
}

var rejectedRE = regexp.MustCompile(`statusd_catalog_reloads_total\{outcome="rejected"\} (\d+)`)

// rejectedReloads reads the count of rejected reloads from a metrics page.
func rejectedReloads(metrics string) int {
	m := rejectedRE.FindStringSubmatch(metrics)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}
