package sources

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/clock"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/compact"
	"statusd.io/statusd/pkg/series"
	"statusd.io/statusd/pkg/snapshot"
)

// acceptHeader asks for OpenMetrics, then the Prometheus text format: the
// two formats series.Parse reads. Protobuf is not asked for.
const acceptHeader = "application/openmetrics-text;version=1.0.0;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.1"

// maxWait bounds the scheduler's sleep, so that a clock that jumps (or a
// missed wake-up) costs at most this much delay.
const maxWait = time.Minute

// newHTTPClient returns the default scrape client: direct connections (an
// environment proxy must not see pod traffic), no redirects (a target must
// not send statusd to an address the catalogue did not select), and one
// kept-alive connection per pod.
func newHTTPClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConnsPerHost: 1,
			IdleConnTimeout:     90 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// target is a pod to scrape, as the informers describe it now.
type target struct {
	source            string
	namespace, name   string
	uid               string
	url               string // empty when err is set
	err               error  // why the pod cannot be scraped, recorded as a failed scrape
	interval, timeout time.Duration
}

func (t target) key() string { return t.namespace + "/" + t.name }

// scrapeTarget is a target with its history and schedule.
type scrapeTarget struct {
	target // guarded by scraper.mu; workers get a copy
	pm     *snapshot.PodMetrics
	next   time.Time // guarded by scraper.mu
	busy   bool      // guarded by scraper.mu

	rec     sync.Mutex // serialises recording; guards the fields below
	last    int64      // milliseconds of the last recorded scrape
	at      time.Time  // time of the last recorded scrape
	page    *series.Page
	failure error
}

type scraperOptions struct {
	client    *http.Client
	clock     clock.WithTicker
	log       *slog.Logger
	limits    series.Limits
	workers   int
	retention time.Duration
	keep      bool
}

// scraper scrapes the metrics targets. Its scheduler goroutine owns the
// schedule; workers own a scrape from dispatch to record. mu guards the
// target set; the target list itself comes from the informers through
// targetsFn, called without mu held (it takes Sources.mu).
type scraper struct {
	scraperOptions
	targetsFn func() []target
	wake      chan struct{}
	dirty     atomic.Bool

	mu      sync.Mutex
	targets map[string]*scrapeTarget

	scrapes, failures atomic.Uint64
}

func newScraper(opts scraperOptions, targetsFn func() []target) *scraper {
	sc := &scraper{scraperOptions: opts, targetsFn: targetsFn, wake: make(chan struct{}, 1), targets: map[string]*scrapeTarget{}}
	sc.dirty.Store(true)
	return sc
}

// poke marks the target list stale and wakes the scheduler.
func (sc *scraper) poke() {
	sc.dirty.Store(true)
	select {
	case sc.wake <- struct{}{}:
	default:
	}
}

// sync updates the target set from the informers when they changed. A pod
// keeps its history while it stays selected with the same UID and
// interval; a pod that left takes its history with it.
func (sc *scraper) sync() {
	if !sc.dirty.Swap(false) {
		return
	}
	want := sc.targetsFn()
	now := sc.clock.Now()
	sc.mu.Lock()
	defer sc.mu.Unlock()
	keep := make(map[string]bool, len(want))
	for _, t := range want {
		key := t.key()
		keep[key] = true
		cur := sc.targets[key]
		if cur != nil && cur.uid == t.uid && cur.interval == t.interval && cur.timeout == t.timeout {
			cur.target = t // the port, path or source may have changed
			continue
		}
		pm, err := snapshot.NewPodMetrics(t.namespace, t.name, t.source, series.Options{
			Target:     key,
			Retention:  sc.retention,
			StaleAfter: staleAfter(t.interval, t.timeout),
		})
		if err != nil { // only for negative options, which compile rules out
			sc.log.Error("Metrics history refused", "source", t.source, "subject", key, "err", err)
			continue
		}
		sc.targets[key] = &scrapeTarget{target: t, pm: pm, next: now.Add(offset(key, t.interval))}
	}
	for key := range sc.targets {
		if !keep[key] {
			delete(sc.targets, key)
		}
	}
}

