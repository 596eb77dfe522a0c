package alertmanager

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/utils/clock"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/engine"
)

// Defaults for Options.
const (
	// DefaultResendInterval is Prometheus's --rules.alert.resend-delay.
	DefaultResendInterval = time.Minute
	// DefaultTimeout bounds one POST.
	DefaultTimeout = 10 * time.Second
	// DefaultRetryBase and DefaultRetryMax bound the backoff after a failed
	// POST: an Alertmanager back from an outage gets the backlog within
	// half a minute.
	DefaultRetryBase = time.Second
	DefaultRetryMax  = 30 * time.Second
	// DefaultMaxBatch is how many alerts one POST carries at most.
	DefaultMaxBatch = 64
	// DefaultMaxAlerts bounds the alerts the Sender keeps, firing and
	// resolved-but-undelivered together.
	DefaultMaxAlerts = 10000
	// endsAtResends is how many resend intervals a firing alert stays
	// valid without being sent again, as Prometheus sets it.
	endsAtResends = 4
	// maxSuppressed caps the suppressed annotation's list; the rest is
	// counted.
	maxSuppressed = 20
	// maxAnnotation caps an annotation value, so that a long message
	// cannot make a POST too big for Alertmanager.
	maxAnnotation = 4096
)

// Label names on every alert.
const (
	LabelAlertname = "alertname"
	LabelSeverity  = "severity"
	LabelLayer     = "layer"
	LabelNamespace = "namespace"
	LabelKind      = "kind"
	LabelName      = "name"
	LabelCluster   = "cluster"
	LabelCatalog   = "catalog"
)

// Annotation names on every alert.
const (
	AnnotationMessage    = "message"
	AnnotationSummary    = "summary"
	AnnotationSuppressed = "suppressed"
	AnnotationExplain    = "explain"
	// AnnotationCatalogVersion is the version of the catalogue that
	// decided. It is an annotation, not a label: an alert's identity is
	// its label set, and a label that changes with every catalogue edit
	// would page again for every firing root cause on a reload, and once
	// more after a restart.
	AnnotationCatalogVersion = "catalog_version"
)

// Options configure a Sender.
type Options struct {
	// URLs are the Alertmanagers' base URLs (http://alertmanager:9093);
	// every alert goes to each, as Prometheus sends to every member of an
	// HA cluster. At least one is required.
	URLs []string
	// Cluster is the value of every alert's cluster label; empty leaves
	// the label out.
	Cluster string
	// ExternalURL is statusd's own URL as people reach it; alerts link to
	// its /explain for their subject. Empty leaves the link out.
	ExternalURL string
	// Client sends the POSTs; it carries TLS and credentials. Default a
	// plain client.
	Client *http.Client
	// BearerTokenFile, when set, is read on every POST (so a rotated
	// token is picked up) and sent as Authorization: Bearer, as
	// Prometheus's alertmanager_config authorization does. A file that
	// cannot be read fails the POST, which is retried.
	BearerTokenFile string
	// ResendInterval is how often a firing alert is sent again; default
	// 1m. Alerts are valid for four intervals.
	ResendInterval time.Duration
	// Timeout bounds one POST; default 10s.
	Timeout time.Duration
	// RetryBase and RetryMax bound the exponential backoff after a failed
	// POST, per Alertmanager; default 1s and 30s.
	RetryBase, RetryMax time.Duration
	// MaxBatch is how many alerts one POST carries; default 64.
	MaxBatch int
	// MaxAlerts bounds the alerts kept; default 10000.
	MaxAlerts int
	// Clock decides resends and backoff; default the real clock. Tests
	// pass a fake one.
	Clock clock.WithTicker
	// Registry receives the Sender's metrics; none when nil.
	Registry prometheus.Registerer
	// Logger receives state changes; discarded when nil.
	Logger *slog.Logger
}

