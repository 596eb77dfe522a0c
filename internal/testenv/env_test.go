package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// The shared control plane has two small nodes, so that a modest request is
// enough to be unschedulable.
const (
	testNodes     = 2
	testNodeCPU   = "2"
	testNodeLease = time.Minute
)

// TestMain starts the shared control plane with the tuning options the scale
// run uses, so that the tests below run against them too (kube-scheduler's
// configuration file with every field, the longer node Leases);
// TestPauseAndEtcdRestart freezes the apiserver (requests hang, then
// succeed once it resumes) and kills and restarts etcd (the data is kept,
// the apiserver serves again).
func TestPauseAndEtcdRestart(t *testing.T) {
	env := Shared()
	client := env.Client()
	ns := newNamespace(t, client)
	_, err := client.CoreV1().ConfigMaps(ns).Create(t.Context(), &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "before"},
	}, metav1.CreateOptions{})
	require.NoError(t, err)

	require.NoError(t, env.Pause(KubeAPIServer))
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	_, err = client.CoreV1().ConfigMaps(ns).Get(ctx, "before", metav1.GetOptions{})
	cancel()
	require.Error(t, err, "a paused apiserver answers nothing")
	require.NoError(t, env.Resume(KubeAPIServer))
	_, err = client.CoreV1().ConfigMaps(ns).Get(t.Context(), "before", metav1.GetOptions{})
	require.NoError(t, err)

	require.NoError(t, env.Kill(Etcd))
	require.Error(t, env.Kill(Etcd), "second kill")
	require.Error(t, env.Pause(Etcd), "pause a dead component")
	require.NoError(t, env.Restart(t.Context(), Etcd))
	require.Error(t, env.Restart(t.Context(), Etcd), "already running")
	require.Eventually(t, func() bool {
		_, err := client.CoreV1().ConfigMaps(ns).Get(t.Context(), "before", metav1.GetOptions{})
		return err == nil
	}, time.Minute, 200*time.Millisecond, "the apiserver serves etcd's data again")
}

// TestStopLeavesNothing starts one with the defaults.
func TestMain(m *testing.M) {
	Main(m, Options{
		Nodes: testNodes, NodeCPU: testNodeCPU,
		ControllerManagerArgs: []string{"--kube-api-qps=100", "--kube-api-burst=200"},
		SchedulerQPS:          100, SchedulerBurst: 200,
		SchedulerPercentageOfNodesToScore: 50, SchedulerNoDefaultSpread: true,
		NodeLeaseDuration: testNodeLease, GOGC: 200,
	})
}

// waitTimeout bounds every wait for the cluster to converge; controllers on
// a loaded two-core machine take seconds, not minutes.
const waitTimeout = time.Minute

// newNamespace creates a namespace for one test and deletes it afterwards.
func newNamespace(t *testing.T, client kubernetes.Interface) string {
	t.Helper()
	ns, err := client.CoreV1().Namespaces().Create(t.Context(), &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "test-"},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		err := client.CoreV1().Namespaces().Delete(context.Background(), ns.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("delete namespace %s: %v", ns.Name, err)
		}
	})
	return ns.Name
}

