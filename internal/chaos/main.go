// Command chaos measures what statusd survives: on the local control plane
// with kwok nodes it builds a cluster of add-on namespaces under the scale
// run's churn (internal/loadgen), runs two real `bin/statusd run` replicas
// with leader election as the chart's ServiceAccount under the chart's
// memory limit, keeps a ledger of application faults (add-ons failing and
// recovering on a schedule), and injects infrastructure faults, each
// several times and some overlapping: kube-apiserver killed and paused,
// etcd killed, the leader killed and paused past its Lease, Event writes
// refused through RBAC, the catalogue ConfigMap edited 100 times in a
// minute, and metrics targets that hang, answer garbage or answer 50 MB.
// It then checks the Events and statusd's metrics against the ledger
// (Check) and writes docs/chaos.md and docs/chaos.json. It stops
// everything it started, also when interrupted. `make chaos` runs it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"statusd.io/statusd/internal/chart"
	"statusd.io/statusd/internal/fixtures"
	"statusd.io/statusd/internal/loadgen"
	"statusd.io/statusd/internal/testenv"
)

// partOf labels every object the run creates.
const partOf = "statusd-chaos"

// The chart's names with release "statusd" in namespace "statusd".
const (
	chartNamespace = "statusd"
	chartName      = "statusd"
	catalogMap     = "statusd-catalog"
)

// Fault kinds, in the report's order.
const (
	kindAPIKill     = "apiserverKill"
	kindAPIPause    = "apiserverPause"
	kindEtcdKill    = "etcdKill"
	kindLeaderKill  = "leaderKill"
	kindLeaderPause = "leaderPause"
	kindEvents      = "eventWritesRefused"
	kindCatalog     = "catalogueEdits"
	kindHang        = "metricsTargetHangs"
	kindGarbage     = "metricsTargetGarbage"
	kindHuge        = "metricsTarget50MB"
	kindMemory      = "memoryLimit"
	kindApp         = "addonFaults"
)

var kinds = []string{kindAPIKill, kindAPIPause, kindEtcdKill, kindLeaderKill, kindLeaderPause, kindEvents, kindCatalog, kindHang, kindGarbage, kindHuge}

// blocking are the kinds during which statusd can neither see the cluster
// nor publish: the checker's deadlines start after them.
var blocking = map[string]bool{kindAPIKill: true, kindAPIPause: true, kindEtcdKill: true, kindLeaderKill: true, kindLeaderPause: true, kindEvents: true}

// config is the run's flags.
type config struct {
	Nodes        int           `json:"nodes"`
	Pods         int           `json:"pods"`
	Namespaces   int           `json:"namespaces"`
	Replicas     int           `json:"replicasPerDeployment"`
	Duration     time.Duration `json:"chaosDuration"`
	Rounds       int           `json:"rounds"`
	PodChurn     float64       `json:"podDeletesPerSecond"`
	AppEvery     time.Duration `json:"addonFaultEvery"`
	AppHoldMin   time.Duration `json:"addonFaultHoldMin"`
	AppHoldMax   time.Duration `json:"addonFaultHoldMax"`
	Bound        time.Duration `json:"detectionBound"`
	Settle       time.Duration `json:"settleTimeout"`
	Timeout      time.Duration `json:"timeout"`
	MemoryLimit  string        `json:"containerMemoryLimit"`
	SoftLimit    int64         `json:"memoryLimitFlagBytes"`
	LeaseSeconds int           `json:"leaseDurationSeconds"`
	Out          string        `json:"-"`
	StatusdBin   string        `json:"-"`
	HelmBin      string        `json:"-"`
	Seed         uint64        `json:"seed"`
}

