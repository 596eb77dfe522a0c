package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

const (
	// tempPrefix names the temporary directories, so removeOrphans finds the
	// ones a crashed test binary left behind.
	tempPrefix = "statusd-testenv-"
	// ownerFile holds the pid of the test binary that owns a directory.
	ownerFile = "owner.pid"
	// serviceCIDR is the ClusterIP range; nothing routes it, it only has to
	// exist for Services to get addresses.
	serviceCIDR = "10.96.0.0/16"
	// adminUser is the identity behind Config: in system:masters, so RBAC
	// never stands in the way of test setup.
	adminUser = "statusd-testenv-admin"
	// frontProxyUser is the aggregation layer's identity towards extension
	// apiservers.
	frontProxyUser = "front-proxy-client"
	// defaultNodeLease is a simulated node's Lease duration, a kubelet's.
	defaultNodeLease = 40 * time.Second
	// defaultNodeMonitorGrace is kube-controller-manager's default
	// --node-monitor-grace-period.
	defaultNodeMonitorGrace = 50 * time.Second
)

// pki returns the path of a file in the pki directory.
func (e *Env) pki(name string) string { return e.path("pki", name) }

// writePKI creates the CA, the apiserver's serving certificate and the
// ServiceAccount signing keys.
func (e *Env) writePKI() error {
	if err := os.MkdirAll(e.path("pki"), 0o700); err != nil {
		return fmt.Errorf("create pki dir: %w", err)
	}
	ca, err := newAuthority()
	if err != nil {
		return err
	}
	e.ca = ca
	if err := ca.write(e.pki("ca.crt"), e.pki("ca.key")); err != nil {
		return err
	}
	serving, err := ca.issueServing(KubeAPIServer,
		[]string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
		[]net.IP{net.IPv4(127, 0, 0, 1), net.IPv4(10, 96, 0, 1)})
	if err != nil {
		return err
	}
	if err := writeFiles(map[string][]byte{e.pki("apiserver.crt"): serving.certPEM, e.pki("apiserver.key"): serving.keyPEM}); err != nil {
		return err
	}
	// The front proxy (aggregation layer) has its own CA, as in kubeadm, so
	// that a certificate from ConfigFor can never pass as the proxy. Without
	// it, every component that delegates authentication logs an error about
	// the missing requestheader CA every few seconds.
	proxyCA, err := newAuthority()
	if err != nil {
		return err
	}
	proxy, err := proxyCA.issueClient(frontProxyUser, nil)
	if err != nil {
		return err
	}
	if err := writeFiles(map[string][]byte{
		e.pki("front-proxy-ca.crt"):     proxyCA.certPEM,
		e.pki("front-proxy-client.crt"): proxy.certPEM,
		e.pki("front-proxy-client.key"): proxy.keyPEM,
	}); err != nil {
		return err
	}
	return writeServiceAccountKeys(e.pki("sa.key"), e.pki("sa.pub"))
}

// writeComponentCerts gives a component a client identity (kubeconfig) and a
// serving certificate for 127.0.0.1 signed by the CA, so its health endpoint
// can be probed with normal TLS verification.
func (e *Env) writeComponentCerts(name, user string, groups []string) (kubeconfig string, err error) {
	client, err := e.ca.issueClient(user, groups)
	if err != nil {
		return "", err
	}
	kubeconfig = e.path(name + ".kubeconfig")
	if err := e.writeKubeconfig(kubeconfig, user, client); err != nil {
		return "", err
	}
	serving, err := e.ca.issueServing(name, []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return "", err
	}
	return kubeconfig, writeFiles(map[string][]byte{e.pki(name + ".crt"): serving.certPEM, e.pki(name + ".key"): serving.keyPEM})
}

// startEtcd starts a single-member etcd. fsync is off: the data only has to
// outlive an apiserver restart, not a power cut, and fsync dominates write
// latency on shared disks.
func (e *Env) startEtcd(ctx context.Context) error {
	plain := &http.Client{Transport: &http.Transport{Proxy: nil}}
	var clientURL string
	_, err := e.startServing(ctx, Etcd, 2, func(ports []int) ([]string, error) {
		clientURL = fmt.Sprintf("http://127.0.0.1:%d", ports[0])
		peerURL := fmt.Sprintf("http://127.0.0.1:%d", ports[1])
		data := e.path("etcd")
		// A retry after a lost port race must not find a member
		// bootstrapped with the old peer URL.
		if err := os.RemoveAll(data); err != nil {
			return nil, fmt.Errorf("clear etcd data: %w", err)
		}
		return []string{
			"--name=testenv",
			"--data-dir=" + data,
			"--listen-client-urls=" + clientURL,
			"--advertise-client-urls=" + clientURL,
			"--listen-peer-urls=" + peerURL,
			"--initial-advertise-peer-urls=" + peerURL,
			"--initial-cluster=testenv=" + peerURL,
			"--initial-cluster-state=new",
			"--unsafe-no-fsync=true",
			"--log-level=warn",
		}, nil
	}, func(ctx context.Context, _ []int) error {
		return probeHTTP(ctx, plain, clientURL+"/health")
	})
	if err != nil {
		return err
	}
	e.etcdURL = clientURL
	return nil
}

