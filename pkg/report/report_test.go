package report_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/engine"
	"statusd.io/statusd/pkg/report"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// golden compares got with testdata/name.golden, or rewrites it under
// -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file: run go test ./pkg/report -update")
	require.Equal(t, string(want), string(got), "%s is stale: run go test ./pkg/report -update and review the diff", path)
}

var (
	now  = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	pod  = engine.Subject{APIVersion: "v1", Kind: "Pod", Namespace: "shop", Name: "web-1", UID: "pod-1"}
	pod2 = engine.Subject{APIVersion: "v1", Kind: "Pod", Namespace: "shop", Name: "web-2", UID: "pod-2"}
	node = engine.Subject{APIVersion: "v1", Kind: "Node", Name: "node-a", UID: "node-1"}
	ns   = engine.Subject{APIVersion: "v1", Kind: "Namespace", Name: "batch"}
)

func result(findings []*engine.Finding, resolved []*engine.Finding) *engine.Result {
	return &engine.Result{Time: now, Catalog: "cluster-health", Version: "1.4.0", Findings: findings, Resolved: resolved}
}

func TestTable(t *testing.T) {
	tests := []struct {
		name string
		res  *engine.Result
	}{
		{
			name: "table-root-cause",
			res: result([]*engine.Finding{
				{Reason: "ImagePullBackOff", Severity: "warning", Subject: pod, State: engine.Suppressed, SuppressedBy: &engine.CauseRef{Reason: "NodeNotReady", Subject: node}},
				{Reason: "PodNotReady", Severity: "warning", Subject: pod, State: engine.Firing},
				{
					Reason: "NodeNotReady", Severity: "critical", Subject: node, State: engine.Firing, Root: true, Published: true,
					Message: "node node-a is not ready:\n  kubelet stopped posting status\n\tfor 5m",
				},
				{Reason: "DiskPressure", Severity: "warning", Subject: node, State: engine.Pending, PendingSince: now.Add(-time.Minute), FiresAt: now.Add(4*time.Minute + 30*time.Second)},
				{Reason: "MemoryPressure", Severity: "warning", Subject: node, State: engine.Pending, FiresAt: now.Add(1500 * time.Millisecond)},
				{Reason: "CrashLoop", Severity: "critical", Subject: pod, State: engine.Firing, Root: true, Published: true, Message: "container web restarted 5 times"},
				{Reason: "OOMKilled", Severity: "warning", Subject: pod2, State: engine.Pending, FiresAt: now.Add(time.Minute), HeldBy: &engine.CauseRef{Reason: "NodeNotReady", Subject: node}},
				{Reason: "MetricsStale", Severity: "info", Subject: pod2, State: engine.Unknown, Err: "scrape failed"},
				{Reason: "QuotaExceeded", Severity: "warning", Subject: ns, State: engine.Unknown},
				{Reason: "Overdue", Severity: "warning", Subject: ns, State: engine.Pending, FiresAt: now.Add(-time.Second)},
			}, []*engine.Finding{
				{Reason: "PodPending", Subject: pod2, State: engine.Resolved, Duration: 3*time.Minute + 12500*time.Millisecond},
				{Reason: "NodeFlapping", Subject: node, State: engine.Resolved, Duration: 2500 * time.Millisecond},
			}),
		},
		{
			name: "table-no-findings",
			res:  result(nil, nil),
		},
		{
			name: "table-only-resolved",
			res: result(nil, []*engine.Finding{
				{Reason: "CrashLoop", Subject: pod, State: engine.Resolved, Duration: 10 * time.Minute},
			}),
		},
		{
			name: "table-multiline-message",
			res: result([]*engine.Finding{
				{
					Reason: "ReleaseFailed", Severity: "critical", Subject: engine.Subject{APIVersion: "helm.toolkit.fluxcd.io/v2", Kind: "HelmRelease", Namespace: "apps", Name: "shop"}, State: engine.Firing, Root: true,
					Message: "\nrelease shop failed:\r\n\n  pod web-1 is unschedulable\n",
				},
			}, nil),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, report.Table(&buf, tt.res))
			golden(t, tt.name, buf.Bytes())
		})
	}
}

