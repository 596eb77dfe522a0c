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
	ns, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "snapshot-"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.CoreV1().Namespaces().Delete(context.Background(), ns.Name, metav1.DeleteOptions{}) })

	// A pod no node can take.
	pods := client.CoreV1().Pods(ns.Name)
	_, err = pods.Create(ctx, &corev1.Pod{
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
