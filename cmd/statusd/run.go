package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"statusd.io/statusd/pkg/apischema"
	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/daemon"
	"statusd.io/statusd/pkg/emit"
	"statusd.io/statusd/pkg/loader"
	"statusd.io/statusd/pkg/memlimit"
	"statusd.io/statusd/pkg/reload"
	"statusd.io/statusd/pkg/sources"
)

func init() {
	leaves = append(leaves, leaf{
		use:   "run",
		short: "Watch a cluster and publish root causes as Events",
		long: "Runs the daemon: watches the catalogue (files, a ConfigMap, or the shipped one), the\n" +
			"cluster objects it reads and the pods it scrapes, queries Prometheus for the catalogue's\n" +
			"query sources (--prometheus-url), and publishes root causes as Events and to Alertmanager\n" +
			"(--alertmanager-url), as the one leader among replicas. Stops cleanly on SIGTERM.",
		args:   noArgs,
		define: defineRun,
	})
}

// runFlags are statusd run's flags.
type runFlags struct {
	kubeconfig     string
	context        string
	memoryLimit    string
	catalogs       stringList
	configMaps     stringList
	leaderElect    bool
	leaseNamespace string
	leaseName      string
	leaseDuration  time.Duration
	renewDeadline  time.Duration
	retryPeriod    time.Duration
	listen         string
	profiling      bool
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
	prometheus     promFlags
	alerts         alertFlags
}

func (f *runFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file; by default KUBECONFIG (a list), ~/.kube/config, else in-cluster")
	fs.StringVar(&f.context, "context", "", "kubeconfig context to use; the current context by default")
	fs.Var(&f.catalogs, "catalog", "catalogue file or directory, watched for changes (repeatable)")
	fs.Var(&f.configMaps, "catalog-configmap", "catalogue ConfigMap NAMESPACE/NAME, watched through the API; every *.yaml key is a file (repeatable: the ConfigMaps' files make one catalogue, in the order given, and an edit of any reloads it)")
	fs.BoolVar(&f.leaderElect, "leader-elect", true, "evaluate and write only while holding a coordination.k8s.io Lease")
	fs.StringVar(&f.leaseNamespace, "leader-election-namespace", "", "namespace of the Lease; the pod's namespace by default")
	fs.StringVar(&f.leaseName, "leader-election-name", "statusd", "name of the Lease")
	fs.DurationVar(&f.leaseDuration, "lease-duration", 15*time.Second, "how long a lost leader's Lease stays taken")
	fs.DurationVar(&f.renewDeadline, "renew-deadline", 10*time.Second, "how long the leader retries renewing before it gives up")
	fs.DurationVar(&f.retryPeriod, "retry-period", 2*time.Second, "how often candidates retry the Lease")
	fs.StringVar(&f.listen, "listen", ":8080", "address of /metrics, /healthz, /readyz, /status and /explain")
	fs.BoolVar(&f.profiling, "profiling", false, "also serve Go's profiles under /debug/pprof/ on --listen (heap, CPU, goroutines)")
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
	f.prometheus.register(fs)
	f.alerts.register(fs)
}

func defineRun(fs *flag.FlagSet) func(*cobra.Command, []string) int {
	var f runFlags
	f.register(fs)
	return func(c *cobra.Command, _ []string) int {
		stderr := c.ErrOrStderr()
		log, err := newLogger(stderr, f.logFormat, f.logLevel)
		if err != nil {
			fmt.Fprintf(stderr, "statusd run: %v\n", err)
			return exitUsage
		}
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
		defer stop()
		if err := runDaemon(ctx, &f, log); err != nil {
			if ue := (*usageError)(nil); errors.As(err, &ue) {
				fmt.Fprintf(stderr, "statusd run: %v\n", err)
				return exitUsage
			}
			log.Error("Exiting", "err", err)
			return 1
		}
		return 0
	}
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

// restConfig loads the client configuration the way kubectl does
// (client-go's standard loading rules): --kubeconfig, else the files listed
// in KUBECONFIG, merged, else ~/.kube/config, with --context choosing the
// context; in-cluster configuration when none of these exists.
func restConfig(kubeconfig, context string) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: context})
	cfg, err := cc.ClientConfig()
	if err != nil {
		where := kubeconfig
		if where == "" {
			where = "from KUBECONFIG, ~/.kube/config or in-cluster"
		}
		return nil, fmt.Errorf("load kubeconfig %s: %w", where, err)
	}
	return cfg, nil
}

