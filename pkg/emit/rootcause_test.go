package emit

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"statusd.io/statusd/pkg/engine"
)

func TestRootCausesGauge(t *testing.T) {
	finding := func(reason, sev, ns, name string, prio int, published, root bool) *engine.Finding {
		return &engine.Finding{
			Reason: reason, Severity: sev, Layer: "l", Priority: prio, Published: published, Root: root, State: engine.Firing,
			Subject: engine.Subject{Kind: "Pod", Namespace: ns, Name: name, UID: ns + name},
		}
	}
	res := &engine.Result{Findings: []*engine.Finding{
		finding("A", "critical", "a", "p1", 100, true, true),
		finding("B", "Warning", "b", "p2", 50, true, true),
		finding("C", "info", "c", "p3", 10, true, true),
		finding("D", "warning", "d", "p4", 90, false, false), // suppressed or pending: not a root cause
		finding("E", "warning", "a", "p1", 5, true, false),   // a published secondary: not the root
	}}
	tests := []struct {
		name string
		max  int
		want string
	}{
		{name: "all", max: 10, want: `
statusd_root_cause{cluster="eu-1",kind="Pod",layer="l",name="p1",namespace="a",reason="A",severity="critical"} 1
statusd_root_cause{cluster="eu-1",kind="Pod",layer="l",name="p2",namespace="b",reason="B",severity="warning"} 1
statusd_root_cause{cluster="eu-1",kind="Pod",layer="l",name="p3",namespace="c",reason="C",severity="info"} 1
statusd_root_causes_omitted{cluster="eu-1"} 0
`},
		{name: "bounded, highest priority kept", max: 2, want: `
statusd_root_cause{cluster="eu-1",kind="Pod",layer="l",name="p1",namespace="a",reason="A",severity="critical"} 1
statusd_root_cause{cluster="eu-1",kind="Pod",layer="l",name="p2",namespace="b",reason="B",severity="warning"} 1
statusd_root_causes_omitted{cluster="eu-1"} 1
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := NewRootCauses("eu-1", tt.max)
			rc.Publish(res)
			require.NoError(t, prometheus.NewPedanticRegistry().Register(rc))
			require.NoError(t, testutil.CollectAndCompare(rc, strings.NewReader(expo(tt.want)), "statusd_root_cause", "statusd_root_causes_omitted"))
		})
	}
}

// expo adds the HELP and TYPE lines to samples.
func expo(samples string) string {
	var b strings.Builder
	b.WriteString("# HELP statusd_root_cause " + rootCauseHelp() + "\n# TYPE statusd_root_cause gauge\n")
	var omitted string
	for _, l := range strings.Split(strings.TrimSpace(samples), "\n") {
		if strings.HasPrefix(l, "statusd_root_causes_omitted") {
			omitted = l
			continue
		}
		b.WriteString(l + "\n")
	}
	b.WriteString("# HELP statusd_root_causes_omitted Published root causes of the last tick left out of statusd_root_cause because of its bound.\n# TYPE statusd_root_causes_omitted gauge\n")
	b.WriteString(omitted + "\n")
	return b.String()
}

func rootCauseHelp() string {
	return "One series per published root cause (value 1), for fleet-wide queries through Thanos or Mimir. " +
		"Cardinality: the published root causes of the last tick, at most the configured bound."
}
