package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/daemon"
	"statusd.io/statusd/pkg/emit"
	"statusd.io/statusd/pkg/reload"
	"statusd.io/statusd/pkg/snapshot"
	"statusd.io/statusd/pkg/sources"
	"statusd.io/statusd/rules"
)

func init() {
	commands["run"] = command{summary: "Watch a cluster and publish root causes as Events", run: runCmd}
}

// runFlags are statusd run's flags.
type runFlags struct {
	kubeconfig     string
	memoryLimit    string
	catalogs       stringList
	configMap      string
	leaderElect    bool
	leaseNamespace string
	leaseName      string
	leaseDuration  time.Duration
	renewDeadline  time.Duration
	retryPeriod    time.Duration
	listen         string
	resync         time.Duration
	debounce       time.Duration
	eventNamespace string
	clusterNS      string
	heartbeat      time.Duration
	logFormat      string
	logLevel       string
	podName        string
	podNamespace   string
	cost           cel.Options
}

func (f *runFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.kubeconfig, "kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig file; in-cluster configuration when empty")
	fs.Var(&f.catalogs, "catalog", "catalogue file or directory, watched for changes (repeatable)")
	fs.StringVar(&f.configMap, "catalog-configmap", "", "catalogue ConfigMap NAMESPACE/NAME, watched through the API; every *.yaml key is a file")
	fs.BoolVar(&f.leaderElect, "leader-elect", true, "evaluate and write only while holding a coordination.k8s.io Lease")
	fs.StringVar(&f.leaseNamespace, "leader-election-namespace", "", "namespace of the Lease; the pod's namespace by default")
	fs.StringVar(&f.leaseName, "leader-election-name", "statusd", "name of the Lease")
	fs.DurationVar(&f.leaseDuration, "lease-duration", 15*time.Second, "how long a lost leader's Lease stays taken")
	fs.DurationVar(&f.renewDeadline, "renew-deadline", 10*time.Second, "how long the leader retries renewing before it gives up")
	fs.DurationVar(&f.retryPeriod, "retry-period", 2*time.Second, "how often candidates retry the Lease")
	fs.StringVar(&f.listen, "listen", ":8080", "address of /metrics, /healthz, /readyz, /status and /explain")
	fs.DurationVar(&f.resync, "resync", 30*time.Second, "longest time between ticks")
	fs.DurationVar(&f.debounce, "debounce", 250*time.Millisecond, "delay between a cluster change and its tick")
	fs.StringVar(&f.eventNamespace, "event-namespace", "", "write every Event in this namespace (such as kube-system) instead of the subject's")
	fs.StringVar(&f.clusterNS, "cluster-event-namespace", "default", "namespace of Events about cluster-scoped subjects")
	fs.DurationVar(&f.heartbeat, "heartbeat", 10*time.Minute, "longest time a firing Event goes without a write")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&f.podName, "pod-name", os.Getenv("POD_NAME"), "this replica's pod name (downward API): its Lease identity and Events' reportingInstance")
	fs.StringVar(&f.podNamespace, "pod-namespace", os.Getenv("POD_NAMESPACE"), "this replica's namespace (downward API): the Lease's default namespace")
	fs.StringVar(&f.memoryLimit, "memory-limit", "", "soft memory limit of the Go heap, such as 250Mi (0: none); by default GOMEMLIMIT, else 90% of the container's cgroup memory limit")
	fs.Uint64Var(&f.cost.CostLimit, "cost-limit", cel.DefaultCostLimit, "per-expression CEL cost limit")
	fs.Uint64Var(&f.cost.TickBudget, "tick-budget", cel.DefaultTickBudget, "total CEL cost budget of one tick")
}

func runCmd(args []string, _, stderr io.Writer) int {
	fs := flag.NewFlagSet("statusd run", flag.ContinueOnError)
	addInputCaps(fs)
	fs.SetOutput(stderr)
	var f runFlags
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	log, err := newLogger(stderr, f.logFormat, f.logLevel)
	if err != nil {
		fmt.Fprintf(stderr, "statusd run: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := runDaemon(ctx, &f, log); err != nil {
		log.Error("Exiting", "err", err)
		return 1
	}
	return 0
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: %w", level, err)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	var h slog.Handler
	switch format {
	case "text":
		h = slog.NewTextHandler(w, opts)
	case "json":
		h = slog.NewJSONHandler(w, opts)
	default:
		return nil, fmt.Errorf("--log-format %q: want text or json", format)
	}
	log := slog.New(h)
	// client-go logs through klog; route it into the same handler.
	klog.SetSlogLogger(log.With("component", "client-go"))
	return log, nil
}

// restConfig loads the kubeconfig, or the in-cluster configuration.
func restConfig(path string) (*rest.Config, error) {
	if path == "" {
		cfg, err := rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("no --kubeconfig and not in a cluster: %w", err)
		}
		return cfg, nil
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig %s: %w", path, err)
	}
	return cfg, nil
}