// startAPIServer starts kube-apiserver for the first time, choosing its port;
// StartAPIServer restarts it with the same arguments.
func (e *Env) startAPIServer(ctx context.Context) error {
	_, err := e.startServing(ctx, KubeAPIServer, 1, func(ports []int) ([]string, error) {
		if err := e.setHost(ports[0]); err != nil {
			return nil, err
		}
		args := []string{
			"--etcd-servers=" + e.etcdURL,
			"--bind-address=127.0.0.1",
			"--advertise-address=127.0.0.1",
			"--secure-port=" + strconv.Itoa(ports[0]),
			"--cert-dir=" + e.path(KubeAPIServer),
			"--tls-cert-file=" + e.pki("apiserver.crt"),
			"--tls-private-key-file=" + e.pki("apiserver.key"),
			"--client-ca-file=" + e.pki("ca.crt"),
			"--authorization-mode=Node,RBAC",
			"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
			"--service-account-key-file=" + e.pki("sa.pub"),
			"--service-account-signing-key-file=" + e.pki("sa.key"),
			"--service-cluster-ip-range=" + serviceCIDR,
			// The endpoints of the "kubernetes" Service would be
			// 127.0.0.1, which Endpoints validation rejects; nothing
			// in a test reaches the apiserver through that Service.
			"--endpoint-reconciler-type=none",
			"--allow-privileged=true",
			"--profiling=false",
			"--requestheader-client-ca-file=" + e.pki("front-proxy-ca.crt"),
			"--requestheader-allowed-names=" + frontProxyUser,
			"--requestheader-username-headers=X-Remote-User",
			"--requestheader-group-headers=X-Remote-Group",
			"--requestheader-extra-headers-prefix=X-Remote-Extra-",
			"--proxy-client-cert-file=" + e.pki("front-proxy-client.crt"),
			"--proxy-client-key-file=" + e.pki("front-proxy-client.key"),
		}
		return append(args, e.opts.APIServerArgs...), nil
	}, func(ctx context.Context, _ []int) error {
		return e.apiserverReady(ctx)
	})
	if err != nil {
		return err
	}
	e.client, err = kubernetes.NewForConfigAndClient(e.admin, e.httpClient)
	if err != nil {
		return fmt.Errorf("admin clientset: %w", err)
	}
	e.kubeconfig = e.path("admin.kubeconfig")
	return e.writeKubeconfig(e.kubeconfig, adminUser, e.adminKP)
}

// setHost points the admin identity at the apiserver port.
func (e *Env) setHost(port int) error {
	if e.adminKP.certPEM == nil {
		kp, err := e.ca.issueClient(adminUser, []string{"system:masters"})
		if err != nil {
			return err
		}
		e.adminKP = kp
	}
	e.host = fmt.Sprintf("https://127.0.0.1:%d", port)
	e.admin = e.restConfig(e.adminKP)
	hc, err := rest.HTTPClientFor(e.admin)
	if err != nil {
		return fmt.Errorf("admin http client: %w", err)
	}
	e.httpClient = hc
	return nil
}

func (e *Env) apiserverReady(ctx context.Context) error {
	return probeHTTP(ctx, e.httpClient, e.host+"/readyz")
}

// createNodes registers the simulated nodes with the resources from Options.
// Status may be set on create (the kubelet does the same); kwok keeps the
// allocatable and capacity it finds and fills in conditions and addresses.
func (e *Env) createNodes(ctx context.Context) error {
	res := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse(e.opts.NodeCPU),
		corev1.ResourceMemory: resource.MustParse(e.opts.NodeMemory),
		corev1.ResourcePods:   *resource.NewQuantity(int64(e.opts.NodePods), resource.DecimalSI),
	}
	for i := range e.opts.Nodes {
		name := NodeNamePrefix + strconv.Itoa(i)
		node := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{
				Name:        name,
				Annotations: map[string]string{kwokNodeAnnotation: "fake"},
				Labels: map[string]string{
					"kubernetes.io/hostname": name,
					"kubernetes.io/os":       "linux",
					"kubernetes.io/arch":     "amd64",
					"type":                   "kwok",
				},
			},
			Status: corev1.NodeStatus{Allocatable: res, Capacity: res},
		}
		if _, err := e.client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create node %s: %w", name, err)
		}
	}
	return nil
}

