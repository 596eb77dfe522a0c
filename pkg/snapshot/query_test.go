package snapshot_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"statusd.io/statusd/pkg/snapshot"
)

func TestWithQueries(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	b := snapshot.NewBuilder(at, snapshot.Cluster{Version: "v1.36.3"})
	b.AddQuery(&snapshot.QueryResult{Source: "old", Status: snapshot.StatusReady, At: at})
	orig := b.Build()
	tests := []struct {
		name    string
		results []*snapshot.QueryResult
		want    []string
	}{
		{name: "replaces", results: []*snapshot.QueryResult{
			{Source: "b", Status: snapshot.StatusFailed, Err: "timeout"},
			{Source: "a", Status: snapshot.StatusReady, Samples: []snapshot.QuerySample{{Labels: map[string]string{"pod": "p"}, Value: 1}}},
		}, want: []string{"a", "b"}},
		{name: "skips-nil", results: []*snapshot.QueryResult{nil, {Source: "a"}}, want: []string{"a"}},
		{name: "none", results: nil, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := orig.WithQueries(tt.results)
			assert.ElementsMatch(t, tt.want, got.Queries())
			assert.Equal(t, at, got.Time)
			assert.Equal(t, "v1.36.3", got.Cluster.Version)
			for _, r := range tt.results {
				if r != nil {
					assert.Same(t, r, got.Query(r.Source))
				}
			}
			require.Equal(t, []string{"old"}, orig.Queries(), "the original is unchanged")
		})
	}
}
