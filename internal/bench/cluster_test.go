package bench

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/engine"
)

// shipped loads and compiles the shipped catalogue from the repository.
func shipped(tb testing.TB) (*catalog.Catalog, *cel.Catalog) {
	tb.Helper()
	src, errs := catalog.Load("../../rules")
	require.NoError(tb, errs.Err())
	cat, errs := cel.Compile(src, cel.Options{})
	require.NoError(tb, errs.Err())
	return src, cat
}

// TestCluster checks the generator's proportions and that the shipped
// catalogue finds the faults it plants, so that the benchmarks measure
// ticks that do real work rather than ticks over empty sources.
func TestCluster(t *testing.T) {
	src, cat := shipped(t)
	snap := Snapshot(src, Cluster(3_000))
	for _, tc := range []struct {
		source string
		want   int
	}{
		{"pods", 3_000},
		{"nodes", 100},
		{"helmreleases", 50},
		{"addonPods", 500},
		{"addonServices", 50},
		{"addonPVCs", 50},
		{"fluxDeployments", 4},
		{"clusterDNS", 1},
	} {
		t.Run(tc.source, func(t *testing.T) {
			require.NotNil(t, snap.Set(tc.source))
			assert.Equal(t, tc.want, snap.Set(tc.source).Len())
		})
	}

	res := engine.New(cat, engine.Options{}).Tick(context.Background(), snap)
	byReason := map[string]int{}
	for _, f := range res.Findings {
		if f.State == engine.Unknown {
			t.Errorf("%s on %s is Unknown: %s", f.Reason, f.Subject, f.Err)
		}
		byReason[f.Reason]++
	}
	for _, reason := range []string{"AddonInstallFailed", "AddonReleaseStuck", "AddonPodsUnschedulable", "AddonPodsCrashLooping", "AddonVolumePending", "NodeUnderPressure", "NodeNotReady", "PodNotReady"} {
		assert.Positive(t, byReason[reason], "findings of %s", reason)
	}
}
