package daemon

import (
	"encoding/json"
	"net/http"
	"net/http/pprof"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func metav1ObjectMeta(namespace, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: namespace, Name: name}
}

// Status is the /status document: the last tick's findings with their
// timers, suppression links and messages.
type Status struct {
	Leader bool `json:"leader"`
	Ready  bool `json:"ready"`
	// Result is nil on a standby, or before the first tick.
	Result any `json:"result,omitempty"`
}

// Handler serves /metrics, /healthz, /readyz, /status and
// /explain?subject=Kind/namespace/name.
func (d *Daemon) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(d.opts.Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !d.ready.Load() {
			http.Error(w, "not ready: no complete tick yet", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		st := Status{Leader: d.leading.Load(), Ready: d.ready.Load()}
		if res, _ := d.Last(); res != nil {
			// The tick deferred its Pending findings' messages; they are
			// rendered here, into a copy, while the next tick runs.
			st.Result = res.WithMessages(r.Context())
		}
		writeJSON(w, http.StatusOK, st)
	})
	if d.opts.Profiling {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	mux.HandleFunc("GET /explain", func(w http.ResponseWriter, r *http.Request) {
		subject := r.URL.Query().Get("subject")
		if subject == "" {
			http.Error(w, "subject is required: /explain?subject=Kind/namespace/name", http.StatusBadRequest)
			return
		}
		res, snap := d.Last()
		if res == nil {
			http.Error(w, "no tick yet (a standby replica does not evaluate; ask the leader)", http.StatusServiceUnavailable)
			return
		}
		ex, err := d.engine.Explain(r.Context(), snap, res, subject)
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		writeJSON(w, http.StatusOK, ex)
	})
	return mux
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
