// Command demo shows statusd at work on a real, local control plane: it
// starts etcd, kube-apiserver, kube-controller-manager, kube-scheduler and
// kwok (three simulated 4-CPU nodes), applies the Helm chart's objects,
// runs statusd with the chart's ServiceAccount, creates example add-ons
// (healthy, unschedulable, failed, stuck uninstalling, and one behind an
// unavailable Flux controller) and prints statusd's Events as they arrive.
// It stops everything it started and exits 0 when every expected root
// cause was published, 1 otherwise. `make demo` runs it.
//
// With -alertmanager (`make demo-alertmanager`) it also starts a real
// Alertmanager (internal/promstack; `make promstack` builds it) routing to
// a webhook receiver on 127.0.0.1 that prints every notification, runs
// statusd with --alertmanager-url, and requires the same root causes to
// arrive there, and the symptom hidden behind the Flux outage never to.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"statusd.io/statusd/internal/chart"
	"statusd.io/statusd/internal/fixtures"
	"statusd.io/statusd/internal/testenv"
)

// demoParams shorten the shipped catalogue's windows so that the demo
// finishes in minutes; everything else is the shipped catalogue as is.
var demoParams = map[string]string{
	"pendingGrace":        "20s",
	"deletionStuckAfter":  "20s",
	"reconcileStuckAfter": "40s",
	"fluxGrace":           "20s",
}

// expected are the root causes the demo must see published.
var expected = []struct{ reason, subject string }{
	{"AddonInstallFailed", "HelmRelease/iaas-addon-kuberay-d3/kuberay-d3"},
	{"AddonPodsUnschedulable", "Pod/iaas-addon-model-provider-d2/"},
	{"AddonReleaseStuck", "HelmRelease/iaas-addon-jupyterhub-d4/jupyterhub-d4"},
	{"FluxControllersUnavailable", "Deployment/flux-system/source-controller"},
}

func main() {
	timeout := flag.Duration("timeout", 6*time.Minute, "give up after this long")
	statusdBin := flag.String("statusd", "bin/statusd", "statusd binary")
	helmBin := flag.String("helm", "bin/helm", "helm binary")
	withAM := flag.Bool("alertmanager", false, "also send root causes to a real Alertmanager and print what its webhook receives")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	if err := run(ctx, *statusdBin, *helmBin, *withAM); err != nil {
		fmt.Fprintf(os.Stderr, "\ndemo failed: %v\n", err)
		os.Exit(1)
	}
}

// say prints a step with the time since the demo began.
type sayer struct {
	began time.Time
	mu    sync.Mutex
}

func (s *sayer) say(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Printf("%6s  %s\n", time.Since(s.began).Round(time.Second), fmt.Sprintf(format, args...))
}