// staleAfter is how old a target's last successful scrape may be before
// its metrics are Unknown: one missed scrape is tolerated, two are not.
func staleAfter(interval, timeout time.Duration) time.Duration {
	return 2*interval + timeout
}

// offset spreads first scrapes over the interval, the same for a pod every
// time, so that hundreds of pods do not fire together.
func offset(key string, interval time.Duration) time.Duration {
	h := fnv.New64a()
	_, _ = h.Write([]byte(key))
	return time.Duration(h.Sum64() % uint64(interval))
}

// job is one scrape handed to a worker, with a copy of the target taken
// under mu.
type job struct {
	t  *scrapeTarget
	tg target
}

// run schedules scrapes until ctx ends: each target at its interval, on a
// pool of workers. A target still busy when it is due again skips that
// slot rather than queueing a second scrape.
func (sc *scraper) run(ctx context.Context) {
	work := make(chan job)
	var wg sync.WaitGroup
	for range sc.workers {
		wg.Go(func() {
			for j := range work {
				sc.scrape(ctx, j.t, j.tg)
				sc.mu.Lock()
				j.t.busy = false
				sc.mu.Unlock()
			}
		})
	}
	defer func() {
		close(work)
		wg.Wait()
	}()
	for {
		sc.sync()
		due, wait := sc.due(sc.clock.Now())
		for _, j := range due {
			select {
			case work <- j:
			case <-ctx.Done():
				return
			}
		}
		timer := sc.clock.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-sc.wake:
		case <-timer.C():
		}
		timer.Stop()
	}
}

// due returns the scrapes due at now, marking them busy and moving their
// next time on, and how long until the next one is due.
func (sc *scraper) due(now time.Time) ([]job, time.Duration) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	wait := maxWait
	var jobs []job
	for _, t := range sc.targets {
		if !t.next.After(now) {
			if !t.busy {
				t.busy = true
				jobs = append(jobs, job{t: t, tg: t.target})
			}
			t.next = t.next.Add(t.interval)
			if !t.next.After(now) { // missed slots (a slow scheduler, a clock jump): skip them
				t.next = now.Add(t.interval)
			}
		}
		wait = min(wait, t.next.Sub(now))
	}
	return jobs, max(wait, 0)
}

// scrapeAll scrapes every target once now, on at most workers goroutines,
// and waits for them.
func (sc *scraper) scrapeAll(ctx context.Context) error {
	sc.dirty.Store(true)
	sc.sync()
	sc.mu.Lock()
	jobs := make([]job, 0, len(sc.targets))
	for _, t := range sc.targets {
		jobs = append(jobs, job{t: t, tg: t.target})
	}
	sc.mu.Unlock()
	sem := make(chan struct{}, sc.workers)
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, j := range jobs {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return fmt.Errorf("scrape: %w", ctx.Err())
		}
		wg.Go(func() {
			defer func() { <-sem }()
			sc.scrape(ctx, j.t, j.tg)
		})
	}
	return nil
}

// scrape fetches one target and records the outcome in its history.
func (sc *scraper) scrape(ctx context.Context, t *scrapeTarget, tg target) {
	start := sc.clock.Now()
	page, err := (*series.Page)(nil), tg.err
	if err == nil {
		page, err = sc.fetch(ctx, tg)
	}
	if ctx.Err() != nil {
		return // shutting down: not the target's failure
	}
	sc.record(t, tg, start, page, err)
}

