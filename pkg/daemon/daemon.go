// Package daemon is statusd's long-running process. Run takes the first
// catalogue from the catalogue watcher, starts the live sources, the Event
// writer and the HTTP server (/metrics, /healthz, /readyz, /status,
// /explain), and evaluates, while holding the Lease when leader election
// is on: it ticks shortly after every change and at least every resync
// period, never two ticks at once, and swaps in each catalogue the watcher
// accepts. On shutdown it finishes the tick in flight, drains the Event
// writer, releases the Lease and stops everything it started.
//
// Ownership: the loop goroutine owns ticking and publishing; the follow
// goroutine applies catalogue updates, serialised with ticks by swap;
// HTTP handlers only read the last tick's result, published atomically.
// Updates carry everything about themselves (the ConfigMap they came
// from), so no field is shared with the watcher's goroutine.
//
// # Prometheus query sources
//
// With Options.Queries set (statusd run --prometheus-url), every tick runs
// the catalogue's Prometheus query sources at the tick's time, before the
// snapshot is evaluated, under Options.Queries' own tick timeout, which
// must be shorter than TickTimeout: a query that errs, times out or
// exceeds its caps is Failed and the reasons reading it are Unknown
// (held if they were firing), never zero. The tick holds the catalogue
// swap while it queries, so a reload waits at most that timeout and a
// snapshot never mixes one catalogue's query results with another's
// sources.
//
// Without Options.Queries, Prometheus is not configured and the snapshot
// carries no query results. Then cluster.sourceStatus(src) is "absent"
// for every query source, and any other read of one (value, max, min,
// count, absent, series) fails with cel.ErrQueryNotConfigured, which makes
// the reason's condition False on that subject: such a reason never fires,
// is never Unknown (no statusd_cel_unknown_total, no ReasonUnknown Event,
// no held finding) and never pages. A catalogue that should work both
// ways falls back explicitly:
//
//	when: 'cluster.sourceStatus("volumeUsage") == "absent"
//	         ? <the same condition from scraped metrics or objects>
//	         : cluster.query("volumeUsage", object).max() > 0.9'
//
// or as two reasons, the scraping one guarded by
// cluster.sourceStatus("volumeUsage") == "absent" and the Prometheus one
// left as it is. Snapshot files and rule tests without results for a
// query source read it the same way.
//
// # Destinations
//
// Each tick's result goes to the Event writer (Publisher), then to the
// statusd_root_cause gauge and to Options.Alerts (the Alertmanager
// sender), in that order, from the tick loop, so only the leader
// publishes. Alerts carries its own delivery, retries and queue; the
// daemon runs it beside the Event writer and stops it after the writer
// has drained. After a restart the engine's firing state comes back from
// the Events (Publisher.Restore) before the first tick, so the first
// alerts are the same alerts (same labels and startsAt) and nothing is
// paged twice; findings that ended meanwhile are sent resolved.
//
// A ConfigMap edit reaches the swap in five steps, none in package main:
// the informer's handler queues the ConfigMap, ConfigMapWatcher.Run takes
// it, the tracker loads it (pkg/loader) and queues the Update, follow
// takes it, and reload swaps sources and engine, telling the tracker
// through Update.Done whether it did.
package daemon

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/utils/clock"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/emit"
	"statusd.io/statusd/pkg/engine"
	"statusd.io/statusd/pkg/prune"
	"statusd.io/statusd/pkg/reload"
	"statusd.io/statusd/pkg/snapshot"
)

// Catalogs is what the daemon needs of the catalogue watcher
// (reload.FileWatcher, reload.ConfigMapWatcher, reload.Static).
type Catalogs interface {
	// Run watches until ctx ends.
	Run(ctx context.Context) error
	// Updates delivers each new catalogue, the first one first.
	Updates() <-chan *reload.Update
}

// pendingCatalogs is a Catalogs that can say why its first catalogue has
// not come yet (reload.ConfigMapWatcher.Pending).
type pendingCatalogs interface {
	Pending(ctx context.Context) error
}