func TestStartedCluster(t *testing.T) {
	env := Shared()
	client := env.Client()

	t.Run("version is stamped", func(t *testing.T) {
		v, err := client.Discovery().ServerVersion()
		require.NoError(t, err)
		assert.Equal(t, "v1.36.3", v.GitVersion)
		assert.Equal(t, "36", v.Minor)
	})
	t.Run("nodes are ready and untainted", func(t *testing.T) {
		nodes, err := client.CoreV1().Nodes().List(t.Context(), metav1.ListOptions{})
		require.NoError(t, err)
		require.Len(t, nodes.Items, testNodes)
		for _, n := range nodes.Items {
			assert.Empty(t, nodeNotReady(&n), n.Name)
			assert.True(t, strings.HasPrefix(n.Name, NodeNamePrefix), n.Name)
			cpu := n.Status.Allocatable[corev1.ResourceCPU]
			assert.Equal(t, testNodeCPU, cpu.String(), n.Name)
		}
	})
	t.Run("node leases last NodeLeaseDuration", func(t *testing.T) {
		leases, err := client.CoordinationV1().Leases("kube-node-lease").List(t.Context(), metav1.ListOptions{})
		require.NoError(t, err)
		require.Len(t, leases.Items, testNodes)
		for _, l := range leases.Items {
			require.NotNil(t, l.Spec.LeaseDurationSeconds, l.Name)
			assert.Equal(t, int32(testNodeLease/time.Second), *l.Spec.LeaseDurationSeconds, l.Name)
		}
	})
	t.Run("kubeconfig works", func(t *testing.T) {
		cfg, err := clientcmd.BuildConfigFromFlags("", env.KubeconfigPath())
		require.NoError(t, err)
		c, err := kubernetes.NewForConfig(cfg)
		require.NoError(t, err)
		_, err = c.CoreV1().Namespaces().Get(t.Context(), "kube-system", metav1.GetOptions{})
		require.NoError(t, err)
	})
	t.Run("listens on loopback only", func(t *testing.T) {
		assert.True(t, strings.HasPrefix(env.Host(), "https://127.0.0.1:"), env.Host())
	})
	t.Run("memory", func(t *testing.T) {
		total := 0
		env.mu.Lock()
		for name, p := range env.procs {
			kib := rssKiB(p.pid())
			total += kib
			t.Logf("%s: RSS %d MiB", name, kib>>10)
		}
		env.mu.Unlock()
		t.Logf("total RSS %d MiB", total>>10)
	})
}

func TestDefaultServiceAccount(t *testing.T) {
	requireDefaultServiceAccount(t, Shared().Client())
}

// requireDefaultServiceAccount checks that kube-controller-manager gives a
// new namespace its default ServiceAccount.
func requireDefaultServiceAccount(t *testing.T, client kubernetes.Interface) {
	t.Helper()
	ns := newNamespace(t, client)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		_, err := client.CoreV1().ServiceAccounts(ns).Get(t.Context(), "default", metav1.GetOptions{})
		assert.NoError(c, err)
	}, waitTimeout, 100*time.Millisecond)
}

func TestDeploymentPodsRunOnKwokNodes(t *testing.T) {
	client := Shared().Client()
	ns := newNamespace(t, client)
	const replicas = 3
	labels := map[string]string{"app": "web"}
	_, err := client.AppsV1().Deployments(ns).Create(t.Context(), &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.DeploymentSpec{
			Replicas: new(int32(replicas)),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name:  "web",
					Image: "registry.invalid/web:1", // never pulled: kwok runs nothing
					Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
						corev1.ResourceCPU: resource.MustParse("100m"),
					}},
				}}},
			},
		},
	}, metav1.CreateOptions{})
	require.NoError(t, err)

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		pods, err := client.CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{LabelSelector: "app=web"})
		if !assert.NoError(c, err) || !assert.Len(c, pods.Items, replicas) {
			return
		}
		for _, p := range pods.Items {
			assert.Equal(c, corev1.PodRunning, p.Status.Phase, p.Name)
			assert.True(c, strings.HasPrefix(p.Spec.NodeName, NodeNamePrefix), "%s on %q", p.Name, p.Spec.NodeName)
			assert.NotEmpty(c, p.Status.PodIP, p.Name)
		}
	}, waitTimeout, 200*time.Millisecond)

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		d, err := client.AppsV1().Deployments(ns).Get(t.Context(), "web", metav1.GetOptions{})
		if assert.NoError(c, err) {
			assert.Equal(c, int32(replicas), d.Status.ReadyReplicas)
		}
	}, waitTimeout, 200*time.Millisecond)
}

func TestUnschedulablePod(t *testing.T) {
	client := Shared().Client()
	ns := newNamespace(t, client)
	_, err := client.CoreV1().Pods(ns).Create(t.Context(), &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "greedy"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name:  "greedy",
			Image: "registry.invalid/greedy:1",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse("100"),
			}},
		}}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		p, err := client.CoreV1().Pods(ns).Get(t.Context(), "greedy", metav1.GetOptions{})
		if !assert.NoError(c, err) {
			return
		}
		var cond *corev1.PodCondition
		for i := range p.Status.Conditions {
			if p.Status.Conditions[i].Type == corev1.PodScheduled {
				cond = &p.Status.Conditions[i]
			}
		}
		if !assert.NotNil(c, cond, "no PodScheduled condition yet") {
			return
		}
		assert.Equal(c, corev1.ConditionFalse, cond.Status)
		assert.Equal(c, corev1.PodReasonUnschedulable, cond.Reason)
		assert.Contains(c, cond.Message, "Insufficient cpu")
		assert.Equal(c, corev1.PodPending, p.Status.Phase)
	}, waitTimeout, 200*time.Millisecond)
}

