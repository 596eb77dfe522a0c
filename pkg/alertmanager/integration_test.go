package alertmanager

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"statusd.io/statusd/internal/promstack"
	"statusd.io/statusd/pkg/engine"
)

// These tests run a real Alertmanager (internal/promstack) routing every
// alert, one group each, to a webhook, and assert what a person would be
// paged with.

// pages counts the notifications of alertname on name with status
// (firing or resolved).
func pages(hook *promstack.Webhook, status, alertname, name string) int {
	n := 0
	for _, a := range hook.Alerts() {
		if a.Status == status && a.Labels[LabelAlertname] == alertname && a.Labels[LabelName] == name {
			n++
		}
	}
	return n
}

func waitPages(t *testing.T, hook *promstack.Webhook, status, alertname, name string, want int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	err := hook.Wait(ctx, func([]promstack.Notification) bool { return pages(hook, status, alertname, name) >= want })
	require.NoError(t, err, "waiting for %d %s notification(s) of %s on %s; got %+v", want, status, alertname, name, hook.Alerts())
}

// quiet lets Alertmanager flush whatever it would send (group_wait and
// group_interval are 1s), so that an assertion that nothing more came is
// meaningful. It sleeps because it waits for another process's absence of
// action, which nothing can signal.
func quiet() { time.Sleep(2500 * time.Millisecond) }

// quietHA is quiet for an HA pair, whose second member waits the peer
// timeout (2s) before it would notify, after a group interval (4s).
func quietHA() { time.Sleep(7 * time.Second) }

func TestAlertmanagerPagesOncePerRootCause(t *testing.T) {
	hook := promstack.StartWebhook(t)
	am := promstack.StartAlertmanager(t, promstack.AlertmanagerOptions{Webhook: hook.URL})
	opts := Options{URLs: []string{am.URL}, Cluster: "test", ResendInterval: 20 * time.Second, RetryBase: time.Second, RetryMax: 8 * time.Second}

	w := newWorld()
	w.down["n1"] = true
	w.broken["p1"], w.broken["p2"], w.broken["p3"] = true, true, true
	ctx1, stop1 := context.WithCancel(t.Context())
	h1 := startCtx(t, ctx1, opts)
	e1 := engine.New(compile(t, "1"), engine.Options{})
	res := w.tick(t, e1, h1.s)
	waitPages(t, hook, "firing", "NodeDown", "n1", 1)
	waitPages(t, hook, "firing", "PodBroken", "p3", 1)
	h1.settled(t)
	stop1()

	// statusd restarts: the engine's firing state comes back from its
	// Events, the new Sender sends the same alerts again, and then the
	// catalogue is reloaded with a new version. Nobody is paged again.
	h2 := start(t, opts)
	e2 := engine.New(compile(t, "1"), engine.Options{})
	e2.Restore(restored(res))
	w.tick(t, e2, h2.s)
	h2.settled(t)
	e2.Reload(compile(t, "2"))
	w.tick(t, e2, h2.s)
	h2.settled(t)
	w.broken["p4"] = true // a new root cause, to know Alertmanager has flushed
	w.tick(t, e2, h2.s)
	waitPages(t, hook, "firing", "PodBroken", "p4", 1)
	quiet()
	assert.Equal(t, 1, pages(hook, "firing", "NodeDown", "n1"))
	assert.Equal(t, 1, pages(hook, "firing", "PodBroken", "p3"))
	assert.Zero(t, pages(hook, "firing", "PodBroken", "p1"), "a suppressed symptom pages nobody")
	assert.Zero(t, pages(hook, "firing", "PodBroken", "p2"), "a suppressed symptom pages nobody")
	for _, a := range hook.Alerts() {
		if a.Labels[LabelAlertname] == "NodeDown" {
			assert.Equal(t, "critical", a.Labels[LabelSeverity])
			assert.Equal(t, "test", a.Labels[LabelCluster])
			assert.Equal(t, "PodBroken on Pod/apps/p1, PodBroken on Pod/apps/p2", a.Annotations[AnnotationSuppressed])
		}
	}

	// The node recovers: its alert resolves, and the pods it hid are now
	// root causes of their own.
	w.down["n1"] = false
	w.tick(t, e2, h2.s)
	waitPages(t, hook, "resolved", "NodeDown", "n1", 1)
	waitPages(t, hook, "firing", "PodBroken", "p1", 1)
	waitPages(t, hook, "firing", "PodBroken", "p2", 1)
	h2.settled(t)

	// Alertmanager is down for a minute while p3 recovers and node n2
	// fails (hiding p4, which was paged and is still broken): nothing of
	// it is lost, and p4's page stays open.
	am.Stop()
	w.broken["p3"] = false
	w.down["n2"] = true
	w.tick(t, e2, h2.s)
	require.Eventually(t, func() bool { return h2.s.Stats().Failures[am.URL] > 0 }, 10*time.Second, 5*time.Millisecond)
	for elapsed := time.Duration(0); elapsed < time.Minute; elapsed += 8 * time.Second {
		require.Eventually(t, h2.clock.HasWaiters, 10*time.Second, time.Millisecond)
		h2.clock.Step(8 * time.Second)
		w.tick(t, e2, h2.s)
	}
	assert.Positive(t, h2.s.Stats().Pending[am.URL])
	require.NoError(t, am.Start(t.Context()))
	require.Eventually(t, h2.clock.HasWaiters, 10*time.Second, time.Millisecond)
	h2.clock.Step(8 * time.Second)
	h2.settled(t)
	waitPages(t, hook, "resolved", "PodBroken", "p3", 1)
	waitPages(t, hook, "firing", "NodeDown", "n2", 1)
	quiet()
	assert.Equal(t, 1, pages(hook, "firing", "PodBroken", "p1"), "re-sent after the outage, not paged again")
	assert.Equal(t, 1, pages(hook, "firing", "NodeDown", "n2"))
	assert.Zero(t, pages(hook, "resolved", "PodBroken", "p4"), "a page a new cause hides is not resolved: the pod is still broken")

	// p4 recovers behind n2: now its page resolves.
	w.broken["p4"] = false
	w.tick(t, e2, h2.s)
	waitPages(t, hook, "resolved", "PodBroken", "p4", 1)
}

func TestAlertmanagerHAPairPagesOnce(t *testing.T) {
	hook := promstack.StartWebhook(t)
	// Group interval above the peer timeout, as Alertmanager's defaults
	// have it (see promstack.AlertmanagerOptions.PeerTimeout).
	ams := promstack.StartAlertmanagers(t, 2, promstack.AlertmanagerOptions{Webhook: hook.URL, GroupInterval: 4 * time.Second, PeerTimeout: 2 * time.Second})
	h := start(t, Options{URLs: []string{ams[0].URL, ams[1].URL}})
	e := engine.New(compile(t, "1"), engine.Options{})
	w := newWorld()
	w.down["n2"] = true
	w.broken["p3"] = true
	w.tick(t, e, h.s)
	h.settled(t)
	waitPages(t, hook, "firing", "NodeDown", "n2", 1)
	quietHA()
	assert.Equal(t, 1, pages(hook, "firing", "NodeDown", "n2"), "both members hold the alert; the pair pages once")
	assert.Zero(t, pages(hook, "firing", "PodBroken", "p3"))

	w.down["n2"] = false
	w.broken["p3"] = false
	w.tick(t, e, h.s)
	h.settled(t)
	waitPages(t, hook, "resolved", "NodeDown", "n2", 1)
	quietHA()
	assert.Equal(t, 1, pages(hook, "resolved", "NodeDown", "n2"), "%+v", hook.Notifications())
}
