// Package promquery runs a catalogue's Prometheus query sources at a
// tick's time against the Prometheus-compatible endpoint statusd runs
// with (Prometheus, Thanos Query, Mimir, VictoriaMetrics: anything serving
// /api/v1/query), and hands the results to the snapshot.
//
// Every query is an instant query evaluated at the tick's time. A query
// that errs, times out (its own timeout, or the tick's), or returns more
// series than its cap or more bytes than the response cap is Failed: the
// reasons that read it are Unknown, never zero. A query that returns no
// series is Ready and empty: absent, which CEL keeps distinct from zero.
// At most Options.Concurrency queries run at once.
//
// The endpoint and its credentials (a bearer token file, re-read on every
// request so a rotated token is picked up; TLS files) come from statusd's
// flags and the chart's values, never from the catalogue.
package promquery

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/snapshot"
)

// Defaults for Options.
const (
	DefaultConcurrency = 4
	DefaultTickTimeout = 20 * time.Second
	DefaultMaxBytes    = 16 << 20
)

// Options configure a Runner.
type Options struct {
	// URL is the endpoint's base URL, such as
	// http://prometheus-operated.monitoring:9090 or a Thanos Query URL.
	URL string
	// BearerTokenFile, when set, is read on every request and sent as
	// Authorization: Bearer.
	BearerTokenFile string
	// CAFile, CertFile and KeyFile configure TLS: a CA bundle to trust
	// and a client certificate.
	CAFile, CertFile, KeyFile string
	// ServerName overrides the name the server's certificate is checked
	// against.
	ServerName string
	// InsecureSkipVerify turns certificate checks off; for tests only.
	InsecureSkipVerify bool
	// Concurrency bounds the queries in flight; default 4.
	Concurrency int
	// TickTimeout bounds all queries of one tick; default 20s.
	TickTimeout time.Duration
	// QueryTimeout, when set, caps every query's timeout: a source's own
	// (catalogue) timeout, 10s by default, applies below it. It lets an
	// operator bound what a catalogue may ask of a shared Prometheus.
	QueryTimeout time.Duration
	// MaxBytes caps one response's body; default 16 MiB.
	MaxBytes int64
	// Registry receives the Runner's metrics; none when nil.
	Registry prometheus.Registerer
	// Logger receives state changes (a query starting or stopping to
	// fail); discarded when nil.
	Logger *slog.Logger
}

// Runner runs query sources. Run may be called from one goroutine at a
// time (the tick loop); the Runner is otherwise stateless but for the
// failure state it logs changes of.
type Runner struct {
	opts    Options
	api     v1.API
	log     *slog.Logger
	queries *prometheus.CounterVec

	mu      sync.Mutex
	failing map[string]bool
}

// New validates opts and returns a Runner; nothing is sent until Run.
func New(opts Options) (*Runner, error) {
	if opts.Concurrency == 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.TickTimeout == 0 {
		opts.TickTimeout = DefaultTickTimeout
	}
	if opts.MaxBytes == 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	var errs []error
	if u, err := url.Parse(opts.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("prometheus URL %q: want http(s)://host[:port][/prefix]", opts.URL))
	}
	if opts.Concurrency < 0 || opts.TickTimeout < 0 || opts.MaxBytes < 0 || opts.QueryTimeout < 0 {
		errs = append(errs, errors.New("concurrency, tick timeout, query timeout and max bytes must be positive"))
	}
	if opts.QueryTimeout > opts.TickTimeout {
		errs = append(errs, fmt.Errorf("query timeout %s exceeds the tick timeout %s", opts.QueryTimeout, opts.TickTimeout))
	}
	if (opts.CertFile == "") != (opts.KeyFile == "") {
		errs = append(errs, errors.New("a client certificate needs both a cert file and a key file"))
	}
	tlsCfg, err := tlsConfig(opts)
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("prometheus options: %w", errors.Join(errs...))
	}
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.TLSClientConfig = tlsCfg
	client, err := api.NewClient(api.Config{
		Address:      opts.URL,
		RoundTripper: &roundTripper{next: base, tokenFile: opts.BearerTokenFile, maxBytes: opts.MaxBytes},
	})
	if err != nil {
		return nil, fmt.Errorf("prometheus client: %w", err)
	}
	r := &Runner{
		opts:    opts,
		api:     v1.NewAPI(client),
		log:     opts.Logger.With("component", "promquery"),
		failing: map[string]bool{},
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "statusd_prometheus_queries_total",
			Help: "Query source evaluations against Prometheus, by source and result (success or failure).",
		}, []string{"source", "result"}),
	}
	if opts.Registry != nil {
		if err := opts.Registry.Register(r.queries); err != nil {
			return nil, fmt.Errorf("register prometheus query metrics: %w", err)
		}
	}
	return r, nil
}

func tlsConfig(opts Options) (*tls.Config, error) {
	cfg := &tls.Config{ServerName: opts.ServerName, InsecureSkipVerify: opts.InsecureSkipVerify, MinVersion: tls.VersionTLS12} //nolint:gosec // opt-in, for tests
	if opts.CAFile != "" {
		pem, err := os.ReadFile(opts.CAFile)
		if err != nil {
			return nil, fmt.Errorf("prometheus CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("prometheus CA file %s: no certificate found", opts.CAFile)
		}
		cfg.RootCAs = pool
	}
	if opts.CertFile != "" && opts.KeyFile != "" {
		// Read on every handshake, so a renewed certificate is used.
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			c, err := tls.LoadX509KeyPair(opts.CertFile, opts.KeyFile)
			if err != nil {
				return nil, fmt.Errorf("prometheus client certificate: %w", err)
			}
			return &c, nil
		}
	}
	return cfg, nil
}