// runDaemon wires sources, engine, Event writer, reload and HTTP, and runs
// until ctx ends.
func runDaemon(ctx context.Context, f *runFlags, log *slog.Logger) error {
	if len(f.catalogs) > 0 && f.configMap != "" {
		return errors.New("--catalog and --catalog-configmap are exclusive")
	}
	limit, from, err := daemon.MemoryLimitFromEnvironment(f.memoryLimit)
	if err != nil {
		return err
	}
	if limit > 0 {
		debug.SetMemoryLimit(limit)
	}
	log.Info("Memory limit", "bytes", limit, "from", from)
	cfg, err := restConfig(f.kubeconfig)
	if err != nil {
		return err
	}
	cfg.UserAgent = "statusd"
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("kubernetes client: %w", err)
	}
	podName, podNS := f.podName, f.podNamespace
	var self *corev1.ObjectReference
	if podName != "" && podNS != "" {
		self = &corev1.ObjectReference{Kind: "Pod", APIVersion: "v1", Name: podName, Namespace: podNS}
	}
	notifier := daemon.NewNotifier(client, "statusd", self)
	defer notifier.Stop()

	// The catalogue watcher runs in its own goroutine; the daemon only
	// exists once the first catalogue is known, so updates before then
	// are held back.
	var d *daemon.Daemon
	updates := make(chan *reload.Update, 1)
	handler := func(u *reload.Update) {
		select {
		case <-updates:
		default:
		}
		updates <- u
	}
	ropts := reload.Options{Compile: f.cost, Logger: log}
	var watch func(context.Context)
	var first *reload.Update
	var cmWatcher *reload.ConfigMapWatcher
	switch {
	case len(f.catalogs) > 0:
		fw, u, err := reload.NewFileWatcher(ctx, f.catalogs, ropts, handler)
		if err != nil {
			return err
		}
		watch, first = fw.Run, u
	case f.configMap != "":
		ns, name, ok := strings.Cut(f.configMap, "/")
		if !ok || ns == "" || name == "" {
			return fmt.Errorf("--catalog-configmap %q: want NAMESPACE/NAME", f.configMap)
		}
		cmWatcher = reload.NewConfigMapWatcher(client, ns, name, ropts, handler)
		watch = func(ctx context.Context) {
			if err := cmWatcher.Run(ctx); err != nil {
				log.Error("Catalogue ConfigMap watch failed", "err", err)
			}
		}
	default:
		files := make([]*catalog.File, 0)
		for _, name := range rules.Files() {
			data, err := rules.FS.ReadFile(name)
			if err != nil {
				return fmt.Errorf("embedded catalogue: %w", err)
			}
			files = append(files, catalog.NewFile(name, data))
		}
		first = reload.Compile(files, f.cost, "embedded")
	}
	wctx, cancelWatch := context.WithCancel(ctx)
	defer cancelWatch()
	if watch != nil {
		go watch(wctx)
	}
	if first == nil {
		// The ConfigMap's first version arrives through the watch.
		select {
		case first = <-updates:
		case <-time.After(time.Minute):
			return fmt.Errorf("catalogue ConfigMap %s not found within a minute", f.configMap)
		case <-ctx.Done():
			return nil
		}
	}
	if first.Rejected() {
		return fmt.Errorf("catalogue from %s rejected:\n%s", first.Origin, first.Problems.Errors().Error())
	}

	src, err := sources.New(cfg, sources.Options{
		Logger: log,
		OnSourceProblem: func(source string, st snapshot.Status, err error) {
			notifier.SourceProblem(source, st, err)
		},
	})
	if err != nil {
		return fmt.Errorf("sources: %w", err)
	}
	instance := podName
	if instance == "" {
		instance, _ = os.Hostname()
	}
	writer, err := emit.NewWriter(client, emit.Options{
		Instance: instance, Namespace: f.eventNamespace, ClusterNamespace: f.clusterNS,
		Heartbeat: f.heartbeat, Logger: log,
	})
	if err != nil {
		return fmt.Errorf("event writer: %w", err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), writer, daemon.SourcesCollector(src.Stats))
	dopts := daemon.Options{
		Sources: src, Publisher: writer, Catalog: first.Catalog, CatalogHash: first.Hash,
		Resync: f.resync, Debounce: f.debounce, Registry: reg, Logger: log,
		OnReject: func(u *reload.Update) {
			var cm *corev1.ConfigMap
			if cmWatcher != nil {
				cm = cmWatcher.Object
			}
			notifier.CatalogRejected(u, cm)
		},
	}
	if f.leaderElect {
		ns := f.leaseNamespace
		if ns == "" {
			ns = podNS
		}
		if ns == "" {
			return errors.New("--leader-elect needs --leader-election-namespace or POD_NAMESPACE")
		}
		dopts.LeaderElection = &daemon.LeaderElection{
			Client: client, Namespace: ns, Name: f.leaseName, Identity: instance,
			LeaseDuration: f.leaseDuration, RenewDeadline: f.renewDeadline, RetryPeriod: f.retryPeriod,
		}
	}
	d, err = daemon.New(dopts)
	if err != nil {
		return err
	}

	// Background work stops only after the daemon has finished its last
	// tick and released the Lease, so that the last Events still go out.
	bg, cancelBG := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelBG()
	go func() {
		if err := src.Run(bg); err != nil {
			log.Error("Sources stopped", "err", err)
		}
	}()
	go func() {
		if err := writer.Run(bg); err != nil {
			log.Error("Event writer stopped", "err", err)
		}
	}()
	go func() {
		for {
			select {
			case <-bg.Done():
				return
			case u := <-updates:
				d.Reload(u)
			}
		}
	}()
	srv := &http.Server{Addr: f.listen, Handler: d.Handler(), ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", f.listen, err)
	}
	log.Info("Serving", "addr", ln.Addr().String(), "catalog", first.Catalog.Source.Metadata.Name, "version", first.Catalog.Source.Metadata.Version)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("HTTP server stopped", "err", err)
		}
	}()
	runErr := d.Run(ctx)
	// Give queued Event writes (the last tick's, Resolved ones) a moment to
	// go out before stopping.
	for deadline := time.Now().Add(5 * time.Second); writer.Stats().Pending > 0 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	shutdown, cancelShutdown := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelShutdown()
	_ = srv.Shutdown(shutdown)
	return runErr
}
