// Package daemon is statusd's long-running process: it connects live
// sources to the engine and the engine to the Event writer, ticking shortly
// after every change and at least every resync period, never two ticks at
// once; it swaps catalogues from the reload watcher, elects one leader
// among replicas, and serves /metrics, /healthz, /readyz, /status and
// /explain.
//
// Ownership: the loop goroutine owns ticking and publishing; the reload
// goroutine calls Reload, which the engine and sources serialise
// internally; HTTP handlers only read the last tick's result, published
// atomically.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/engine"
	"statusd.io/statusd/pkg/prune"
	"statusd.io/statusd/pkg/reload"
	"statusd.io/statusd/pkg/snapshot"
)

// Sources is what the daemon needs of the live sources.
type Sources interface {
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
	// Publish hands over a tick's decisions; it queues the writes and must
	// not block on the API.
	Publish(res *engine.Result)
	// Restore rebuilds firing state from what was published before.
	Restore(ctx context.Context) ([]engine.Restored, error)
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
}

// Options configure a daemon.
type Options struct {
	Sources   Sources
	Publisher Publisher
	// Catalog is the catalogue to start with.
	Catalog *cel.Catalog
	// CatalogHash identifies its content, for the info metric.
	CatalogHash string
	// Resync is the longest time between ticks, 30s by default.
	Resync time.Duration
	// Debounce is how long after a change the tick runs, so that a burst
	// of changes costs one tick; 250ms by default.
	Debounce time.Duration
	// TickTimeout bounds one tick, 1m by default.
	TickTimeout time.Duration
	// LeaderElection, when set, makes the daemon evaluate only while it
	// holds the Lease.
	LeaderElection *LeaderElection
	// OnReject is called when a catalogue reload is rejected, to write the
	// CatalogRejected Event; optional.
	OnReject func(u *reload.Update)
	// OnUnknownReason is called once when a reason has been Unknown on
	// every subject for engine.Options.UnknownTicks ticks, to write a
	// Warning Event about the catalogue; optional.
	OnUnknownReason func(u engine.UnknownReason)
	// Now is the clock; time.Now by default.
	Now func() time.Time
	// Registry receives statusd's own metrics.
	Registry *prometheus.Registry
	Logger   *slog.Logger
}

// tickState is the last tick's output, for HTTP readers.
type tickState struct {
	res  *engine.Result
	snap *snapshot.Snapshot
}

// Daemon runs the loop. Construct with New.
type Daemon struct {
	opts    Options
	engine  *engine.Engine
	metrics *metrics
	log     *slog.Logger
	last    atomic.Pointer[tickState]
	// swap is held by a tick from its snapshot to its evaluation, and by
	// Reload while it swaps sources and engine: the caches keep only the
	// fields the catalogue reads, so a tick must never evaluate a new
	// catalogue over objects trimmed for the old one.
	swap    sync.Mutex
	ready   atomic.Bool
	leading atomic.Bool
}

