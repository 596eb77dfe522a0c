package testenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Component names, also the names of their binaries and log files.
const (
	Etcd                  = "etcd"
	KubeAPIServer         = "kube-apiserver"
	KubeControllerManager = "kube-controller-manager"
	KubeScheduler         = "kube-scheduler"
	Kwok                  = "kwok"
)

// Names and labels of the simulated nodes.
const (
	// NodeNamePrefix starts the name of every simulated node; node i is
	// NodeNamePrefix + i.
	NodeNamePrefix = "kwok-node-"
	// kwokNodeAnnotation marks the nodes kwok manages, so a test can create
	// a Node that kwok leaves alone (it never becomes Ready).
	kwokNodeAnnotation = "kwok.x-k8s.io/node"
)

// Options configures a control plane. The zero value is a usable one-node
// cluster.
type Options struct {
	// Nodes is how many kwok nodes to create and wait for; 0 means 1.
	Nodes int
	// NodeCPU is each node's allocatable and capacity CPU; default "4". A
	// pod asking for more stays Pending with "Insufficient cpu".
	NodeCPU string
	// NodeMemory is each node's allocatable and capacity memory; default
	// "16Gi".
	NodeMemory string
	// NodePods is how many pods each node accepts; default 110.
	NodePods int
	// PodCIDR is where kwok takes pod IPs from; default "10.244.0.0/16".
	// Nothing answers on those addresses. A test that scrapes simulated
	// pods can use a loopback range such as "127.0.10.0/24" and listen on
	// the pod's IP (Linux routes all of 127.0.0.0/8 to lo), but loopback
	// addresses are invalid in EndpointSlices, so Services over those pods
	// get no endpoints.
	PodCIDR string
	// BinDir holds the binaries; default $STATUSD_TESTENV_BIN, else
	// <repo root>/bin/testenv.
	BinDir string
	// StartTimeout bounds Start; default 3 minutes, sized for a loaded
	// two-core machine (a quiet one starts in about ten seconds).
	StartTimeout time.Duration
	// APIServerArgs are extra kube-apiserver flags, appended after the
	// defaults so they override them (for example feature gates).
	APIServerArgs []string
	// ControllerManagerArgs are extra kube-controller-manager flags,
	// appended after the defaults so they override them. Its defaults
	// limit every controller's client to 20 requests a second and the
	// ReplicaSet and Deployment controllers to 5 concurrent syncs, which
	// caps how fast a large cluster fills; the scale run raises them.
	ControllerManagerArgs []string
	// SchedulerArgs are extra kube-scheduler flags, appended after the
	// defaults. kube-scheduler runs from a configuration file, so only
	// flags that file does not cover take effect (not --kube-api-qps).
	SchedulerArgs []string
	// SchedulerQPS and SchedulerBurst limit kube-scheduler's client;
	// default its own 50 and 100. A binding and an Event per pod make 50
	// a second a cap near 25 pods a second.
	SchedulerQPS   int
	SchedulerBurst int
	// SchedulerPercentageOfNodesToScore is the share of nodes
	// kube-scheduler looks at for each pod once it has found that many
	// feasible ones (never fewer than 100 nodes); default its adaptive
	// value, 42% at 1,000 nodes. Its cost per pod grows with the nodes it
	// looks at.
	SchedulerPercentageOfNodesToScore int
	// SchedulerNoDefaultSpread drops kube-scheduler's default topology
	// spread constraints (the pods of one owner spread over hostnames
	// and zones, as a preference). Counting the matching pods on every
	// node costs it more per pod the more pods there are: 70% of its CPU
	// at 10,000 pods on 1,000 nodes.
	SchedulerNoDefaultSpread bool
	// NodeLeaseDuration is the duration of each simulated node's Lease;
	// kwok renews every Lease each quarter of it, and the node lifecycle
	// controller's grace period (--node-monitor-grace-period, default 50s)
	// is raised to it when longer, so the nodes stay Ready. Default 40s,
	// as a kubelet: a thousand nodes then renew 100 Leases a second, which
	// a two-core machine notices.
	NodeLeaseDuration time.Duration
	// GOGC is the GOGC of every component, as in the environment variable;
	// default unset (Go's 100). The apiserver spends a tenth of its CPU in
	// garbage collection while pods are created in bulk; a higher value
	// trades memory for that.
	GOGC int
	// Logger receives component start and stop messages; default discards.
	Logger *slog.Logger
}

