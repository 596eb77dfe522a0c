// Command scale measures statusd on a simulated cluster: it starts the
// local control plane with kwok nodes, runs bin/statusd with the shipped
// catalogue, grows the cluster in steps of add-on namespaces (a HelmRelease
// and Deployments per namespace) and at each step, under churn (pods
// deleted and recreated, add-ons failing and recovering), measures tick
// duration, fault-to-Event latency, CPU, RSS, API requests and Event
// writes. It writes docs/scale.md, docs/scale.json and docs/scale.png and
// stops everything it started. `make scale` runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"statusd.io/statusd/internal/fixtures"
	"statusd.io/statusd/internal/loadgen"
	"statusd.io/statusd/internal/testenv"
)

// partOf labels every object the run creates, so it can find them again.
const partOf = "statusd-scale"

// config is the run's flags.
type config struct {
	Nodes        int           `json:"nodes"`
	Pods         int           `json:"pods"`
	Namespaces   int           `json:"namespaces"`
	Steps        int           `json:"steps"`
	Replicas     int           `json:"replicasPerDeployment"`
	Window       time.Duration `json:"window"`
	Settle       time.Duration `json:"settleTimeout"`
	PodChurn     float64       `json:"podDeletesPerSecond"`
	FaultEvery   time.Duration `json:"faultEvery"`
	Timeout      time.Duration `json:"timeout"`
	Out          string        `json:"-"`
	StatusdBin   string        `json:"-"`
	Catalog      string        `json:"catalog"`
	KeepExisting bool          `json:"-"`
	// Tune raises the control plane's client rate limits and more (see
	// controlPlane); false runs testenv's defaults, for comparison.
	Tune bool `json:"tuneControlPlane"`
	// Creators is how many add-on namespaces are created at once.
	Creators int `json:"creators"`
	// GrowthNice is statusd's nice value while the cluster grows (see
	// nice.go); 0 leaves it alone.
	GrowthNice int `json:"growthNice"`
	// MemoryLimit is statusd's --memory-limit, the soft limit of its Go
	// heap; empty runs it with Go's defaults, as outside a container.
	MemoryLimit string `json:"memoryLimit,omitempty"`
	// ProfileDir, when set, runs statusd with --profiling and keeps a CPU
	// profile of each window and a heap profile at its end there.
	ProfileDir string `json:"-"`
}

