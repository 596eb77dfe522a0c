package promstack

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// PrometheusOptions configure a Prometheus server.
type PrometheusOptions struct {
	// Targets are host:port addresses scraped at /metrics.
	Targets []string
	// ScrapeInterval is how often each target is scraped; 1s by default,
	// so that a test sees a changed value within a second or two.
	ScrapeInterval time.Duration
	// ExtraArgs are appended to the command line.
	ExtraArgs []string
}

// Prometheus is a running Prometheus server.
type Prometheus struct {
	// URL is its base URL, http://127.0.0.1:PORT.
	URL  string
	dir  string
	proc *process
}

// StartPrometheus starts a Prometheus server with a fresh TSDB in a
// temporary directory, scraping opts.Targets, and stops it when the test
// ends. It fails the test when the binary is missing or the server does
// not become ready.
func StartPrometheus(t testing.TB, opts PrometheusOptions) *Prometheus {
	t.Helper()
	p, err := startPrometheus(t.Context(), t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	return p
}

func startPrometheus(ctx context.Context, dir string, opts PrometheusOptions) (*Prometheus, error) {
	bin, err := binary("prometheus")
	if err != nil {
		return nil, err
	}
	if opts.ScrapeInterval == 0 {
		opts.ScrapeInterval = time.Second
	}
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "global:\n  scrape_interval: %s\n  evaluation_interval: %s\n", promDuration(opts.ScrapeInterval), promDuration(opts.ScrapeInterval))
	cfg.WriteString("scrape_configs:\n")
	if len(opts.Targets) > 0 {
		fmt.Fprintf(&cfg, "- job_name: test\n  scrape_timeout: %s\n  static_configs:\n  - targets: [%s]\n",
			promDuration(opts.ScrapeInterval), quoteAll(opts.Targets))
	}
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg.String()), 0o644); err != nil {
		return nil, fmt.Errorf("write prometheus config: %w", err)
	}
	var last error
	for range 3 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		args := append([]string{
			"--config.file=" + cfgPath,
			"--storage.tsdb.path=" + filepath.Join(dir, "data"),
			"--web.listen-address=" + addr,
			"--log.level=warn",
		}, opts.ExtraArgs...)
		proc, err := start("prometheus", bin, args, dir, filepath.Join(dir, "prometheus.log"))
		if err != nil {
			return nil, err
		}
		p := &Prometheus{URL: "http://" + addr, dir: dir, proc: proc}
		if last = proc.waitReady(ctx, p.URL+"/-/ready"); last == nil {
			return p, nil
		}
		proc.stop(stopGrace)
		if !strings.Contains(last.Error(), "address already in use") {
			return nil, last
		}
	}
	return nil, last
}

// Stop stops the server; it may be called more than once.
func (p *Prometheus) Stop() { p.proc.stop(stopGrace) }

// Log returns the server's log, for a failing test's message.
func (p *Prometheus) Log() string { return tail(p.proc.logPath, 50) }

// promDuration writes d as Prometheus's configuration wants it: whole
// milliseconds with a unit.
func promDuration(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return fmt.Sprintf("%dms", d/time.Millisecond)
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