func (o Options) withDefaults() (Options, error) {
	if o.Nodes < 0 {
		return o, fmt.Errorf("nodes must not be negative, got %d", o.Nodes)
	}
	if o.Nodes == 0 {
		o.Nodes = 1
	}
	if o.NodeCPU == "" {
		o.NodeCPU = "4"
	}
	if o.NodeMemory == "" {
		o.NodeMemory = "16Gi"
	}
	if o.NodePods == 0 {
		o.NodePods = 110
	}
	if o.PodCIDR == "" {
		o.PodCIDR = "10.244.0.0/16"
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = 3 * time.Minute
	}
	if o.NodeLeaseDuration == 0 {
		o.NodeLeaseDuration = defaultNodeLease
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	var errs []error
	for name, q := range map[string]string{"node cpu": o.NodeCPU, "node memory": o.NodeMemory} {
		if v, err := resource.ParseQuantity(q); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w", name, q, err))
		} else if v.Sign() <= 0 {
			errs = append(errs, fmt.Errorf("%s %q: must be positive", name, q))
		}
	}
	if o.NodePods < 0 {
		errs = append(errs, fmt.Errorf("node pods must not be negative, got %d", o.NodePods))
	}
	if o.SchedulerQPS < 0 || o.SchedulerBurst < 0 {
		errs = append(errs, fmt.Errorf("scheduler qps and burst must not be negative, got %d and %d", o.SchedulerQPS, o.SchedulerBurst))
	}
	if o.SchedulerPercentageOfNodesToScore < 0 || o.SchedulerPercentageOfNodesToScore > 100 {
		errs = append(errs, fmt.Errorf("scheduler percentage of nodes to score must be 0 to 100, got %d", o.SchedulerPercentageOfNodesToScore))
	}
	if o.GOGC < 0 {
		errs = append(errs, fmt.Errorf("GOGC must not be negative, got %d", o.GOGC))
	}
	if o.NodeLeaseDuration < time.Second || o.NodeLeaseDuration%time.Second != 0 {
		errs = append(errs, fmt.Errorf("node lease duration must be whole seconds, at least 1s, got %s", o.NodeLeaseDuration))
	}
	if _, _, err := net.ParseCIDR(o.PodCIDR); err != nil {
		errs = append(errs, fmt.Errorf("pod cidr: %w", err))
	}
	return o, errors.Join(errs...)
}

// Env is a running control plane. Its methods are safe for concurrent use;
// StopAPIServer and StartAPIServer affect every test sharing it, so tests
// that call them must not run in parallel with others on the same Env.
type Env struct {
	opts   Options
	log    *slog.Logger
	binDir string
	dir    string
	ca     *authority
	sp     *spawner

	etcdURL    string
	host       string // https://127.0.0.1:port
	adminKP    keyPair
	admin      *rest.Config
	client     *kubernetes.Clientset
	httpClient *http.Client // admin identity, for raw paths like /metrics
	kubeconfig string

	mu       sync.Mutex // guards procs, pids and stopped
	procs    map[string]*process
	pids     []int // every pid ever started, for the leak check in tests
	stopped  bool
	stopOnce sync.Once
	stopErr  error
}

// Start runs etcd, kube-apiserver, kube-controller-manager, kube-scheduler
// and kwok on free loopback ports and returns once the cluster is usable: the
// apiserver is ready, the default ServiceAccount exists and every node is
// Ready without a not-ready taint. On error everything started is stopped
// and the error carries the tail of the failing component's log.
func Start(ctx context.Context, opts Options) (_ *Env, err error) {
	opts, err = opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("testenv options: %w", err)
	}
	binDir, err := findBinDir(opts.BinDir)
	if err != nil {
		return nil, err
	}
	removeOrphans(opts.Logger)
	dir, err := os.MkdirTemp("", tempPrefix)
	if err != nil {
		return nil, fmt.Errorf("create temp dir: %w", err)
	}
	e := &Env{
		opts:   opts,
		log:    opts.Logger.With("component", "testenv"),
		binDir: binDir,
		dir:    dir,
		procs:  map[string]*process{},
		sp:     newSpawner(),
	}
	defer func() {
		if err != nil {
			_ = e.Stop()
		}
	}()
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		return nil, fmt.Errorf("write owner file: %w", err)
	}

	ctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()
	began := time.Now()
	if err := e.writePKI(); err != nil {
		return nil, err
	}
	if err := e.startEtcd(ctx); err != nil {
		return nil, err
	}
	if err := e.startAPIServer(ctx); err != nil {
		return nil, err
	}
	if err := e.createNodes(ctx); err != nil {
		return nil, err
	}
	// The rest start together, each waiting for its own part of readiness:
	// kube-controller-manager for the default ServiceAccount, kwok for Ready
	// and untainted nodes (which also needs the node lifecycle controller).
	// The first failure cancels the others' waits, which would otherwise
	// run into the start timeout.
	if err := startTogether(ctx, e.startControllerManager, e.startScheduler, e.startKwok); err != nil {
		return nil, err
	}
	e.log.Info("Control plane ready", "host", e.host, "dir", dir, "elapsed", time.Since(began).Round(time.Millisecond))
	return e, nil
}