// Sources is what the daemon needs of the live sources.
type Sources interface {
	// Run watches until ctx ends.
	Run(ctx context.Context) error
	// Apply makes the watched sources match a catalogue, their caches
	// keeping the fields given (see sources.Sources.Apply).
	Apply(c *catalog.Catalog, fields map[string]*prune.Tree) error
	// Snapshot reads the caches at now.
	Snapshot(now time.Time) *snapshot.Snapshot
	// Changed signals, coalesced, that some watched object changed.
	Changed() <-chan struct{}
}

// Publisher is what the daemon needs of the Event writer.
type Publisher interface {
	// Run writes until ctx ends.
	Run(ctx context.Context) error
	// Drain waits until what was published has been written, or ctx ends.
	Drain(ctx context.Context) error
	// Publish hands over a tick's decisions; it queues the writes and must
	// not block on the API.
	Publish(res *engine.Result)
	// Restore rebuilds firing state from what was published before.
	Restore(ctx context.Context) ([]engine.Restored, error)
	// Forget drops all state and every write not yet made, when
	// leadership is lost.
	Forget()
}

// Queries runs a catalogue's Prometheus query sources
// (promquery.Runner).
type Queries interface {
	// Run evaluates every query source of c at time at, one result per
	// source; a source's failure is its result, never an error of the
	// whole. It bounds itself by its own tick timeout.
	Run(ctx context.Context, at time.Time, c *catalog.Catalog) []*snapshot.QueryResult
}

// Alerts is a destination of root causes besides Events
// (alertmanager.Sender).
type Alerts interface {
	// Run delivers until ctx ends.
	Run(ctx context.Context) error
	// Publish hands over a tick's decisions; it must not block on the
	// network.
	Publish(res *engine.Result)
}

// Notifier writes the Events statusd writes about itself (emit.Notifier).
type Notifier interface {
	// CatalogRejected reports a refused catalogue on obj, the object it
	// came from, or on statusd's pod when obj is nil.
	CatalogRejected(origin string, problems catalog.ErrorList, obj runtime.Object)
}

// LeaderElection configures the Lease that picks the one replica that
// evaluates and writes.
type LeaderElection struct {
	Client        kubernetes.Interface
	Namespace     string
	Name          string
	Identity      string
	LeaseDuration time.Duration
	RenewDeadline time.Duration
	RetryPeriod   time.Duration

	// leading is set by the daemon while this replica leads; renewed is
	// when its last successful acquire or renewal of the Lease began
	// (Unix nanoseconds).
	leading atomic.Bool
	renewed atomic.Int64
}

// Options configure a daemon.
type Options struct {
	// Catalogs delivers catalogues: the first starts the daemon, later
	// ones are swapped in. Required.
	Catalogs Catalogs
	// FirstCatalogTimeout bounds the wait for the first catalogue (a
	// ConfigMap's arrives through its watch); 1m by default. While the
	// catalogue's source says the API server cannot be reached, the wait
	// goes on, a warning logged each time the bound passes: restarting
	// would not bring the API server back, and a replica restarted while
	// the control plane is down would only crash-loop.
	FirstCatalogTimeout time.Duration
	// Sources are the live sources. Required.
	Sources Sources
	// Publisher is the Event writer. Required.
	Publisher Publisher
	// Notifier, when set, is told about rejected catalogues.
	Notifier Notifier
	// Listen is the HTTP address; empty serves nothing.
	Listen string
	// Profiling serves Go's profiles under /debug/pprof/ on Listen, as
	// Kubernetes components do with --profiling: how a heap or CPU
	// profile of a live statusd is taken. Off by default, since a profile
	// costs CPU and shows the process's internals to whoever reaches the
	// port.
	Profiling bool
	// Resync is the longest time between ticks, 30s by default.
	Resync time.Duration
	// Debounce is how long after a change the tick runs, so that a burst
	// of changes costs one tick; 250ms by default.
	Debounce time.Duration
	// TickTimeout bounds one tick, DefaultTickTimeout by default;
	// Prometheus queries run within it.
	TickTimeout time.Duration
	// Queries, when set, runs the catalogue's Prometheus query sources
	// every tick; without it they are not configured (see the package
	// doc).
	Queries Queries
	// Alerts, when set, receives every tick's result after the Event
	// writer (the Alertmanager sender).
	Alerts Alerts
	// Cluster is the cluster label of statusd_root_cause
	// (--cluster-name); empty leaves it empty.
	Cluster string
	// MaxRootCauses bounds the statusd_root_cause series;
	// emit.DefaultMaxRootCauses by default.
	MaxRootCauses int
	// DrainTimeout bounds the wait for the Event writer on shutdown, 5s by
	// default.
	DrainTimeout time.Duration
	// LeaderElection, when set, makes the daemon evaluate only while it
	// holds the Lease.
	LeaderElection *LeaderElection
	// Clock drives debounce, resync and the first-catalogue timeout, and
	// stamps snapshots; the real clock by default.
	Clock clock.WithTicker
	// Registry receives statusd's own metrics.
	Registry *prometheus.Registry
	Logger   *slog.Logger
}