// startControllerManager runs kube-controller-manager with the default
// controllers (ServiceAccounts and their tokens, namespaces, Deployments,
// ReplicaSets, EndpointSlices, garbage collection, node lifecycle) and each
// controller under its own ServiceAccount, as in a real cluster, so RBAC
// mistakes in controllers' roles would show. Ready when /healthz answers and
// the default ServiceAccount exists.
func (e *Env) startControllerManager(ctx context.Context) error {
	kubeconfig, err := e.writeComponentCerts(KubeControllerManager, "system:kube-controller-manager", nil)
	if err != nil {
		return err
	}
	_, err = e.startServing(ctx, KubeControllerManager, 1, func(ports []int) ([]string, error) {
		args := []string{
			"--kubeconfig=" + kubeconfig,
			"--authentication-kubeconfig=" + kubeconfig,
			"--authorization-kubeconfig=" + kubeconfig,
			"--bind-address=127.0.0.1",
			"--secure-port=" + strconv.Itoa(ports[0]),
			"--tls-cert-file=" + e.pki(KubeControllerManager+".crt"),
			"--tls-private-key-file=" + e.pki(KubeControllerManager+".key"),
			"--leader-elect=false",
			"--controllers=*",
			"--use-service-account-credentials=true",
			"--service-account-private-key-file=" + e.pki("sa.key"),
			"--root-ca-file=" + e.pki("ca.crt"),
			"--cluster-signing-cert-file=" + e.pki("ca.crt"),
			"--cluster-signing-key-file=" + e.pki("ca.key"),
			"--node-monitor-grace-period=" + max(defaultNodeMonitorGrace, e.opts.NodeLeaseDuration).String(),
		}
		return append(args, e.opts.ControllerManagerArgs...), nil
	}, func(ctx context.Context, ports []int) error {
		if err := probeHTTP(ctx, e.httpClient, fmt.Sprintf("https://127.0.0.1:%d/healthz", ports[0])); err != nil {
			return err
		}
		if _, err := e.client.CoreV1().ServiceAccounts(metav1.NamespaceDefault).Get(ctx, "default", metav1.GetOptions{}); err != nil {
			return fmt.Errorf("default service account: %w", err)
		}
		return nil
	})
	return err
}

// startScheduler runs kube-scheduler, ready when its /readyz answers (its
// informers have synced).
func (e *Env) startScheduler(ctx context.Context) error {
	kubeconfig, err := e.writeComponentCerts(KubeScheduler, "system:kube-scheduler", nil)
	if err != nil {
		return err
	}
	config, err := e.writeSchedulerConfig(kubeconfig)
	if err != nil {
		return err
	}
	_, err = e.startServing(ctx, KubeScheduler, 1, func(ports []int) ([]string, error) {
		args := []string{
			"--config=" + config,
			"--authentication-kubeconfig=" + kubeconfig,
			"--authorization-kubeconfig=" + kubeconfig,
			"--bind-address=127.0.0.1",
			"--secure-port=" + strconv.Itoa(ports[0]),
			"--tls-cert-file=" + e.pki(KubeScheduler+".crt"),
			"--tls-private-key-file=" + e.pki(KubeScheduler+".key"),
		}
		return append(args, e.opts.SchedulerArgs...), nil
	}, func(ctx context.Context, ports []int) error {
		return probeHTTP(ctx, e.httpClient, fmt.Sprintf("https://127.0.0.1:%d/readyz", ports[0]))
	})
	return err
}