func run(ctx context.Context, statusdBin, helmBin string, withAM bool) error {
	s := &sayer{began: time.Now()}
	for _, b := range []string{statusdBin, helmBin} {
		if _, err := os.Stat(b); err != nil {
			return fmt.Errorf("%s missing: run make build helm-lint (make demo does)", b)
		}
	}
	s.say("Starting a local control plane: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok with 3 nodes of 4 CPUs")
	env, err := testenv.Start(ctx, testenv.Options{Nodes: 3, NodeCPU: "4", NodeMemory: "16Gi", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	defer func() {
		if err := env.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "stop control plane: %v\n", err)
		}
	}()
	s.say("Control plane up at %s", env.Host())
	c := env.Client()
	cfg := env.Config()
	// Flux's own finalizer name draws an API warning; it is what Flux uses.
	cfg.WarningHandler = rest.NoWarnings{}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("dynamic client: %w", err)
	}

	s.say("Applying the Helm chart's objects (helm template charts/statusd), with the demo's shorter windows")
	if err := applyChart(ctx, env, helmBin); err != nil {
		return err
	}
	if err := fixtures.CreateHelmReleaseCRD(ctx, dyn); err != nil {
		return err
	}
	if err := createFlux(ctx, c, dyn); err != nil {
		return err
	}

	kubeconfig, err := serviceAccountKubeconfig(ctx, env, "statusd", "statusd")
	if err != nil {
		return err
	}
	addr, err := fixtures.FreeAddr()
	if err != nil {
		return err
	}
	args := []string{
		"run", "--kubeconfig", kubeconfig, "--catalog-configmap", "statusd/statusd-catalog",
		"--leader-elect", "--pod-name", "statusd-demo-0", "--pod-namespace", "statusd", "--listen", addr, "--resync", "5s",
	}
	var pages *pageLog
	if withAM {
		// Started before statusd and so stopped after it (defers run last
		// first), so that statusd's last sends find it.
		am, hook, stopAM, err := startAlertmanager(ctx, s)
		defer stopAM()
		if err != nil {
			return err
		}
		pages = hook
		args = append(args, "--alertmanager-url", am.URL, "--cluster-name", "demo", "--external-url", "http://"+addr)
	}
	s.say("Running statusd as the chart's ServiceAccount statusd/statusd (least privilege), watching ConfigMap statusd/statusd-catalog")
	logs := &bytes.Buffer{}
	cmd := exec.CommandContext(ctx, statusdBin, args...)
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start statusd: %w", err)
	}
	statusdDone := make(chan error, 1)
	go func() { statusdDone <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-statusdDone:
			if err != nil {
				fmt.Fprintf(os.Stderr, "statusd exited: %v\n", err)
			}
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
		}
	}()
	if err := fixtures.WaitReady(ctx, addr); err != nil {
		return fmt.Errorf("%w\nstatusd logs:\n%s", err, logs.String())
	}
	s.say("statusd is ready (http://%s/status)", addr)

	seen := newEventLog(s)
	go seen.watch(ctx, c)

	s.say("Creating add-ons: jupyterhub-d1 (healthy), model-provider-d2 (asks 16 CPUs), kuberay-d3 (install failed, its operator asks 8 CPUs), jupyterhub-d4 (installed)")
	if err := createAddons(ctx, dyn); err != nil {
		return err
	}
	s.say("Uninstalling jupyterhub-d4; its finalizer is never removed, so the uninstall hangs")
	if err := dyn.Resource(fixtures.HelmReleases).Namespace("iaas-addon-jupyterhub-d4").Delete(ctx, "jupyterhub-d4", metav1.DeleteOptions{}); err != nil {
		return fmt.Errorf("delete jupyterhub-d4: %w", err)
	}
	if err := seen.waitFor(ctx, expected[:3]); err != nil {
		return fmt.Errorf("%w\nstatusd logs:\n%s", err, tailLines(logs.String(), 40))
	}

	s.say("Breaking Flux: source-controller's pod can no longer be scheduled; then installing kuberay-d5, which Flux cannot reconcile")
	if err := breakFlux(ctx, c); err != nil {
		return err
	}
	if err := createRelease(ctx, dyn, "iaas-addon-kuberay-d5", "kuberay-d5", reconciling()); err != nil {
		return err
	}
	if err := seen.waitFor(ctx, expected[3:]); err != nil {
		return fmt.Errorf("%w\nstatusd logs:\n%s", err, tailLines(logs.String(), 40))
	}
	s.say("Waiting for kuberay-d5's release to count as stuck: statusd must hide it behind the Flux outage, not publish it")
	if err := waitHidden(ctx, addr, "AddonReleaseStuck", "iaas-addon-kuberay-d5", "FluxControllersUnavailable"); err != nil {
		return err
	}
	if pages != nil {
		s.say("Waiting for the same root causes at the Alertmanager webhook")
		if err := pages.waitFor(ctx, expected); err != nil {
			return err
		}
		// Alertmanager's group wait is 1s: a page for the hidden symptom,
		// had statusd sent one, would have arrived by now.
		time.Sleep(3 * time.Second)
		if n := pages.count("AddonReleaseStuck", "HelmRelease/iaas-addon-kuberay-d5/"); n > 0 {
			return fmt.Errorf("the symptom hidden behind the Flux outage was paged %d time(s)", n)
		}
		s.say("Alertmanager paged each root cause once; nothing for AddonReleaseStuck on kuberay-d5, which the Flux outage hides")
	}
	s.say("What statusd decided (GET /status):")
	if err := printStatus(addr); err != nil {
		return err
	}
	fmt.Println()
	fmt.Println("The Events statusd wrote (what kubectl get events -A --field-selector reportingComponent=statusd lists):")
	if err := printEvents(ctx, c); err != nil {
		return err
	}
	s.say("Done; stopping statusd and the control plane")
	return nil
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// applyChart renders the chart and creates its objects. The Deployment is
// left out: kwok's nodes run no containers, so statusd runs as a local
// process with the chart's ServiceAccount instead.
func applyChart(ctx context.Context, env *testenv.Env, helmBin string) error {
	out, err := chart.Render(ctx, helmBin, "charts/statusd", chart.RenderOptions{})
	if err != nil {
		return err
	}
	objs, err := chart.Decode(out)
	if err != nil {
		return err
	}
	if _, err := env.Client().CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "statusd"}}, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create namespace statusd: %w", err)
	}
	a, err := chart.NewApplier(env.Config(), "statusd-demo")
	if err != nil {
		return err
	}
	// The chart's catalogue may span ConfigMaps (the shipped one and the
	// operator's overlay), so every demo param must be in one of them.
	found := map[string]bool{}
	for _, obj := range objs {
		if obj.GetKind() == "ConfigMap" {
			if err := shortenWindows(obj, found); err != nil {
				return err
			}
		}
	}
	for name := range demoParams {
		if !found[name] {
			return fmt.Errorf("catalogue has no param %s; update internal/demo", name)
		}
	}
	return a.ApplyExcept(ctx, objs, "Deployment")
}