func main() {
	var c config
	flag.IntVar(&c.Nodes, "nodes", 1000, "simulated kwok nodes")
	flag.IntVar(&c.Pods, "pods", targetPods, "pods in add-on namespaces at the last step")
	flag.IntVar(&c.Namespaces, "namespaces", 500, "add-on namespaces (one HelmRelease each) at the last step")
	flag.IntVar(&c.Steps, "steps", 3, "grow the cluster to its size in this many equal steps, measuring at each")
	flag.IntVar(&c.Replicas, "replicas", 10, "replicas per Deployment")
	flag.DurationVar(&c.Window, "window", 60*time.Second, "steady-state measurement window per step")
	flag.DurationVar(&c.Settle, "settle", 15*time.Minute, "longest wait for a step's pods to become available")
	flag.Float64Var(&c.PodChurn, "pod-churn", 2, "pods deleted (and recreated by their Deployment) per second during a window")
	flag.DurationVar(&c.FaultEvery, "fault-every", 4*time.Second, "how often an add-on fails (and recovers once its Event is seen) during a window")
	flag.DurationVar(&c.Timeout, "timeout", 45*time.Minute, "give up after this long")
	flag.StringVar(&c.Out, "out", "docs", "directory of scale.md, scale.json and scale.png")
	flag.StringVar(&c.StatusdBin, "statusd", "bin/statusd", "statusd binary")
	flag.StringVar(&c.Catalog, "catalog", "rules/", "catalogue statusd runs")
	flag.StringVar(&c.MemoryLimit, "memory-limit", "", "statusd's --memory-limit (soft heap limit, such as 250Mi); empty for Go's defaults")
	flag.StringVar(&c.ProfileDir, "profile-dir", "", "run statusd with --profiling and write a CPU profile of each window and a heap profile at its end (step-N-cpu.pprof, step-N-heap.pprof) into this directory")
	flag.BoolVar(&c.Tune, "tune", true, "raise the control plane's client rate limits, node Lease duration and GOGC and narrow the scheduler's node scoring, so pods appear faster; false keeps testenv's defaults")
	flag.IntVar(&c.Creators, "creators", 8, "add-on namespaces created concurrently")
	flag.IntVar(&c.GrowthNice, "growth-nice", 10, "statusd's nice value while the cluster grows, so the control plane gets the CPU first; 0 before each measurement, and 0 here leaves it alone")
	rerender := flag.String("rerender", "", "only rewrite scale.md and scale.png in --out from this scale.json, without running anything")
	var notes notesFlag
	flag.Var(&notes, "note", "with --rerender: a note to add to the report (repeatable)")
	flag.Parse()
	if *rerender != "" {
		if err := rewrite(*rerender, c.Out, notes); err != nil {
			fmt.Fprintf(os.Stderr, "scale: %v\n", err)
			os.Exit(1)
		}
		return
	}
	if c.Steps < 1 || c.Namespaces < c.Steps || c.Pods < c.Namespaces || c.Nodes < 1 || c.Replicas < 1 || c.Creators < 1 || c.GrowthNice < 0 || c.GrowthNice > 19 {
		fmt.Fprintln(os.Stderr, "scale: need steps >= 1, namespaces >= steps, pods >= namespaces, nodes >= 1, replicas >= 1, creators >= 1, 0 <= growth-nice <= 19")
		os.Exit(2)
	}
	loadgen.Main("scale", c.Timeout, func(ctx context.Context) error { return run(ctx, c) })
}

// notesFlag collects repeated --note flags.
type notesFlag []string

func (n *notesFlag) String() string { return strings.Join(*n, "; ") }

func (n *notesFlag) Set(v string) error {
	*n = append(*n, v)
	return nil
}

// say prints a step of the run (loadgen.Say).
var say = loadgen.Say