// roundTripper adds the bearer token and caps response bodies.
type roundTripper struct {
	next      http.RoundTripper
	tokenFile string
	maxBytes  int64
}

// ErrTooLarge reports a response over Options.MaxBytes.
var ErrTooLarge = errors.New("prometheus response over the size cap")

func (rt *roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	if rt.tokenFile != "" {
		tok, err := os.ReadFile(rt.tokenFile)
		if err != nil {
			return nil, fmt.Errorf("read bearer token: %w", err)
		}
		req = req.Clone(req.Context())
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	}
	resp, err := rt.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &capped{r: resp.Body, left: rt.maxBytes}
	return resp, nil
}

type capped struct {
	r    io.ReadCloser
	left int64
}

func (c *capped) Read(p []byte) (int, error) {
	if c.left <= 0 {
		// One byte more tells a body of exactly the cap from a larger one.
		var one [1]byte
		if n, _ := c.r.Read(one[:]); n > 0 {
			return 0, ErrTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

func (c *capped) Close() error { return c.r.Close() }

// Run evaluates every query source of c at time at and returns their
// results, one per source, in source order. It never fails as a whole:
// each source's failure is its own result.
func (r *Runner) Run(ctx context.Context, at time.Time, c *catalog.Catalog) []*snapshot.QueryResult {
	var names []string
	for _, name := range c.SourceNames() {
		if s := c.Sources[name]; s.IsQuery() {
			names = append(names, name)
		}
	}
	out := make([]*snapshot.QueryResult, len(names))
	if len(names) == 0 {
		return out
	}
	ctx, cancel := context.WithTimeout(ctx, r.opts.TickTimeout)
	defer cancel()
	sem := make(chan struct{}, r.opts.Concurrency)
	var wg sync.WaitGroup
	for i, name := range names {
		src := c.Sources[name]
		wg.Go(func() {
			notRun := func() *snapshot.QueryResult {
				return &snapshot.QueryResult{
					Source: name, Status: snapshot.StatusFailed, At: at,
					Err: fmt.Sprintf("not run within the tick's %s: %v", r.opts.TickTimeout, ctx.Err()),
				}
			}
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
				// A slot freed by a query the deadline cut and the
				// deadline itself can be ready together, and select
				// picks at random: a query that would only start after
				// the tick's deadline is reported as not run, not as a
				// request that failed.
				if ctx.Err() != nil {
					out[i] = notRun()
					return
				}
				out[i] = r.one(ctx, at, name, src.Prometheus)
			case <-ctx.Done():
				out[i] = notRun()
			}
		})
	}
	wg.Wait()
	for _, res := range out {
		r.note(res)
	}
	return out
}

// one runs one query.
func (r *Runner) one(ctx context.Context, at time.Time, name string, q *catalog.Query) *snapshot.QueryResult {
	res := &snapshot.QueryResult{Source: name, Status: snapshot.StatusReady, At: at}
	timeout := q.Timeout.D
	if timeout <= 0 {
		timeout = catalog.DefaultQueryTimeout
	}
	if r.opts.QueryTimeout > 0 && timeout > r.opts.QueryTimeout {
		timeout = r.opts.QueryTimeout
	}
	maxSeries := q.MaxSeries
	if maxSeries <= 0 {
		maxSeries = catalog.DefaultQueryMaxSeries
	}
	qctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	val, warnings, err := r.api.Query(qctx, q.Query.Text, at, v1.WithTimeout(timeout))
	if len(warnings) > 0 {
		r.log.Debug("Query warnings", "source", name, "warnings", strings.Join(warnings, "; "))
	}
	if err != nil {
		if errors.Is(qctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
			err = fmt.Errorf("timed out after %s: %w", timeout, err)
		}
		return fail(res, err)
	}
	switch v := val.(type) {
	case model.Vector:
		if len(v) > maxSeries {
			return fail(res, fmt.Errorf("result has %d series, over the cap of %d", len(v), maxSeries))
		}
		res.Samples = make([]snapshot.QuerySample, len(v))
		for i, s := range v {
			labels := make(map[string]string, len(s.Metric))
			for k, lv := range s.Metric {
				labels[string(k)] = string(lv)
			}
			res.Samples[i] = snapshot.QuerySample{Labels: labels, Value: float64(s.Value)}
		}
	case *model.Scalar:
		res.Samples = []snapshot.QuerySample{{Labels: map[string]string{}, Value: float64(v.Value)}}
	default:
		return fail(res, fmt.Errorf("result is a %s; want an instant vector or a scalar", val.Type()))
	}
	return res
}

func fail(res *snapshot.QueryResult, err error) *snapshot.QueryResult {
	res.Status, res.Err, res.Samples = snapshot.StatusFailed, err.Error(), nil
	return res
}

// note counts a result and logs a source that starts or stops failing.
func (r *Runner) note(res *snapshot.QueryResult) {
	failed := res.Status == snapshot.StatusFailed
	result := "success"
	if failed {
		result = "failure"
	}
	r.queries.WithLabelValues(res.Source, result).Inc()
	r.mu.Lock()
	was := r.failing[res.Source]
	r.failing[res.Source] = failed
	r.mu.Unlock()
	switch {
	case failed && !was:
		r.log.Warn("Prometheus query failing; reasons reading it are Unknown", "source", res.Source, "err", res.Err)
	case !failed && was:
		r.log.Info("Prometheus query answering again", "source", res.Source)
	}
}