// fetch GETs one page within the target's timeout and the body limit.
func (sc *scraper) fetch(ctx context.Context, tg target) (*series.Page, error) {
	ctx, cancel := context.WithTimeout(ctx, tg.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, tg.url, nil)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", tg.url, err)
	}
	req.Header.Set("Accept", acceptHeader)
	req.Header.Set("User-Agent", "statusd")
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", strconv.FormatFloat(tg.timeout.Seconds(), 'f', -1, 64))
	resp, err := sc.client.Do(req)
	if err != nil {
		return nil, sc.fetchError(ctx, tg, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape %s: unexpected status %s", tg.url, resp.Status)
	}
	limits := sc.limits
	if limits.MaxBytes <= 0 {
		limits.MaxBytes = series.DefaultMaxBytes
	}
	if resp.ContentLength > limits.MaxBytes {
		return nil, fmt.Errorf("scrape %s: %w: content length %d exceeds %d bytes", tg.url, series.ErrTooLarge, resp.ContentLength, limits.MaxBytes)
	}
	page, err := series.Parse(resp.Body, resp.Header.Get("Content-Type"), limits)
	if err != nil {
		return nil, sc.fetchError(ctx, tg, err)
	}
	return page, nil
}

// fetchError names the target and says "timed out" when the timeout, not
// the target, ended the scrape.
func (sc *scraper) fetchError(ctx context.Context, tg target, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("scrape %s: timed out after %s: %w", tg.url, tg.timeout, err)
	}
	return fmt.Errorf("scrape %s: %w", tg.url, err)
}

// record stores one scrape's outcome at start (moved a millisecond past
// the previous scrape if the clock did not move, since a history only goes
// forward): a page is appended, a failure recorded as one, never as zeros.
func (sc *scraper) record(t *scrapeTarget, tg target, start time.Time, page *series.Page, err error) {
	t.rec.Lock()
	defer t.rec.Unlock()
	ms := max(start.UnixMilli(), t.last+1)
	at := time.UnixMilli(ms)
	t.last = ms
	sc.scrapes.Add(1)
	if err == nil {
		err = t.pm.History.Append(at, page) // refuses a page over MaxSeries, recording a failure
	} else if ferr := t.pm.History.Fail(at, err); ferr != nil {
		sc.log.Error("Scrape not recorded", "source", tg.source, "subject", tg.key(), "err", ferr)
	}
	if err != nil {
		sc.failures.Add(1)
	}
	wasFailing := t.failure != nil
	switch {
	case err != nil && !wasFailing:
		sc.log.Info("Scrape failing", "source", tg.source, "subject", tg.key(), "err", err)
	case err == nil && wasFailing:
		sc.log.Info("Scrape recovered", "source", tg.source, "subject", tg.key())
	}
	t.at, t.failure = at, err
	if sc.keep {
		t.page = page
	}
}

// histories returns every target's history.
func (sc *scraper) histories() []*snapshot.PodMetrics {
	sc.sync()
	sc.mu.Lock()
	defer sc.mu.Unlock()
	out := make([]*snapshot.PodMetrics, 0, len(sc.targets))
	for _, t := range sc.targets {
		out = append(out, t.pm)
	}
	return out
}

// pages returns each target's last scrape for a snapshot file, by pod.
func (sc *scraper) pages() []snapshot.Scrape {
	sc.mu.Lock()
	targets := slices.Collect(maps.Values(sc.targets))
	sc.mu.Unlock()
	var out []snapshot.Scrape
	for _, t := range targets {
		t.rec.Lock()
		if !t.at.IsZero() {
			s := snapshot.Scrape{Pod: t.key(), Source: t.pm.Source, At: t.at.UTC().Format(time.RFC3339Nano)}
			switch {
			case t.failure != nil:
				s.Error = t.failure.Error()
			case t.page != nil:
				s.Text = pageText(t.page)
			default:
				s = snapshot.Scrape{} // kept no page (Options.KeepPages off)
			}
			if s.Pod != "" {
				out = append(out, s)
			}
		}
		t.rec.Unlock()
	}
	slices.SortFunc(out, func(a, b snapshot.Scrape) int { return strings.Compare(a.Pod, b.Pod) })
	return out
}

// stats returns the number of targets and the scrape counters.
func (sc *scraper) stats() (targets int, scrapes, failures uint64) {
	sc.mu.Lock()
	targets = len(sc.targets)
	sc.mu.Unlock()
	return targets, sc.scrapes.Load(), sc.failures.Load()
}