func run(ctx context.Context, c config) error {
	if _, err := os.Stat(c.StatusdBin); err != nil {
		return fmt.Errorf("%s missing: run make build (make scale does)", c.StatusdBin)
	}
	if c.GrowthNice != 0 && !canRestoreNice() {
		say("Cannot lower a nice value again (needs CAP_SYS_NICE or RLIMIT_NICE): statusd keeps nice 0 while the cluster grows")
		c.GrowthNice = 0
	}
	res := &results{Config: c, Machine: loadgen.Machine(), Started: time.Now().UTC()}
	say("Starting the local control plane with %d kwok nodes", c.Nodes)
	t0 := time.Now()
	opts := controlPlane(c)
	res.ControlPlane = controlPlaneInfo{
		ControllerManagerArgs: opts.ControllerManagerArgs, SchedulerArgs: opts.SchedulerArgs,
		SchedulerQPS: opts.SchedulerQPS, SchedulerBurst: opts.SchedulerBurst, SchedulerPercentageOfNodesToScore: opts.SchedulerPercentageOfNodesToScore,
		SchedulerNoDefaultSpread: opts.SchedulerNoDefaultSpread,
		APIServerArgs:            opts.APIServerArgs, NodeLeaseSeconds: opts.NodeLeaseDuration.Seconds(), GOGC: opts.GOGC,
	}
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
	res.ControlPlaneStart = seconds(time.Since(t0))
	say("Control plane up in %s", time.Since(t0).Round(time.Second))

	cfg := env.Config()
	cfg.QPS, cfg.Burst = 500, 1000
	cfg.WarningHandler = rest.NoWarnings{}
	// The load generator's own LISTs (of Deployments while waiting, of
	// pods to delete) are cheaper for the apiserver in protobuf. The
	// dynamic client below only speaks JSON and keeps cfg's default.
	pcfg := rest.CopyConfig(cfg)
	pcfg.ContentType = "application/vnd.kubernetes.protobuf"
	pcfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	cs, err := kubernetes.NewForConfig(pcfg)
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	cl, err := loadgen.Prepare(ctx, cs, cfg, "scale", partOf)
	if err != nil {
		return err
	}

	sd, err := startStatusd(ctx, c, env)
	if err != nil {
		return err
	}
	defer sd.stop()
	say("statusd ready at http://%s (logs in %s)", sd.addr, sd.logPath)
	if c.ProfileDir != "" {
		pctx, stopPeak := context.WithCancel(ctx)
		defer stopPeak()
		go sd.profilePeaks(pctx, c.ProfileDir, say)
	}
	// Let the informers settle, then take the empty cluster's RSS as the
	// baseline of memory per cached object.
	time.Sleep(5 * time.Second)
	base, err := sd.sample()
	if err != nil {
		return err
	}
	res.Baseline = base

	faults := newFaultWatch()
	go faults.watch(ctx, cs)

	perNS := c.Pods / c.Namespaces
	created, prevAvail := 0, 0
	for step := 1; step <= c.Steps; step++ {
		want := c.Namespaces * step / c.Steps
		say("Step %d/%d: growing to %d add-on namespaces, %d pods", step, c.Steps, want, want*perNS)
		if c.GrowthNice != 0 {
			if err := setNice(sd.cmd.Process.Pid, c.GrowthNice); err != nil {
				return err
			}
		}
		t := time.Now()
		if err := cl.CreateAddons(ctx, created, want, perNS, c.Replicas, c.Creators); err != nil {
			return err
		}
		say("Step %d: created %d add-on namespaces in %s", step, want-created, time.Since(t).Round(time.Second))
		created = want
		avail, err := cl.WaitAvailable(ctx, want*perNS, c.Settle, say)
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			res.Notes = append(res.Notes, fmt.Sprintf("step %d: %v", step, err))
			say("%v; measuring what is there", err)
		}
		settle := time.Since(t)
		if c.GrowthNice != 0 {
			// Every window measures statusd at nice 0, as it runs
			// in a cluster.
			if err := setNice(sd.cmd.Process.Pid, 0); err != nil {
				return fmt.Errorf("put statusd back to nice 0 before measuring: %w", err)
			}
		}
		say("Step %d: %d pods available after %s (%.1f per second); measuring for %s under churn",
			step, avail, settle.Round(time.Second), float64(avail-prevAvail)/settle.Seconds(), c.Window)
		prevAvail = avail
		m, err := measure(ctx, c, env, cl, sd, faults, created, step)
		if err != nil {
			return err
		}
		m.Step, m.Nodes, m.Namespaces, m.Settle, m.Available = step, c.Nodes, created, seconds(settle), avail
		if pods, err := cl.CountPods(ctx); err == nil {
			m.Pods = pods
		}
		if m.CachedObjects > base.CachedObjects {
			m.BytesPerCachedObject = (m.RSSBytes - base.RSSBytes) / (m.CachedObjects - base.CachedObjects)
		}
		res.Steps = append(res.Steps, m)
		say("Step %d: %d pods, tick p50 %.1f ms p99 %.1f ms, fault-to-Event p50 %.0f ms p99 %.0f ms (%d/%d), RSS %.0f MiB (peak %.0f), CPU %.2f cores, statusd LISTs %v",
			step, m.Pods, m.TickP50ms, m.TickP99ms, m.FaultP50ms, m.FaultP99ms, m.FaultsSeen, m.FaultsInjected,
			m.RSSBytes/mib, m.PeakRSSBytes/mib, m.CPUCores, m.StatusdLists)
		if err := res.write(c.Out); err != nil {
			return err
		}
	}
	res.Duration = seconds(loadgen.Elapsed())
	if err := res.write(c.Out); err != nil {
		return err
	}
	say("Wrote %s", filepath.Join(c.Out, "scale.md"))
	return nil
}

