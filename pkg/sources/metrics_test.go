package sources

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"statusd.io/statusd/internal/testenv"
	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/series"
)

// goodPage is a small vLLM-like page.
const goodPage = `# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{model_name="llama"} 3
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{model_name="llama"} 0
`

// targets serves the four kinds of scrape target the metrics tests need,
// each on its own 127.0.0.1 port: a good page, one that hangs, one of 50 MB,
// and garbage.
type targets struct {
	good, hang, huge, garbage *httptest.Server
}

func newTargets(t *testing.T) *targets {
	t.Helper()
	stop := make(chan struct{})
	ts := &targets{
		good: httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain; version=0.0.4")
			_, _ = fmt.Fprint(w, goodPage)
		})),
		hang: httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			_, _ = fmt.Fprint(w, "# a page that never ends\n")
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-stop:
			}
		})),
		huge: httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			// Chunked, with no Content-Length: the limit must cut the
			// stream, not trust a header.
			w.Header().Set("Content-Type", "text/plain")
			line := []byte(strings.Repeat("x", 1000) + " 1\n")
			for written := 0; written < 50<<20; written += len(line) {
				if _, err := w.Write(line); err != nil {
					return
				}
			}
		})),
		garbage: httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			_, _ = fmt.Fprint(w, "<html>this is not {a metrics page</html>\n")
		})),
	}
	t.Cleanup(func() {
		close(stop)
		for _, s := range []*httptest.Server{ts.good, ts.hang, ts.huge, ts.garbage} {
			s.Close()
		}
	})
	return ts
}

// port returns the 127.0.0.1 port srv listens on.
func port(t *testing.T, srv *httptest.Server) int32 {
	t.Helper()
	_, p, err := net.SplitHostPort(srv.Listener.Addr().String())
	require.NoError(t, err)
	n, err := strconv.Atoi(p)
	require.NoError(t, err)
	return int32(n)
}