// DefaultTickTimeout is Options.TickTimeout unless set.
const DefaultTickTimeout = time.Minute

// tickState is the last tick's output, for HTTP readers.
type tickState struct {
	res  *engine.Result
	snap *snapshot.Snapshot
}

// Daemon is the process. Construct with New, then Run.
type Daemon struct {
	opts    Options
	clock   clock.WithTicker
	metrics *metrics
	roots   *emit.RootCauses
	log     *slog.Logger
	// engine is set once, by Run, before anything that reads it starts.
	engine *engine.Engine
	last   atomic.Pointer[tickState]
	// swap is held by a tick from its snapshot to its evaluation, and by
	// reload while it swaps sources and engine: the caches keep only the
	// fields the catalogue reads, so a tick must never evaluate a new
	// catalogue over objects trimmed for the old one.
	swap    sync.Mutex
	ready   atomic.Bool
	leading atomic.Bool
}

// New validates options and fills defaults; it starts nothing.
func New(opts Options) (*Daemon, error) {
	if opts.Catalogs == nil || opts.Sources == nil || opts.Publisher == nil {
		return nil, errors.New("daemon needs a catalogue watcher, sources and a publisher")
	}
	opts.FirstCatalogTimeout = orDefault(opts.FirstCatalogTimeout, time.Minute)
	opts.Resync = orDefault(opts.Resync, 30*time.Second)
	opts.Debounce = orDefault(opts.Debounce, 250*time.Millisecond)
	opts.TickTimeout = orDefault(opts.TickTimeout, DefaultTickTimeout)
	opts.DrainTimeout = orDefault(opts.DrainTimeout, 5*time.Second)
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	roots := emit.NewRootCauses(opts.Cluster, opts.MaxRootCauses)
	if err := opts.Registry.Register(roots); err != nil {
		return nil, fmt.Errorf("register statusd_root_cause: %w", err)
	}
	return &Daemon{
		opts:    opts,
		clock:   opts.Clock,
		metrics: newMetrics(opts.Registry),
		roots:   roots,
		log:     opts.Logger.With("component", "daemon"),
	}, nil
}

// Run is the process: it returns once ctx has ended and everything it
// started has stopped (nil), or with an error when the first catalogue is
// refused or missing, the sources cannot start, or the HTTP address cannot
// be bound. A replica that loses leadership stays up as a standby.
func (d *Daemon) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	wg.Go(func() {
		if err := d.opts.Catalogs.Run(wctx); err != nil {
			d.log.Error("Catalogue watch failed", "err", err)
		}
	})
	// HTTP is served from the start, so that the liveness probe passes
	// while the first catalogue is awaited (readiness waits for a tick).
	ln, err := d.listen()
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: d.Handler(), ReadHeaderTimeout: 10 * time.Second}
	defer func() { _ = srv.Close() }()
	if ln != nil {
		d.goLog(&wg, "http", func() error { return ignoreClosed(srv.Serve(ln)) })
	}
	first, err := d.first(ctx)
	if err != nil || first == nil {
		return err
	}
	if err := d.start(first); err != nil {
		return err
	}
	// Background work stops only after the loop has finished its last
	// tick, the writer has drained and the Lease is released, so that the
	// last Events still go out.
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBG()
	d.goLog(&wg, "sources", func() error { return d.opts.Sources.Run(bg) })
	d.goLog(&wg, "eventWriter", func() error { return d.opts.Publisher.Run(bg) })
	if d.opts.Alerts != nil {
		d.goLog(&wg, "alerts", func() error { return d.opts.Alerts.Run(bg) })
	}
	wg.Go(func() { d.follow(bg) })
	runErr := d.evaluate(ctx)
	drain, stopDrain := context.WithTimeout(context.WithoutCancel(ctx), d.opts.DrainTimeout)
	defer stopDrain()
	if err := d.opts.Publisher.Drain(drain); err != nil {
		d.log.Warn("Event writes still queued at shutdown", "err", err)
	}
	_ = srv.Shutdown(drain)
	stopBG()
	return runErr
}

