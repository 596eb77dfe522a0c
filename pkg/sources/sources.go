package sources

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/prune"
	"statusd.io/statusd/pkg/series"
	"statusd.io/statusd/pkg/snapshot"
)

// Defaults for Options.
const (
	// DefaultRediscover is how often discovery runs: a CRD installed after
	// start becomes a live source within this period.
	DefaultRediscover = 30 * time.Second
	// DefaultScrapeWorkers bounds concurrent scrapes: enough for hundreds
	// of pods at 15s intervals with scrapes of well under a second.
	DefaultScrapeWorkers = 8
)

// ErrSecrets is returned by Apply for a catalogue that names core Secrets:
// statusd never reads them, so that no credential ever reaches its memory,
// logs or snapshot files.
var ErrSecrets = catalog.ErrSecrets

// ErrRunning is returned by a second call to Run.
var ErrRunning = errors.New("sources already running")

// podsGVR is what metrics sources watch.
var podsGVR = schema.GroupVersionResource{Version: "v1", Resource: "pods"}

// namespacesKey is the informer that gives namespace labels to sources
// with a namespace label selector.
var namespacesKey = informerKey{gvr: schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}}

// Options configure Sources. Zero fields take the defaults.
type Options struct {
	// Logger receives state changes (source ready, absent, forbidden,
	// failed; discovery failures). Default: discard.
	Logger *slog.Logger
	// Rediscover is the discovery period; default DefaultRediscover.
	Rediscover time.Duration
	// OnSourceProblem is called once each time a source becomes Forbidden
	// or Failed (not while it stays so), for the daemon's Warning Event.
	// It runs on an internal goroutine without locks held and must not
	// block.
	OnSourceProblem func(source string, status snapshot.Status, err error)

	// ScrapeWorkers bounds concurrent scrapes; default DefaultScrapeWorkers.
	ScrapeWorkers int
	// ScrapeLimits bound one scrape's body and series; zero fields take
	// series' defaults.
	ScrapeLimits series.Limits
	// Retention is how much metrics history a pod keeps; default
	// series.DefaultRetention.
	Retention time.Duration
	// HTTPClient scrapes the pods. Default: a client that uses no proxy and
	// follows no redirect (a target must not send statusd elsewhere). An
	// injected client should do the same; its Timeout is not needed, each
	// scrape has its source's timeout.
	HTTPClient *http.Client
	// ManualScrape stops Run from scraping by itself: only ScrapeAll does,
	// as `statusd snapshot` wants.
	ManualScrape bool
	// KeepPages keeps each pod's last scraped page for File. Off in the
	// daemon, where histories are all it needs.
	KeepPages bool

	// Clock is the time source for scrape times, scrape scheduling and
	// discovery; default the real clock. Tests inject a fake clock.
	Clock clock.WithTicker
}

// Sources keeps the live view of a cluster that snapshots are built from.
// All methods are safe for concurrent use. mu guards the catalogue's
// sources, the informer set and discovery results; each informer guards its
// own objects (see informer).
type Sources struct {
	log     *slog.Logger
	opts    Options
	clock   clock.WithTicker
	dyn     dynamic.Interface
	disco   discovery.DiscoveryInterface
	scraper *scraper

	changed    chan struct{}
	rediscover chan struct{}
	lists      atomic.Uint64
	wg         sync.WaitGroup // informer goroutines, waited for by Run

	mu        sync.Mutex
	runCtx    context.Context // nil until Run
	sources   map[string]*source
	informers map[informerKey]*informer
	// fields are the catalogue's trees by source name (nil: keep whole
	// objects); trees are the ones the running informers trim to.
	fields   map[string]*prune.Tree
	trees    map[informerKey]*prune.Tree
	disc     discovered
	states   map[string]sourceState
	stateCh  chan struct{} // closed and replaced when states change
	problems map[string]uint64
}