func main() {
	var c config
	flag.IntVar(&c.Nodes, "nodes", 200, "simulated kwok nodes")
	flag.IntVar(&c.Pods, "pods", 5000, "pods in add-on namespaces")
	flag.IntVar(&c.Namespaces, "namespaces", 100, "add-on namespaces (one HelmRelease each)")
	flag.IntVar(&c.Replicas, "replicas", 10, "replicas per Deployment")
	flag.DurationVar(&c.Duration, "duration", envDuration("CHAOS_DURATION", 12*time.Minute), "how long faults are injected (default $CHAOS_DURATION or 12m)")
	flag.IntVar(&c.Rounds, "rounds", 3, "rounds of infrastructure faults: each kind is injected once per round")
	flag.Float64Var(&c.PodChurn, "pod-churn", 2, "pods deleted (and recreated by their Deployment) per second")
	flag.DurationVar(&c.AppEvery, "addon-fault-every", 15*time.Second, "how often an add-on's release starts failing")
	flag.DurationVar(&c.AppHoldMin, "addon-fault-min", 40*time.Second, "shortest time an add-on stays failed")
	flag.DurationVar(&c.AppHoldMax, "addon-fault-max", 100*time.Second, "longest time an add-on stays failed")
	flag.DurationVar(&c.Bound, "bound", time.Minute, "how long after its grace (and after any fault that blinds statusd) a root cause may take to be published, and a recovery to be resolved")
	flag.DurationVar(&c.Settle, "settle", 10*time.Minute, "longest wait for the cluster's pods to become available")
	flag.DurationVar(&c.Timeout, "timeout", 40*time.Minute, "give up after this long")
	flag.StringVar(&c.Out, "out", "docs", "directory of chaos.md and chaos.json")
	flag.StringVar(&c.StatusdBin, "statusd", "bin/statusd", "statusd binary")
	flag.StringVar(&c.HelmBin, "helm", "bin/helm", "helm binary")
	flag.Uint64Var(&c.Seed, "seed", 18, "seed of the fault schedule's random choices")
	flag.Parse()
	if c.Nodes < 1 || c.Namespaces < 4 || c.Pods < c.Namespaces || c.Replicas < 1 || c.Rounds < 1 || c.Duration < time.Minute || c.AppHoldMin <= 0 || c.AppHoldMax < c.AppHoldMin || c.AppEvery <= 0 {
		fmt.Fprintln(os.Stderr, "chaos: need nodes >= 1, namespaces >= 4, pods >= namespaces, replicas >= 1, rounds >= 1, duration >= 1m, 0 < addon-fault-min <= addon-fault-max, addon-fault-every > 0")
		os.Exit(2)
	}
	loadgen.Main("chaos", c.Timeout, func(ctx context.Context) error { return run(ctx, c) })
}

func envDuration(name string, def time.Duration) time.Duration {
	if v := os.Getenv(name); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
		fmt.Fprintf(os.Stderr, "chaos: ignoring %s=%q: not a duration\n", name, v)
	}
	return def
}

// say prints a step of the run (loadgen.Say).
var say = loadgen.Say