// first waits for the first catalogue; it is nil, without error, when ctx
// ended first. It gives up after FirstCatalogTimeout unless the
// catalogue's source is waiting for an API server it cannot reach.
func (d *Daemon) first(ctx context.Context) (*reload.Update, error) {
	timeout := d.clock.NewTimer(d.opts.FirstCatalogTimeout)
	defer timeout.Stop()
	start := d.clock.Now()
	for {
		select {
		case u := <-d.opts.Catalogs.Updates():
			if u.Rejected() {
				return nil, fmt.Errorf("catalogue from %s rejected:\n%s", u.Origin, u.Problems.Errors().Error())
			}
			return u, nil
		case <-timeout.C():
			var cause error
			if p, ok := d.opts.Catalogs.(pendingCatalogs); ok {
				pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				cause = p.Pending(pctx)
				cancel()
			}
			if cause == nil {
				return nil, fmt.Errorf("no catalogue within %s (does the catalogue ConfigMap exist?)", d.opts.FirstCatalogTimeout)
			}
			if !transient(cause) {
				return nil, fmt.Errorf("no catalogue within %s: %w", d.opts.FirstCatalogTimeout, cause)
			}
			d.log.Warn("No catalogue yet; still waiting for the API server", "waited", d.clock.Since(start).Round(time.Second).String(), "err", cause)
			timeout.Reset(d.opts.FirstCatalogTimeout)
		case <-ctx.Done():
			return nil, nil
		}
	}
}

// transient reports whether err is one waiting can cure: the API server
// unreachable, overloaded or failing (a connection error, a timeout, 429 or
// 5xx). A 4xx answer (forbidden, unauthorized, a bad request) or a
// certificate the client does not trust is configuration that stays wrong
// until someone fixes it.
func transient(err error) bool {
	var (
		unknownAuthority x509.UnknownAuthorityError
		invalid          x509.CertificateInvalidError
		hostname         x509.HostnameError
		verification     *tls.CertificateVerificationError
	)
	if errors.As(err, &unknownAuthority) || errors.As(err, &invalid) || errors.As(err, &hostname) || errors.As(err, &verification) {
		return false
	}
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return true
	}
	code := status.Status().Code
	return code == 0 || code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500
}

// start prepares the sources and the engine for the first catalogue.
func (d *Daemon) start(u *reload.Update) error {
	// The watch caches keep only what the catalogue reads: in a large
	// cluster they are most of statusd's memory.
	if err := d.opts.Sources.Apply(u.Catalog.Source, u.Catalog.Fields()); err != nil {
		u.Done(false)
		return fmt.Errorf("start sources: %w", err)
	}
	u.Done(true)
	// Pending findings' messages are rendered when /status or explain
	// reads them, not on every tick: no Event or alert carries them.
	d.engine = engine.New(u.Catalog, engine.Options{Logger: d.opts.Logger, DeferPendingMessages: true})
	d.metrics.reloadOK.Set(1)
	d.metrics.reloadTimestamp.Set(float64(d.clock.Now().Unix()))
	d.setCatalogInfo(u.Catalog, u.Hash)
	d.log.Info("Catalogue in force", "origin", u.Origin, "catalog", u.Catalog.Source.Metadata.Name, "version", u.Catalog.Source.Metadata.Version)
	return nil
}