// source is one catalogue source in the form Sources works with.
type source struct {
	name string
	src  catalog.Source
	sel  *snapshot.Selection
	gvr  schema.GroupVersionResource
	// clientSide is true when the namespace selection needs a client-side
	// check (globs or a namespace label selector).
	clientSide bool
	// metrics is the scrape configuration of a metrics source.
	metrics *catalog.Scrape
}

// sourceState is a source's state; pending marks a state that is only
// waiting (first discovery, first sync) and is not reported as a problem.
type sourceState struct {
	snapshot.SourceState
	pending bool
}

// discovered is what discovery last found.
type discovered struct {
	done       bool // succeeded at least once
	err        error
	version    string
	namespaced map[string]bool // served gvr string -> namespaced
	resources  []string        // sorted served gvr strings
}

// New returns Sources reading the cluster at cfg. Nothing runs until Run.
func New(cfg *rest.Config, opts Options) (*Sources, error) {
	if cfg == nil {
		return nil, errors.New("new sources: nil rest config")
	}
	cfg = rest.CopyConfig(cfg)
	if cfg.UserAgent == "" {
		cfg.UserAgent = "statusd"
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("new sources: dynamic client: %w", err)
	}
	dcfg := rest.CopyConfig(cfg)
	if dcfg.Timeout == 0 {
		dcfg.Timeout = 30 * time.Second // discovery calls take no context
	}
	disco, err := discovery.NewDiscoveryClientForConfig(dcfg)
	if err != nil {
		return nil, fmt.Errorf("new sources: discovery client: %w", err)
	}
	s := newSources(opts)
	s.dyn, s.disco = dyn, disco
	return s, nil
}

func (opts Options) withDefaults() Options {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Rediscover <= 0 {
		opts.Rediscover = DefaultRediscover
	}
	if opts.ScrapeWorkers <= 0 {
		opts.ScrapeWorkers = DefaultScrapeWorkers
	}
	if opts.Retention <= 0 {
		opts.Retention = series.DefaultRetention
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = newHTTPClient()
	}
	return opts
}

// newSources builds Sources without clients, for New and for tests of what
// needs none.
func newSources(opts Options) *Sources {
	opts = opts.withDefaults()
	log := opts.Logger.With("component", "sources")
	s := &Sources{
		log:        log,
		opts:       opts,
		clock:      opts.Clock,
		changed:    make(chan struct{}, 1),
		rediscover: make(chan struct{}, 1),
		sources:    map[string]*source{},
		informers:  map[informerKey]*informer{},
		trees:      map[informerKey]*prune.Tree{},
		states:     map[string]sourceState{},
		stateCh:    make(chan struct{}),
		problems:   map[string]uint64{},
	}
	s.scraper = newScraper(scraperOptions{
		client:    opts.HTTPClient,
		clock:     opts.Clock,
		log:       log,
		limits:    opts.ScrapeLimits,
		workers:   opts.ScrapeWorkers,
		retention: opts.Retention,
		keep:      opts.KeepPages,
	}, s.targets)
	return s
}

// Apply makes the running informers match cat's sources: it starts those a
// new source needs, stops those no source needs any more and keeps the
// others with their caches, so a reload costs a LIST only for what is new.
// It is all or nothing: a catalogue with a source that cannot be watched
// (core Secrets, a selector that does not parse) is refused whole, with an
// error naming every such source, and the previous one stays in force.
//
// fields are the fields each source's objects must keep, from the compiled
// catalogue (cel.Catalog.Fields): each watch cache keeps only what the
// sources sharing it read, which is most of statusd's memory in a large
// cluster. nil keeps whole objects, for `statusd snapshot`, whose files
// serve any catalogue; so does a nil tree, or a source fields do not name.
// An informer whose fields change is restarted (see reconcile).
func (s *Sources) Apply(cat *catalog.Catalog, fields map[string]*prune.Tree) error {
	next := map[string]*source{}
	var errs []error
	for _, name := range cat.SourceNames() {
		if cs := cat.Sources[name]; cs.IsQuery() {
			continue // asked of Prometheus at each tick (pkg/promquery)
		}
		src, err := compile(name, cat.Sources[name])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		next[name] = src
	}
	if len(errs) > 0 {
		return fmt.Errorf("apply catalogue: %w", errors.Join(errs...))
	}
	s.mu.Lock()
	s.sources = next
	s.fields = fields
	s.reconcile()
	s.mu.Unlock()
	s.refresh()
	s.scraper.poke()
	return nil
}