func (o Options) withDefaults() (Options, error) {
	if o.Client == nil {
		o.Client = &http.Client{}
	}
	if o.ResendInterval == 0 {
		o.ResendInterval = DefaultResendInterval
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.RetryBase == 0 {
		o.RetryBase = DefaultRetryBase
	}
	if o.RetryMax == 0 {
		o.RetryMax = DefaultRetryMax
	}
	if o.MaxBatch == 0 {
		o.MaxBatch = DefaultMaxBatch
	}
	if o.MaxAlerts == 0 {
		o.MaxAlerts = DefaultMaxAlerts
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	var errs []error
	if len(o.URLs) == 0 {
		errs = append(errs, errors.New("at least one Alertmanager URL is required"))
	}
	seen := map[string]bool{}
	for _, u := range o.URLs {
		p, err := url.Parse(u)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("alertmanager URL %q: %w", u, err))
		case p.Scheme != "http" && p.Scheme != "https", p.Host == "":
			errs = append(errs, fmt.Errorf("alertmanager URL %q: want http(s)://host[:port][/prefix]", u))
		case seen[u]:
			errs = append(errs, fmt.Errorf("alertmanager URL %q given twice", u))
		}
		seen[u] = true
	}
	if o.BearerTokenFile != "" {
		if _, err := os.Stat(o.BearerTokenFile); err != nil {
			errs = append(errs, fmt.Errorf("alertmanager bearer token file: %w", err))
		}
	}
	if o.ExternalURL != "" {
		if p, err := url.Parse(o.ExternalURL); err != nil || p.Scheme == "" || p.Host == "" {
			errs = append(errs, fmt.Errorf("external URL %q: want http(s)://host[:port][/prefix]", o.ExternalURL))
		}
	}
	for name, d := range map[string]time.Duration{"resend interval": o.ResendInterval, "timeout": o.Timeout, "retry base": o.RetryBase, "retry max": o.RetryMax} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, got %v", name, d))
		}
	}
	if o.RetryMax < o.RetryBase {
		errs = append(errs, fmt.Errorf("retry max %v is below retry base %v", o.RetryMax, o.RetryBase))
	}
	if o.MaxBatch < 0 {
		errs = append(errs, fmt.Errorf("max batch must be positive, got %d", o.MaxBatch))
	}
	if o.MaxAlerts < 0 {
		errs = append(errs, fmt.Errorf("max alerts must be positive, got %d", o.MaxAlerts))
	}
	return o, errors.Join(errs...)
}

// alert is one alert as the Sender wants Alertmanager to hold it.
type alert struct {
	key          string
	labels       map[string]string
	annotations  map[string]string
	generatorURL string
	startsAt     time.Time
	// endsAt is zero while the alert fires, the resolution time after.
	endsAt time.Time
	// gen changes whenever the alert must reach Alertmanager now rather
	// than at its next resend: it started, or it ended.
	gen uint64
}

func (a *alert) firing() bool { return a.endsAt.IsZero() }

// delivery is what one Alertmanager last received of an alert.
type delivery struct {
	gen uint64
	at  time.Time
}

// member is one Alertmanager. Its fields other than the constants are
// guarded by Sender.mu; kick wakes its loop.
type member struct {
	url      string
	endpoint string
	kick     chan struct{}

	sent     map[string]delivery
	failures int
	retryAt  time.Time
}

// Sender turns engine results into Alertmanager alerts. Publish may be
// called from any goroutine; Run delivers.
type Sender struct {
	opts    Options
	log     *slog.Logger
	metrics *metrics
	members []*member

	mu      sync.Mutex
	alerts  map[string]*alert
	gen     uint64
	running bool
}

// New returns a Sender; options are validated at once, every problem
// reported. Nothing is sent until Run.
func New(opts Options) (*Sender, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("alertmanager options: %w", err)
	}
	s := &Sender{
		opts:    opts,
		log:     opts.Logger.With("component", "alertmanager"),
		metrics: newMetrics(opts.Registry),
		alerts:  map[string]*alert{},
	}
	for _, u := range opts.URLs {
		s.members = append(s.members, &member{
			url:      u,
			endpoint: strings.TrimSuffix(u, "/") + "/api/v2/alerts",
			kick:     make(chan struct{}, 1),
			sent:     map[string]delivery{},
		})
		s.metrics.init(u)
	}
	return s, nil
}

