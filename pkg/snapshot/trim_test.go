package snapshot_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"statusd.io/statusd/pkg/prune"
	"statusd.io/statusd/pkg/snapshot"
)

// TestTrimKeepsQueries checks that a trimmed snapshot keeps the Prometheus
// query results as they were: they are not objects, and without them a
// trimmed snapshot would read as statusd running without Prometheus.
func TestTrimKeepsQueries(t *testing.T) {
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		results []*snapshot.QueryResult
	}{
		{name: "none: without Prometheus", results: nil},
		{name: "ready, empty and failed", results: []*snapshot.QueryResult{
			{Source: "restarts", Status: snapshot.StatusReady, At: now, Samples: []snapshot.QuerySample{
				{Labels: map[string]string{"namespace": "a", "pod": "p"}, Value: 5},
			}},
			{Source: "quiet", Status: snapshot.StatusReady, At: now},
			{Source: "broken", Status: snapshot.StatusFailed, Err: "context deadline exceeded", At: now},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := snapshot.NewBuilder(now, snapshot.Cluster{Version: "v1.36.3"})
			b.Add("pods", snapshot.NewObject(map[string]any{
				"apiVersion": "v1", "kind": "Pod",
				"metadata": map[string]any{"name": "p", "namespace": "a", "uid": "u1"},
				"spec":     map[string]any{"nodeName": "n1"},
			}))
			for _, r := range tt.results {
				b.AddQuery(r)
			}
			s := b.Build()
			trimmed := snapshot.Trim(s, map[string]*prune.Tree{"pods": prune.MustParse(`{metadata{name*}}`)})
			assert.Equal(t, s.Queries(), trimmed.Queries())
			for _, name := range s.Queries() {
				assert.Equal(t, s.Query(name), trimmed.Query(name), name)
			}
			require.Equal(t, 1, trimmed.Set("pods").Len())
		})
	}
}