// compile checks one source and prepares its selection.
func compile(name string, cs catalog.Source) (*source, error) {
	for _, err := range catalog.CheckResource(&cs) {
		// Checked apart from CheckSource too: never reading Secrets, in
		// any spelling, is this package's promise, whatever builds the
		// catalogue.
		if errors.Is(err, ErrSecrets) {
			return nil, fmt.Errorf("source %q: %w", name, err)
		}
	}
	if errs := catalog.CheckSource(name, cs).Errors(); len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Msg
		}
		return nil, fmt.Errorf("source %q: %w: %s", name, catalog.ErrInvalid, strings.Join(msgs, "; "))
	}
	src := &source{name: name, src: cs}
	if cs.Metrics != nil {
		m := cs.Metrics.WithDefaults()
		src.metrics = &m
		// A metrics source selects pods: its selection is over pods, with
		// the metrics selector as the label selector.
		cs = catalog.Source{Version: podsGVR.Version, Resource: podsGVR.Resource, Namespaces: cs.Namespaces, Selector: m.Selector}
	}
	src.gvr = schema.GroupVersionResource{Group: cs.Group, Version: cs.Version, Resource: cs.Resource}
	src.sel = snapshot.NewSelection(cs)
	src.clientSide = src.sel.Names() == nil && !cs.Namespaces.IsZero()
	return src, nil
}

// keys returns the informers src reads, given whether its resource is
// namespaced: one per exact namespace name, else one for all namespaces.
func (src *source) keys(namespaced bool) []informerKey {
	sel := src.sel.Selector().String()
	names := src.sel.Names()
	if !namespaced || len(names) == 0 {
		return []informerKey{{gvr: src.gvr, selector: sel}}
	}
	names = slices.Clone(names)
	slices.Sort(names)
	keys := make([]informerKey, 0, len(names))
	for _, n := range slices.Compact(names) {
		keys = append(keys, informerKey{gvr: src.gvr, namespace: n, selector: sel})
	}
	return keys
}

// needsNamespaces reports whether src needs namespace labels to select.
func (src *source) needsNamespaces(namespaced bool) bool {
	return namespaced && src.src.Namespaces.Selector != ""
}

// served reports whether discovery found src's resource, and whether it is
// namespaced. The caller holds s.mu.
func (s *Sources) served(src *source) (served, namespaced bool) {
	namespaced, served = s.disc.namespaced[gvrString(src.gvr)]
	return served, namespaced
}

// wanted returns the informers the current sources need, given discovery,
// each with the fields its cache keeps: the union of the trees of the
// sources it serves (see treeOf), or nil for whole objects. The caller
// holds s.mu.
func (s *Sources) wanted() map[informerKey]*prune.Tree {
	parts := map[informerKey][]*prune.Tree{}
	for name, src := range s.sources {
		served, namespaced := s.served(src)
		if !served {
			continue
		}
		tree := s.treeOf(name, src)
		for _, k := range src.keys(namespaced) {
			parts[k] = append(parts[k], tree)
		}
		if src.needsNamespaces(namespaced) {
			// Namespace labels are metadata, which every tree keeps.
			parts[namespacesKey] = append(parts[namespacesKey], prune.New())
		}
	}
	want := make(map[informerKey]*prune.Tree, len(parts))
	for k, trees := range parts {
		if s.fields == nil {
			want[k] = nil
			continue
		}
		want[k] = prune.Union(trees...)
	}
	return want
}