// shortenWindows rewrites the demo params in a catalogue ConfigMap and
// records which it found; the caller refuses to go on if one is missing
// (the demo must fail loudly, not silently wait five minutes, when the
// catalogue changes).
func shortenWindows(cm *unstructured.Unstructured, found map[string]bool) error {
	data, _, _ := unstructured.NestedStringMap(cm.Object, "data")
	for key, text := range data {
		for name, value := range demoParams {
			re := regexp.MustCompile(`(?m)^(\s+` + name + `:\s*)\S+`)
			if re.MatchString(text) {
				text = re.ReplaceAllString(text, "${1}"+value)
				found[name] = true
			}
		}
		data[key] = text
	}
	return unstructured.SetNestedStringMap(cm.Object, data, "data")
}

// serviceAccountKubeconfig writes a kubeconfig holding a real token of the
// ServiceAccount, so that statusd runs with exactly the chart's RBAC.
func serviceAccountKubeconfig(ctx context.Context, env *testenv.Env, ns, name string) (string, error) {
	cfg, err := env.ConfigForServiceAccount(ctx, ns, name)
	if err != nil {
		return "", err
	}
	path := filepath.Join(env.Dir(), "statusd-sa.kubeconfig")
	return path, fixtures.WriteKubeconfig(path, cfg)
}

func deployment(ns, name string, cpu string, labels map[string]string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": name, "namespace": ns, "labels": toAny(labels)},
		"spec": map[string]any{
			"replicas": int64(1),
			"strategy": map[string]any{"type": "Recreate"},
			"selector": map[string]any{"matchLabels": toAny(labels)},
			"template": map[string]any{
				"metadata": map[string]any{"labels": toAny(labels)},
				"spec": map[string]any{
					"containers": []any{map[string]any{
						"name": name, "image": "registry.example/" + name + ":demo",
						"resources": map[string]any{"requests": map[string]any{"cpu": cpu, "memory": "256Mi"}},
					}},
				},
			},
		},
	}}
}

func toAny(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

var deployGVR = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}

func createDeployment(ctx context.Context, dyn dynamic.Interface, d *unstructured.Unstructured) error {
	if _, err := dyn.Resource(deployGVR).Namespace(d.GetNamespace()).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create deployment %s/%s: %w", d.GetNamespace(), d.GetName(), err)
	}
	return nil
}

func ensureNamespace(ctx context.Context, c kubernetes.Interface, ns string) error {
	_, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("create namespace %s: %w", ns, err)
	}
	return nil
}

// createFlux creates helm-controller and source-controller, healthy.
func createFlux(ctx context.Context, c kubernetes.Interface, dyn dynamic.Interface) error {
	if err := ensureNamespace(ctx, c, "flux-system"); err != nil {
		return err
	}
	for _, name := range []string{"helm-controller", "source-controller"} {
		if err := createDeployment(ctx, dyn, deployment("flux-system", name, "100m", map[string]string{"app": name})); err != nil {
			return err
		}
	}
	return nil
}

