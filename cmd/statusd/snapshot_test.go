package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"statusd.io/statusd/internal/promstack"
	"statusd.io/statusd/internal/testenv"
	"statusd.io/statusd/pkg/engine"
	"statusd.io/statusd/pkg/snapshot"
)

// snapshotCatalog reads pods of one namespace, scrapes those labelled
// app=model, and has one reason on objects and one on metrics.
const snapshotCatalog = `apiVersion: statusd.io/v1alpha1
kind: Catalog
metadata: {name: snapshot-test, version: "1"}
sources:
  pods:
    version: v1
    resource: pods
    namespaces: %[1]s
  configs:
    version: v1
    resource: configmaps
    namespaces: %[1]s
  widgets:
    group: snapshot.statusd.io
    version: v1
    resource: widgets
    optional: true
  modelMetrics:
    namespaces: %[1]s
    metrics:
      selector: app=model
      port: metrics
      interval: 15s
      timeout: 2s
reasons:
- name: PodUnschedulable
  subject: pods
  when: conditions(object).exists(c, c.type == "PodScheduled" && c.status == "False" && c.?reason.orValue("") == "Unschedulable")
  summary: A pod cannot be scheduled.
- name: ModelQueueWaiting
  subject: pods
  when: object.metadata.?labels[?"app"].orValue("") == "model" && metrics.value("vllm:num_requests_waiting") > 2.0
  summary: Requests are waiting.
`

// TestSnapshotThenEval takes a snapshot of a live cluster with statusd
// snapshot and evaluates it with statusd eval: a real incident becomes a
// file that reproduces it.
func TestSnapshotThenEval(t *testing.T) {
	env := testenv.Shared()
	client := env.Client()
	ctx := t.Context()
	ns := tempNamespace(t, client, "snapshot-")

	// A pod no node can take.
	pods := client.CoreV1().Pods(ns.Name)
	_, err := pods.Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "big"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "c", Image: "registry.invalid/c:1",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100")}},
		}}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	// A model server with a queue, served on 127.0.0.1: the pod is never
	// scheduled (no such scheduler), so its status is ours to write.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = fmt.Fprint(w, "vllm:num_requests_waiting 5\n")
	}))
	t.Cleanup(srv.Close)
	_, portText, err := net.SplitHostPort(srv.Listener.Addr().String())
	require.NoError(t, err)
	port, err := strconv.Atoi(portText)
	require.NoError(t, err)
	model, err := pods.Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "model", Labels: map[string]string{"app": "model"}},
		Spec: corev1.PodSpec{SchedulerName: "statusd-test-nobody", Containers: []corev1.Container{{
			Name: "vllm", Image: "registry.invalid/vllm:1",
			Ports: []corev1.ContainerPort{{Name: "metrics", ContainerPort: int32(port)}},
		}}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	model.Status.Phase, model.Status.PodIP, model.Status.PodIPs = corev1.PodRunning, "127.0.0.1", []corev1.PodIP{{IP: "127.0.0.1"}}
	_, err = pods.UpdateStatus(ctx, model, metav1.UpdateOptions{})
	require.NoError(t, err)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		p, err := pods.Get(ctx, "big", metav1.GetOptions{})
		if assert.NoError(c, err) {
			assert.NotEmpty(c, p.Status.Conditions, "the scheduler has written its verdict")
		}
	}, time.Minute, 100*time.Millisecond)

	dir := t.TempDir()
	catFile := filepath.Join(dir, "catalog.yaml")
	require.NoError(t, os.WriteFile(catFile, fmt.Appendf(nil, snapshotCatalog, ns.Name), 0o600))
	snapFile := filepath.Join(dir, "snapshot.yaml")

	var out, errOut bytes.Buffer
	code := run([]string{"snapshot", "--kubeconfig", env.KubeconfigPath(), "--catalog", catFile, "--output-file", snapFile, "--scrape"}, &out, &errOut)
	require.Equal(t, 0, code, errOut.String())
	assert.Contains(t, errOut.String(), "Wrote "+snapFile)

	f, err := snapshot.ReadFile(snapFile)
	require.NoError(t, err)
	assert.Equal(t, "v1.36.3", f.Cluster.Version)
	kinds := map[string]int{}
	for _, o := range f.Objects {
		kinds[o["kind"].(string)]++
		md := o["metadata"].(map[string]any)
		assert.NotContains(t, md, "managedFields")
	}
	assert.Equal(t, map[string]int{"Pod": 2, "ConfigMap": 1}, kinds, "the pods and kube-root-ca.crt; never a Secret")
	require.Len(t, f.Metrics, 1)
	assert.Equal(t, ns.Name+"/model", f.Metrics[0].Pod)
	assert.Equal(t, "vllm:num_requests_waiting 5\n", f.Metrics[0].Text)
	assert.Empty(t, f.Sources, "every source could be read (widgets is absent, not failed)")

	out.Reset()
	errOut.Reset()
	code = run([]string{"eval", "--catalog", catFile, "--snapshot", snapFile, "-o", "json"}, &out, &errOut)
	require.Equal(t, 0, code, errOut.String())
	var res engine.Result
	require.NoError(t, json.Unmarshal(out.Bytes(), &res))
	roots := map[string]string{}
	for _, f := range res.Findings {
		if f.Root {
			roots[f.Subject.String()] = f.Reason
		}
	}
	assert.Equal(t, map[string]string{
		"Pod/" + ns.Name + "/big":   "PodUnschedulable",
		"Pod/" + ns.Name + "/model": "ModelQueueWaiting",
	}, roots)
}