// writeSchedulerConfig writes kube-scheduler's configuration file: the
// client and leader election, which its deprecated flags also set, and
// percentageOfNodesToScore and the default spreading, which only the file
// can. Zero values are left out, so kube-scheduler defaults them. JSON is
// YAML.
func (e *Env) writeSchedulerConfig(kubeconfig string) (string, error) {
	client := map[string]any{"kubeconfig": kubeconfig}
	if e.opts.SchedulerQPS > 0 {
		client["qps"] = e.opts.SchedulerQPS
	}
	if e.opts.SchedulerBurst > 0 {
		client["burst"] = e.opts.SchedulerBurst
	}
	conf := map[string]any{
		"apiVersion":       "kubescheduler.config.k8s.io/v1",
		"kind":             "KubeSchedulerConfiguration",
		"clientConnection": client,
		"leaderElection":   map[string]any{"leaderElect": false},
	}
	if n := e.opts.SchedulerPercentageOfNodesToScore; n > 0 {
		conf["percentageOfNodesToScore"] = n
	}
	if e.opts.SchedulerNoDefaultSpread {
		conf["profiles"] = []any{map[string]any{
			"schedulerName": "default-scheduler",
			"pluginConfig": []any{map[string]any{
				"name": "PodTopologySpread",
				"args": map[string]any{"defaultingType": "List", "defaultConstraints": []any{}},
			}},
		}}
	}
	body, err := json.Marshal(conf)
	if err != nil {
		return "", fmt.Errorf("encode kube-scheduler configuration: %w", err)
	}
	path := e.path(KubeScheduler + ".yaml")
	if err := os.WriteFile(path, body, 0o600); err != nil {
		return "", fmt.Errorf("write kube-scheduler configuration: %w", err)
	}
	return path, nil
}

// startKwok runs kwok for the annotated nodes, ready when every node is Ready
// and untainted. kwok serves nothing (no --server-address or --node-port),
// so it opens no port; node and host IPs are 127.0.0.1 so that anything that
// does dial a "kubelet" stays on this machine.
func (e *Env) startKwok(ctx context.Context) error {
	kubeconfig, err := e.writeComponentCerts(Kwok, "kwok-controller", []string{"system:masters"})
	if err != nil {
		return err
	}
	p := e.newProcess(Kwok, []string{
		"--kubeconfig=" + kubeconfig,
		"--config=" + filepath.Join(e.binDir, stagesFile),
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector=" + kwokNodeAnnotation + "=fake",
		"--node-ip=127.0.0.1",
		"--cidr=" + e.opts.PodCIDR,
		"--node-lease-duration-seconds=" + strconv.Itoa(int(e.opts.NodeLeaseDuration/time.Second)),
	})
	e.mu.Lock()
	err = e.launch(p)
	e.mu.Unlock()
	if err != nil {
		return err
	}
	return e.waitReady(ctx, p, e.nodesReady)
}

// nodesReady checks that every simulated node is Ready and has lost the
// not-ready taint that the TaintNodesByCondition admission plugin puts on
// new nodes (the node lifecycle controller removes it); until then the
// scheduler would place nothing there.
func (e *Env) nodesReady(ctx context.Context) error {
	nodes, err := e.client.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: "type=kwok"})
	if err != nil {
		return fmt.Errorf("list nodes: %w", err)
	}
	var notReady []string
	for _, n := range nodes.Items {
		if why := nodeNotReady(&n); why != "" {
			notReady = append(notReady, n.Name+": "+why)
		}
	}
	if len(nodes.Items) < e.opts.Nodes || len(notReady) > 0 {
		return fmt.Errorf("%d of %d nodes ready; %s", len(nodes.Items)-len(notReady), e.opts.Nodes, strings.Join(notReady, "; "))
	}
	return nil
}

func nodeNotReady(n *corev1.Node) string {
	ready := false
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
			ready = true
		}
	}
	if !ready {
		return "condition Ready not True"
	}
	for _, t := range n.Spec.Taints {
		if t.Key == corev1.TaintNodeNotReady || t.Key == corev1.TaintNodeUnreachable {
			return "taint " + t.Key
		}
	}
	return ""
}

// removeOrphans deletes temporary directories whose owning test binary is
// gone: one that died in a panic or a timeout could not run Stop. Its
// processes are already dead (PR_SET_PDEATHSIG).
func removeOrphans(log *slog.Logger) {
	dirs, err := filepath.Glob(filepath.Join(os.TempDir(), tempPrefix+"*"))
	if err != nil {
		return
	}
	for _, dir := range dirs {
		data, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			// Not yet written by a Start in progress, or not ours:
			// only an old one is abandoned.
			if st, serr := os.Stat(dir); serr != nil || time.Since(st.ModTime()) < time.Hour {
				continue
			}
		} else if pid, err := strconv.Atoi(string(data)); err != nil || processAlive(pid) {
			continue
		}
		if err := os.RemoveAll(dir); err == nil {
			log.Info("Removed orphaned directory", "dir", dir)
		}
	}
}