// treeOf returns the fields source name's objects must keep: its tree in
// s.fields, and for a metrics source what the scraper reads. A source the
// fields do not name keeps whole objects. The caller holds s.mu.
func (s *Sources) treeOf(name string, src *source) *prune.Tree {
	if s.fields == nil {
		return nil
	}
	tree, ok := s.fields[name]
	switch {
	case src.metrics != nil && ok:
		return prune.Union(scrapeFields, tree)
	case src.metrics != nil:
		return scrapeFields
	case !ok:
		return nil
	}
	return tree
}

// reconcile starts and stops informers to match wanted. An informer whose
// fields changed is restarted, since its cache lacks what it did not keep:
// the reload that changes what a catalogue reads costs a LIST per such
// informer, as a new source does, and its sources wait for the new cache
// to sync. Before Run it only drops informers: starting waits for Run's
// context. The caller holds s.mu.
func (s *Sources) reconcile() {
	want := s.wanted()
	for k, i := range s.informers {
		tree, ok := want[k]
		switch {
		case !ok:
			s.log.Debug("Informer stopped", "gvr", k.String())
		case !tree.Equal(s.trees[k]):
			s.log.Info("Informer restarted to keep other fields", "gvr", k.String(), "fields", tree.String())
		default:
			continue
		}
		i.stop()
		delete(s.informers, k)
		delete(s.trees, k)
	}
	if s.runCtx == nil || s.dyn == nil {
		return
	}
	for k, tree := range want {
		if _, ok := s.informers[k]; ok {
			continue
		}
		if k.gvr.Group == "" && k.gvr.Resource == "secrets" {
			continue // compile refuses these; never start one regardless
		}
		i := newInformer(k)
		s.trees[k] = tree // read by transform, which start installs
		s.start(i)
		s.informers[k] = i
		s.log.Debug("Informer started", "gvr", k.String(), "fields", tree.String())
	}
}

// Run runs discovery, the informers and (unless Options.ManualScrape) the
// scraper until ctx ends, then stops them all and waits for their
// goroutines. It returns nil then, or ErrRunning if called twice.
func (s *Sources) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.mu.Lock()
	if s.runCtx != nil {
		s.mu.Unlock()
		return ErrRunning
	}
	s.runCtx = ctx
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		for k, i := range s.informers {
			i.stop()
			delete(s.informers, k)
		}
		s.mu.Unlock()
		s.wg.Wait()
		s.opts.HTTPClient.CloseIdleConnections()
	}()

	if !s.opts.ManualScrape {
		s.wg.Go(func() { s.scraper.run(ctx) })
	}
	s.discover()
	t := s.clock.NewTicker(s.opts.Rediscover)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C():
		case <-s.rediscover:
		}
		s.discover()
	}
}