func TestSnapshotUsage(t *testing.T) {
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{name: "unknown flag", args: []string{"snapshot", "--nope"}, code: 2, want: "unknown flag: --nope"},
		{name: "stray argument", args: []string{"snapshot", "a.yaml", "extra"}, code: 2, want: "accepts at most 1 arg(s), received 2"},
		{name: "file twice", args: []string{"snapshot", "a.yaml", "--output-file", "b.yaml"}, code: 2, want: "give the file as FILE or --output-file, not both"},
		{name: "bad format", args: []string{"snapshot", "-o", "table"}, code: 2, want: `-o "table": want yaml or json`},
		{name: "missing kubeconfig", args: []string{"snapshot", "--kubeconfig", "/nonexistent/kubeconfig"}, code: 1, want: "load kubeconfig /nonexistent/kubeconfig"},
		{name: "bad prometheus URL", args: []string{"snapshot", "--prometheus-url", "prometheus:9090"}, code: 2, want: `prometheus URL "prometheus:9090": want http(s)://host[:port][/prefix]`},
		{name: "prometheus TLS without URL", args: []string{"snapshot", "--prometheus-ca-file", "ca.crt"}, code: 2, want: "--prometheus-ca-file needs --prometheus-url"},
		{name: "help", args: []string{"snapshot", "-h"}, code: 0, want: "never Secrets"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(tc.args, &out, &errOut)
			assert.Equal(t, tc.code, code)
			if tc.code == 0 {
				assert.Contains(t, out.String(), tc.want, "help goes to stdout")
				return
			}
			assert.Contains(t, errOut.String(), tc.want)
		})
	}
}

// querySnapshotCatalog reads a real Prometheus: queue answers, broken is
// refused by the server (rate needs a range).
const querySnapshotCatalog = `apiVersion: statusd.io/v1alpha1
kind: Catalog
metadata: {name: snapshot-query-test, version: "1"}
sources:
  pods: {version: v1, resource: pods, namespaces: %[1]s}
  queue:
    prometheus: {query: 'max by (namespace, pod) (statusd_test_queue_depth)'}
  broken:
    prometheus: {query: 'rate(statusd_test_queue_depth)'}
reasons:
- name: QueueDeep
  subject: pods
  severity: critical
  when: cluster.query("queue", object).max() > 10.0
  summary: The queue is deep.
- name: QueueRate
  subject: pods
  when: cluster.query("broken", object).max() > 1.0
  summary: The queue grows.
`