// breakFlux makes source-controller's pod unschedulable; with the
// Recreate strategy the running pod goes first, so it becomes unavailable.
func breakFlux(ctx context.Context, c kubernetes.Interface) error {
	patch := []byte(`{"spec":{"template":{"spec":{"nodeSelector":{"statusd.io/demo":"no-such-node"}}}}}`)
	_, err := c.AppsV1().Deployments("flux-system").Patch(ctx, "source-controller", types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	if err != nil {
		return fmt.Errorf("break source-controller: %w", err)
	}
	return nil
}

func ready() []any {
	return []any{fixtures.Condition("Ready", "True", "InstallSucceeded", "Helm install succeeded"), fixtures.Condition("Released", "True", "InstallSucceeded", "Helm install succeeded")}
}

func reconciling() []any {
	return []any{fixtures.Condition("Reconciling", "True", "Progressing", "Fulfilling prerequisites"), fixtures.Condition("Ready", "Unknown", "Progressing", "Reconciliation in progress")}
}

// createRelease creates a HelmRelease in a new namespace, with the status
// helm-controller would have written; the chart is the name without its
// instance suffix.
func createRelease(ctx context.Context, dyn dynamic.Interface, ns, name string, conds []any, finalizers ...string) error {
	c := dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: "namespaces"})
	_, err := c.Create(ctx, &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns}}}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("create namespace %s: %w", ns, err)
	}
	chart := name[:strings.LastIndex(name, "-")]
	return fixtures.CreateHelmRelease(ctx, dyn, ns, name, chart, conds, finalizers...)
}

func createAddons(ctx context.Context, dyn dynamic.Interface) error {
	if err := createRelease(ctx, dyn, "iaas-addon-jupyterhub-d1", "jupyterhub-d1", ready()); err != nil {
		return err
	}
	if err := createDeployment(ctx, dyn, deployment("iaas-addon-jupyterhub-d1", "hub", "200m", map[string]string{"app": "jupyterhub"})); err != nil {
		return err
	}
	if err := createRelease(ctx, dyn, "iaas-addon-model-provider-d2", "model-provider-d2", reconciling()); err != nil {
		return err
	}
	if err := createDeployment(ctx, dyn, deployment("iaas-addon-model-provider-d2", "vllm-qwen3-5-35b", "16", map[string]string{"app": "vllm"})); err != nil {
		return err
	}
	failed := []any{
		fixtures.Condition("Ready", "False", "InstallFailed", "Helm install failed for release iaas-addon-kuberay-d3/kuberay-d3 with chart kuberay@1.0.0: context deadline exceeded"),
		fixtures.Condition("Stalled", "True", "RetriesExceeded", "Failed to install after 1 attempt(s)"),
	}
	if err := createRelease(ctx, dyn, "iaas-addon-kuberay-d3", "kuberay-d3", failed); err != nil {
		return err
	}
	if err := createDeployment(ctx, dyn, deployment("iaas-addon-kuberay-d3", "kuberay-operator", "8", map[string]string{"app": "kuberay-operator"})); err != nil {
		return err
	}
	return createRelease(ctx, dyn, "iaas-addon-jupyterhub-d4", "jupyterhub-d4", ready(), "finalizers.fluxcd.io")
}

// eventLog prints statusd's Events as they arrive and remembers them.
type eventLog struct {
	s    *sayer
	mu   sync.Mutex
	seen map[string]string // reason + subject → message
	new  chan struct{}
}

func newEventLog(s *sayer) *eventLog {
	return &eventLog{s: s, seen: map[string]string{}, new: make(chan struct{}, 1)}
}

func (l *eventLog) watch(ctx context.Context, c kubernetes.Interface) {
	for ctx.Err() == nil {
		w, err := c.CoreV1().Events("").Watch(ctx, metav1.ListOptions{})
		if err != nil {
			time.Sleep(time.Second)
			continue
		}
		for ev := range w.ResultChan() {
			e, ok := ev.Object.(*corev1.Event)
			if !ok || e.ReportingController != "statusd" {
				continue
			}
			l.record(e)
		}
	}
}