// controlPlane returns how the run starts the local control plane (see
// loadgen.ControlPlane for what --tune changes and why).
func controlPlane(c config) testenv.Options { return loadgen.ControlPlane(c.Nodes, c.Tune) }

func seconds(d time.Duration) float64 { return d.Round(time.Millisecond).Seconds() }

// statusd is the running statusd process.
type statusd struct {
	cmd     *exec.Cmd
	addr    string
	logPath string
	done    chan error
	logf    *os.File
}

func startStatusd(ctx context.Context, c config, env *testenv.Env) (*statusd, error) {
	addr, err := fixtures.FreeAddr()
	if err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(env.Dir(), "statusd.log"))
	if err != nil {
		return nil, fmt.Errorf("statusd log: %w", err)
	}
	// exec.Command, not CommandContext: stop sends SIGTERM and waits, also
	// when the run's context is already done.
	args := []string{
		"run", "--kubeconfig", env.KubeconfigPath(), "--catalog", c.Catalog,
		"--leader-elect=false", "--listen", addr, "--pod-name", "statusd-scale-0", "--pod-namespace", "default",
	}
	if c.MemoryLimit != "" {
		args = append(args, "--memory-limit", c.MemoryLimit)
	}
	if c.ProfileDir != "" {
		args = append(args, "--profiling")
	}
	cmd := exec.Command(c.StatusdBin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		return nil, fmt.Errorf("start statusd: %w", err)
	}
	s := &statusd{cmd: cmd, addr: addr, logPath: logf.Name(), done: make(chan error, 1), logf: logf}
	go func() { s.done <- cmd.Wait() }()
	if err := fixtures.WaitReady(ctx, addr); err != nil {
		s.stop()
		return nil, fmt.Errorf("%w (logs in %s)", err, s.logPath)
	}
	return s, nil
}

func (s *statusd) stop() {
	say("Stopping statusd (SIGTERM)")
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		if err != nil {
			fmt.Fprintf(os.Stderr, "statusd exited: %v\n", err)
		}
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		if err := <-s.done; err != nil {
			fmt.Fprintf(os.Stderr, "statusd killed: %v\n", err)
		}
	}
	_ = s.logf.Close()
}

// sample is statusd's resource use at one moment.
type sample struct {
	At            time.Time          `json:"-"`
	RSSBytes      float64            `json:"rssBytes"`
	PeakRSSBytes  float64            `json:"peakRssBytes"`
	HeapBytes     float64            `json:"heapBytes"`
	CPUSeconds    float64            `json:"cpuSeconds"`
	CachedObjects float64            `json:"cachedObjects"`
	Metrics       map[string]float64 `json:"-"`
}

func (s *statusd) sample() (sample, error) {
	m, err := loadgen.Scrape("http://" + s.addr + "/metrics")
	if err != nil {
		return sample{}, err
	}
	out := sample{
		At: time.Now(), Metrics: m, CPUSeconds: m["process_cpu_seconds_total"], CachedObjects: m["statusd_source_cached_objects"],
		HeapBytes: m["go_memstats_heap_inuse_bytes"],
	}
	out.RSSBytes, out.PeakRSSBytes = loadgen.ProcStatus(s.cmd.Process.Pid)
	if out.RSSBytes == 0 {
		out.RSSBytes = m["process_resident_memory_bytes"]
	}
	return out, nil
}

