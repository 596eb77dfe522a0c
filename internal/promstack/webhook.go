package promstack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// Notification is one webhook call from Alertmanager: the payload of its
// webhook receiver (version 4).
type Notification struct {
	Receiver          string            `json:"receiver"`
	Status            string            `json:"status"`
	Alerts            []WebhookAlert    `json:"alerts"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	GroupKey          string            `json:"groupKey"`
}

// WebhookAlert is one alert of a notification.
type WebhookAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// Webhook records every notification posted to it: what a person would be
// paged with.
type Webhook struct {
	// URL is where Alertmanager posts.
	URL string

	srv     *httptest.Server
	onPost  func(Notification)
	mu      sync.Mutex
	got     []Notification
	changed chan struct{}
}

// StartWebhook starts a receiver on 127.0.0.1, closed when the test ends.
func StartWebhook(t testing.TB) *Webhook {
	t.Helper()
	w := NewWebhook(nil)
	t.Cleanup(w.Close)
	return w
}

// NewWebhook starts a receiver on 127.0.0.1 outside a test (make demo);
// onPost, when set, is called with every notification as it arrives. The
// caller closes it.
func NewWebhook(onPost func(Notification)) *Webhook {
	w := &Webhook{changed: make(chan struct{}), onPost: onPost}
	w.srv = httptest.NewServer(http.HandlerFunc(w.serve))
	w.URL = w.srv.URL + "/alerts"
	return w
}

// Close stops the receiver.
func (w *Webhook) Close() { w.srv.Close() }

func (w *Webhook) serve(rw http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	var n Notification
	if err := json.Unmarshal(body, &n); err != nil {
		http.Error(rw, fmt.Sprintf("decode notification: %v", err), http.StatusBadRequest)
		return
	}
	w.mu.Lock()
	w.got = append(w.got, n)
	close(w.changed)
	w.changed = make(chan struct{})
	w.mu.Unlock()
	if w.onPost != nil {
		w.onPost(n)
	}
}

// Notifications returns every notification so far, in arrival order.
func (w *Webhook) Notifications() []Notification {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Notification(nil), w.got...)
}

// Alerts returns every alert of every notification so far, in arrival
// order: a firing and later a resolved notification of one alert are two
// entries.
func (w *Webhook) Alerts() []WebhookAlert {
	var out []WebhookAlert
	for _, n := range w.Notifications() {
		out = append(out, n.Alerts...)
	}
	return out
}

// Wait blocks until cond holds of the notifications so far, or ctx ends.
func (w *Webhook) Wait(ctx context.Context, cond func([]Notification) bool) error {
	for {
		w.mu.Lock()
		got := append([]Notification(nil), w.got...)
		ch := w.changed
		w.mu.Unlock()
		if cond(got) {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("wait for notifications (have %d): %w", len(got), ctx.Err())
		}
	}
}