// run is the whole run; every process it starts is stopped before it
// returns (deferred), whatever happens.
func run(ctx context.Context, c config) error {
	for _, b := range []string{c.StatusdBin, c.HelmBin} {
		if _, err := os.Stat(b); err != nil {
			return fmt.Errorf("%s missing: run make build helm-lint (make chaos does)", b)
		}
	}
	limit, soft, err := chartMemory()
	if err != nil {
		return err
	}
	c.MemoryLimit, c.SoftLimit, c.LeaseSeconds = limit.String(), soft, 15
	rep := &report{Config: c, Machine: loadgen.Machine(), Started: time.Now().UTC()}

	say("Starting the local control plane with %d kwok nodes", c.Nodes)
	opts := loadgen.ControlPlane(c.Nodes, true)
	// Pod IPs on loopback, so that the run can serve a vLLM pod's metrics
	// on the IP statusd scrapes.
	opts.PodCIDR = "127.64.0.0/16"
	env, err := testenv.Start(ctx, opts)
	if err != nil {
		return err
	}
	defer func() {
		say("Stopping the control plane")
		if err := env.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "stop control plane: %v\n", err)
		}
	}()
	cfg := env.Config()
	cfg.QPS, cfg.Burst = 500, 1000
	cfg.WarningHandler = rest.NoWarnings{}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	cl, err := loadgen.Prepare(ctx, cs, cfg, "chaos", partOf)
	if err != nil {
		return err
	}
	dyn := cl.Dynamic
	say("Applying the chart's objects (ServiceAccount, RBAC, catalogue ConfigMap)")
	if err := applyChart(ctx, env, c.HelmBin); err != nil {
		return err
	}
	perNS := c.Pods / c.Namespaces
	say("Creating %d add-on namespaces, %d pods", c.Namespaces, perNS*c.Namespaces)
	if err := cl.CreateAddons(ctx, 0, c.Namespaces, perNS, c.Replicas, 8); err != nil {
		return err
	}
	targets, err := createModelPods(ctx, cs, dyn)
	if err != nil {
		return err
	}
	defer func() {
		for _, t := range targets {
			t.close()
		}
	}()
	avail, err := cl.WaitAvailable(ctx, perNS*c.Namespaces, c.Settle, say)
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		rep.Notes = append(rep.Notes, err.Error())
	}
	rep.Pods = avail
	say("%d pods available", avail)

	sa, err := env.ConfigForServiceAccount(ctx, chartNamespace, chartName)
	if err != nil {
		return err
	}
	kubeconfig := filepath.Join(env.Dir(), "statusd-sa.kubeconfig")
	if err := fixtures.WriteKubeconfig(kubeconfig, sa); err != nil {
		return err
	}
	obs := newObserver()
	octx, stopObserving := context.WithCancel(context.Background())
	var owg sync.WaitGroup
	defer func() { stopObserving(); owg.Wait() }()
	owg.Go(func() { obs.watchEvents(octx, cs) })
	owg.Go(func() { obs.watchLease(octx, cs, chartNamespace, chartName) })

	var exitsMu sync.Mutex
	var exits []Exit
	onExit := func(x Exit) {
		exitsMu.Lock()
		exits = append(exits, x)
		exitsMu.Unlock()
		say("statusd %s exited (%s, injected %v)", x.Instance, x.Why, x.Injected)
	}
	// statusd's logs outlive the control plane's directory, for a look
	// at what it did.
	logDir, err := os.MkdirTemp("", "statusd-chaos-logs-")
	if err != nil {
		return fmt.Errorf("log directory: %w", err)
	}
	say("statusd logs in %s", logDir)
	replicas, err := startReplicas(ctx, c, logDir, kubeconfig, float64(limit.Value()), onExit)
	defer func() {
		say("Stopping statusd")
		for _, r := range replicas {
			r.stop(15 * time.Second)
		}
	}()
	if err != nil {
		return err
	}
	say("statusd replicas ready: %s", replicaAddrs(replicas))
	owg.Go(func() { obs.sampleReplicas(octx, replicas, 2*time.Second) })
	// Let a leader be elected and the first ticks publish.
	time.Sleep(20 * time.Second)

	inj := &injector{env: env, cs: cs, replicas: replicas, obs: obs, targets: targets}
	if err := inj.saveOriginals(ctx); err != nil {
		return err
	}
	l := &ledgerRun{cl: cl, c: c, rng: rand.New(rand.NewPCG(c.Seed, 1))}
	chaosStart := time.Now()
	cctx, stopChaos := context.WithTimeout(ctx, c.Duration)
	defer stopChaos()
	churnDone := make(chan struct{})
	go func() {
		defer close(churnDone)
		cl.ChurnPods(cctx, c.Namespaces, c.PodChurn)
	}()
	appDone := make(chan struct{})
	go func() {
		defer close(appDone)
		l.run(cctx, c.Duration-c.AppHoldMax-c.Bound)
	}()
	say("Injecting faults for %s: %d rounds", c.Duration, c.Rounds)
	inj.schedule(cctx, c)
	<-cctx.Done()
	<-churnDone
	<-appDone
	if ctx.Err() != nil {
		return ctx.Err()
	}
	chaosEnd := time.Now()
	l.endAll(ctx)
	say("Faults over; waiting %s for the last Events", c.Bound+15*time.Second)
	time.Sleep(c.Bound + 15*time.Second)

	ld := Ledger{Faults: l.faults(), End: time.Now(), Injections: inj.done()}
	exitsMu.Lock()
	ld.Exits = append([]Exit(nil), exits...)
	exitsMu.Unlock()
	obs.fill(&ld)
	rules := Rules{Bound: c.Bound, Slack: 3 * time.Second, Blocking: blocking}
	rep.Results = Check(ld, rules, kinds, kindApp)
	rep.Rules = rules
	rep.Ledger = ld
	rep.ChaosStart, rep.ChaosEnd = chaosStart.UTC(), chaosEnd.UTC()
	rep.memory(replicas, obs, float64(limit.Value()), chaosStart)
	rep.selfWarnings(obs, ld)
	rep.LoadAverages = inj.loads
	rep.Duration = seconds(loadgen.Elapsed())
	if err := rep.write(c.Out); err != nil {
		return err
	}
	say("Wrote %s", filepath.Join(c.Out, "chaos.md"))
	for _, r := range rep.Results {
		say("%-22s injected %3d missed %d dup %d falseResolved %d falseWarnings %d zombie %d crashed %d recovery p50 %.1fs p99 %.1fs",
			r.Name, r.Injected, r.Missed, r.Duplicates, r.FalseResolved, r.FalseWarnings, r.ZombieWrites, r.Crashed, r.RecoveryP50, r.RecoveryP99)
	}
	return nil
}