// profilePeaks keeps a heap profile and the metrics of statusd's highest
// RSS so far (peak-heap.pprof, peak-metrics.txt in dir), checked every 5
// seconds, so that what the peak RSS is made of can be read afterwards.
func (s *statusd) profilePeaks(ctx context.Context, dir string, say func(string, ...any)) {
	var best float64
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rss, _ := loadgen.ProcStatus(s.cmd.Process.Pid)
		if rss <= best*1.05 {
			continue
		}
		best = rss
		if err := s.profile(ctx, "heap", filepath.Join(dir, "peak-heap.pprof")); err != nil {
			continue
		}
		if err := s.saveMetrics(ctx, filepath.Join(dir, "peak-metrics.txt")); err != nil {
			continue
		}
		say("  peak RSS so far %.0f MiB: heap profile in %s", rss/(1<<20), filepath.Join(dir, "peak-heap.pprof"))
	}
}

// saveMetrics saves statusd's /metrics page to path.
func (s *statusd) saveMetrics(ctx context.Context, path string) error {
	return s.save(ctx, "/metrics", path)
}

// profile saves statusd's /debug/pprof/<what> to path.
func (s *statusd) profile(ctx context.Context, what, path string) error {
	return s.save(ctx, "/debug/pprof/"+what, path)
}

// save writes what statusd serves at urlPath to the file path.
func (s *statusd) save(ctx context.Context, urlPath, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.addr+urlPath, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", req.URL, resp.Status)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// faultWatch watches statusd's AddonInstallFailed Events and times them
// against the faults injected.
type faultWatch struct {
	mu      sync.Mutex
	pending map[string]time.Time // namespace → when its release failed
	seen    map[string]chan time.Duration
}

func newFaultWatch() *faultWatch {
	return &faultWatch{pending: map[string]time.Time{}, seen: map[string]chan time.Duration{}}
}

// expect registers a fault in namespace ns injected at t; the returned
// channel receives its latency once the Event arrives.
func (f *faultWatch) expect(ns string, t time.Time) <-chan time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := make(chan time.Duration, 1)
	f.pending[ns], f.seen[ns] = t, ch
	return ch
}

func (f *faultWatch) forget(ns string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.pending, ns)
	delete(f.seen, ns)
}

func (f *faultWatch) watch(ctx context.Context, cs kubernetes.Interface) {
	for ctx.Err() == nil {
		w, err := cs.CoreV1().Events("").Watch(ctx, metav1.ListOptions{FieldSelector: "reason=AddonInstallFailed"})
		if err != nil {
			time.Sleep(time.Second)
			continue
		}
		for ev := range w.ResultChan() {
			e, ok := ev.Object.(*corev1.Event)
			if !ok {
				continue
			}
			now := time.Now()
			f.mu.Lock()
			if t, ok := f.pending[e.InvolvedObject.Namespace]; ok {
				f.seen[e.InvolvedObject.Namespace] <- now.Sub(t)
				delete(f.pending, e.InvolvedObject.Namespace)
			}
			f.mu.Unlock()
		}
	}
}