// discover asks the API server what it serves and which version it runs,
// then reconciles the informers: a resource that appeared starts the
// sources waiting for it, one that went away stops them. A group that fails
// discovery (an aggregated API that is down) keeps what was known of it,
// so its sources do not flap to Absent.
func (s *Sources) discover() {
	version, verr := s.disco.ServerVersion()
	_, lists, err := s.disco.ServerGroupsAndResources()
	var failedGroups map[schema.GroupVersion]error
	if gerr, ok := errors.AsType[*discovery.ErrGroupDiscoveryFailed](err); ok {
		failedGroups, err = gerr.Groups, nil
	}
	err = errors.Join(verr, err)

	s.mu.Lock()
	prevErr := s.disc.err
	s.disc.err = err
	if err == nil {
		namespaced := map[string]bool{}
		for gv := range failedGroups {
			for r, ns := range s.disc.namespaced {
				if gvr, ok := parseGVR(r); ok && gvr.GroupVersion() == gv {
					namespaced[r] = ns
				}
			}
		}
		for _, l := range lists {
			gv, perr := schema.ParseGroupVersion(l.GroupVersion)
			if perr != nil {
				continue
			}
			for _, r := range l.APIResources {
				if r.Name == "" || strings.Contains(r.Name, "/") {
					continue // subresources are not sources
				}
				namespaced[gvrString(gv.WithResource(r.Name))] = r.Namespaced
			}
		}
		s.disc.done = true
		s.disc.version = version.GitVersion
		s.disc.namespaced = namespaced
		s.disc.resources = slices.Sorted(maps.Keys(namespaced))
		s.reconcile()
	}
	s.mu.Unlock()

	switch {
	case err != nil && prevErr == nil:
		s.log.Warn("Discovery failed", "err", err)
	case err == nil && prevErr != nil:
		s.log.Info("Discovery recovered")
	}
	if len(failedGroups) > 0 {
		s.log.Debug("Discovery failed for some groups", "err", errors.Join(slices.Collect(maps.Values(failedGroups))...))
	}
	s.refresh()
	s.scraper.poke()
}

// parseGVR parses gvrString's format.
func parseGVR(s string) (schema.GroupVersionResource, bool) {
	switch parts := strings.Split(s, "/"); len(parts) {
	case 2:
		return schema.GroupVersionResource{Version: parts[0], Resource: parts[1]}, true
	case 3:
		return schema.GroupVersionResource{Group: parts[0], Version: parts[1], Resource: parts[2]}, true
	}
	return schema.GroupVersionResource{}, false
}

// stateOf computes src's state. The caller holds s.mu.
func (s *Sources) stateOf(src *source) sourceState {
	failed := func(err error, pending bool) sourceState {
		return sourceState{SourceState: snapshot.SourceState{Status: snapshot.StatusFailed, Error: err.Error()}, pending: pending}
	}
	if !s.disc.done {
		if s.disc.err != nil {
			return failed(fmt.Errorf("discovery: %w", s.disc.err), false)
		}
		return failed(errors.New("discovery has not completed yet"), true)
	}
	served, namespaced := s.served(src)
	if !served {
		if src.src.Optional {
			return sourceState{SourceState: snapshot.SourceState{Status: snapshot.StatusAbsent}}
		}
		return failed(fmt.Errorf("resource %s is not served by the cluster (is its CRD installed? mark the source optional if it may be absent)", gvrString(src.gvr)), false)
	}
	keys := src.keys(namespaced)
	if src.needsNamespaces(namespaced) {
		keys = append(keys, namespacesKey)
	}
	worst := sourceState{SourceState: snapshot.SourceState{Status: snapshot.StatusReady}}
	for _, k := range keys {
		i := s.informers[k]
		if i == nil {
			return failed(errNotSynced, true) // not started: Run has not begun
		}
		st, err, pending := i.state()
		switch {
		case st == snapshot.StatusReady:
			continue
		case st == snapshot.StatusForbidden:
			return sourceState{SourceState: snapshot.SourceState{Status: st, Error: err.Error()}}
		case worst.Status == snapshot.StatusReady || (worst.pending && !pending):
			worst = failed(err, pending)
		}
	}
	return worst
}

