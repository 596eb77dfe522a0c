package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"statusd.io/statusd/pkg/alertmanager"
	"statusd.io/statusd/pkg/daemon"
	"statusd.io/statusd/pkg/promquery"
)

// usageError is a flag value that cannot work; the command exits 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// promFlags point statusd at a Prometheus-compatible endpoint for the
// catalogue's query sources; statusd run and statusd snapshot share them.
type promFlags struct {
	url, tokenFile, caFile, certFile, keyFile string
	queryTimeout, tickTimeout                 time.Duration
	concurrency                               int
}

func (p *promFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&p.url, "prometheus-url", "", "Prometheus-compatible endpoint (Prometheus, Thanos Query, Mimir, VictoriaMetrics) for the catalogue's query sources; none: they are not configured and the reasons reading them stay quiet")
	fs.StringVar(&p.tokenFile, "prometheus-bearer-token-file", "", "file with a bearer token for --prometheus-url, re-read on every request")
	fs.StringVar(&p.caFile, "prometheus-ca-file", "", "CA bundle that signs --prometheus-url's certificate")
	fs.StringVar(&p.certFile, "prometheus-cert-file", "", "client certificate for --prometheus-url (with --prometheus-key-file)")
	fs.StringVar(&p.keyFile, "prometheus-key-file", "", "client key for --prometheus-url (with --prometheus-cert-file)")
	fs.DurationVar(&p.queryTimeout, "prometheus-query-timeout", 0, "cap on one query's timeout; each source's own (10s by default) applies below it (0: no cap)")
	fs.DurationVar(&p.tickTimeout, "prometheus-tick-timeout", promquery.DefaultTickTimeout, "bound on all queries of one tick; a query not done by then is Unknown")
	fs.IntVar(&p.concurrency, "prometheus-concurrency", promquery.DefaultConcurrency, "queries in flight at once")
}

// runner builds the query runner; nil without --prometheus-url. Its
// problems are usage errors, all reported at once.
func (p *promFlags) runner(reg prometheus.Registerer, log *slog.Logger) (*promquery.Runner, error) {
	if p.url == "" {
		var errs []error
		for name, v := range map[string]string{
			"--prometheus-bearer-token-file": p.tokenFile, "--prometheus-ca-file": p.caFile,
			"--prometheus-cert-file": p.certFile, "--prometheus-key-file": p.keyFile,
		} {
			if v != "" {
				errs = append(errs, fmt.Errorf("%s needs --prometheus-url", name))
			}
		}
		if len(errs) > 0 {
			return nil, &usageError{errors.Join(errs...)}
		}
		return nil, nil
	}
	var errs []error
	if p.tickTimeout <= 0 || p.tickTimeout >= daemon.DefaultTickTimeout {
		errs = append(errs, fmt.Errorf("--prometheus-tick-timeout %s: want more than 0 and less than the tick's %s", p.tickTimeout, daemon.DefaultTickTimeout))
	}
	if p.concurrency <= 0 {
		errs = append(errs, fmt.Errorf("--prometheus-concurrency %d: want at least 1", p.concurrency))
	}
	if p.queryTimeout < 0 {
		errs = append(errs, fmt.Errorf("--prometheus-query-timeout %s: want 0 or more", p.queryTimeout))
	}
	if len(errs) > 0 {
		return nil, &usageError{errors.Join(errs...)}
	}
	r, err := promquery.New(promquery.Options{
		URL: p.url, BearerTokenFile: p.tokenFile, CAFile: p.caFile, CertFile: p.certFile, KeyFile: p.keyFile,
		Concurrency: p.concurrency, TickTimeout: p.tickTimeout, QueryTimeout: p.queryTimeout, Registry: reg, Logger: log,
	})
	if err != nil {
		return nil, &usageError{fmt.Errorf("--prometheus-*: %w", err)}
	}
	return r, nil
}

// alertFlags send root causes to Alertmanager.
type alertFlags struct {
	urls           stringList
	tokenFile      string
	resendInterval time.Duration
	retryMax       time.Duration
	cluster        string
	externalURL    string
}

func (a *alertFlags) register(fs *flag.FlagSet) {
	fs.Var(&a.urls, "alertmanager-url", "Alertmanager to send root causes to (repeatable: every member of an HA cluster gets every alert)")
	fs.StringVar(&a.tokenFile, "alertmanager-bearer-token-file", "", "file with a bearer token for the Alertmanagers, re-read on every request")
	fs.DurationVar(&a.resendInterval, "alertmanager-resend-interval", alertmanager.DefaultResendInterval, "how often a firing alert is sent again; it is valid for four intervals")
	fs.DurationVar(&a.retryMax, "alertmanager-retry-max", alertmanager.DefaultRetryMax, "longest wait between retries of a failed send (backoff from 1s)")
	fs.StringVar(&a.cluster, "cluster-name", "", "this cluster's name: the cluster label of alerts and of statusd_root_cause")
	fs.StringVar(&a.externalURL, "external-url", "", "statusd's URL as people reach it; alerts link to its /explain")
}

// validate checks the flags that matter without an Alertmanager too.
func (a *alertFlags) validate() error {
	var errs []error
	if a.externalURL != "" {
		if u, err := url.Parse(a.externalURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("--external-url %q: want http(s)://host[:port][/prefix]", a.externalURL))
		}
	}
	if len(a.urls) == 0 && a.tokenFile != "" {
		errs = append(errs, errors.New("--alertmanager-bearer-token-file needs --alertmanager-url"))
	}
	if len(errs) > 0 {
		return &usageError{errors.Join(errs...)}
	}
	return nil
}

// sender builds the Alertmanager sender; nil without --alertmanager-url.
func (a *alertFlags) sender(reg prometheus.Registerer, log *slog.Logger) (*alertmanager.Sender, error) {
	if err := a.validate(); err != nil || len(a.urls) == 0 {
		return nil, err
	}
	s, err := alertmanager.New(alertmanager.Options{
		URLs: a.urls, BearerTokenFile: a.tokenFile, Cluster: a.cluster, ExternalURL: a.externalURL,
		ResendInterval: a.resendInterval, RetryMax: a.retryMax, Registry: reg, Logger: log,
	})
	if err != nil {
		return nil, &usageError{fmt.Errorf("--alertmanager-*: %w", err)}
	}
	return s, nil
}
