package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"statusd.io/statusd/internal/promstack"
)

// startAlertmanager starts a real Alertmanager routing every alert, one
// group each, to a webhook receiver that prints what it is paged with.
// stop stops both and removes the Alertmanager's directory; it is safe to
// call when err is set.
func startAlertmanager(ctx context.Context, s *sayer) (*promstack.Alertmanager, *pageLog, func(), error) {
	pages := &pageLog{s: s, seen: map[string]int{}, new: make(chan struct{}, 1)}
	hook := promstack.NewWebhook(pages.record)
	dir, err := os.MkdirTemp("", "statusd-demo-alertmanager-")
	if err != nil {
		hook.Close()
		return nil, nil, func() {}, fmt.Errorf("alertmanager dir: %w", err)
	}
	s.say("Starting a real Alertmanager (bin/promstack) routing to a webhook receiver at %s", hook.URL)
	am, err := promstack.RunAlertmanager(ctx, dir, promstack.AlertmanagerOptions{Webhook: hook.URL})
	stop := func() {
		if am != nil {
			am.Stop()
		}
		hook.Close()
		_ = os.RemoveAll(dir)
	}
	if err != nil {
		return nil, nil, stop, fmt.Errorf("start alertmanager (make promstack builds it): %w", err)
	}
	s.say("Alertmanager up at %s", am.URL)
	return am, pages, stop, nil
}

// pageLog prints the webhook's notifications and counts them by status,
// reason and subject.
type pageLog struct {
	s    *sayer
	mu   sync.Mutex
	seen map[string]int // status reason Kind/namespace/name → notifications
	new  chan struct{}
}

func subjectOf(labels map[string]string) string {
	return labels["kind"] + "/" + labels["namespace"] + "/" + labels["name"]
}

func (p *pageLog) record(n promstack.Notification) {
	for _, a := range n.Alerts {
		subj := subjectOf(a.Labels)
		p.mu.Lock()
		p.seen[a.Status+" "+a.Labels["alertname"]+" "+subj]++
		p.mu.Unlock()
		var labels []string
		for k, v := range a.Labels {
			labels = append(labels, k+"="+v)
		}
		sort.Strings(labels)
		msg := fmt.Sprintf("Webhook paged (%s): %s on %s\n        labels: %s\n        message: %s",
			a.Status, a.Labels["alertname"], subj, strings.Join(labels, " "), a.Annotations["message"])
		if sup := a.Annotations["suppressed"]; sup != "" {
			msg += "\n        hides: " + sup
		}
		if ex := a.Annotations["explain"]; ex != "" {
			msg += "\n        explain: " + ex
		}
		p.s.say("%s", msg)
	}
	select {
	case p.new <- struct{}{}:
	default:
	}
}

// count returns the firing notifications of reason on subjects starting
// with prefix.
func (p *pageLog) count(reason, prefix string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for k, v := range p.seen {
		if strings.HasPrefix(k, "firing "+reason+" "+prefix) {
			n += v
		}
	}
	return n
}

// waitFor returns once every expected root cause was paged, firing.
func (p *pageLog) waitFor(ctx context.Context, want []struct{ reason, subject string }) error {
	for {
		var missing []string
		for _, w := range want {
			if p.count(w.reason, w.subject) == 0 {
				missing = append(missing, w.reason+" on "+w.subject)
			}
		}
		if len(missing) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("never paged through Alertmanager: %s", strings.Join(missing, "; "))
		case <-p.new:
		case <-time.After(time.Second):
		}
	}
}