// measure runs one steady-state window under churn and returns what it saw.
func measure(ctx context.Context, c config, env *testenv.Env, cl *loadgen.Cluster, sd *statusd, faults *faultWatch, namespaces, step int) (stepResult, error) {
	// Give statusd a moment to catch up with the growth.
	time.Sleep(10 * time.Second)
	before, err := sd.sample()
	if err != nil {
		return stepResult{}, err
	}
	apiBefore, err := apiMetrics(ctx, env)
	if err != nil {
		return stepResult{}, err
	}
	wctx, cancel := context.WithTimeout(ctx, c.Window)
	defer cancel()
	var wg sync.WaitGroup
	if c.ProfileDir != "" {
		// Most of the window: the profile's request must end before it.
		secs := max(1, int(c.Window.Seconds())-5)
		wg.Go(func() {
			if err := sd.profile(ctx, fmt.Sprintf("profile?seconds=%d", secs), filepath.Join(c.ProfileDir, fmt.Sprintf("step-%d-cpu.pprof", step))); err != nil {
				fmt.Fprintf(os.Stderr, "cpu profile: %v\n", err)
			}
		})
	}
	var churnErrs, podsDeleted int
	wg.Go(func() { podsDeleted, churnErrs = cl.ChurnPods(wctx, namespaces, c.PodChurn) })
	var latencies []float64
	injected := 0
	peakRSS := before.RSSBytes
	wg.Go(func() {
		tick := time.NewTicker(c.FaultEvery)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-wctx.Done():
				return
			case <-tick.C:
			}
			n := rand.IntN(namespaces)
			ns := cl.Namespace(n)
			ch := faults.expect(ns, time.Now())
			if err := cl.SetReleaseStatus(ctx, n, loadgen.FailedConditions("context deadline exceeded (statusd scale run)")); err != nil {
				faults.forget(ns)
				continue
			}
			injected++
			select {
			case d := <-ch:
				latencies = append(latencies, float64(d.Milliseconds()))
			case <-time.After(30 * time.Second):
			case <-ctx.Done():
			}
			faults.forget(ns)
			if s, err := sd.sample(); err == nil && s.RSSBytes > peakRSS {
				peakRSS = s.RSSBytes
			}
			// The add-on recovers; helm-controller would retry and succeed.
			_ = cl.SetReleaseStatus(ctx, n, loadgen.ReadyConditions())
		}
	})
	wg.Wait()
	if c.ProfileDir != "" {
		if err := sd.profile(ctx, "heap", filepath.Join(c.ProfileDir, fmt.Sprintf("step-%d-heap.pprof", step))); err != nil {
			fmt.Fprintf(os.Stderr, "heap profile: %v\n", err)
		}
	}
	after, err := sd.sample()
	if err != nil {
		return stepResult{}, err
	}
	apiAfter, err := apiMetrics(ctx, env)
	if err != nil {
		return stepResult{}, err
	}
	window := after.At.Sub(before.At).Seconds()
	m := stepResult{
		Window:         window,
		PodsDeleted:    podsDeleted,
		ChurnErrors:    churnErrs,
		FaultsInjected: injected,
		FaultsSeen:     len(latencies),
		RSSBytes:       after.RSSBytes,
		HeapBytes:      after.HeapBytes,
		PeakRSSBytes:   max(after.PeakRSSBytes, peakRSS),
		CPUSeconds:     after.CPUSeconds - before.CPUSeconds,
		CachedObjects:  after.CachedObjects,
		StatusdLists:   after.Metrics["statusd_source_list_requests_total"] - before.Metrics["statusd_source_list_requests_total"],
		Ticks:          after.Metrics["statusd_ticks_total"] - before.Metrics["statusd_ticks_total"],
		EventRequests:  loadgen.DeltaByLabel(before.Metrics, after.Metrics, "statusd_event_requests_total", "verb"),
		APIRequests:    loadgen.DeltaByLabel(apiBefore, apiAfter, "apiserver_request_total", "verb"),
	}
	m.LoadAverage = loadgen.LoadAverage()
	m.CPUCores = m.CPUSeconds / window
	for _, v := range m.EventRequests {
		m.EventWritesPerMinute += v
	}
	m.EventWritesPerMinute *= 60 / window
	h := loadgen.HistogramDelta(before.Metrics, after.Metrics, "statusd_tick_duration_seconds")
	m.TickP50ms, m.TickP99ms = 1000*h.Quantile(0.5), 1000*h.Quantile(0.99)
	if h.Count > 0 {
		m.TickMeanms = 1000 * h.Sum / h.Count
	}
	m.FaultP50ms, m.FaultP99ms = loadgen.Quantile(latencies, 0.5), loadgen.Quantile(latencies, 0.99)
	m.FaultLatenciesMs = latencies
	return m, nil
}

func apiMetrics(ctx context.Context, env *testenv.Env) (map[string]float64, error) {
	text, err := env.APIServerMetrics(ctx)
	if err != nil {
		return nil, err
	}
	return loadgen.ParseMetrics(text), nil
}