// runDaemon wires the catalogue watcher, sources, Event writer and leader
// election into a daemon and runs it until ctx ends. pkg/daemon owns the
// process; this only builds its parts from flags.
func runDaemon(ctx context.Context, f *runFlags, log *slog.Logger) error {
	if len(f.catalogs) > 0 && len(f.configMaps) > 0 {
		return &usageError{errors.New("--catalog and --catalog-configmap are exclusive")}
	}
	// Prometheus and Alertmanager flags are checked before anything
	// starts, so that a typo exits 2 at once instead of a daemon that
	// runs without them.
	reg := prometheus.NewRegistry()
	queries, err := f.prometheus.runner(reg, log)
	if err != nil {
		return err
	}
	alerts, err := f.alerts.sender(reg, log)
	if err != nil {
		return err
	}
	if err := setMemoryLimit(f.memoryLimit, log); err != nil {
		return err
	}
	cfg, err := restConfig(f.kubeconfig, f.context)
	if err != nil {
		return err
	}
	cfg.UserAgent = "statusd"
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("kubernetes client: %w", err)
	}
	notifier := emit.NewNotifier(client, "statusd", selfRef(f.podName, f.podNamespace))
	defer notifier.Stop()
	// Expressions are type-checked against the built-in kinds' schemas
	// and, for CRDs, the schemas the cluster serves, read again at each
	// catalogue load (apischema.Refresher), so a CRD installed or upgraded
	// after start types the next load.
	builtin, err := apischema.Builtin()
	if err != nil {
		return err
	}
	f.cost.Schemas = apischema.Chain{builtin, apischema.NewCluster(client.Discovery())}
	catalogs, err := catalogWatcher(ctx, f, client, reload.Options{Compile: f.cost, Logger: log})
	if err != nil {
		return err
	}
	src, err := sources.New(cfg, sources.Options{Logger: log, OnSourceProblem: notifier.SourceProblem})
	if err != nil {
		return fmt.Errorf("sources: %w", err)
	}
	instance := f.podName
	if instance == "" {
		instance, _ = os.Hostname()
	}
	le, err := leaderElection(f, client, instance)
	if err != nil {
		return err
	}
	wopts := emit.Options{
		Instance: instance, Namespace: f.eventNamespace, ClusterNamespace: f.clusterNS, Heartbeat: f.heartbeat, Logger: log,
	}
	if le != nil {
		// Only the replica holding the Lease, by its own clock, writes.
		wopts.MayWrite = le.Held
	}
	writer, err := emit.NewWriter(client, wopts)
	if err != nil {
		return fmt.Errorf("event writer: %w", err)
	}
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), writer, daemon.SourcesCollector(src.Stats))
	opts := daemon.Options{
		Catalogs: catalogs, Sources: src, Publisher: writer, Notifier: notifier, Listen: f.listen, Profiling: f.profiling,
		Resync: f.resync, Debounce: f.debounce, LeaderElection: le, Registry: reg, Logger: log,
		Cluster: f.alerts.cluster,
	}
	// Typed nils would read as configured.
	if queries != nil {
		opts.Queries = queries
	}
	if alerts != nil {
		opts.Alerts = alerts
	}
	d, err := daemon.New(opts)
	if err != nil {
		return err
	}
	return d.Run(ctx)
}

// setMemoryLimit applies the soft heap limit pkg/memlimit chooses.
func setMemoryLimit(flag string, log *slog.Logger) error {
	limit, from, err := memlimit.FromEnvironment(flag)
	if err != nil {
		return err
	}
	if limit > 0 {
		debug.SetMemoryLimit(limit)
	}
	log.Info("Memory limit", "bytes", limit, "from", from)
	return nil
}

// selfRef is statusd's own pod, for the Events it writes about itself;
// nil when the downward API did not say.
func selfRef(name, namespace string) *corev1.ObjectReference {
	if name == "" || namespace == "" {
		return nil
	}
	return &corev1.ObjectReference{Kind: "Pod", APIVersion: "v1", Name: name, Namespace: namespace}
}

// catalogWatcher picks where catalogues come from: files, a ConfigMap
// through the API, or the embedded catalogue.
func catalogWatcher(ctx context.Context, f *runFlags, client kubernetes.Interface, opts reload.Options) (daemon.Catalogs, error) {
	switch {
	case len(f.catalogs) > 0:
		return reload.NewFileWatcher(ctx, f.catalogs, opts)
	case len(f.configMaps) > 0:
		refs := make([]reload.ConfigMapRef, len(f.configMaps))
		for i, s := range f.configMaps {
			ref, err := reload.ParseConfigMapRef(s)
			if err != nil {
				return nil, fmt.Errorf("--catalog-configmap: %w", err)
			}
			refs[i] = ref
		}
		return reload.NewConfigMapWatcher(client, refs, opts), nil
	default:
		return reload.NewStatic(loader.Embedded(f.cost)), nil
	}
}

// leaderElection configures the Lease from flags; nil when it is off.
func leaderElection(f *runFlags, client kubernetes.Interface, identity string) (*daemon.LeaderElection, error) {
	if !f.leaderElect {
		return nil, nil
	}
	ns := cmp.Or(f.leaseNamespace, f.podNamespace)
	if ns == "" {
		return nil, errors.New("--leader-elect needs --leader-election-namespace or POD_NAMESPACE")
	}
	return &daemon.LeaderElection{
		Client: client, Namespace: ns, Name: f.leaseName, Identity: identity,
		LeaseDuration: f.leaseDuration, RenewDeadline: f.renewDeadline, RetryPeriod: f.retryPeriod,
	}, nil
}