// startTogether runs the start functions concurrently. When one fails it
// cancels the rest and returns that failure, not the cancellations it caused.
func startTogether(ctx context.Context, starts ...func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, len(starts))
	var wg sync.WaitGroup
	for i, start := range starts {
		wg.Go(func() {
			if errs[i] = start(ctx); errs[i] != nil {
				cancel()
			}
		})
	}
	wg.Wait()
	var causes []error
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			causes = append(causes, err)
		}
	}
	if len(causes) > 0 {
		return errors.Join(causes...)
	}
	return errors.Join(errs...)
}

// Config returns a cluster-admin (system:masters) client configuration. Each
// call returns a fresh copy the caller may modify.
func (e *Env) Config() *rest.Config { return rest.CopyConfig(e.admin) }

// Client returns a clientset for the cluster admin, shared by all callers.
func (e *Env) Client() *kubernetes.Clientset { return e.client }

// Host returns the apiserver's URL, https://127.0.0.1:<port>.
func (e *Env) Host() string { return e.host }

// KubeconfigPath returns a kubeconfig file for the cluster admin, for code
// under test that loads kubeconfig files (statusd's own flags). It lives in
// the temporary directory and disappears with Stop.
func (e *Env) KubeconfigPath() string { return e.kubeconfig }

// Dir returns the temporary directory holding data, certificates and the
// component logs (<component>.log); useful when debugging a failing test.
func (e *Env) Dir() string { return e.dir }

// ConfigFor returns a configuration that authenticates as user in groups with
// a client certificate signed by the cluster CA, so RBAC decides what it may
// do; "system:authenticated" is added by the apiserver. A ServiceAccount is
// user "system:serviceaccount:<ns>:<name>" in groups "system:serviceaccounts"
// and "system:serviceaccounts:<ns>"; ConfigForServiceAccount gives a real
// token instead.
//
// It panics only if certificate generation fails, which means crypto/rand is
// broken.
func (e *Env) ConfigFor(user string, groups ...string) *rest.Config {
	kp, err := e.ca.issueClient(user, groups)
	if err != nil {
		panic(fmt.Sprintf("testenv: issue client certificate for %q: %v", user, err))
	}
	return e.restConfig(kp)
}

// ConfigForServiceAccount returns a configuration with a real, apiserver-
// issued token for the ServiceAccount namespace/name (created if absent), as
// statusd has when it runs in a pod.
func (e *Env) ConfigForServiceAccount(ctx context.Context, namespace, name string) (*rest.Config, error) {
	sas := e.client.CoreV1().ServiceAccounts(namespace)
	_, err := sas.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, fmt.Errorf("create service account %s/%s: %w", namespace, name, err)
	}
	hour := int64(3600)
	tr, err := sas.CreateToken(ctx, name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &hour},
	}, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("request token for %s/%s: %w", namespace, name, err)
	}
	cfg := e.restConfig(keyPair{})
	cfg.BearerToken = tr.Status.Token
	return cfg, nil
}

// APIServerMetrics returns the apiserver's /metrics page in the Prometheus
// text format, for tests that count requests (apiserver_request_total with
// verb="LIST"). Fetching it is itself a GET on /metrics, never a LIST.
func (e *Env) APIServerMetrics(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.host+"/metrics", nil)
	if err != nil {
		return "", fmt.Errorf("build metrics request: %w", err)
	}
	resp, err := e.httpClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("get apiserver metrics: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("read apiserver metrics: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("get apiserver metrics: %s: %s", resp.Status, body)
	}
	return string(body), nil
}

// StopAPIServer kills kube-apiserver (SIGKILL, as in a crash: connections
// drop without a goodbye) and leaves everything else running, for tests of
// what clients do while it is gone and after it returns.
func (e *Env) StopAPIServer() error { return e.Kill(KubeAPIServer) }

