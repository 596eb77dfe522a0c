package engine

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"statusd.io/statusd/pkg/snapshot"
)

// absenceWorld is the cluster of testdata/absence.yaml: which namespaces
// exist, where the controller Deployment is installed, and whether the
// Deployments can be read.
type absenceWorld struct {
	namespaces []string
	installed  string // namespace of the controller Deployment; "" for none
	status     snapshot.Status
}

func (w absenceWorld) snapshot(at time.Time) *snapshot.Snapshot {
	b := snapshot.NewBuilder(at, snapshot.Cluster{Version: "v1.36.3"})
	b.SetStatus("namespaces", snapshot.StatusReady, "")
	for _, ns := range w.namespaces {
		b.Add("namespaces", snapshot.NewObject(map[string]any{
			"apiVersion": "v1", "kind": "Namespace",
			"metadata": map[string]any{"name": ns, "uid": "ns-" + ns},
		}))
	}
	st := w.status
	if st == "" {
		st = snapshot.StatusReady
	}
	b.SetStatus("controllers", st, "deployments.apps is forbidden")
	if w.installed != "" && st == snapshot.StatusReady {
		b.Add("controllers", snapshot.NewObject(map[string]any{
			"apiVersion": "apps/v1", "kind": "Deployment",
			"metadata": map[string]any{"name": "controller", "namespace": w.installed, "uid": "dep-1"},
		}))
	}
	return b.Build()
}

func TestAbsence(t *testing.T) {
	cat := compileFile(t, "testdata/absence.yaml")
	const subject = "Deployment/ctl-a/controller"
	nsTarget := &Subject{APIVersion: "v1", Kind: "Namespace", Name: "ctl-a", UID: "ns-ctl-a"}
	type tick struct {
		at    time.Duration
		world absenceWorld
		want  State // "" for no finding
		// target is the Event's object while the finding is live.
		target *Subject
		// because is the resolution's explanation, when want is Resolved.
		because string
	}
	tests := []struct {
		name  string
		ticks []tick
	}{
		{
			name: "missing: pending from the first tick, firing after the grace, resolved when installed",
			ticks: []tick{
				{at: 0, world: absenceWorld{namespaces: []string{"ctl-a"}}, want: Pending, target: nsTarget},
				{at: 59 * time.Second, world: absenceWorld{namespaces: []string{"ctl-a"}}, want: Pending, target: nsTarget},
				{at: time.Minute, world: absenceWorld{namespaces: []string{"ctl-a"}}, want: Firing, target: nsTarget},
				{at: 2 * time.Minute, world: absenceWorld{namespaces: []string{"ctl-a"}, installed: "ctl-a"}, want: Resolved, target: nsTarget, because: "the expected object exists"},
			},
		},
		{
			name: "installed in the other namespace it may live in",
			ticks: []tick{
				{at: 0, world: absenceWorld{namespaces: []string{"ctl-a", "ctl-b"}, installed: "ctl-b"}},
				{at: 5 * time.Minute, world: absenceWorld{namespaces: []string{"ctl-a", "ctl-b"}, installed: "ctl-b"}},
			},
		},
		{
			name: "its namespace does not exist either: the Event names the stand-in",
			ticks: []tick{
				{at: 0, world: absenceWorld{}, want: Pending},
				{at: time.Minute, world: absenceWorld{}, want: Firing},
				{at: 2 * time.Minute, world: absenceWorld{installed: "ctl-a"}, want: Resolved, because: "the expected object exists"},
			},
		},
		{
			// What an unreadable source holds is unknown: no stand-in, and
			// a firing finding is held, not resolved.
			name: "an unreadable source is not evidence of absence",
			ticks: []tick{
				{at: 0, world: absenceWorld{namespaces: []string{"ctl-a"}, status: snapshot.StatusForbidden}},
				{at: time.Minute, world: absenceWorld{namespaces: []string{"ctl-a"}}, want: Pending, target: nsTarget},
				{at: 2 * time.Minute, world: absenceWorld{namespaces: []string{"ctl-a"}}, want: Firing, target: nsTarget},
				{at: 3 * time.Minute, world: absenceWorld{namespaces: []string{"ctl-a"}, status: snapshot.StatusForbidden}, want: Unknown, target: nsTarget},
			},
		},
		{
			// Missing for 30s, then installed, then missing again: the grace
			// starts over.
			name: "a blip restarts the grace",
			ticks: []tick{
				{at: 0, world: absenceWorld{namespaces: []string{"ctl-a"}}, want: Pending, target: nsTarget},
				{at: 30 * time.Second, world: absenceWorld{namespaces: []string{"ctl-a"}, installed: "ctl-a"}},
				{at: 61 * time.Second, world: absenceWorld{namespaces: []string{"ctl-a"}}, want: Pending, target: nsTarget},
				{at: 121 * time.Second, world: absenceWorld{namespaces: []string{"ctl-a"}}, want: Firing, target: nsTarget},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := New(cat, Options{})
			for i, tk := range tt.ticks {
				res := e.Tick(context.Background(), tk.world.snapshot(t0.Add(tk.at)))
				got := state(res, "ControllerMissing", subject)
				require.Equal(t, tk.want, got, "tick %d at +%s", i, tk.at)
				if tk.want == "" {
					continue
				}
				f := res.Find("ControllerMissing", subject)
				if tk.want == Resolved {
					require.Len(t, res.Resolved, 1)
					f = res.Resolved[0]
					assert.Equal(t, tk.because, f.ResolvedBecause)
				}
				require.NotNil(t, f)
				assert.Empty(t, f.Subject.UID, "a stand-in has no uid")
				assert.Equal(t, "apps/v1", f.Subject.APIVersion)
				assert.Equal(t, tk.target, f.Target, "tick %d", i)
				if tk.want == Firing {
					assert.Equal(t, "Deployment ctl-a/controller is missing", f.Message)
					assert.True(t, f.Published)
				}
			}
		})
	}
}