func seconds(d time.Duration) float64 { return d.Round(time.Millisecond).Seconds() }

// chartMemory reads the chart's default memory limit and the soft limit
// statusd derives from it inside such a container (90%, pkg/memlimit).
func chartMemory() (limit resource.Quantity, soft int64, err error) {
	b, err := os.ReadFile(filepath.Join(chart.Dir(), chart.ValuesFile))
	if err != nil {
		return limit, 0, fmt.Errorf("read chart values: %w", err)
	}
	var v struct {
		Resources struct {
			Limits struct {
				Memory string `json:"memory"`
			} `json:"limits"`
		} `json:"resources"`
	}
	if err := yaml.Unmarshal(b, &v); err != nil {
		return limit, 0, fmt.Errorf("chart values: %w", err)
	}
	limit, err = resource.ParseQuantity(v.Resources.Limits.Memory)
	if err != nil {
		return limit, 0, fmt.Errorf("chart values resources.limits.memory %q: %w", v.Resources.Limits.Memory, err)
	}
	return limit, limit.Value() * 9 / 10, nil
}

// applyChart renders the chart and applies everything but the Deployment:
// kwok's nodes run no containers, so statusd runs as local processes with
// the chart's ServiceAccount.
func applyChart(ctx context.Context, env *testenv.Env, helmBin string) error {
	out, err := chart.Render(ctx, helmBin, chart.Dir(), chart.RenderOptions{})
	if err != nil {
		return err
	}
	objs, err := chart.Decode(out)
	if err != nil {
		return err
	}
	if _, err := env.Client().CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: chartNamespace}}, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create namespace %s: %w", chartNamespace, err)
	}
	a, err := chart.NewApplier(env.Config(), "statusd-chaos")
	if err != nil {
		return err
	}
	return a.ApplyExcept(ctx, objs, "Deployment")
}