// StartAPIServer starts kube-apiserver again after StopAPIServer, on the same
// port and the same etcd, so clients reconnect to the same URL and find the
// same data. It returns once /readyz answers.
func (e *Env) StartAPIServer(ctx context.Context) error { return e.Restart(ctx, KubeAPIServer) }

// ErrRunning is Restart's error for a component that is running.
var ErrRunning = errors.New("already running")

// Kill ends component name (Etcd, KubeAPIServer, ...) with SIGKILL to its
// process group, as in a crash, and leaves everything else running; Restart
// brings it back. A paused component is killed all the same.
func (e *Env) Kill(name string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.procs[name]
	if p == nil || !p.running() {
		return fmt.Errorf("%s is not running", name)
	}
	if err := p.stop(0); err != nil {
		return err
	}
	e.log.Info("Killed component", "name", name)
	return nil
}

// Restart starts component name again after Kill, with the same arguments:
// the same ports and, for etcd, the same data directory, so clients
// reconnect to the same URLs and find the same data. It returns once etcd
// answers /health or kube-apiserver /readyz; other components are not
// waited for.
func (e *Env) Restart(ctx context.Context, name string) error {
	e.mu.Lock()
	p := e.procs[name]
	switch {
	case e.stopped:
		e.mu.Unlock()
		return errors.New("environment is stopped")
	case p == nil:
		e.mu.Unlock()
		return fmt.Errorf("%s was never started", name)
	case p.running():
		e.mu.Unlock()
		return fmt.Errorf("%s: %w", name, ErrRunning)
	}
	err := e.launch(p)
	e.mu.Unlock()
	if err != nil {
		return err
	}
	var ready func(context.Context) error
	switch name {
	case KubeAPIServer:
		ready = e.apiserverReady
	case Etcd:
		plain := &http.Client{Transport: &http.Transport{Proxy: nil}}
		defer plain.CloseIdleConnections()
		ready = func(ctx context.Context) error { return probeHTTP(ctx, plain, e.etcdURL+"/health") }
	default:
		return nil
	}
	if err := e.waitReady(ctx, p, ready); err != nil {
		return fmt.Errorf("restart %s: %w", name, err)
	}
	return nil
}

// Pause freezes component name with SIGSTOP to its process group: it holds
// its connections open and answers nothing, as a process stuck on a full
// disk or starved of CPU does, until Resume. Stop ends a paused component
// too.
func (e *Env) Pause(name string) error { return e.signal(name, syscall.SIGSTOP) }

// Resume lets a component frozen by Pause run again (SIGCONT).
func (e *Env) Resume(name string) error { return e.signal(name, syscall.SIGCONT) }

func (e *Env) signal(name string, sig syscall.Signal) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.procs[name]
	if p == nil || !p.running() {
		return fmt.Errorf("%s is not running", name)
	}
	if err := syscall.Kill(-p.pid(), sig); err != nil {
		return fmt.Errorf("signal %s: %w", name, err)
	}
	e.log.Info("Signalled component", "name", name, "signal", sig.String())
	return nil
}

// Stop ends every process the Env started, each process group with SIGTERM
// and then SIGKILL (kube-apiserver with SIGKILL at once), waits until they are reaped, and removes the temporary
// directory. It is safe to call more than once; later calls return the first
// result.
func (e *Env) Stop() error {
	e.stopOnce.Do(func() {
		e.mu.Lock()
		e.stopped = true
		procs := make([]*process, 0, len(e.procs))
		for _, p := range e.procs {
			procs = append(procs, p)
		}
		e.mu.Unlock()

		errs := make([]error, len(procs))
		var wg sync.WaitGroup
		for i, p := range procs {
			wg.Go(func() { errs[i] = p.stop(graceFor(p.name)) })
		}
		wg.Wait()
		e.sp.close()
		if e.httpClient != nil {
			e.httpClient.CloseIdleConnections()
		}
		if err := os.RemoveAll(e.dir); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", e.dir, err))
		}
		e.stopErr = errors.Join(errs...)
		e.log.Info("Control plane stopped", "dir", e.dir)
	})
	return e.stopErr
}

// startedPIDs returns the pid of every process ever started, including
// instances replaced by StartAPIServer.
func (e *Env) startedPIDs() []int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]int(nil), e.pids...)
}