func (l *eventLog) record(e *corev1.Event) {
	subject := e.InvolvedObject.Kind + "/" + e.InvolvedObject.Namespace + "/" + e.InvolvedObject.Name
	key := e.Reason + " " + subject
	l.mu.Lock()
	prev, known := l.seen[key]
	l.seen[key] = e.Message
	l.mu.Unlock()
	if known && prev == e.Message {
		return
	}
	verb := "Event"
	if known {
		verb = "Event updated"
	}
	l.s.say("%s: %s %s on %s\n        %s", verb, e.Type, e.Reason, subject, e.Message)
	select {
	case l.new <- struct{}{}:
	default:
	}
}

// waitFor returns once every expected (reason, subject prefix) was seen.
func (l *eventLog) waitFor(ctx context.Context, want []struct{ reason, subject string }) error {
	for {
		l.mu.Lock()
		var missing []string
		for _, w := range want {
			found := false
			for key := range l.seen {
				if strings.HasPrefix(key, w.reason+" "+w.subject) {
					found = true
				}
			}
			if !found {
				missing = append(missing, w.reason+" on "+w.subject)
			}
		}
		l.mu.Unlock()
		if len(missing) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("never saw: %s", strings.Join(missing, "; "))
		case <-l.new:
		case <-time.After(time.Second):
		}
	}
}

// statusFindings is the part of /status the demo reads.
type statusFindings struct {
	Result struct {
		Findings []struct {
			Reason       string
			State        string
			Root         bool
			Subject      struct{ Kind, Namespace, Name string }
			SuppressedBy *struct {
				Reason  string
				Subject struct{ Kind, Namespace, Name string }
			}
		}
	}
}

func getStatus(addr string) (*statusFindings, error) {
	resp, err := http.Get("http://" + addr + "/status")
	if err != nil {
		return nil, fmt.Errorf("get /status: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read /status: %w", err)
	}
	var st statusFindings
	// encoding/json matches the untagged fields above case-insensitively;
	// sigs.k8s.io/yaml does not, and read an empty status.
	if err := json.Unmarshal(body, &st); err != nil {
		return nil, fmt.Errorf("decode /status: %w", err)
	}
	return &st, nil
}

// waitHidden waits until reason's finding in namespace ns is suppressed by
// cause.
func waitHidden(ctx context.Context, addr, reason, ns, cause string) error {
	for {
		st, err := getStatus(addr)
		if err != nil {
			return err
		}
		for _, f := range st.Result.Findings {
			if f.Reason == reason && f.Subject.Namespace == ns && f.SuppressedBy != nil && f.SuppressedBy.Reason == cause {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s in %s was never shown hidden by %s", reason, ns, cause)
		case <-time.After(time.Second):
		}
	}
}

// printStatus prints statusd's own view: per subject, its root cause or
// what hides it.
func printStatus(addr string) error {
	st, err := getStatus(addr)
	if err != nil {
		return err
	}
	for _, f := range st.Result.Findings {
		subj := f.Subject.Kind + "/" + strings.TrimPrefix(f.Subject.Namespace+"/", "/") + f.Subject.Name
		switch {
		case f.Root:
			fmt.Printf("        root cause  %-28s %s\n", f.Reason, subj)
		case f.SuppressedBy != nil:
			fmt.Printf("        suppressed  %-28s %s  (hidden by %s)\n", f.Reason, subj, f.SuppressedBy.Reason)
		default:
			fmt.Printf("        %-11s %-28s %s\n", strings.ToLower(f.State), f.Reason, subj)
		}
	}
	return nil
}

// printEvents prints statusd's Events like kubectl get events.
func printEvents(ctx context.Context, c kubernetes.Interface) error {
	list, err := c.CoreV1().Events("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list events: %w", err)
	}
	fmt.Printf("%-30s %-8s %-28s %-60s %s\n", "NAMESPACE", "TYPE", "REASON", "OBJECT", "MESSAGE")
	for _, e := range list.Items {
		if e.ReportingController != "statusd" {
			continue
		}
		msg := e.Message
		if len(msg) > 90 {
			msg = msg[:90] + "…"
		}
		fmt.Printf("%-30s %-8s %-28s %-60s %s\n", e.Namespace, e.Type, e.Reason,
			strings.ToLower(e.InvolvedObject.Kind)+"/"+e.InvolvedObject.Name, msg)
	}
	return nil
}