// startReplicas starts two statusd replicas as the chart runs them: the
// catalogue ConfigMap, leader election on the chart's Lease, the chart's
// resync and log format, and --memory-limit at what statusd would derive
// from the chart's container limit.
func startReplicas(ctx context.Context, c config, logDir, kubeconfig string, memLimit float64, onExit func(Exit)) ([]*replica, error) {
	var out []*replica
	for i := range 2 {
		addr, err := fixtures.FreeAddr()
		if err != nil {
			return out, err
		}
		name := fmt.Sprintf("statusd-chaos-%d", i)
		r := &replica{
			name: name, bin: c.StatusdBin, addr: addr, memLimit: memLimit, restartDelay: 5 * time.Second, onExit: onExit,
			logPath: filepath.Join(logDir, name+".log"),
			args: []string{
				"run", "--kubeconfig", kubeconfig,
				"--catalog-configmap", chartNamespace + "/" + catalogMap,
				"--listen", addr, "--resync", "30s",
				"--leader-elect=true", "--leader-election-namespace", chartNamespace, "--leader-election-name", chartName,
				"--log-format", "json", "--log-level", "info",
				"--pod-name", name, "--pod-namespace", chartNamespace,
				"--memory-limit", fmt.Sprint(c.SoftLimit),
			},
		}
		out = append(out, r)
		if err := r.start(); err != nil {
			return out, err
		}
	}
	for _, r := range out {
		rctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
		err := r.ready(rctx)
		cancel()
		if err != nil {
			return out, fmt.Errorf("%w\n%s", err, tailFile(r.logPath, 20))
		}
	}
	return out, nil
}

func replicaAddrs(rs []*replica) string {
	var s []string
	for _, r := range rs {
		s = append(s, r.name+" http://"+r.addr)
	}
	return strings.Join(s, ", ")
}

func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// createModelPods creates add-on namespace iaas-addon-chaos-models with an
// installed release and three vLLM pods, waits for their (loopback) IPs and
// serves each one's metrics there.
func createModelPods(ctx context.Context, cs kubernetes.Interface, dyn dynamic.Interface) (map[string]*target, error) {
	const ns = "iaas-addon-chaos-models"
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{"app.kubernetes.io/part-of": partOf}}}, metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("create namespace %s: %w", ns, err)
	}
	if err := fixtures.CreateHelmRelease(ctx, dyn, ns, "chaos-models", "model-provider", loadgen.ReadyConditions()); err != nil {
		return nil, err
	}
	kinds := map[string]string{"vllm-hang": kindHang, "vllm-garbage": kindGarbage, "vllm-huge": kindHuge}
	for name := range kinds {
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "vllm", "model": name, "app.kubernetes.io/part-of": partOf}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{
				Name: "vllm", Image: "registry.example/vllm:chaos",
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8000}},
			}}},
		}
		// The namespace's default ServiceAccount, which admission
		// wants, may not exist yet on a busy control plane.
		for tries := 0; ; tries++ {
			_, err := cs.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{})
			if err == nil {
				break
			}
			if tries == 60 || ctx.Err() != nil {
				return nil, fmt.Errorf("create pod %s/%s: %w", ns, name, err)
			}
			time.Sleep(time.Second)
		}
	}
	out := map[string]*target{}
	deadline := time.Now().Add(5 * time.Minute)
	for name, kind := range kinds {
		for {
			p, err := cs.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
			if err == nil && p.Status.PodIP != "" {
				t, err := newTarget(p.Status.PodIP + ":8000")
				if err != nil {
					for _, t := range out {
						t.close()
					}
					return nil, err
				}
				out[kind] = t
				break
			}
			if time.Now().After(deadline) {
				return out, fmt.Errorf("pod %s/%s got no IP within 5 minutes", ns, name)
			}
			select {
			case <-ctx.Done():
				return out, ctx.Err()
			case <-time.After(time.Second):
			}
		}
	}
	return out, nil
}

// ledgerRun injects and records the application faults: every AppEvery an
// add-on that has not failed for two minutes fails (its release
// InstallFailed) and recovers after a random hold.
type ledgerRun struct {
	cl  *loadgen.Cluster
	c   config
	rng *rand.Rand

	mu      sync.Mutex
	entries []AppFault
	open    map[int]int       // add-on → index of its fault in place
	lastEnd map[int]time.Time // add-on → when its last fault ended
	wg      sync.WaitGroup
}