func (d *Daemon) listen() (net.Listener, error) {
	if d.opts.Listen == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", d.opts.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", d.opts.Listen, err)
	}
	d.log.Info("Serving", "addr", ln.Addr().String())
	return ln, nil
}

// goLog runs fn, the part of the process named part, on a goroutine of
// wg, logging its error.
func (d *Daemon) goLog(wg *sync.WaitGroup, part string, fn func() error) {
	wg.Go(func() {
		if err := fn(); err != nil {
			d.log.Error("Part of the process stopped", "part", part, "err", err)
		}
	})
}

func ignoreClosed(err error) error {
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// follow applies catalogue updates until ctx ends.
func (d *Daemon) follow(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case u := <-d.opts.Catalogs.Updates():
			d.reload(u)
		}
	}
}

func (d *Daemon) setCatalogInfo(c *cel.Catalog, hash string) {
	d.metrics.catalogInfo.Reset()
	d.metrics.catalogInfo.WithLabelValues(c.Source.Metadata.Name, c.Source.Metadata.Version, hash).Set(1)
}

// reload applies one update: an accepted catalogue is swapped in (state
// carries over for unchanged reasons, sources follow), a rejected one is
// reported and changes nothing. The watcher learns which through
// Update.Done, so that content the sources refused is offered again.
func (d *Daemon) reload(u *reload.Update) {
	if u.Rejected() {
		d.metrics.reloadOK.Set(0)
		d.metrics.reloads.WithLabelValues("rejected").Inc()
		d.log.Warn("Catalogue rejected; previous catalogue stays in force", "origin", u.Origin, "errors", len(u.Problems.Errors()), "err", u.Problems.Errors().Error())
		if d.opts.Notifier != nil {
			d.opts.Notifier.CatalogRejected(u.Origin, u.Problems, u.Object)
		}
		return
	}
	fields := u.Catalog.Fields()
	d.swap.Lock()
	defer d.swap.Unlock()
	if err := d.opts.Sources.Apply(u.Catalog.Source, fields); err != nil {
		// The sources could not follow; keep everything as it was.
		u.Done(false)
		d.metrics.reloadOK.Set(0)
		d.metrics.reloads.WithLabelValues("rejected").Inc()
		d.log.Error("Catalogue sources could not start; previous catalogue stays in force", "origin", u.Origin, "err", err)
		return
	}
	u.Done(true)
	d.engine.Reload(u.Catalog)
	d.metrics.reloadOK.Set(1)
	d.metrics.reloadTimestamp.Set(float64(d.clock.Now().Unix()))
	d.metrics.reloads.WithLabelValues("accepted").Inc()
	d.setCatalogInfo(u.Catalog, u.Hash)
}

// Engine returns the engine, for explain.
func (d *Daemon) Engine() *engine.Engine { return d.engine }

// Held reports whether this replica holds the Lease by its own clock: it
// leads, and its last successful renewal began less than RenewDeadline ago.
// Another replica can take the Lease only LeaseDuration after that renewal,
// so a leader frozen past its Lease (a zombie) finds on waking that its
// clock moved on and writes nothing, even before client-go notices the
// loss. emit.Options.MayWrite asks it before every write.
func (le *LeaderElection) Held() bool {
	if !le.leading.Load() {
		return false
	}
	return time.Since(time.Unix(0, le.renewed.Load())) < orDefault(le.RenewDeadline, 10*time.Second)
}

// renewLock is the Lease lock, remembering when a write of it that
// succeeded began, for Held.
type renewLock struct {
	resourcelock.Interface
	le *LeaderElection
}

func (l renewLock) Create(ctx context.Context, r resourcelock.LeaderElectionRecord) error {
	began := time.Now()
	err := l.Interface.Create(ctx, r)
	if err == nil {
		l.le.renewed.Store(began.UnixNano())
	}
	return err
}