// alertKey identifies an alert by what its labels identify: the reason and
// the subject's kind, namespace and name (a recreated object with a new
// UID is the same alert to whoever is paged).
func alertKey(reason string, s engine.Subject) string {
	return reason + "\x00" + s.String()
}

// Publish takes one tick's result. It never waits for an Alertmanager: the
// cost is a lock and a few map operations per finding.
func (s *Sender) Publish(res *engine.Result) {
	if res == nil {
		return
	}
	at := res.Time
	if at.IsZero() {
		at = s.opts.Clock.Now()
	}
	sup := res.Suppressed()
	s.mu.Lock()
	defer s.mu.Unlock()
	keep := map[string]bool{}
	for _, f := range res.Findings {
		k := alertKey(f.Reason, f.Subject)
		switch {
		case f.Published:
			keep[k] = true
			s.fireLocked(res, f, k, at, sup)
		case f.State == engine.Unknown:
			// Held, or Unknown before it fired: whatever was sent stays
			// as it is, since nothing is known to have changed.
			keep[k] = true
		case f.State == engine.Suppressed || f.State == engine.Firing:
			// Paged, then hidden by a new cause or outranked by another
			// reason on its subject: the problem is still there, so the
			// page stays until the finding clears, as an alert
			// Alertmanager inhibits stays active; "resolved" would tell
			// whoever was paged that it went away. One not paged yet
			// stays unsent.
			if a := s.alerts[k]; a != nil && a.firing() {
				keep[k] = true
			}
		}
	}
	for k, a := range s.alerts {
		if a.firing() && !keep[k] {
			// Resolved, or gone with its reason: statusd no longer pages
			// for it.
			s.resolveLocked(a, at)
		}
	}
	for _, f := range res.Resolved {
		k := alertKey(f.Reason, f.Subject)
		if !f.WasPublished || keep[k] || s.alerts[k] != nil {
			continue
		}
		// Published before a restart: end what Alertmanager still holds.
		since := f.FiringSince
		if since.IsZero() {
			since = at
		}
		if !s.admitLocked() {
			continue
		}
		a := &alert{key: k, labels: s.labels(res, f), annotations: s.annotations(res, f, nil), generatorURL: s.explainURL(f.Subject), startsAt: since}
		s.alerts[k] = a
		s.resolveLocked(a, at)
	}
	s.metrics.setAlerts(s.alerts)
	for _, m := range s.members {
		select {
		case m.kick <- struct{}{}:
		default:
		}
	}
}

// fireLocked records a published finding.
func (s *Sender) fireLocked(res *engine.Result, f *engine.Finding, k string, at time.Time, sup map[engine.CauseRef][]*engine.Finding) {
	since := f.FiringSince
	if since.IsZero() {
		since = at
	}
	a := s.alerts[k]
	if a == nil || !a.firing() || !a.startsAt.Equal(since) {
		if a == nil && !s.admitLocked() {
			return
		}
		if a == nil || !a.startsAt.Equal(since) {
			// A new episode: labels (catalogue version included) are
			// fixed now, for as long as it fires.
			a = &alert{key: k, labels: s.labels(res, f), generatorURL: s.explainURL(f.Subject), startsAt: since}
			s.alerts[k] = a
			s.log.Info("Alert firing", "reason", f.Reason, "subject", f.Subject.String())
		}
		a.endsAt = time.Time{}
		s.gen++
		a.gen = s.gen
	}
	// Annotations ride the next send: a message that changes every tick
	// must not cost a POST every tick.
	a.annotations = s.annotations(res, f, sup[engine.CauseOf(f.Reason, f.Subject)])
}