// pageText renders a page in the Prometheus text format, one sample a
// line, as snapshot files store scrapes. Parsing it gives the page back.
func pageText(p *series.Page) string {
	var b strings.Builder
	for _, s := range p.Samples() {
		b.WriteString(s.Series.String())
		b.WriteByte(' ')
		b.WriteString(strconv.FormatFloat(s.Value, 'g', -1, 64))
		b.WriteByte('\n')
	}
	return b.String()
}

// podTarget returns the scrape target of a pod a metrics source selected:
// http://<status.podIP>:<port><path>. A pod without an IP, or one that has
// finished, is not a target; a pod whose port cannot be resolved is one
// whose every scrape fails, so that its metrics read Unknown rather than
// missing.
func podTarget(o *snapshot.Object, m *catalog.Scrape) (target, bool) {
	tree := o.Tree()
	phase, _ := compact.Lookup(tree, "status", "phase")
	if phase == "Succeeded" || phase == "Failed" {
		return target{}, false
	}
	ipv, _ := compact.Lookup(tree, "status", "podIP")
	ip, _ := ipv.(string)
	if ip == "" {
		return target{}, false
	}
	t := target{namespace: o.Namespace, name: o.Name, uid: o.UID, interval: m.Interval.D, timeout: m.Timeout.D}
	port, err := resolvePort(tree, m.Port)
	switch {
	case err != nil:
		t.err = err
	case net.ParseIP(ip) == nil:
		t.err = fmt.Errorf("pod IP %q is not an IP address", ip)
	default:
		t.url = "http://" + net.JoinHostPort(ip, strconv.Itoa(port)) + m.Path
	}
	return t, true
}

// resolvePort returns the port number: the number given, or the
// containerPort of the container port (in containers or init containers)
// with the name given.
func resolvePort(pod any, p catalog.IntOrString) (int, error) {
	if p.Str == "" {
		if p.Int < 1 || p.Int > 65535 {
			return 0, fmt.Errorf("port %d is out of range", p.Int)
		}
		return p.Int, nil
	}
	for _, field := range []string{"containers", "initContainers"} {
		csv, _ := compact.Lookup(pod, "spec", field)
		cs, _ := csv.([]any)
		for _, c := range cs {
			portsv, _ := compact.Lookup(c, "ports")
			ports, _ := portsv.([]any)
			for _, cp := range ports {
				if name, _ := compact.Lookup(cp, "name"); name != p.Str {
					continue
				}
				n, _ := compact.Lookup(cp, "containerPort")
				switch n := n.(type) {
				case int64:
					return int(n), nil
				case float64:
					return int(n), nil
				case int:
					return n, nil
				}
			}
		}
	}
	return 0, fmt.Errorf("pod has no container port named %q", p.Str)
}

// targets lists the scrape targets the metrics sources select now, each
// pod once (the first source by name wins). It is the scraper's targetsFn.
func (s *Sources) targets() []target {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []target
	seen := map[string]bool{}
	var nsLabels map[string]labels.Labels
	for _, name := range slices.Sorted(maps.Keys(s.sources)) {
		src := s.sources[name]
		if src.metrics == nil {
			continue
		}
		served, namespaced := s.served(src)
		if !served {
			continue
		}
		check := src.clientSide && namespaced
		if check && src.needsNamespaces(namespaced) && nsLabels == nil {
			nsLabels = s.namespaceLabels()
		}
		for _, k := range src.keys(namespaced) {
			i := s.informers[k]
			if i == nil {
				continue
			}
			i.each(func(o *snapshot.Object) {
				if check && !src.sel.NamespaceMatches(o.Namespace, nsLabels[o.Namespace]) {
					return
				}
				t, ok := podTarget(o, src.metrics)
				if !ok || seen[t.key()] {
					return
				}
				seen[t.key()] = true
				t.source = name
				out = append(out, t)
			})
		}
	}
	return out
}

// ScrapeAll scrapes every metrics target once, now, with at most
// Options.ScrapeWorkers at a time, and returns when all are recorded. It is
// what `statusd snapshot --scrape` uses; the daemon scrapes on schedule.
func (s *Sources) ScrapeAll(ctx context.Context) error {
	return s.scraper.scrapeAll(ctx)
}