func (l renewLock) Update(ctx context.Context, r resourcelock.LeaderElectionRecord) error {
	began := time.Now()
	err := l.Interface.Update(ctx, r)
	if err == nil {
		l.le.renewed.Store(began.UnixNano())
	}
	return err
}

// evaluate ticks until ctx ends: directly, or while holding the Lease when
// leader election is configured. It returns nil on a clean shutdown (the
// tick in flight finishes, the Lease is released). A replica that loses the
// Lease (it could not renew in time: the API server unreachable, the
// process frozen) forgets what it decided and published, writes nothing
// more, and stands by for the next term, which starts from the published
// Events as a restarted process would; it does not exit, so a blip of the
// API server costs no restart.
func (d *Daemon) evaluate(ctx context.Context) error {
	le := d.opts.LeaderElection
	if le == nil {
		d.leading.Store(true)
		d.metrics.leader.Set(1)
		return d.loop(ctx)
	}
	// A standby is ready: it has a catalogue and waits for the Lease.
	d.ready.Store(true)
	for {
		lost, err := d.term(ctx, le)
		if !lost || ctx.Err() != nil {
			return err
		}
		d.engine.Forget()
		d.log.Warn("Standing by after losing the Lease", "identity", le.Identity)
	}
}

// term campaigns for the Lease and, once it holds it, ticks until ctx ends
// (lost false) or the Lease is lost (lost true).
func (d *Daemon) term(ctx context.Context, le *LeaderElection) (lost bool, err error) {
	lock := renewLock{le: le, Interface: &resourcelock.LeaseLock{
		LeaseMeta:  metav1ObjectMeta(le.Namespace, le.Name),
		Client:     le.Client.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: le.Identity},
	}}
	// client-go runs OnStartedLeading in a goroutine of its own and releases
	// the Lease as soon as its context ends. To finish the tick in flight
	// before another replica may take over, the elector gets a context of
	// its own, cancelled only after the loop has returned.
	leCtx, leCancel := context.WithCancel(context.WithoutCancel(ctx))
	defer leCancel()
	var (
		loopErr  error
		lostFlag atomic.Bool
		started  atomic.Bool
		loopDone = make(chan struct{})
	)
	cfg := leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   orDefault(le.LeaseDuration, 15*time.Second),
		RenewDeadline:   orDefault(le.RenewDeadline, 10*time.Second),
		RetryPeriod:     orDefault(le.RetryPeriod, 2*time.Second),
		ReleaseOnCancel: true,
		Name:            le.Name,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(lctx context.Context) {
				started.Store(true)
				defer close(loopDone)
				d.log.Info("Leading", "identity", le.Identity)
				d.leading.Store(true)
				le.leading.Store(true)
				d.metrics.leader.Set(1)
				// The loop stops on shutdown (ctx) or on lost leadership
				// (lctx), whichever comes first.
				lc, cancel := context.WithCancel(lctx)
				defer cancel()
				defer context.AfterFunc(ctx, cancel)()
				loopErr = d.loop(lc)
			},
			OnStoppedLeading: func() {
				d.leading.Store(false)
				le.leading.Store(false)
				d.metrics.leader.Set(0)
				if ctx.Err() == nil && leCtx.Err() == nil {
					// Another replica may hold the Lease already:
					// nothing queued may be written any more.
					d.opts.Publisher.Forget()
					lostFlag.Store(true)
					d.log.Error("Leadership lost", "identity", le.Identity)
				}
			},
			OnNewLeader: func(identity string) {
				if identity != le.Identity {
					d.log.Info("Standing by", "leader", identity)
				}
			},
		},
	}
	elector, err := leaderelection.NewLeaderElector(cfg)
	if err != nil {
		return false, fmt.Errorf("leader election: %w", err)
	}
	stopWatch := context.AfterFunc(ctx, func() {
		if started.Load() {
			<-loopDone
			// The last tick's Events go out while the Lease is
			// still held, before it is released.
			drain, cancel := context.WithTimeout(context.Background(), d.opts.DrainTimeout)
			if err := d.opts.Publisher.Drain(drain); err != nil {
				d.log.Warn("Event writes still queued at shutdown", "err", err)
			}
			cancel()
		}
		leCancel()
	})
	defer stopWatch()
	elector.Run(leCtx)
	if started.Load() {
		<-loopDone
	}
	if lostFlag.Load() {
		// The tick in flight when the Lease was lost may have published
		// after OnStoppedLeading forgot: forget that too.
		d.opts.Publisher.Forget()
		return true, nil
	}
	return false, loopErr
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// loop ticks until ctx ends. The tick in flight always completes: its
// evaluation runs under its own timeout, not under ctx.
func (d *Daemon) loop(ctx context.Context) error {
	restored, err := d.opts.Publisher.Restore(ctx)
	if err != nil {
		// Without the earlier state a restart might re-announce faults;
		// evaluating is still better than staying blind.
		d.log.Warn("Could not restore firing state from Events", "err", err)
	} else if len(restored) > 0 {
		d.engine.Restore(restored)
		d.log.Info("Restored firing state", "findings", len(restored))
	}
	// The resync ticker starts before the first tick, so that the first
	// resync is one period after the loop began, whatever the tick took.
	resync := d.clock.NewTicker(d.opts.Resync)
	defer resync.Stop()
	d.tick(ctx)
	var debounce clock.Timer
	var debounced <-chan time.Time // nil, and never ready, unless a change is pending
	defer func() {
		if debounce != nil {
			debounce.Stop()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			d.log.Info("Stopping: tick loop finished")
			return nil
		case <-d.opts.Sources.Changed():
			if debounced == nil {
				debounce = d.clock.NewTimer(d.opts.Debounce)
				debounced = debounce.C()
			}
		case <-debounced:
			debounced = nil
			d.tick(ctx)
		case <-resync.C():
			d.tick(ctx)
		}
	}
}

