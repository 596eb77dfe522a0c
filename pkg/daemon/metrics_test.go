package daemon

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"statusd.io/statusd/pkg/engine"
)

// TestStarvedMetrics counts, per reason, the ticks that starved it, and
// shows how many reasons the last tick starved.
func TestStarvedMetrics(t *testing.T) {
	m := newMetrics(prometheus.NewRegistry())
	ticks := [][]engine.StarvedReason{
		{{Reason: "A", Subjects: 3}, {Reason: "B", Subjects: 10}},
		{{Reason: "B", Subjects: 1}},
		nil,
	}
	for _, s := range ticks {
		m.observe(&engine.Result{Time: time.Unix(0, 0), Starved: s}, 0.1)
	}
	require.NoError(t, testutil.CollectAndCompare(m.starved, strings.NewReader(`
# HELP statusd_reason_starved_ticks_total Ticks whose CEL budget (--tick-budget) ran out before a reason was evaluated on every subject, by reason: those subjects were Unknown for the tick.
# TYPE statusd_reason_starved_ticks_total counter
statusd_reason_starved_ticks_total{reason="A"} 1
statusd_reason_starved_ticks_total{reason="B"} 2
`)))
	require.Zero(t, testutil.ToFloat64(m.starvedLast), "the last tick starved nothing")
	m.observe(&engine.Result{Time: time.Unix(0, 0), Starved: ticks[0]}, 0.1)
	require.InDelta(t, 2.0, testutil.ToFloat64(m.starvedLast), 0)
}
