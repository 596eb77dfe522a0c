package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"statusd.io/statusd/internal/promstack"
	"statusd.io/statusd/internal/testenv"
)

// alertingCatalog: a backend that is down hides the frontend failing
// with it (joined by data.app); QueueDeep reads a Prometheus query.
const alertingCatalog = `apiVersion: statusd.io/v1alpha1
kind: Catalog
metadata: {name: alerting-e2e, version: "%s"}
sources:
  configmaps: {version: v1, resource: configmaps, namespaces: [statusd-alerts], selector: "statusd.io/test=alerting"}
  queue:
    prometheus: {query: 'max by (namespace, configmap) (statusd_test_queue_depth)'}
reasons:
- name: BackendDown
  layer: infra
  priority: 100
  severity: critical
  subject: configmaps
  when: object.metadata.labels["role"] == "backend" && object.?data.?state.orValue("") == "down"
  message: '"backend " + object.metadata.name + " is down"'
  summary: The backend is down.
  suppresses:
  - {reason: FrontendErrors, join: {key: 'object.?data.?app.orValue("")'}}
- name: FrontendErrors
  layer: app
  priority: 10
  subject: configmaps
  when: object.metadata.labels["role"] == "frontend" && object.?data.?state.orValue("") == "down"
  message: '"frontend " + object.metadata.name + " fails"'
  summary: The frontend fails.
- name: QueueDeep
  layer: app
  priority: 20
  severity: warning
  subject: configmaps
  when: cluster.query("queue", object).max() > 10.0
  message: '"queue of " + object.metadata.name + " holds " + string(cluster.query("queue", object).max())'
  summary: The queue is deep.
`

func alertingObject(name, role, state string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "statusd-alerts", Labels: map[string]string{"statusd.io/test": "alerting", "role": role}},
		Data:       map[string]string{"app": "shop", "state": state},
	}
}

func queuePage(depth int) string {
	return fmt.Sprintf("# TYPE statusd_test_queue_depth gauge\nstatusd_test_queue_depth{namespace=\"statusd-alerts\",configmap=\"orders\"} %d\n", depth)
}

// paged counts the notifications of alertname on name with status.
func paged(hook *promstack.Webhook, status, alertname, name string) int {
	n := 0
	for _, a := range hook.Alerts() {
		if a.Status == status && a.Labels["alertname"] == alertname && a.Labels["name"] == name {
			n++
		}
	}
	return n
}

func waitPaged(t *testing.T, hook *promstack.Webhook, am *promstack.Alertmanager, status, alertname, name string, within time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), within)
	defer cancel()
	err := hook.Wait(ctx, func([]promstack.Notification) bool { return paged(hook, status, alertname, name) >= 1 })
	require.NoError(t, err, "no %s notification of %s on %s; got %+v\nalertmanager:\n%s", status, alertname, name, hook.Alerts(), am.Log())
}

// metric reads one sample of a replica's /metrics (the first line that
// starts with prefix), 0 when it has none.
func (r *replica) metric(t *testing.T, prefix string) float64 {
	t.Helper()
	_, m := r.get("/metrics")
	for _, line := range strings.Split(m, "\n") {
		if strings.HasPrefix(line, prefix) {
			v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			require.NoError(t, err, line)
			return v
		}
	}
	return 0
}

