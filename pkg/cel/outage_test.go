package cel

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/cel-go/common/types"
	"github.com/stretchr/testify/assert"

	"statusd.io/statusd/pkg/series"
)

func TestOutage(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{name: "nil", err: nil, want: false},
		{name: "prometheus down", err: fmt.Errorf("%w: restarts: connection refused", ErrQueryFailed), want: true},
		{name: "source forbidden", err: &unreadableError{name: "nodes", why: "forbidden"}, want: true},
		{name: "scrape failed", err: fmt.Errorf("metric x: %w", series.ErrScrapeFailed), want: true},
		{name: "stale", err: series.ErrStale, want: true},
		{name: "window not covered", err: fmt.Errorf("%w: 5m of 10m", series.ErrNotCovered), want: true},
		{name: "garbage page", err: series.ErrInvalidPage, want: true},
		{name: "through classify", err: classify(types.WrapErr(fmt.Errorf("%w: q: timeout", ErrQueryFailed)).(*types.Err)), want: true},
		{name: "no such key", err: errors.New("no such key: nodeNam"), want: false},
		{name: "no such key through classify", err: classify(types.NewErr("no such key: nodeNam").(*types.Err)), want: false},
		{name: "no series matches", err: fmt.Errorf("%w: no series matches vllm:num_requests_waitin", series.ErrNoData), want: false},
		{name: "not configured", err: ErrQueryNotConfigured, want: false},
		{name: "budget", err: ErrBudget, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Outage(tt.err))
		})
	}
	assert.Equal(t, `source "nodes" cannot be read: forbidden`, (&unreadableError{name: "nodes", why: "forbidden"}).Error(), "the text rule tests match")
}