// resolveLocked ends a firing alert.
func (s *Sender) resolveLocked(a *alert, at time.Time) {
	if at.Before(a.startsAt) {
		at = a.startsAt
	}
	a.endsAt = at
	s.gen++
	a.gen = s.gen
	s.log.Info("Alert resolved", "alert", strings.ReplaceAll(a.key, "\x00", " on "))
}

// admitLocked makes room for one more alert: under MaxAlerts, or by
// dropping the oldest resolved alert not yet delivered everywhere. It
// reports false, counting the drop, when every alert held fires.
func (s *Sender) admitLocked() bool {
	if len(s.alerts) < s.opts.MaxAlerts {
		return true
	}
	var oldest *alert
	for _, a := range s.alerts {
		if !a.firing() && (oldest == nil || a.endsAt.Before(oldest.endsAt)) {
			oldest = a
		}
	}
	if oldest == nil {
		s.metrics.dropped.WithLabelValues("full").Inc()
		s.log.Warn("Alert dropped: every alert held fires", "maxAlerts", s.opts.MaxAlerts)
		return false
	}
	s.forgetLocked(oldest.key)
	s.metrics.dropped.WithLabelValues("full").Inc()
	s.log.Warn("Undelivered resolution dropped to make room", "alert", strings.ReplaceAll(oldest.key, "\x00", " on "), "maxAlerts", s.opts.MaxAlerts)
	return true
}

func (s *Sender) forgetLocked(k string) {
	delete(s.alerts, k)
	for _, m := range s.members {
		delete(m.sent, k)
	}
}

// labels identify the alert of f.
func (s *Sender) labels(res *engine.Result, f *engine.Finding) map[string]string {
	sev := catalog.Severity(f.Severity).Level()
	if sev == "" {
		sev = catalog.SeverityWarning
	}
	l := map[string]string{
		LabelAlertname: f.Reason,
		LabelSeverity:  string(sev),
		LabelLayer:     f.Layer,
		LabelNamespace: f.Subject.Namespace,
		LabelKind:      f.Subject.Kind,
		LabelName:      f.Subject.Name,
		LabelCluster:   s.opts.Cluster,
		LabelCatalog:   res.Catalog,
	}
	for k, v := range l {
		if v == "" {
			delete(l, k)
		}
	}
	return l
}

// annotations explain the alert of f, with the findings it suppresses.
func (s *Sender) annotations(res *engine.Result, f *engine.Finding, hidden []*engine.Finding) map[string]string {
	a := map[string]string{}
	if res.Version != "" {
		a[AnnotationCatalogVersion] = res.Version
	}
	msg := f.Message
	if msg == "" {
		msg = f.Reason + " on " + f.Subject.String()
	}
	a[AnnotationMessage] = truncate(msg, maxAnnotation)
	if f.Summary != "" {
		a[AnnotationSummary] = truncate(f.Summary, maxAnnotation)
	}
	if len(hidden) > 0 {
		a[AnnotationSuppressed] = truncate(suppressedList(f, hidden), maxAnnotation)
	}
	if u := s.explainURL(f.Subject); u != "" {
		a[AnnotationExplain] = u
	}
	return a
}

// suppressedList names the hidden findings: reasons on the cause's own
// subject by name, others as "Reason on Kind/namespace/name", sorted, at
// most maxSuppressed and a count of the rest.
func suppressedList(cause *engine.Finding, hidden []*engine.Finding) string {
	var same, other []string
	for _, h := range hidden {
		if h.Subject.String() == cause.Subject.String() {
			same = append(same, h.Reason)
		} else {
			other = append(other, h.Reason+" on "+h.Subject.String())
		}
	}
	slices.Sort(same)
	slices.Sort(other)
	l := slices.Compact(append(same, other...))
	if n := len(l); n > maxSuppressed {
		l = append(l[:maxSuppressed], fmt.Sprintf("and %d more", n-maxSuppressed))
	}
	return strings.Join(l, ", ")
}