func TestRBACAppliesToOtherIdentities(t *testing.T) {
	env := Shared()
	admin := env.Client()
	ns := newNamespace(t, admin)

	certUser := fmt.Sprintf("system:serviceaccount:%s:viewer", ns)
	certClient, err := kubernetes.NewForConfig(env.ConfigFor(certUser, "system:serviceaccounts", "system:serviceaccounts:"+ns))
	require.NoError(t, err)
	saCfg, err := env.ConfigForServiceAccount(t.Context(), ns, "token-viewer")
	require.NoError(t, err)
	saClient, err := kubernetes.NewForConfig(saCfg)
	require.NoError(t, err)

	cases := []struct {
		name    string
		client  kubernetes.Interface
		subject rbacv1.Subject
	}{
		{"client certificate", certClient, rbacv1.Subject{Kind: rbacv1.UserKind, Name: certUser}},
		{"service account token", saClient, rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: "token-viewer", Namespace: ns}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.client.CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{})
			require.True(t, apierrors.IsForbidden(err), "want 403 before any binding, got %v", err)

			_, err = admin.RbacV1().RoleBindings(ns).Create(t.Context(), &rbacv1.RoleBinding{
				ObjectMeta: metav1.ObjectMeta{GenerateName: "view-"},
				RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"},
				Subjects:   []rbacv1.Subject{tc.subject},
			}, metav1.CreateOptions{})
			require.NoError(t, err)
			// The RBAC authorizer reads bindings from an informer, so the
			// grant takes effect within moments, not at once.
			require.EventuallyWithT(t, func(c *assert.CollectT) {
				_, err := tc.client.CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{})
				assert.NoError(c, err)
			}, waitTimeout, 100*time.Millisecond)
			_, err = tc.client.CoreV1().Pods("kube-system").List(t.Context(), metav1.ListOptions{})
			require.True(t, apierrors.IsForbidden(err), "binding is namespaced, got %v", err)
		})
	}
}

func TestAPIServerMetricsCountLists(t *testing.T) {
	env := Shared()
	before := listCount(t, env)
	_, err := env.Client().CoreV1().ConfigMaps("default").List(t.Context(), metav1.ListOptions{})
	require.NoError(t, err)
	assert.Greater(t, listCount(t, env), before)
}

// listCount counts LISTs of configmaps, in any scope.
func listCount(t *testing.T, env *Env) float64 {
	t.Helper()
	n, err := env.ListRequests(t.Context(), "configmaps", "")
	require.NoError(t, err)
	return n
}

func TestAPIServerRestartKeepsData(t *testing.T) {
	env := Shared()
	client := env.Client()
	ns := newNamespace(t, client)
	_, err := client.CoreV1().ConfigMaps(ns).Create(t.Context(), &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "before"},
		Data:       map[string]string{"k": "v"},
	}, metav1.CreateOptions{})
	require.NoError(t, err)

	require.NoError(t, env.StopAPIServer())
	_, err = client.CoreV1().ConfigMaps(ns).Get(t.Context(), "before", metav1.GetOptions{})
	require.Error(t, err, "apiserver is stopped")
	require.Error(t, env.StopAPIServer(), "second stop")

	require.NoError(t, env.StartAPIServer(t.Context()))
	cm, err := client.CoreV1().ConfigMaps(ns).Get(t.Context(), "before", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "v", cm.Data["k"])
	_, err = client.CoreV1().ConfigMaps(ns).Create(t.Context(), &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "after"},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	require.Error(t, env.StartAPIServer(t.Context()), "already running")

	// The rest of the cluster reconnects: controllers still act.
	requireDefaultServiceAccount(t, client)
}