// scrapedPod creates a pod that names its metrics port "metrics" at port,
// and gives it 127.0.0.1 as its IP through the status subresource. The pod
// names a scheduler that does not exist, so it is never bound to a node
// and kwok never overwrites its status.
func scrapedPod(t *testing.T, client kubernetes.Interface, ns, name string, labels map[string]string, port int32) {
	t.Helper()
	pods := client.CoreV1().Pods(ns)
	pod, err := pods.Create(t.Context(), &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec: corev1.PodSpec{
			SchedulerName: "statusd-test-nobody",
			Containers: []corev1.Container{{
				Name: "server", Image: "registry.invalid/server:1",
				Ports: []corev1.ContainerPort{{Name: "metrics", ContainerPort: port}},
			}},
		},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	pod.Status.Phase = corev1.PodRunning
	pod.Status.PodIP = "127.0.0.1"
	pod.Status.PodIPs = []corev1.PodIP{{IP: "127.0.0.1"}}
	_, err = pods.UpdateStatus(t.Context(), pod, metav1.UpdateOptions{})
	require.NoError(t, err)
}

// metricsCatalog has one metrics source over pods labelled app=model in ns,
// and the pods as an object source.
func metricsCatalog(ns string, interval, timeout time.Duration) *catalog.Catalog {
	return cat(map[string]catalog.Source{
		"pods": {Version: "v1", Resource: "pods", Namespaces: catalog.Namespaces{Names: []string{ns}}},
		"model": {Namespaces: catalog.Namespaces{Names: []string{ns}}, Metrics: &catalog.Scrape{
			Selector: "app=model",
			Port:     catalog.IntOrString{Str: "metrics"},
			Path:     "/metrics",
			Interval: catalog.Duration{D: interval},
			Timeout:  catalog.Duration{D: timeout},
		}},
	})
}

func TestScrapeTargets(t *testing.T) {
	checkLeaks(t)
	env := testenv.Shared()
	client := env.Client()
	ns := newNamespace(t, client, nil)
	ts := newTargets(t)
	model := map[string]string{"app": "model"}
	for name, srv := range map[string]*httptest.Server{"good": ts.good, "hang": ts.hang, "huge": ts.huge, "garbage": ts.garbage} {
		scrapedPod(t, client, ns, name, model, port(t, srv))
	}
	scrapedPod(t, client, ns, "unselected", map[string]string{"app": "other"}, port(t, ts.good))

	const interval, timeout = 2 * time.Second, time.Second
	began := time.Now()
	// A 1 MiB limit cuts the 50 MiB stream well within the timeout even
	// under the race detector, which slows reading it tenfold.
	s := run(t, env.Config(), metricsCatalog(ns, interval, timeout), Options{ScrapeLimits: series.Limits{MaxBytes: 1 << 20}})

	// Every target is scraped on schedule, within one interval of start.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		snap := s.Snapshot(time.Now())
		assert.Equal(c, []string{ns + "/garbage", ns + "/good", ns + "/hang", ns + "/huge"}, snap.MetricsTargets())
		for _, key := range snap.MetricsTargets() {
			ns, name, _ := strings.Cut(key, "/")
			assert.False(c, snap.Metrics(ns, name).History.Status().LastScrape.IsZero(), "%s scraped", key)
		}
	}, waitTimeout, poll)
	t.Logf("first scrapes done %v after start", time.Since(began).Round(time.Millisecond))

	now := time.Now()
	snap := s.Snapshot(now)
	waiting, err := series.ParseSelector(`vllm:num_requests_waiting`)
	require.NoError(t, err)
	running, err := series.ParseSelector(`vllm:num_requests_running`)
	require.NoError(t, err)

	t.Run("good page is recorded", func(t *testing.T) {
		h := snap.Metrics(ns, "good").History
		v, err := h.Value(now, waiting)
		require.NoError(t, err)
		assert.InDelta(t, 3.0, v, 0)
		v, err = h.Value(now, running)
		require.NoError(t, err, "a real zero is a value")
		assert.Zero(t, v)
	})
	cases := []struct {
		pod  string
		want error
		msg  string
	}{
		{pod: "hang", want: series.ErrScrapeFailed, msg: "timed out after 1s"},
		{pod: "huge", want: series.ErrTooLarge, msg: "body exceeds"},
		{pod: "garbage", want: series.ErrInvalidPage, msg: "invalid metrics page"},
	}
	for _, tc := range cases {
		t.Run(tc.pod+" reads as Unknown", func(t *testing.T) {
			pm := snap.Metrics(ns, tc.pod)
			require.NotNil(t, pm)
			assert.Equal(t, "model", pm.Source)
			v, err := pm.History.Value(now, waiting)
			require.Error(t, err, "never a value, got %v", v)
			require.ErrorIs(t, err, series.ErrScrapeFailed)
			require.ErrorIs(t, err, tc.want)
			assert.Contains(t, err.Error(), tc.msg)
			_, err = pm.History.Rate(now, waiting, time.Minute)
			require.ErrorIs(t, err, series.ErrScrapeFailed)
		})
	}
	t.Run("scrapes keep their schedule", func(t *testing.T) {
		first := s.Stats().Scrapes
		earlier := snap.Metrics(ns, "good").History.Status().LastSuccess // the history is live: copy now
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			assert.GreaterOrEqual(c, s.Stats().Scrapes, first+8, "two more rounds")
		}, waitTimeout, poll)
		assert.Equal(t, 4, s.Stats().Targets)
		later := s.Snapshot(time.Now())
		good := later.Metrics(ns, "good").History.Status()
		require.NoError(t, good.LastError)
		assert.True(t, good.LastSuccess.After(earlier), "scraped again")
		for _, pod := range []string{"hang", "huge", "garbage"} {
			assert.Error(t, later.Metrics(ns, pod).History.Status().LastError, pod)
		}
	})
	t.Run("a deleted pod drops its history", func(t *testing.T) {
		require.NoError(t, client.CoreV1().Pods(ns).Delete(t.Context(), "garbage", metav1.DeleteOptions{GracePeriodSeconds: new(int64(0))}))
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			assert.Nil(c, s.Snapshot(time.Now()).Metrics(ns, "garbage"))
			assert.Equal(c, 3, s.Stats().Targets)
		}, waitTimeout, poll)
	})
	t.Run("pods source is read as objects", func(t *testing.T) {
		got := names(s.Snapshot(time.Now()), "pods")
		assert.Contains(t, got, ns+"/unselected")
		assert.Nil(t, s.Snapshot(time.Now()).Set("model"), "a metrics source is not an object set")
	})
}