// explainURL links to statusd's explanation of a subject.
func (s *Sender) explainURL(subj engine.Subject) string {
	if s.opts.ExternalURL == "" {
		return ""
	}
	return strings.TrimSuffix(s.opts.ExternalURL, "/") + "/explain?subject=" + url.QueryEscape(subj.String())
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// Run delivers alerts to every Alertmanager until ctx ends, one goroutine
// each, and returns once they have stopped. It may run once at a time.
func (s *Sender) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.running {
		s.mu.Unlock()
		return errors.New("alertmanager sender is already running")
	}
	s.running = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.running = false
		s.mu.Unlock()
	}()
	s.log.Info("Alertmanager sender started", "alertmanagers", len(s.members), "resendInterval", s.opts.ResendInterval)
	var wg sync.WaitGroup
	for _, m := range s.members {
		wg.Go(func() { s.loop(ctx, m) })
	}
	wg.Wait()
	return nil
}

// postable is an alert as the v2 API takes it.
type postable struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"startsAt,omitzero"`
	EndsAt       time.Time         `json:"endsAt,omitzero"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// sending is one alert in a batch, with the generation it carries.
type sending struct {
	key string
	gen uint64
}

// loop delivers to one Alertmanager until ctx ends.
func (s *Sender) loop(ctx context.Context, m *member) {
	for {
		s.mu.Lock()
		now := s.opts.Clock.Now()
		var batch []postable
		var sent []sending
		var wait time.Duration
		if now.Before(m.retryAt) {
			wait = m.retryAt.Sub(now)
		} else {
			var due []*alert
			due, wait = s.dueLocked(m, now)
			s.metrics.queue.WithLabelValues(m.url).Set(float64(len(due)))
			for _, a := range due[:min(len(due), s.opts.MaxBatch)] {
				p := postable{Labels: a.labels, Annotations: a.annotations, StartsAt: a.startsAt, EndsAt: a.endsAt, GeneratorURL: a.generatorURL}
				if a.firing() {
					p.EndsAt = now.Add(endsAtResends * s.opts.ResendInterval)
				}
				batch = append(batch, p)
				sent = append(sent, sending{key: a.key, gen: a.gen})
			}
		}
		s.mu.Unlock()
		if len(batch) == 0 {
			if !s.sleep(ctx, m, wait) {
				return
			}
			continue
		}
		err := s.post(ctx, m, batch)
		if ctx.Err() != nil {
			return
		}
		s.settle(m, sent, err, now)
	}
}

// dueLocked returns the alerts m should get now, oldest change first, and
// how long until the next one falls due when none does (-1: nothing
// scheduled).
func (s *Sender) dueLocked(m *member, now time.Time) ([]*alert, time.Duration) {
	var due []*alert
	next := time.Duration(-1)
	for k, a := range s.alerts {
		d, ok := m.sent[k]
		switch {
		case !ok || d.gen != a.gen:
			due = append(due, a)
		case a.firing():
			left := d.at.Add(s.opts.ResendInterval).Sub(now)
			if left <= 0 {
				due = append(due, a)
			} else if next < 0 || left < next {
				next = left
			}
		}
	}
	slices.SortFunc(due, func(a, b *alert) int {
		switch {
		case a.gen < b.gen:
			return -1
		case a.gen > b.gen:
			return 1
		}
		return strings.Compare(a.key, b.key)
	})
	return due, next
}

// sleep waits for a kick, wait (unless negative) or ctx; false when ctx
// ended.
func (s *Sender) sleep(ctx context.Context, m *member, wait time.Duration) bool {
	var timer <-chan time.Time
	if wait >= 0 {
		t := s.opts.Clock.NewTimer(wait)
		defer t.Stop()
		timer = t.C()
	}
	select {
	case <-ctx.Done():
		return false
	case <-m.kick:
	case <-timer:
	}
	return true
}

