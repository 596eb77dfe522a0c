package emit_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	clocktesting "k8s.io/utils/clock/testing"

	"statusd.io/statusd/internal/fixtures"
	"statusd.io/statusd/internal/testenv"
	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/emit"
	"statusd.io/statusd/pkg/engine"
	"statusd.io/statusd/pkg/series"
	"statusd.io/statusd/pkg/snapshot"
	"statusd.io/statusd/rules"
)

// auditPolicy records Event writes only, at Metadata level: who wrote which
// Event, and how.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
  resources: [{group: "", resources: ["events"]}]
  verbs: [create, patch, update]
- level: None
`

// auditLog is the API server's audit log, set by TestMain.
var auditLog string

// auditEvent is the part of an audit log line the tests read.
type auditEvent struct {
	Stage string `json:"stage"`
	Verb  string `json:"verb"`
	User  struct {
		Username string `json:"username"`
	} `json:"user"`
	ObjectRef *struct {
		Resource  string `json:"resource"`
		Namespace string `json:"namespace"`
	} `json:"objectRef"`
}

// auditedWrites counts, from the API server's audit log, the Event writes
// (create, patch, update) user made, by namespace and verb.
func auditedWrites(t *testing.T, user string) map[string]map[string]int {
	t.Helper()
	f, err := os.Open(auditLog)
	require.NoError(t, err)
	defer func() { require.NoError(t, f.Close()) }()
	out := map[string]map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var ev auditEvent
		require.NoError(t, json.Unmarshal(sc.Bytes(), &ev), "audit line %s", sc.Text())
		if ev.Stage != "ResponseComplete" || ev.User.Username != user || ev.ObjectRef == nil || ev.ObjectRef.Resource != "events" {
			continue
		}
		if out[ev.ObjectRef.Namespace] == nil {
			out[ev.ObjectRef.Namespace] = map[string]int{}
		}
		out[ev.ObjectRef.Namespace][ev.Verb]++
	}
	require.NoError(t, sc.Err())
	return out
}

// addonNamespace creates a namespace named like an add-on's
// (iaas-addon-<type>-<suffix>) and deletes it when the test ends, after
// releasing the finalizers of its HelmReleases.
func addonNamespace(t *testing.T, dyn dynamic.Interface, typ string) string {
	t.Helper()
	client := testenv.Shared().Client()
	ns, err := client.CoreV1().Namespaces().Create(t.Context(), &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "iaas-addon-" + typ + "-"},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx := context.Background()
		list, err := dyn.Resource(fixtures.HelmReleases).Namespace(ns.Name).List(ctx, metav1.ListOptions{})
		if err == nil {
			for _, hr := range list.Items {
				_, _ = dyn.Resource(fixtures.HelmReleases).Namespace(ns.Name).Patch(ctx, hr.GetName(), types.MergePatchType,
					[]byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{})
			}
		}
		if err := client.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("delete namespace %s: %v", ns.Name, err)
		}
	})
	return ns.Name
}

// ensureHelmReleaseCRD installs the HelmRelease stand-in once per control
// plane.
func ensureHelmReleaseCRD(t *testing.T, dyn dynamic.Interface) {
	t.Helper()
	err := fixtures.CreateHelmReleaseCRD(t.Context(), dyn)
	if apierrors.IsAlreadyExists(err) {
		return
	}
	require.NoError(t, err)
}

// addonPod creates a pod in ns; kwok runs it (Ready) unless it asks for
// more CPU than a node has, when the scheduler marks it unschedulable.
func addonPod(t *testing.T, ns, name, cpu string, labels map[string]string) {
	t.Helper()
	_, err := testenv.Shared().Client().CoreV1().Pods(ns).Create(t.Context(), &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "main", Image: "registry.example/" + name + ":1",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}},
		}}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
}

// waitPodCondition waits until the pod's condition typ has status.
func waitPodCondition(t *testing.T, ns, name string, typ corev1.PodConditionType, status corev1.ConditionStatus) {
	t.Helper()
	require.Eventually(t, func() bool {
		p, err := testenv.Shared().Client().CoreV1().Pods(ns).Get(t.Context(), name, metav1.GetOptions{})
		if err != nil {
			return false
		}
		for _, c := range p.Status.Conditions {
			if c.Type == typ {
				return c.Status == status
			}
		}
		return false
	}, waitTimeout, 100*time.Millisecond, "pod %s/%s never had %s=%s", ns, name, typ, status)
}

// listed reads the objects of namespaces that the shipped catalogue's
// add-on sources watch, as the informers would hold them.
func listed(t *testing.T, dyn dynamic.Interface, namespaces []string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, ns := range namespaces {
		n, err := dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}).Get(t.Context(), ns, metav1.GetOptions{})
		require.NoError(t, err)
		out = append(out, n.Object)
		for _, gvr := range []schema.GroupVersionResource{fixtures.HelmReleases, {Version: "v1", Resource: "pods"}} {
			list, err := dyn.Resource(gvr).Namespace(ns).List(t.Context(), metav1.ListOptions{})
			require.NoError(t, err)
			for i := range list.Items {
				out = append(out, list.Items[i].Object)
			}
		}
	}
	return out
}

// TestShippedReasonsKeepTheEventWriteBudget runs the shipped catalogue's
// reasons through the engine and the Writer, with the default heartbeat, on
// real objects in the API server, and counts the Event writes the API
// server's audit log records. Four faults hold steady, their messages
// carrying live evidence (a queue depth that changes on every scrape, a
// release's age): each costs one create and nothing until the heartbeat.
// Two of them change materially on the way (a condition's reason, the
// failing pod), which costs exactly one write each, at once.
//
// Time is the Writer's and the engine's fake clock, ticking every 30s (the
// default resync) for a heartbeat, from 11 minutes after the objects were
// created, so that they are past the catalogue's thresholds; the objects,
// the scheduler's verdicts and the API server are real.
func TestShippedReasonsKeepTheEventWriteBudget(t *testing.T) {
	// The shared control plane outlives every test: start it before the
	// leak check takes its baseline, or its goroutines read as this test's.
	env := testenv.Shared()
	leakCheck(t)
	ctx := t.Context()
	dyn, err := dynamic.NewForConfig(env.Config())
	require.NoError(t, err)
	ensureHelmReleaseCRD(t, dyn)
	src, errs := catalog.LoadFS(rules.FS, rules.Files()...)
	require.NoError(t, errs.Err())
	cat, errs := cel.Compile(src, cel.Options{})
	require.NoError(t, errs.Err())

	realStart := time.Now().UTC()
	ltt := func(d time.Duration) string { return realStart.Add(d).Format(time.RFC3339) }

	// A: a release stuck deleting on Flux's finalizer.
	nsA := addonNamespace(t, dyn, "jupyterhub")
	relA := strings.TrimPrefix(nsA, "iaas-addon-")
	require.NoError(t, fixtures.CreateHelmRelease(ctx, dyn, nsA, relA, "jupyterhub",
		[]any{fixtures.Condition("Ready", "True", "InstallSucceeded", "Helm install succeeded")}, "finalizers.fluxcd.io"))
	require.NoError(t, dyn.Resource(fixtures.HelmReleases).Namespace(nsA).Delete(ctx, relA, metav1.DeleteOptions{}))

	// B: a ready vLLM pod whose queue is saturated; its metrics change on
	// every scrape.
	nsB := addonNamespace(t, dyn, "model-provider")
	addonPod(t, nsB, "vllm-qwen3-0", "1", map[string]string{"app": "vllm", "model": "qwen3"})
	waitPodCondition(t, nsB, "vllm-qwen3-0", corev1.PodReady, corev1.ConditionTrue)

	// C: a release reconciling for 20 minutes; its Reconciling reason
	// changes at minute 4.
	nsC := addonNamespace(t, dyn, "kuberay")
	relC := strings.TrimPrefix(nsC, "iaas-addon-")
	reconciling := func(reason string) []any {
		return []any{
			map[string]any{"type": "Ready", "status": "Unknown", "reason": reason, "message": "Running 'install' action with timeout of 5m0s", "lastTransitionTime": ltt(-20 * time.Minute)},
			map[string]any{"type": "Reconciling", "status": "True", "reason": reason, "message": "Running 'install' action with timeout of 5m0s", "lastTransitionTime": ltt(-20 * time.Minute)},
		}
	}
	require.NoError(t, fixtures.CreateHelmRelease(ctx, dyn, nsC, relC, "kuberay", reconciling("Progressing")))

	// D: a release that failed waiting for its pod, which cannot be
	// scheduled; the pod is replaced by another at minute 5.
	nsD := addonNamespace(t, dyn, "kuberay")
	relD := strings.TrimPrefix(nsD, "iaas-addon-")
	require.NoError(t, fixtures.CreateHelmRelease(ctx, dyn, nsD, relD, "kuberay", []any{
		fixtures.Condition("Ready", "False", "InstallFailed", "Helm install failed for release "+nsD+"/"+relD+": context deadline exceeded"),
		fixtures.Condition("Stalled", "True", "RetriesExceeded", "Failed to install after 1 attempt(s)"),
	}))
	addonPod(t, nsD, "kuberay-operator-a", "100", map[string]string{"app": "kuberay-operator"})
	waitPodCondition(t, nsD, "kuberay-operator-a", corev1.PodScheduled, corev1.ConditionFalse)

	namespaces := []string{nsA, nsB, nsC, nsD}
	subjects := map[string]string{ // namespace → the reason published there
		nsA: "AddonReleaseStuck", nsB: "ModelQueueSaturated", nsC: "AddonReleaseStuck", nsD: "AddonInstallFailed",
	}

	const user = "statusd-budget"
	// Eleven minutes after the objects were made: the release has been
	// deleting for longer than deletionStuckAfter (10m), the vLLM pod ready
	// for longer than the queue's window.
	fakeStart := time.Now().UTC().Add(11 * time.Minute)
	r := start(t, env.ConfigFor(user, "system:masters"), emit.Options{
		Heartbeat: emit.DefaultHeartbeat, Clock: clocktesting.NewFakeClock(fakeStart),
	})
	e := engine.New(cat, engine.Options{})
	cluster := snapshot.ServedDefault(src, snapshot.Cluster{Version: "v1.36.3"})

	// vLLM's metrics, scraped every 15s from six minutes before the first
	// tick, so the queue has been saturated for a whole window.
	pm, err := snapshot.NewPodMetrics(nsB, "vllm-qwen3-0", "vllmMetrics", series.Options{})
	require.NoError(t, err)
	scrapeAt, scrapes := fakeStart.Add(-6*time.Minute), 0
	scrapeUntil := func(at time.Time) {
		for ; !scrapeAt.After(at); scrapeAt = scrapeAt.Add(15 * time.Second) {
			page := fmt.Sprintf("# TYPE vllm:num_requests_waiting gauge\nvllm:num_requests_waiting{model_name=\"qwen3\"} %d\n"+
				"# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{model_name=\"qwen3\"} %d\n", 20+scrapes*7%13, 2+scrapes%5)
			require.NoError(t, snapshot.Record(pm, scrapeAt, page, ""))
			scrapes++
		}
	}
	tick := func(at time.Time) *engine.Result {
		t.Helper()
		scrapeUntil(at)
		b := snapshot.NewBuilder(at, cluster)
		b.Select(src, listed(t, dyn, namespaces), nil)
		b.AddMetrics(pm)
		res := e.Tick(ctx, b.Build())
		r.tick(t, res)
		return res
	}
	published := func(res *engine.Result) map[string]*engine.Finding {
		out := map[string]*engine.Finding{}
		for _, f := range res.Findings {
			if f.Published {
				require.Contains(t, subjects, f.Subject.Namespace, "nothing else is published: %s on %s", f.Reason, f.Subject)
				require.NotContains(t, out, f.Subject.Namespace, "one published finding per namespace")
				out[f.Subject.Namespace] = f
			}
		}
		return out
	}
	eventOf := func(ns string) corev1.Event {
		t.Helper()
		list, err := env.Client().CoreV1().Events(ns).List(ctx, metav1.ListOptions{LabelSelector: emit.LabelManagedBy + "=" + emit.ManagedBy})
		require.NoError(t, err)
		require.Len(t, list.Items, 1, "one statusd Event in %s", ns)
		assert.Equal(t, subjects[ns], list.Items[0].Reason)
		return list.Items[0]
	}
	// want checks the audited writes: creates and patches per namespace.
	want := func(step string, creates int, patches map[string]int) {
		t.Helper()
		got := auditedWrites(t, user)
		for _, ns := range namespaces {
			assert.Equal(t, creates, got[ns]["create"], "%s: creates in %s (%s)", step, ns, subjects[ns])
			assert.Equal(t, patches[ns], got[ns]["patch"], "%s: patches in %s (%s)", step, ns, subjects[ns])
			assert.Zero(t, got[ns]["update"], "%s: no full updates", step)
		}
	}

	changes := map[time.Duration]func(){
		4 * time.Minute: func() {
			hr, err := dyn.Resource(fixtures.HelmReleases).Namespace(nsC).Get(ctx, relC, metav1.GetOptions{})
			require.NoError(t, err)
			hr.Object["status"] = map[string]any{"observedGeneration": int64(1), "conditions": reconciling("ProgressingWithRetry")}
			_, err = dyn.Resource(fixtures.HelmReleases).Namespace(nsC).UpdateStatus(ctx, hr, metav1.UpdateOptions{})
			require.NoError(t, err)
		},
		5 * time.Minute: func() {
			zero := int64(0)
			require.NoError(t, env.Client().CoreV1().Pods(nsD).Delete(ctx, "kuberay-operator-a", metav1.DeleteOptions{GracePeriodSeconds: &zero}))
			require.Eventually(t, func() bool {
				_, err := env.Client().CoreV1().Pods(nsD).Get(ctx, "kuberay-operator-a", metav1.GetOptions{})
				return apierrors.IsNotFound(err)
			}, waitTimeout, 100*time.Millisecond)
			addonPod(t, nsD, "kuberay-operator-b", "100", map[string]string{"app": "kuberay-operator"})
			waitPodCondition(t, nsD, "kuberay-operator-b", corev1.PodScheduled, corev1.ConditionFalse)
		},
	}
	messages := map[string][]string{} // namespace → the live message of every tick
	for at := time.Duration(0); at <= emit.DefaultHeartbeat; at += 30 * time.Second {
		if change := changes[at]; change != nil {
			change()
		}
		res := tick(fakeStart.Add(at))
		pub := published(res)
		require.Len(t, pub, len(subjects), "at %v every fault is published: %v", at, pub)
		for ns, f := range pub {
			messages[ns] = append(messages[ns], f.Message)
		}
		switch at {
		case 0:
			want("first tick", 1, nil)
			for _, ns := range namespaces {
				assert.Equal(t, pub[ns].Message, eventOf(ns).Message, "the create carries the message")
			}
		case 3*time.Minute + 30*time.Second:
			want("three and a half minutes held", 1, nil)
		case 4 * time.Minute:
			want("the Reconciling reason changed", 1, map[string]int{nsC: 1})
			assert.Contains(t, eventOf(nsC).Message, "ProgressingWithRetry")
		case 5 * time.Minute:
			want("the failing pod changed", 1, map[string]int{nsC: 1, nsD: 1})
			assert.Contains(t, eventOf(nsD).Message, "kuberay-operator-b")
		case emit.DefaultHeartbeat - 30*time.Second:
			want("just before the heartbeat", 1, map[string]int{nsC: 1, nsD: 1})
			assert.NotEqual(t, pub[nsB].Message, eventOf(nsB).Message, "between writes the Event keeps the last written figures; the finding (/status) has the live ones")
		case emit.DefaultHeartbeat:
			// A and B reach their heartbeat; C and D wrote at minutes 4 and
			// 5, so theirs is still to come.
			want("the heartbeat", 1, map[string]int{nsA: 1, nsB: 1, nsC: 1, nsD: 1})
			ev := eventOf(nsB)
			assert.Equal(t, pub[nsB].Message, ev.Message, "the heartbeat carries the latest message")
			assert.Equal(t, int32(21), ev.Count, "count is every tick observed")
			assert.True(t, ev.LastTimestamp.Time.Equal(fakeStart.Add(emit.DefaultHeartbeat).Truncate(time.Second)), "lastTimestamp %v", ev.LastTimestamp)
		}
	}
	// The live evidence really moved: the queue's message took several
	// forms, and the release's messages were identical or drifted only.
	assert.Greater(t, len(slices.Compact(slices.Clone(messages[nsB]))), 5, "the saturated queue's message changes from tick to tick")
	assert.Equal(t, map[string]uint64{"create": 4, "change": 2, "heartbeat": 2, "resolve": 0}, r.w.Stats().Writes)
	assert.Equal(t, 8, r.reqs.writes(), "the transport saw the same 4 creates, 2 changes and 2 heartbeats")
}