// TestExplainAStandIn: explain answers about a missing expected object by
// its reference, as about any subject.
func TestExplainAStandIn(t *testing.T) {
	cat := compileFile(t, "testdata/absence.yaml")
	e := New(cat, Options{})
	snap := absenceWorld{namespaces: []string{"ctl-a"}}.snapshot(t0.Add(time.Minute))
	res := e.Tick(context.Background(), snap)
	ex, err := e.Explain(context.Background(), snap, res, "Deployment/ctl-a/controller")
	require.NoError(t, err)
	require.Len(t, ex.Reasons, 1)
	assert.Equal(t, "ControllerMissing", ex.Reasons[0].Reason)
	assert.Equal(t, "true", ex.Reasons[0].Outcome)
	require.NotNil(t, ex.Reasons[0].Finding)
	assert.Equal(t, Pending, ex.Reasons[0].Finding.State)

	_, err = e.Explain(context.Background(), absenceWorld{namespaces: []string{"ctl-a"}, installed: "ctl-a"}.snapshot(t0), nil, "Deployment/ctl-b/controller")
	require.Error(t, err, "no stand-in for an object that is not expected")
}

// TestRestoredStandInKeepsItsTarget: a finding on a missing object restored
// after a restart gets its Event target back, so that its Events stay about
// the Namespace.
func TestRestoredStandInKeepsItsTarget(t *testing.T) {
	cat := compileFile(t, "testdata/absence.yaml")
	e := New(cat, Options{})
	subj := Subject{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "ctl-a", Name: "controller"}
	e.Restore([]Restored{{Reason: "ControllerMissing", Subject: subj, FiringSince: t0.Add(-time.Hour)}})
	res := e.Tick(context.Background(), absenceWorld{namespaces: []string{"ctl-a"}}.snapshot(t0))
	f := res.Find("ControllerMissing", subj.String())
	require.NotNil(t, f)
	assert.Equal(t, Firing, f.State)
	require.NotNil(t, f.Target)
	assert.Equal(t, "Namespace/ctl-a", f.Target.String())
}
