package promstack

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Exporter serves a metrics page in Prometheus text format that the test
// sets, for Prometheus to scrape.
type Exporter struct {
	// Addr is host:port, as a scrape target.
	Addr string

	srv  *httptest.Server
	mu   sync.Mutex
	page string
}

// StartExporter starts an exporter on 127.0.0.1 serving page at /metrics,
// closed when the test ends.
func StartExporter(t testing.TB, page string) *Exporter {
	t.Helper()
	e := &Exporter{page: page}
	e.srv = httptest.NewServer(http.HandlerFunc(e.serve))
	e.Addr = strings.TrimPrefix(e.srv.URL, "http://")
	t.Cleanup(e.srv.Close)
	return e
}

func (e *Exporter) serve(rw http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/metrics" {
		http.NotFound(rw, r)
		return
	}
	e.mu.Lock()
	page := e.page
	e.mu.Unlock()
	rw.Header().Set("Content-Type", "text/plain; version=0.0.4")
	_, _ = rw.Write([]byte(page))
}

// Set replaces the page; the next scrape serves it.
func (e *Exporter) Set(page string) {
	e.mu.Lock()
	e.page = page
	e.mu.Unlock()
}