// TestRunPagesThroughAlertmanager runs statusd against the local control
// plane, a real Prometheus scraping a test exporter and a real
// Alertmanager routing to a webhook on 127.0.0.1, and asserts what a
// person would be paged with: one notification per root cause, none for
// the symptom it hides (across a failover, a restart and a catalogue
// reload), a finding driven by a Prometheus query, nothing lost while
// Alertmanager is down for longer than an alert stays valid, and a
// resolved notification after each recovery.
func TestRunPagesThroughAlertmanager(t *testing.T) {
	env := testenv.Shared()
	c := env.Client()
	ctx := context.Background()
	_, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "statusd-alerts"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	cms := c.CoreV1().ConfigMaps("statusd-alerts")
	catalogCM := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "statusd-catalog", Namespace: "statusd-alerts"},
		Data:       map[string]string{"catalog.yaml": fmt.Sprintf(alertingCatalog, "1")},
	}
	_, err = cms.Create(ctx, catalogCM, metav1.CreateOptions{})
	require.NoError(t, err)

	exp := promstack.StartExporter(t, queuePage(3))
	prom := promstack.StartPrometheus(t, promstack.PrometheusOptions{Targets: []string{exp.Addr}, ScrapeInterval: time.Second})
	hook := promstack.StartWebhook(t)
	am := promstack.StartAlertmanager(t, promstack.AlertmanagerOptions{Webhook: hook.URL})
	waitScraped(t, prom, "statusd_test_queue_depth", 1)

	// The resend interval is shortened from 1m to 2s, so that an outage
	// of 12s outlasts the alerts' validity (four intervals), as an
	// outage of five minutes would with the defaults; retries back off
	// to 2s at most.
	flags := []string{
		"--catalog-configmap", "statusd-alerts/statusd-catalog",
		"--leader-elect", "--leader-election-namespace", "statusd-alerts", "--leader-election-name", "statusd-alerts",
		"--lease-duration", "4s", "--renew-deadline", "3s", "--retry-period", "500ms",
		"--prometheus-url", prom.URL, "--prometheus-tick-timeout", "5s",
		"--alertmanager-url", am.URL, "--alertmanager-resend-interval", "2s", "--alertmanager-retry-max", "2s",
		"--cluster-name", "e2e", "--external-url", "http://statusd.example:8080/",
	}
	a := start(t, "alerts-a", flags...)
	b := start(t, "alerts-b", flags...)
	a.waitReady(t)
	b.waitReady(t)
	var leader, standby *replica
	require.Eventually(t, func() bool {
		switch leaseHolder(t, c, "statusd-alerts", "statusd-alerts") {
		case "alerts-a":
			leader, standby = a, b
		case "alerts-b":
			leader, standby = b, a
		}
		return leader != nil
	}, 30*time.Second, 100*time.Millisecond)

	// The backend fails and takes the frontend with it: one page, for
	// the cause, naming the symptom it hides.
	began := time.Now()
	for _, cm := range []*corev1.ConfigMap{alertingObject("backend", "backend", "down"), alertingObject("frontend", "frontend", "down"), alertingObject("orders", "queue", "ok")} {
		_, err = cms.Create(ctx, cm, metav1.CreateOptions{})
		require.NoError(t, err)
	}
	waitPaged(t, hook, am, "firing", "BackendDown", "backend", 30*time.Second)
	t.Logf("fault to webhook notification: %s", time.Since(began))
	var page promstack.WebhookAlert
	for _, al := range hook.Alerts() {
		if al.Labels["alertname"] == "BackendDown" {
			page = al
		}
	}
	assert.Equal(t, map[string]string{
		"alertname": "BackendDown", "severity": "critical", "layer": "infra", "namespace": "statusd-alerts",
		"kind": "ConfigMap", "name": "backend", "cluster": "e2e", "catalog": "alerting-e2e",
	}, page.Labels)
	assert.Equal(t, "backend backend is down", page.Annotations["message"])
	assert.Equal(t, "The backend is down.", page.Annotations["summary"])
	assert.Equal(t, "FrontendErrors on ConfigMap/statusd-alerts/frontend", page.Annotations["suppressed"])
	assert.Equal(t, "http://statusd.example:8080/explain?subject=ConfigMap%2Fstatusd-alerts%2Fbackend", page.Annotations["explain"])
	assert.Equal(t, "1", page.Annotations["catalog_version"])

	// A query source reading the real Prometheus drives a finding.
	began = time.Now()
	exp.Set(queuePage(42))
	waitPaged(t, hook, am, "firing", "QueueDeep", "orders", 30*time.Second)
	t.Logf("exporter change to webhook notification, through Prometheus: %s", time.Since(began))
	_, m := leader.get("/metrics")
	assert.Contains(t, m, `statusd_root_cause{cluster="e2e",kind="ConfigMap",layer="app",name="orders",namespace="statusd-alerts",reason="QueueDeep",severity="warning"} 1`)
	assert.Regexp(t, `statusd_prometheus_queries_total\{result="success",source="queue"\} [1-9]`, m)
	assert.Zero(t, standby.metric(t, "statusd_alertmanager_alerts_sent_total"), "a standby sends nothing")
	assert.Positive(t, leader.metric(t, "statusd_alertmanager_alerts_sent_total"))

	// Failover (the leader stops), a fresh replica, and a catalogue
	// reload: the same alerts are re-sent, and nobody is paged again.
	leader.stop(t)
	require.Eventually(t, func() bool { return leaseHolder(t, c, "statusd-alerts", "statusd-alerts") == standby.name }, 15*time.Second, 100*time.Millisecond)
	leader = standby
	fresh := start(t, "alerts-c", flags...)
	fresh.waitReady(t)
	catalogCM, err = cms.Get(ctx, "statusd-catalog", metav1.GetOptions{})
	require.NoError(t, err)
	catalogCM.Data["catalog.yaml"] = fmt.Sprintf(alertingCatalog, "2")
	_, err = cms.Update(ctx, catalogCM, metav1.UpdateOptions{})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		_, m := leader.get("/metrics")
		return strings.Contains(m, `version="2"} 1`)
	}, 10*time.Second, 50*time.Millisecond, "the edit was not applied")
	time.Sleep(5 * time.Second) // resends from the new leader and the reloaded catalogue reach Alertmanager and its group timers (1s)
	assert.Equal(t, 1, paged(hook, "firing", "BackendDown", "backend"))
	assert.Equal(t, 1, paged(hook, "firing", "QueueDeep", "orders"))
	assert.Zero(t, paged(hook, "firing", "FrontendErrors", "frontend"), "a suppressed symptom pages nobody")

	// Alertmanager is down while the backend recovers (the frontend is
	// now a root cause of its own) and the queue drains: nothing is lost.
	am.Stop()
	backend, err := cms.Get(ctx, "backend", metav1.GetOptions{})
	require.NoError(t, err)
	backend.Data["state"] = "ok"
	_, err = cms.Update(ctx, backend, metav1.UpdateOptions{})
	require.NoError(t, err)
	exp.Set(queuePage(1))
	require.Eventually(t, func() bool { return leader.metric(t, "statusd_alertmanager_send_failures_total") > 0 }, 15*time.Second, 100*time.Millisecond)
	time.Sleep(12 * time.Second)
	assert.Positive(t, leader.metric(t, "statusd_alertmanager_queue_length"), "the undelivered alerts wait")
	require.NoError(t, am.Start(t.Context()))
	began = time.Now()
	waitPaged(t, hook, am, "resolved", "BackendDown", "backend", 30*time.Second)
	waitPaged(t, hook, am, "firing", "FrontendErrors", "frontend", 30*time.Second)
	waitPaged(t, hook, am, "resolved", "QueueDeep", "orders", 30*time.Second)
	t.Logf("Alertmanager back to the outage's three notifications: %s", time.Since(began))

	// The frontend recovers: a resolved page, and nothing else, ever.
	frontend, err := cms.Get(ctx, "frontend", metav1.GetOptions{})
	require.NoError(t, err)
	frontend.Data["state"] = "ok"
	_, err = cms.Update(ctx, frontend, metav1.UpdateOptions{})
	require.NoError(t, err)
	waitPaged(t, hook, am, "resolved", "FrontendErrors", "frontend", 30*time.Second)
	time.Sleep(3 * time.Second)
	for _, p := range []struct{ reason, name string }{{"BackendDown", "backend"}, {"FrontendErrors", "frontend"}, {"QueueDeep", "orders"}} {
		assert.Equal(t, 1, paged(hook, "firing", p.reason, p.name), "%s firing", p.reason)
		assert.Equal(t, 1, paged(hook, "resolved", p.reason, p.name), "%s resolved", p.reason)
	}
	assert.Len(t, hook.Alerts(), 6, "%+v", hook.Alerts())
	leader.stop(t)
	fresh.stop(t)
}