// restConfig builds a client configuration for the apiserver with kp's
// certificate (none if empty). Rate limits are high because tests create
// objects in bursts and client-side throttling would only slow them.
func (e *Env) restConfig(kp keyPair) *rest.Config {
	return &rest.Config{
		Host: e.host,
		TLSClientConfig: rest.TLSClientConfig{
			CAData:   e.ca.certPEM,
			CertData: kp.certPEM,
			KeyData:  kp.keyPEM,
		},
		QPS:   500,
		Burst: 1000,
	}
}

// writeKubeconfig writes a kubeconfig for identity kp to path.
func (e *Env) writeKubeconfig(path, user string, kp keyPair) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["testenv"] = &clientcmdapi.Cluster{Server: e.host, CertificateAuthorityData: e.ca.certPEM}
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{ClientCertificateData: kp.certPEM, ClientKeyData: kp.keyPEM}
	cfg.Contexts["testenv"] = &clientcmdapi.Context{Cluster: "testenv", AuthInfo: user}
	cfg.CurrentContext = "testenv"
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return fmt.Errorf("write kubeconfig %s: %w", path, err)
	}
	return nil
}

// path returns a file name inside the temporary directory.
func (e *Env) path(elem ...string) string {
	return filepath.Join(append([]string{e.dir}, elem...)...)
}

// newProcess describes a component; launch starts it.
func (e *Env) newProcess(name string, args []string) *process {
	// A minimal environment: nothing from the developer's shell
	// (KUBECONFIG, ~/.kwok, proxies, GOGC) leaks into the cluster.
	env := []string{
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"HOME=" + e.dir,
		"TMPDIR=" + e.dir,
		"KWOK_WORKDIR=" + e.path("kwok"),
	}
	if e.opts.GOGC > 0 {
		env = append(env, "GOGC="+strconv.Itoa(e.opts.GOGC))
	}
	return &process{
		name:    name,
		path:    filepath.Join(e.binDir, name),
		args:    args,
		logPath: e.path(name + ".log"),
		env:     env,
	}
}

// launch starts p and records it. The caller holds e.mu.
func (e *Env) launch(p *process) error {
	if e.stopped {
		return errors.New("environment is stopped")
	}
	if err := p.start(e.sp); err != nil {
		return err
	}
	e.procs[p.name] = p
	e.pids = append(e.pids, p.pid())
	e.log.Info("Started component", "name", p.name, "pid", p.pid())
	return nil
}

// errPortTaken marks a component that lost the race for its port to another
// process; the caller retries with new ports.
var errPortTaken = errors.New("port taken")

// startServing starts a component that listens on nPorts new loopback ports
// and waits until ready succeeds, retrying with other ports if one was taken
// between choosing and binding it. prepare returns the arguments for a set of
// ports and may set up state that depends on them.
func (e *Env) startServing(ctx context.Context, name string, nPorts int, prepare func(ports []int) ([]string, error), ready func(ctx context.Context, ports []int) error) ([]int, error) {
	const attempts = 3
	var last error
	for range attempts {
		ports, err := freePorts(nPorts)
		if err != nil {
			return nil, err
		}
		args, err := prepare(ports)
		if err != nil {
			return nil, err
		}
		p := e.newProcess(name, args)
		e.mu.Lock()
		err = e.launch(p)
		e.mu.Unlock()
		if err != nil {
			return nil, err
		}
		err = e.waitReady(ctx, p, func(ctx context.Context) error { return ready(ctx, ports) })
		if err == nil {
			return ports, nil
		}
		if !errors.Is(err, errPortTaken) {
			return nil, err
		}
		last = err
		e.log.Info("Port taken, retrying", "name", name, "ports", ports)
		if err := p.stop(graceFor(name)); err != nil {
			return nil, err
		}
	}
	return nil, last
}

// waitReady polls ready until it succeeds, p exits or ctx ends; the latter
// two produce an error with the tail of p's log.
func (e *Env) waitReady(ctx context.Context, p *process, ready func(context.Context) error) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		last = ready(pctx)
		cancel()
		if last == nil {
			return nil
		}
		select {
		case <-p.exited:
			if logMentions(p.logPath, "address already in use") {
				return fmt.Errorf("%w: %w", errPortTaken, p.exitError())
			}
			return p.exitError()
		case <-ctx.Done():
			return fmt.Errorf("wait for %s: %w (last check: %w); last lines of %s:\n%s",
				p.name, ctx.Err(), last, p.logPath, tail(p.logPath, 30))
		case <-tick.C:
		}
	}
}

// probeHTTP checks that url answers 200 on the given client.
func probeHTTP(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("build probe of %s: %w", url, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("probe %s: %w", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("probe %s: %s: %s", url, resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}