// settle records the outcome of a POST made at now.
func (s *Sender) settle(m *member, sent []sending, err error, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var perm *permanentError
	switch {
	case err == nil || errors.As(err, &perm):
		if err != nil {
			// Retrying a refused batch cannot help; firing alerts are
			// tried again at their next resend.
			s.metrics.failures.WithLabelValues(m.url).Inc()
			s.metrics.dropped.WithLabelValues("refused").Add(float64(len(sent)))
			s.log.Error("Alerts refused by Alertmanager", "alertmanager", m.url, "alerts", len(sent), "err", err)
		} else {
			s.metrics.sent.WithLabelValues(m.url).Add(float64(len(sent)))
			if m.failures > 0 {
				s.log.Info("Alertmanager reachable again", "alertmanager", m.url, "failedAttempts", m.failures)
			}
		}
		m.failures, m.retryAt = 0, time.Time{}
		for _, x := range sent {
			m.sent[x.key] = delivery{gen: x.gen, at: now}
		}
		s.gcLocked()
	default:
		s.metrics.failures.WithLabelValues(m.url).Inc()
		m.failures++
		backoff := s.opts.RetryBase << min(m.failures-1, 30)
		if backoff > s.opts.RetryMax || backoff <= 0 {
			backoff = s.opts.RetryMax
		}
		m.retryAt = s.opts.Clock.Now().Add(backoff)
		if m.failures == 1 {
			s.log.Warn("Alertmanager send failed, retrying", "alertmanager", m.url, "alerts", len(sent), "retryIn", backoff, "err", err)
		}
	}
}

// gcLocked forgets resolved alerts every Alertmanager has received.
func (s *Sender) gcLocked() {
	for k, a := range s.alerts {
		if a.firing() {
			continue
		}
		everywhere := true
		for _, m := range s.members {
			if d, ok := m.sent[k]; !ok || d.gen != a.gen {
				everywhere = false
				break
			}
		}
		if everywhere {
			s.forgetLocked(k)
		}
	}
	s.metrics.setAlerts(s.alerts)
}

// permanentError is an answer that a retry cannot change.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// post sends one batch.
func (s *Sender) post(ctx context.Context, m *member, batch []postable) error {
	body, err := json.Marshal(batch)
	if err != nil {
		return &permanentError{fmt.Errorf("encode alerts: %w", err)}
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.endpoint, bytes.NewReader(body))
	if err != nil {
		return &permanentError{fmt.Errorf("build request to %s: %w", m.endpoint, err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "statusd")
	if s.opts.BearerTokenFile != "" {
		tok, err := os.ReadFile(s.opts.BearerTokenFile)
		if err != nil {
			return fmt.Errorf("read alertmanager bearer token: %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	}
	resp, err := s.opts.Client.Do(req)
	if err != nil {
		return fmt.Errorf("post alerts to %s: %w", m.endpoint, err)
	}
	defer func() { _ = resp.Body.Close() }()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	switch {
	case resp.StatusCode/100 == 2:
		return nil
	case resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusRequestTimeout:
		return &permanentError{fmt.Errorf("post alerts to %s: %s: %s", m.endpoint, resp.Status, strings.TrimSpace(string(msg)))}
	default:
		return fmt.Errorf("post alerts to %s: %s: %s", m.endpoint, resp.Status, strings.TrimSpace(string(msg)))
	}
}

// Stats is a snapshot of the Sender's state, for tests and status pages.
type Stats struct {
	// Firing and Resolved count the alerts held; Resolved ones wait for
	// delivery to some Alertmanager.
	Firing, Resolved int
	// Pending counts, per Alertmanager URL, the alerts it has not received
	// in their latest form (not counting resends that are due).
	Pending map[string]int
	// Failures counts, per URL, consecutive failed POSTs.
	Failures map[string]int
}

// Stats returns the current state.
func (s *Sender) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{Pending: map[string]int{}, Failures: map[string]int{}}
	for _, a := range s.alerts {
		if a.firing() {
			st.Firing++
		} else {
			st.Resolved++
		}
	}
	for _, m := range s.members {
		n := 0
		for k, a := range s.alerts {
			if d, ok := m.sent[k]; !ok || d.gen != a.gen {
				n++
			}
		}
		st.Pending[m.url] = n
		st.Failures[m.url] = m.failures
	}
	return st
}