// run starts faults until ctx ends or lastStart has passed, and ends each
// after its hold; it returns when every fault it started has ended or ctx
// is done.
func (l *ledgerRun) run(ctx context.Context, lastStart time.Duration) {
	l.open, l.lastEnd = map[int]int{}, map[int]time.Time{}
	start := time.Now()
	t := time.NewTicker(l.c.AppEvery)
	defer t.Stop()
	defer l.wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if time.Since(start) > lastStart {
			continue
		}
		i, ok := l.pick()
		if !ok {
			continue
		}
		hold := l.c.AppHoldMin + time.Duration(l.rng.Int64N(int64(l.c.AppHoldMax-l.c.AppHoldMin)+1))
		l.wg.Go(func() { l.fault(ctx, i, hold) })
	}
}

func (l *ledgerRun) pick() (int, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for range 20 {
		i := l.rng.IntN(l.c.Namespaces)
		if _, failing := l.open[i]; failing {
			continue
		}
		if time.Since(l.lastEnd[i]) < 2*time.Minute {
			continue
		}
		l.open[i] = -1
		return i, true
	}
	return 0, false
}

// fault fails add-on i, holds, and recovers it; each write is retried until
// it lands (the API may be down), and the fault's start and end are when
// the attempt that landed began.
func (l *ledgerRun) fault(ctx context.Context, i int, hold time.Duration) {
	tried, at, ok := l.write(ctx, i, loadgen.FailedConditions(fmt.Sprintf("chaos ledger fault on %s", l.cl.Release(i))))
	if !ok {
		l.mu.Lock()
		delete(l.open, i)
		l.mu.Unlock()
		return
	}
	l.mu.Lock()
	l.entries = append(l.entries, AppFault{Reason: "AddonInstallFailed", Subject: "HelmRelease/" + l.cl.Namespace(i) + "/" + l.cl.Release(i), Start: at, StartTried: tried})
	l.open[i] = len(l.entries) - 1
	l.mu.Unlock()
	select {
	case <-ctx.Done():
		return // endAll recovers it
	case <-time.After(hold):
	}
	l.recover(ctx, i)
}

func (l *ledgerRun) recover(ctx context.Context, i int) {
	tried, at, ok := l.write(ctx, i, loadgen.ReadyConditions())
	if !ok {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if idx, ok := l.open[i]; ok && idx >= 0 {
		l.entries[idx].End, l.entries[idx].EndTried = at, tried
	}
	delete(l.open, i)
	l.lastEnd[i] = at
}

// write sets add-on i's status, retrying until an attempt lands; landed is
// when that attempt began, tried when the first one did, if an earlier
// attempt failed (it may have landed all the same: see AppFault).
func (l *ledgerRun) write(ctx context.Context, i int, conds []any) (tried, landed time.Time, ok bool) {
	for {
		at := time.Now()
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := l.cl.SetReleaseStatus(wctx, i, conds)
		cancel()
		if err == nil {
			return tried, at, true
		}
		if tried.IsZero() {
			tried = at
		}
		select {
		case <-ctx.Done():
			return time.Time{}, time.Time{}, false
		case <-time.After(2 * time.Second):
		}
	}
}

// endAll recovers every add-on still failing.
func (l *ledgerRun) endAll(ctx context.Context) {
	l.mu.Lock()
	var open []int
	for i, idx := range l.open {
		if idx >= 0 {
			open = append(open, i)
		}
	}
	l.mu.Unlock()
	for _, i := range open {
		l.recover(ctx, i)
	}
}

func (l *ledgerRun) faults() []AppFault {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]AppFault(nil), l.entries...)
}

// eventsRule reports whether rule grants verbs on core Events.
func eventsRule(r rbacv1.PolicyRule) bool {
	core := false
	for _, g := range r.APIGroups {
		if g == "" {
			core = true
		}
	}
	if !core {
		return false
	}
	for _, res := range r.Resources {
		if res == "events" {
			return true
		}
	}
	return false
}

var errNoLeader = errors.New("no leader replica running")
