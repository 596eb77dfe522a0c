package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Modes of a metrics target.
const (
	modeGood    = "good"
	modeHang    = "hang"
	modeGarbage = "garbage"
	modeHuge    = "huge"
)

// hugeBytes is the size of the page a "huge" target answers.
const hugeBytes = 50 << 20

// target is a simulated vLLM pod's metrics endpoint on the pod's
// (loopback) IP: a healthy page until the run switches it to hang (accept
// and never answer), answer garbage, or answer 50 MB without a
// Content-Length (so the scraper finds out by reading).
type target struct {
	srv *http.Server
	ln  net.Listener

	mu   sync.Mutex
	mode string
	// stop releases hanging requests when the mode changes or the
	// server closes.
	stop chan struct{}
}

func newTarget(addr string) (*target, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	t := &target{ln: ln, mode: modeGood, stop: make(chan struct{})}
	t.srv = &http.Server{Handler: t, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = t.srv.Serve(ln) }()
	return t, nil
}

func (t *target) set(mode string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.mode == mode {
		return
	}
	if t.mode == modeHang {
		close(t.stop)
		t.stop = make(chan struct{})
	}
	t.mode = mode
}

var goodPage = []byte(`# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{model_name="phi-4"} 1
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{model_name="phi-4"} 2
# TYPE vllm:e2e_request_latency_seconds histogram
vllm:e2e_request_latency_seconds_bucket{model_name="phi-4",le="1.0"} 10
vllm:e2e_request_latency_seconds_bucket{model_name="phi-4",le="5.0"} 20
vllm:e2e_request_latency_seconds_bucket{model_name="phi-4",le="+Inf"} 20
vllm:e2e_request_latency_seconds_sum{model_name="phi-4"} 12
vllm:e2e_request_latency_seconds_count{model_name="phi-4"} 20
`)

// garbagePage is not the text format: binary noise and a line that looks
// like a sample with a broken value.
var garbagePage = append([]byte("\x00\x01\xff<html>not metrics</html>\nvllm:num_requests_waiting{model_name=\"phi-4\"} NaNaN\n{{{\n"), bytes.Repeat([]byte{0xfe, 0x00}, 512)...)

func (t *target) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t.mu.Lock()
	mode, stop := t.mode, t.stop
	t.mu.Unlock()
	switch mode {
	case modeHang:
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	case modeGarbage:
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = w.Write(garbagePage)
	case modeHuge:
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		line := []byte("vllm:num_requests_waiting{model_name=\"phi-4\",pad=\"" + string(bytes.Repeat([]byte("x"), 200)) + "\"} 1\n")
		for n := 0; n < hugeBytes; n += len(line) {
			if _, err := w.Write(line); err != nil {
				return
			}
		}
	default:
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = w.Write(goodPage)
	}
}

func (t *target) close() {
	t.set(modeGood)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := t.srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		_ = t.srv.Close()
	}
	_ = t.srv.Close()
}