// TestStopLeavesNothing starts a second, private control plane, with the
// default options, and checks that Stop ends every process it ever started
// (including a replaced apiserver) and removes its directory.
func TestStopLeavesNothing(t *testing.T) {
	before := goleak.IgnoreCurrent()
	began := time.Now()
	env, err := Start(t.Context(), Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = env.Stop() })
	t.Logf("Start took %v", time.Since(began))

	began = time.Now()
	require.NoError(t, env.StopAPIServer())
	t.Logf("StopAPIServer took %v", time.Since(began))
	began = time.Now()
	require.NoError(t, env.StartAPIServer(t.Context()))
	t.Logf("StartAPIServer took %v", time.Since(began))
	pids := env.startedPIDs()
	require.Len(t, pids, 6, "five components and one restarted apiserver")
	for _, pid := range pids[:len(pids)-1] {
		if pid == pids[1] { // the stopped apiserver
			assert.False(t, processAlive(pid), "stopped apiserver %d", pid)
			continue
		}
		assert.True(t, processAlive(pid), "pid %d", pid)
	}

	began = time.Now()
	require.NoError(t, env.Stop())
	t.Logf("Stop took %v", time.Since(began))
	require.NoError(t, env.Stop(), "second Stop")
	for _, pid := range pids {
		assert.False(t, processAlive(pid), "pid %d still alive after Stop", pid)
	}
	_, err = os.Stat(env.Dir())
	assert.True(t, os.IsNotExist(err), "temp dir %s: %v", env.Dir(), err)
	require.Error(t, env.StartAPIServer(t.Context()), "start after Stop")
	goleak.VerifyNone(t, before)
}

func TestStartErrors(t *testing.T) {
	cases := []struct {
		name string
		opts Options
		want []string
	}{
		{"binaries missing", Options{BinDir: t.TempDir()}, []string{"run make testenv", "kube-apiserver"}},
		{"bad cpu", Options{NodeCPU: "lots"}, []string{`node cpu "lots"`}},
		{"bad memory", Options{NodeMemory: "16 GB"}, []string{`node memory "16 GB"`}},
		{"zero cpu", Options{NodeCPU: "0"}, []string{`node cpu "0": must be positive`}},
		{"negative pods", Options{NodePods: -1}, []string{"node pods must not be negative"}},
		{"bad cidr", Options{PodCIDR: "10.0.0.0"}, []string{"pod cidr"}},
		{"negative nodes", Options{Nodes: -1}, []string{"nodes must not be negative"}},
		{"lease not whole seconds", Options{NodeLeaseDuration: 1500 * time.Millisecond}, []string{"node lease duration must be whole seconds"}},
		{"negative GOGC", Options{GOGC: -1}, []string{"GOGC must not be negative"}},
		{"negative scheduler qps", Options{SchedulerQPS: -1}, []string{"scheduler qps and burst must not be negative"}},
		{"percentage over 100", Options{SchedulerPercentageOfNodesToScore: 101}, []string{"percentage of nodes to score must be 0 to 100"}},
		{
			"component fails, log tail in error",
			Options{APIServerArgs: []string{"--no-such-flag"}},
			[]string{"kube-apiserver exited", "kube-apiserver.log", "unknown flag: --no-such-flag"},
		},
		{
			"controller manager flags reach it",
			Options{ControllerManagerArgs: []string{"--no-such-flag"}},
			[]string{"kube-controller-manager exited", "unknown flag: --no-such-flag"},
		},
		{
			"scheduler flags reach it",
			Options{SchedulerArgs: []string{"--no-such-flag"}},
			[]string{"kube-scheduler exited", "unknown flag: --no-such-flag"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env, err := Start(t.Context(), tc.opts)
			require.Error(t, err)
			require.Nil(t, env)
			for _, w := range tc.want {
				assert.ErrorContains(t, err, w)
			}
		})
	}
}

func TestStartTogether(t *testing.T) {
	boom := errors.New("boom")
	fail := func(context.Context) error { return boom }
	ok := func(context.Context) error { return nil }
	// waits stands for a component waiting for readiness: it ends only when
	// cancelled.
	waits := func(ctx context.Context) error {
		<-ctx.Done()
		return fmt.Errorf("wait: %w", ctx.Err())
	}
	cases := []struct {
		name   string
		starts []func(context.Context) error
		want   error
	}{
		{"all succeed", []func(context.Context) error{ok, ok}, nil},
		{"failure cancels waiters and is the only error", []func(context.Context) error{waits, fail, waits}, boom},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := startTogether(t.Context(), tc.starts...)
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.want)
			assert.NotErrorIs(t, err, context.Canceled)
		})
	}
}