// refresh recomputes every source's state, and logs and reports the
// transitions: each move into Forbidden or Failed is reported once. It
// returns the states.
func (s *Sources) refresh() map[string]sourceState {
	type transition struct {
		name      string
		prev, now sourceState
		problem   bool
	}
	var changes []transition
	s.mu.Lock()
	states := make(map[string]sourceState, len(s.sources))
	for name, src := range s.sources {
		st := s.stateOf(src)
		states[name] = st
		prev, had := s.states[name]
		if had && prev == st {
			continue
		}
		problem := (st.Status == snapshot.StatusForbidden || st.Status == snapshot.StatusFailed) && !st.pending &&
			(!had || prev.Status != st.Status || prev.pending)
		if problem {
			s.problems[name]++
		}
		changes = append(changes, transition{name: name, prev: prev, now: st, problem: problem})
	}
	if len(changes) > 0 || len(states) != len(s.states) {
		close(s.stateCh)
		s.stateCh = make(chan struct{})
	}
	s.states = states
	gvrs := make(map[string]string, len(changes))
	for _, c := range changes {
		gvrs[c.name] = gvrString(s.sources[c.name].gvr)
	}
	s.mu.Unlock()

	for _, c := range changes {
		gvr := gvrs[c.name]
		switch {
		case c.problem:
			err := errors.New(c.now.Error)
			s.log.Warn("Source unavailable", "source", c.name, "gvr", gvr, "status", string(c.now.Status), "err", err)
			if s.opts.OnSourceProblem != nil {
				s.opts.OnSourceProblem(c.name, c.now.Status, err)
			}
		case c.now.pending || c.now.Status == c.prev.Status && !c.prev.pending:
			// Still waiting, or a new message for the same state.
		case c.now.Status == snapshot.StatusReady:
			s.log.Info("Source ready", "source", c.name, "gvr", gvr)
		case c.now.Status == snapshot.StatusAbsent:
			s.log.Info("Source absent", "source", c.name, "gvr", gvr)
		}
	}
	return states
}

// Changed returns a channel that receives when any informer sees an add,
// update or delete. Signals are coalesced (the channel holds one) and never
// block an informer, so the daemon can tick shortly after a change without
// ticking once per event.
func (s *Sources) Changed() <-chan struct{} { return s.changed }

// Status returns every source's current state, metrics sources included.
// A source still waiting for discovery or its first sync is Failed with a
// message saying so.
func (s *Sources) Status() map[string]snapshot.SourceState {
	states := s.refresh()
	out := make(map[string]snapshot.SourceState, len(states))
	for name, st := range states {
		out[name] = st.SourceState
	}
	return out
}

// WaitForSync blocks until discovery has run and every source has settled:
// synced, absent, forbidden or failed for a reason other than waiting. It
// returns ctx's error if ctx ends first.
func (s *Sources) WaitForSync(ctx context.Context) error {
	for {
		s.refresh()
		s.mu.Lock()
		settled := s.disc.done || s.disc.err != nil
		for _, st := range s.states {
			settled = settled && !st.pending
		}
		ch := s.stateCh
		s.mu.Unlock()
		if settled {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for sources to sync: %w", ctx.Err())
		case <-ch:
		}
	}
}

// Stats are counters for the daemon's own metrics.
type Stats struct {
	// Informers is the number of running informers.
	Informers int
	// Objects is the number of cached objects over all informers.
	Objects int
	// Lists counts the LIST requests informers made: one per informer at
	// start (unless the server streams the initial list) and one per
	// re-list after a watch could not resume; never one per tick.
	Lists uint64
	// Problems counts, per source, how often it became Forbidden or Failed.
	Problems map[string]uint64
	// Targets is the number of pods being scraped.
	Targets int
	// Scrapes and ScrapeFailures count scrapes since start.
	Scrapes, ScrapeFailures uint64
}

// Stats returns the current counters.
func (s *Sources) Stats() Stats {
	s.mu.Lock()
	st := Stats{Informers: len(s.informers), Lists: s.lists.Load(), Problems: maps.Clone(s.problems)}
	for _, i := range s.informers {
		st.Objects += i.len()
	}
	s.mu.Unlock()
	st.Targets, st.Scrapes, st.ScrapeFailures = s.scraper.stats()
	return st
}

// Cluster returns the server version and served resources discovery last
// found.
func (s *Sources) Cluster() snapshot.Cluster {
	s.mu.Lock()
	defer s.mu.Unlock()
	return snapshot.Cluster{Version: s.disc.version, Resources: s.disc.resources}
}
