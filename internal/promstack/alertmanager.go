package promstack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// AlertmanagerOptions configure Alertmanagers.
type AlertmanagerOptions struct {
	// Webhook is the URL every notification goes to, with resolved
	// notifications enabled; required.
	Webhook string
	// GroupBy are the route's group_by labels; by default every alert is
	// a group of its own ("..."), so one notification is one alert.
	GroupBy []string
	// GroupWait, GroupInterval and RepeatInterval are the route's timers:
	// 1s, 1s and 1h by default, so a test sees a notification within
	// seconds and never a repeat.
	GroupWait, GroupInterval, RepeatInterval time.Duration
	// PeerTimeout is how long each HA member waits behind the one before
	// it, so that only one notifies; 2s by default (15s in Alertmanager).
	// An HA pair needs GroupInterval above it, as in Alertmanager's
	// defaults (5m and 15s): a member that waited longer than an interval
	// finds the other's next notification in the log, and sends its own,
	// stale one after it.
	PeerTimeout time.Duration
}

// Alertmanager is one running Alertmanager, alone or a member of a
// cluster started together.
type Alertmanager struct {
	// URL is its base URL, http://127.0.0.1:PORT.
	URL string
	// ClusterAddr is its gossip address, empty when it runs alone.
	ClusterAddr string

	bin  string
	dir  string
	args []string

	mu   sync.Mutex
	proc *process
}

// StartAlertmanager starts one Alertmanager without clustering, and stops
// it when the test ends.
func StartAlertmanager(t testing.TB, opts AlertmanagerOptions) *Alertmanager {
	t.Helper()
	return StartAlertmanagers(t, 1, opts)[0]
}

// StartAlertmanagers starts n Alertmanagers; with n > 1 they form an HA
// cluster (gossip on 127.0.0.1, each peering with the others), as
// kube-prometheus-stack runs them. They are stopped when the test ends.
func StartAlertmanagers(t testing.TB, n int, opts AlertmanagerOptions) []*Alertmanager {
	t.Helper()
	ams, err := startAlertmanagers(t.Context(), t.TempDir(), n, opts)
	for _, am := range ams {
		t.Cleanup(am.Stop)
	}
	if err != nil {
		t.Fatal(err)
	}
	return ams
}

// RunAlertmanager starts one Alertmanager outside a test (make demo) in
// dir, which must exist; the caller stops it with Stop, also when an error
// is returned with it.
func RunAlertmanager(ctx context.Context, dir string, opts AlertmanagerOptions) (*Alertmanager, error) {
	ams, err := startAlertmanagers(ctx, dir, 1, opts)
	if len(ams) == 0 {
		return nil, err
	}
	return ams[0], err
}

func startAlertmanagers(ctx context.Context, dir string, n int, opts AlertmanagerOptions) ([]*Alertmanager, error) {
	if n < 1 {
		return nil, fmt.Errorf("alertmanagers: n must be at least 1, got %d", n)
	}
	if opts.Webhook == "" {
		return nil, errors.New("alertmanagers: a webhook URL is required")
	}
	bin, err := binary("alertmanager")
	if err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfgPath, []byte(alertmanagerConfig(opts)), 0o644); err != nil {
		return nil, fmt.Errorf("write alertmanager config: %w", err)
	}
	peerTimeout := opts.PeerTimeout
	if peerTimeout == 0 {
		peerTimeout = 2 * time.Second
	}
	ams := make([]*Alertmanager, n)
	for i := range ams {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		am := &Alertmanager{URL: fmt.Sprintf("http://127.0.0.1:%d", port), bin: bin, dir: filepath.Join(dir, fmt.Sprintf("am%d", i))}
		if n > 1 {
			cport, err := freePort()
			if err != nil {
				return nil, err
			}
			am.ClusterAddr = fmt.Sprintf("127.0.0.1:%d", cport)
		}
		if err := os.MkdirAll(am.dir, 0o755); err != nil {
			return nil, fmt.Errorf("alertmanager dir: %w", err)
		}
		am.args = []string{
			"--config.file=" + cfgPath,
			"--storage.path=" + filepath.Join(am.dir, "data"),
			"--web.listen-address=" + strings.TrimPrefix(am.URL, "http://"),
			"--log.level=warn",
		}
		ams[i] = am
	}
	for i, am := range ams {
		if am.ClusterAddr == "" {
			am.args = append(am.args, "--cluster.listen-address=")
			continue
		}
		am.args = append(am.args,
			"--cluster.listen-address="+am.ClusterAddr,
			"--cluster.advertise-address="+am.ClusterAddr,
			"--cluster.gossip-interval=50ms",
			"--cluster.pushpull-interval=1s",
			"--cluster.peer-timeout="+promDuration(peerTimeout),
			"--cluster.settle-timeout=2s",
		)
		for j, peer := range ams {
			if j != i {
				am.args = append(am.args, "--cluster.peer="+peer.ClusterAddr)
			}
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, am := range ams {
		wg.Go(func() { errs[i] = am.Start(ctx) })
	}
	wg.Wait()
	return ams, errors.Join(errs...)
}

// alertmanagerConfig routes everything to the webhook.
func alertmanagerConfig(opts AlertmanagerOptions) string {
	or := func(d, def time.Duration) string {
		if d == 0 {
			d = def
		}
		return promDuration(d)
	}
	groupBy := `["..."]`
	if len(opts.GroupBy) > 0 {
		groupBy = "[" + quoteAll(opts.GroupBy) + "]"
	}
	return fmt.Sprintf(`route:
  receiver: webhook
  group_by: %s
  group_wait: %s
  group_interval: %s
  repeat_interval: %s
receivers:
- name: webhook
  webhook_configs:
  - url: %q
    send_resolved: true
`, groupBy, or(opts.GroupWait, time.Second), or(opts.GroupInterval, time.Second), or(opts.RepeatInterval, time.Hour), opts.Webhook)
}

// Start (re)starts the Alertmanager on its address, with the data
// directory (silences, notification log) of its previous run, and waits
// until it is ready.
func (a *Alertmanager) Start(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.proc != nil && a.proc.running() {
		return errors.New("alertmanager is already running")
	}
	proc, err := start("alertmanager", a.bin, a.args, a.dir, filepath.Join(a.dir, "alertmanager.log"))
	if err != nil {
		return err
	}
	a.proc = proc
	return proc.waitReady(ctx, a.URL+"/-/ready")
}

// Stop stops it (SIGTERM, then SIGKILL); it may be called more than once
// and the Alertmanager started again.
func (a *Alertmanager) Stop() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.proc != nil {
		a.proc.stop(stopGrace)
	}
}

// Log returns the end of its log, for a failing test's message.
func (a *Alertmanager) Log() string { return tail(filepath.Join(a.dir, "alertmanager.log"), 50) }
