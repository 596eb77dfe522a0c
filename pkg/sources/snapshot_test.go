package sources

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"statusd.io/statusd/internal/testenv"
	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/series"
	"statusd.io/statusd/pkg/snapshot"
)

// TestFileRoundTrip checks that a snapshot file written from live sources
// and read back with snapshot.Assemble, as `statusd eval` reads it, is the
// same snapshot as the live one: the same objects per source, the same
// source states, the same cluster facts and the same metrics answers.
func TestFileRoundTrip(t *testing.T) {
	checkLeaks(t)
	env := testenv.Shared()
	client := env.Client()
	ns := newNamespace(t, client, map[string]string{"tier": "gold"})
	ts := newTargets(t)
	model := map[string]string{"app": "model"}
	scrapedPod(t, client, ns, "good", model, port(t, ts.good))
	scrapedPod(t, client, ns, "garbage", model, port(t, ts.garbage))
	_, err := client.CoreV1().ConfigMaps(ns).Create(t.Context(), configMap("settings", map[string]string{"app": "web"}, map[string]string{"k": "v"}), metav1.CreateOptions{})
	require.NoError(t, err)

	c := metricsCatalog(ns, 10*time.Second, time.Second)
	c.Sources["gold"] = catalog.Source{Version: "v1", Resource: "configmaps", Namespaces: catalog.Namespaces{Selector: "tier=gold"}, Selector: "app=web"}
	c.Sources["nodes"] = catalog.Source{Version: "v1", Resource: "nodes"}
	c.Sources["widgets"] = catalog.Source{Group: "sources.statusd.io", Version: "v1", Resource: "absentwidgets", Optional: true}
	c.Sources["gadgets"] = catalog.Source{Group: "sources.statusd.io", Version: "v1", Resource: "absentgadgets"}
	s := run(t, env.Config(), c, Options{ManualScrape: true, KeepPages: true})
	require.NoError(t, s.ScrapeAll(t.Context()))

	now := time.Now().Add(time.Second).Truncate(time.Second) // files keep seconds; after the scrapes
	live := s.Snapshot(now)
	data, err := yaml.Marshal(s.File(now))
	require.NoError(t, err)
	assert.NotContains(t, string(data), "managedFields")
	f, err := snapshot.Decode(catalog.NewFile("snapshot.yaml", data))
	require.NoError(t, err)
	read, err := snapshot.Assemble(c, f, time.Time{})
	require.NoError(t, err)

	assert.True(t, live.Time.Equal(read.Time))
	assert.Equal(t, live.Cluster, read.Cluster)
	assert.Equal(t, "v1.36.3", read.Cluster.Version)
	assert.True(t, read.HasResource("apps/v1/deployments"))
	assert.False(t, read.HasResource("sources.statusd.io/v1/absentwidgets"))
	require.Equal(t, live.Sets(), read.Sets())
	for _, name := range live.Sets() {
		l, r := live.Set(name), read.Set(name)
		assert.Equal(t, l.Status, r.Status, name)
		assert.Equal(t, l.Err, r.Err, name)
		assert.Equal(t, names(live, name), names(read, name), name)
	}
	assert.Equal(t, []string{ns + "/settings"}, names(read, "gold"), "namespace labels travel with the file")
	assert.Equal(t, []string{ns + "/garbage", ns + "/good"}, inNamespaces(names(read, "pods"), ns))
	assert.Equal(t, snapshot.StatusAbsent, read.Set("widgets").Status)
	assert.Equal(t, snapshot.StatusFailed, read.Set("gadgets").Status)

	assert.Equal(t, live.MetricsTargets(), read.MetricsTargets())
	waiting, err := series.ParseSelector(`vllm:num_requests_waiting{model_name="llama"}`)
	require.NoError(t, err)
	for _, snap := range []*snapshot.Snapshot{live, read} {
		v, err := snap.Metrics(ns, "good").History.Value(now, waiting)
		require.NoError(t, err)
		assert.InDelta(t, 3.0, v, 0)
		_, err = snap.Metrics(ns, "garbage").History.Value(now, waiting)
		require.ErrorIs(t, err, series.ErrScrapeFailed)
		assert.Contains(t, err.Error(), "invalid metrics page")
	}
}