// tick evaluates one snapshot and publishes the result.
func (d *Daemon) tick(ctx context.Context) {
	tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.opts.TickTimeout)
	defer cancel()
	// The duration metric measures real work, so it reads the real clock,
	// not the injected one that says what time the snapshot is of.
	began := time.Now()
	now := d.clock.Now()
	d.swap.Lock()
	snap := d.opts.Sources.Snapshot(now)
	if d.opts.Queries != nil {
		// At the snapshot's time, for the catalogue in force: the swap
		// is held, so a reload waits for the queries (bounded by their
		// own tick timeout) rather than mixing two catalogues.
		snap = snap.WithQueries(d.opts.Queries.Run(tctx, now, d.engine.Catalog().Source))
	}
	res := d.engine.Tick(tctx, snap)
	d.swap.Unlock()
	d.metrics.observe(res, time.Since(began).Seconds())
	d.announceUnknown(res)
	// The tick is the daemon's own state (/status, /readyz, metrics) before
	// the publisher sees it, so whoever watches the publisher never finds
	// the daemon a tick behind.
	d.last.Store(&tickState{res: res, snap: snap})
	d.ready.Store(true)
	d.opts.Publisher.Publish(res)
	d.roots.Publish(res)
	if d.opts.Alerts != nil {
		d.opts.Alerts.Publish(res)
	}
}

// Last returns the last tick's result and snapshot; nil before the first.
// The result's Pending findings carry no message until Result.WithMessages
// renders them (engine.Options.DeferPendingMessages).
func (d *Daemon) Last() (*engine.Result, *snapshot.Snapshot) {
	st := d.last.Load()
	if st == nil {
		return nil, nil
	}
	return st.res, st.snap
}

// unknownNotifier is the optional part of a Notifier that announces a
// reason Unknown on every subject for a series of ticks (emit.Notifier).
type unknownNotifier interface {
	ReasonUnknown(u engine.UnknownReason, obj runtime.Object)
}

// announceUnknown writes one Warning Event, on statusd's pod, for each
// reason whose all-Unknown streak reached the threshold this tick.
func (d *Daemon) announceUnknown(res *engine.Result) {
	n, ok := d.opts.Notifier.(unknownNotifier)
	if !ok {
		return
	}
	for _, u := range res.UnknownReasons {
		if u.New {
			n.ReasonUnknown(u, nil)
		}
	}
}