// New validates options and prepares the sources for the first catalogue.
func New(opts Options) (*Daemon, error) {
	if opts.Sources == nil || opts.Publisher == nil || opts.Catalog == nil {
		return nil, errors.New("daemon needs sources, a publisher and a catalogue")
	}
	if opts.Resync <= 0 {
		opts.Resync = 30 * time.Second
	}
	if opts.Debounce <= 0 {
		opts.Debounce = 250 * time.Millisecond
	}
	if opts.TickTimeout <= 0 {
		opts.TickTimeout = time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	d := &Daemon{
		opts:    opts,
		engine:  engine.New(opts.Catalog, engine.Options{Logger: opts.Logger}),
		metrics: newMetrics(opts.Registry),
		log:     opts.Logger.With("component", "daemon"),
	}
	// The watch caches keep only what the catalogue reads: in a large
	// cluster they are most of statusd's memory.
	if err := opts.Sources.Apply(opts.Catalog.Source, opts.Catalog.Fields()); err != nil {
		return nil, fmt.Errorf("start sources: %w", err)
	}
	d.metrics.reloadOK.Set(1)
	d.metrics.reloadTimestamp.Set(float64(opts.Now().Unix()))
	d.setCatalogInfo(opts.Catalog, opts.CatalogHash)
	return d, nil
}

func (d *Daemon) setCatalogInfo(c *cel.Catalog, hash string) {
	d.metrics.catalogInfo.Reset()
	d.metrics.catalogInfo.WithLabelValues(c.Source.Metadata.Name, c.Source.Metadata.Version, hash).Set(1)
}

// Reload is the reload watcher's handler: an accepted catalogue is swapped
// in (state carries over for unchanged reasons, sources follow), a rejected
// one is reported and changes nothing.
func (d *Daemon) Reload(u *reload.Update) {
	if u.Rejected() {
		d.metrics.reloadOK.Set(0)
		d.metrics.reloads.WithLabelValues("rejected").Inc()
		d.log.Warn("Catalogue rejected; previous catalogue stays in force", "origin", u.Origin, "errors", len(u.Problems.Errors()), "err", u.Problems.Errors().Error())
		if d.opts.OnReject != nil {
			d.opts.OnReject(u)
		}
		return
	}
	fields := u.Catalog.Fields()
	d.swap.Lock()
	defer d.swap.Unlock()
	if err := d.opts.Sources.Apply(u.Catalog.Source, fields); err != nil {
		// The sources could not follow; keep everything as it was.
		d.metrics.reloadOK.Set(0)
		d.metrics.reloads.WithLabelValues("rejected").Inc()
		d.log.Error("Catalogue sources could not start; previous catalogue stays in force", "origin", u.Origin, "err", err)
		return
	}
	d.engine.Reload(u.Catalog)
	d.metrics.reloadOK.Set(1)
	d.metrics.reloadTimestamp.Set(float64(d.opts.Now().Unix()))
	d.metrics.reloads.WithLabelValues("accepted").Inc()
	d.setCatalogInfo(u.Catalog, u.Hash)
}

// Engine returns the engine, for explain.
func (d *Daemon) Engine() *engine.Engine { return d.engine }

// Run evaluates until ctx ends: directly, or while holding the Lease when
// leader election is configured. It returns nil on a clean shutdown (the
// tick in flight finishes, the Lease is released) and an error when
// leadership is lost, so that the process restarts as a standby.
func (d *Daemon) Run(ctx context.Context) error {
	le := d.opts.LeaderElection
	if le == nil {
		d.leading.Store(true)
		d.metrics.leader.Set(1)
		return d.loop(ctx)
	}
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1ObjectMeta(le.Namespace, le.Name),
		Client:     le.Client.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: le.Identity},
	}
	// client-go runs OnStartedLeading in a goroutine of its own and releases
	// the Lease as soon as its context ends. To finish the tick in flight
	// before another replica may take over, the elector gets a context of
	// its own, cancelled only after the loop has returned.
	leCtx, leCancel := context.WithCancel(context.WithoutCancel(ctx))
	defer leCancel()
	var (
		loopErr  error
		lost     bool
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
				d.metrics.leader.Set(0)
				if ctx.Err() == nil && leCtx.Err() == nil {
					lost = true
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
		return fmt.Errorf("leader election: %w", err)
	}
	go func() {
		<-ctx.Done()
		if started.Load() {
			<-loopDone
		}
		leCancel()
	}()
	// A standby is ready: it has a catalogue and waits for the Lease.
	d.ready.Store(true)
	elector.Run(leCtx)
	if started.Load() {
		<-loopDone
	}
	if lost {
		return errors.New("lost the leader Lease")
	}
	return loopErr
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
	d.tick(ctx)
	resync := time.NewTicker(d.opts.Resync)
	defer resync.Stop()
	debounce := time.NewTimer(time.Hour)
	debounce.Stop()
	defer debounce.Stop()
	pending := false
	for {
		select {
		case <-ctx.Done():
			d.log.Info("Stopping: tick loop finished")
			return nil
		case <-d.opts.Sources.Changed():
			if !pending {
				pending = true
				debounce.Reset(d.opts.Debounce)
			}
		case <-debounce.C:
			pending = false
			d.tick(ctx)
		case <-resync.C:
			d.tick(ctx)
		}
	}
}

// tick evaluates one snapshot and publishes the result.
func (d *Daemon) tick(ctx context.Context) {
	tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.opts.TickTimeout)
	defer cancel()
	began := time.Now()
	d.swap.Lock()
	snap := d.opts.Sources.Snapshot(d.opts.Now())
	res := d.engine.Tick(tctx, snap)
	d.swap.Unlock()
	d.opts.Publisher.Publish(res)
	d.metrics.observe(res, time.Since(began).Seconds())
	if d.opts.OnUnknownReason != nil {
		for _, u := range res.UnknownReasons {
			if u.New {
				d.opts.OnUnknownReason(u)
			}
		}
	}
	d.last.Store(&tickState{res: res, snap: snap})
	d.ready.Store(true)
}

// Last returns the last tick's result and snapshot; nil before the first.
func (d *Daemon) Last() (*engine.Result, *snapshot.Snapshot) {
	st := d.last.Load()
	if st == nil {
		return nil, nil
	}
	return st.res, st.snap
}