// TestSnapshotRecordsQueries takes a snapshot with --prometheus-url
// against a real Prometheus scraping a test exporter: the file carries
// what each query source returned at the snapshot's time, and eval and
// explain on it reproduce the findings. Without --prometheus-url the file
// has none, and the reasons reading them stay quiet.
func TestSnapshotRecordsQueries(t *testing.T) {
	env := testenv.Shared()
	client := env.Client()
	ctx := t.Context()
	ns := tempNamespace(t, client, "snapshot-query-")
	for _, name := range []string{"web-1", "web-2"} {
		_, err := client.CoreV1().Pods(ns.Name).Create(ctx, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec:       corev1.PodSpec{SchedulerName: "statusd-test-nobody", Containers: []corev1.Container{{Name: "c", Image: "registry.invalid/c:1"}}},
		}, metav1.CreateOptions{})
		require.NoError(t, err)
	}
	exp := promstack.StartExporter(t, fmt.Sprintf("statusd_test_queue_depth{namespace=%q,pod=\"web-1\"} 42\nstatusd_test_queue_depth{namespace=%q,pod=\"web-2\"} 3\n", ns.Name, ns.Name))
	prom := promstack.StartPrometheus(t, promstack.PrometheusOptions{Targets: []string{exp.Addr}, ScrapeInterval: time.Second})
	waitScraped(t, prom, "statusd_test_queue_depth", 2)

	dir := t.TempDir()
	catFile := filepath.Join(dir, "catalog.yaml")
	require.NoError(t, os.WriteFile(catFile, fmt.Appendf(nil, querySnapshotCatalog, ns.Name), 0o600))
	tests := []struct {
		name    string
		flags   []string
		queries map[string]snapshot.QueryRecord
		states  map[string]string
	}{
		{
			name:  "with-prometheus",
			flags: []string{"--prometheus-url", prom.URL},
			queries: map[string]snapshot.QueryRecord{
				"queue": {Source: "queue", Result: map[string]string{
					fmt.Sprintf(`{namespace=%q, pod="web-1"}`, ns.Name): "42",
					fmt.Sprintf(`{namespace=%q, pod="web-2"}`, ns.Name): "3",
				}},
			},
			states: map[string]string{"QueueDeep on web-1": "Firing", "QueueRate on web-1": "Unknown", "QueueRate on web-2": "Unknown"},
		},
		{name: "without-prometheus", states: map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snapFile := filepath.Join(dir, tt.name+".yaml")
			var out, errOut bytes.Buffer
			code := run(append([]string{"snapshot", "--kubeconfig", env.KubeconfigPath(), "--catalog", catFile, "--output-file", snapFile}, tt.flags...), &out, &errOut)
			require.Equal(t, 0, code, errOut.String())
			f, err := snapshot.ReadFile(snapFile)
			require.NoError(t, err)
			got := map[string]snapshot.QueryRecord{}
			for _, q := range f.Queries {
				if q.Source == "broken" {
					assert.Contains(t, q.Error, "expected type range vector", "the server's error is recorded")
					assert.Contains(t, errOut.String(), "warning: query source broken failed")
					continue
				}
				got[q.Source] = q
			}
			if tt.queries == nil {
				assert.Empty(t, f.Queries)
			} else {
				assert.Equal(t, tt.queries, got)
			}

			out.Reset()
			errOut.Reset()
			code = run([]string{"eval", "--catalog", catFile, "--snapshot", snapFile, "-o", "json"}, &out, &errOut)
			require.Equal(t, 0, code, errOut.String())
			var res engine.Result
			require.NoError(t, json.Unmarshal(out.Bytes(), &res))
			states := map[string]string{}
			for _, f := range res.Findings {
				states[f.Reason+" on "+f.Subject.Name] = string(f.State)
			}
			assert.Equal(t, tt.states, states)

			out.Reset()
			errOut.Reset()
			code = run([]string{"explain", "--catalog", catFile, "--snapshot", snapFile, "-o", "json", "Pod/" + ns.Name + "/web-1"}, &out, &errOut)
			require.Equal(t, 0, code, errOut.String())
			var ex engine.Explanation
			require.NoError(t, json.Unmarshal(out.Bytes(), &ex))
			outcomes := map[string]string{}
			for _, r := range ex.Reasons {
				outcomes[r.Reason] = r.Outcome
			}
			if tt.queries != nil {
				assert.Equal(t, map[string]string{"QueueDeep": "true", "QueueRate": "unknown"}, outcomes)
			} else {
				assert.Equal(t, map[string]string{"QueueDeep": "false", "QueueRate": "false"}, outcomes)
			}
		})
	}
}

// waitScraped waits until Prometheus holds n series of metric.
func waitScraped(t *testing.T, prom *promstack.Prometheus, metric string, n int) {
	t.Helper()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		resp, err := http.Get(prom.URL + "/api/v1/query?query=" + metric)
		if !assert.NoError(c, err) {
			return
		}
		defer func() { _ = resp.Body.Close() }()
		var body struct {
			Data struct {
				Result []json.RawMessage `json:"result"`
			} `json:"data"`
		}
		if assert.NoError(c, json.NewDecoder(resp.Body).Decode(&body)) {
			assert.Len(c, body.Data.Result, n)
		}
	}, 60*time.Second, 250*time.Millisecond, "prometheus never scraped %s:\n%s", metric, prom.Log())
}

// tempNamespace creates a namespace named from prefix, deleted when the
// test ends.
func tempNamespace(t *testing.T, client kubernetes.Interface, prefix string) *corev1.Namespace {
	t.Helper()
	ns, err := client.CoreV1().Namespaces().Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix}}, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.CoreV1().Namespaces().Delete(context.Background(), ns.Name, metav1.DeleteOptions{}) })
	return ns
}