func TestExplain(t *testing.T) {
	tests := []struct {
		name string
		ex   *engine.Explanation
	}{
		{
			name: "explain-suppressed-and-pending",
			ex: &engine.Explanation{Subject: pod, Catalog: "cluster-health", Version: "1.4.0", Reasons: []*engine.ReasonExplanation{
				{
					Reason: "CrashLoop", Layer: "workload", Priority: 50,
					When: "object.status.containerStatuses.exists(c,\n    c.restartCount > params.restarts)", Outcome: "true", Cost: 12,
					Steps: []cel.Step{
						{Expr: "object.status.containerStatuses.exists(c, c.restartCount > params.restarts)", Value: "true", Depth: 0},
						{Expr: "c.restartCount > params.restarts", Value: "true", Depth: 1},
					},
					Finding: &engine.Finding{
						Reason: "CrashLoop", Subject: pod, State: engine.Suppressed,
						PendingSince: now.Add(-10 * time.Minute), FiringSince: now.Add(-5 * time.Minute),
						SuppressedBy: &engine.CauseRef{Reason: "ImagePull", Subject: pod},
						Message:      "container web restarted 5 times:\n  back-off 5m0s restarting failed container",
					},
					Chain: []engine.CauseRef{{Reason: "ImagePull", Subject: pod}, {Reason: "NodeNotReady", Subject: node}},
				},
				{
					Reason: "PodNotReady", Priority: 10, When: "!ready", Outcome: "true", Cost: 3,
					Finding: &engine.Finding{
						Reason: "PodNotReady", Subject: pod, State: engine.Pending,
						PendingSince: now.Add(-time.Minute), FiresAt: now.Add(4 * time.Minute),
						HeldBy: &engine.CauseRef{Reason: "NodeNotReady", Subject: node},
					},
					Chain: []engine.CauseRef{{Reason: "NodeNotReady", Subject: node}},
				},
				{
					Reason: "Evicted", Layer: "workload", Priority: 5, When: `object.status.reason == "Evicted"`, Outcome: "false", Cost: 1,
				},
			}},
		},
		{
			name: "explain-root-cause",
			ex: &engine.Explanation{Subject: node, Catalog: "cluster-health", Version: "1.4.0", Reasons: []*engine.ReasonExplanation{
				{
					Reason: "NodeNotReady", Layer: "infrastructure", Priority: 100, When: "!ready", Outcome: "true", Cost: 4,
					Finding: &engine.Finding{
						Reason: "NodeNotReady", Subject: node, State: engine.Firing, Root: true,
						PendingSince: now.Add(-3 * time.Minute), FiresAt: now.Add(-time.Minute), FiringSince: now.Add(-time.Minute),
						Message: "node node-a is not ready",
					},
				},
				{
					Reason: "DiskPressure", Layer: "infrastructure", Priority: 60, When: "condition(object, \"DiskPressure\")", Outcome: "true", Cost: 4,
					Finding: &engine.Finding{
						Reason: "DiskPressure", Subject: node, State: engine.Firing,
						FiringSince: now.Add(-time.Hour), ClearingSince: now.Add(-30 * time.Second), ClearsAt: now.Add(90 * time.Second),
						MessageErr: "no such key: pressure",
					},
				},
			}},
		},
		{
			name: "explain-unknown",
			ex: &engine.Explanation{Subject: ns, Catalog: "cluster-health", Version: "1.4.0", Reasons: []*engine.ReasonExplanation{
				{
					Reason: "MetricsStale", Priority: 1, When: "metrics(object).value(\"up\") == 0", Outcome: "unknown", Err: "scrape failed: connection refused", Cost: 2,
					Finding: &engine.Finding{Reason: "MetricsStale", Subject: ns, State: engine.Firing, Held: true, FiringSince: now.Add(-time.Hour)},
				},
				{
					Reason: "QuotaExceeded", Priority: 1, When: "quota(object) > 1", Outcome: "unknown", Err: "source quotas is forbidden", Cost: 0,
					Finding: &engine.Finding{Reason: "QuotaExceeded", Subject: ns, State: engine.Unknown, Err: "source quotas is forbidden"},
				},
			}},
		},
		{
			// A scraped pod whose 5m window is not covered yet.
			name: "explain-window-not-covered",
			ex: &engine.Explanation{
				Subject: pod, Catalog: "cluster-health", Version: "1.4.0",
				Scrape: &engine.ScrapeCoverage{Source: "vllm", LastScrape: now.Add(-5 * time.Second), LastSuccess: now.Add(-5 * time.Second), Covered: 75 * time.Second},
				Reasons: []*engine.ReasonExplanation{{
					Reason: "QueueSaturated", Priority: 20, When: `metrics.minOverTime("queue", duration("5m")) > 50.0`, Outcome: "unknown",
					Err: "window not yet covered: 1m15s of 5m scraped", Cost: 3,
					Finding: &engine.Finding{Reason: "QueueSaturated", Subject: pod, State: engine.Unknown, Err: "window not yet covered: 1m15s of 5m scraped"},
				}},
			},
		},
		{
			name: "explain-no-reasons",
			ex:   &engine.Explanation{Subject: ns, Catalog: "cluster-health", Version: "1.4.0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, report.Explain(&buf, tt.ex))
			golden(t, tt.name, buf.Bytes())
		})
	}
}

// TestGoldenFilesUsed keeps testdata free of goldens that no case writes.
func TestGoldenFilesUsed(t *testing.T) {
	matches, err := filepath.Glob(filepath.Join("testdata", "*.golden"))
	require.NoError(t, err)
	assert.Len(t, matches, 9, "one golden per case")
}
