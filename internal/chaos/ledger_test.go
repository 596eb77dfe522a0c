package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 12, 5, 18, 0, 0, 0, time.UTC)

func at(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

const (
	subjA  = "HelmRelease/iaas-addon-chaos-0001/chaos-0001"
	subjB  = "HelmRelease/iaas-addon-chaos-0002/chaos-0002"
	reason = "AddonInstallFailed"
)

func fault(subject string, start, end int) AppFault {
	f := AppFault{Reason: reason, Subject: subject, Start: at(start)}
	if end >= 0 {
		f.End = at(end)
	}
	return f
}

// withTried sets when the first attempts of the fault's writes began
// (-1: the first attempt landed).
func withTried(f AppFault, start, end int) AppFault {
	if start >= 0 {
		f.StartTried = at(start)
	}
	if end >= 0 {
		f.EndTried = at(end)
	}
	return f
}

func warning(subject string, seen, since int, instance string) Write {
	return Write{At: at(seen), Reason: reason, Type: "Warning", Subject: subject, Instance: instance, FiringSince: at(since), Name: "ev", Namespace: "ns"}
}

func resolved(subject string, seen, since int, instance string) Write {
	return Write{At: at(seen), Reason: reason + "Resolved", Resolves: reason, Type: "Normal", Subject: subject, Instance: instance, FiringSince: at(since), Name: "ev-resolved", Namespace: "ns"}
}

func injection(kind string, start, end int) Injection {
	return Injection{Kind: kind, Start: at(start), End: at(end)}
}

var testRules = Rules{Bound: 60 * time.Second, Slack: 3 * time.Second, Blocking: map[string]bool{"apiKill": true}}

// counts is what a test expects of one Result.
type counts struct {
	Injected, Missed, MissedResolved, Duplicates, FalseResolved, FalseWarnings, ZombieWrites, Crashed, NotRecovered int
}

func countsOf(r Result) counts {
	return counts{r.Injected, r.Missed, r.MissedResolved, r.Duplicates, r.FalseResolved, r.FalseWarnings, r.ZombieWrites, r.Crashed, r.NotRecovered}
}

func TestCheck(t *testing.T) {
	holders := []Holder{{At: at(-100), Identity: "a"}}
	ticks := []Tick{{At: at(-50), Instance: "a"}, {At: at(5), Instance: "a"}, {At: at(100), Instance: "a"}, {At: at(200), Instance: "a"}, {At: at(400), Instance: "a"}}
	tests := []struct {
		name string
		l    Ledger
		// want maps a Result's name to its counts; names not listed
		// must be all zero (but for Injected).
		want map[string]counts
		// recoveries are the recovery seconds expected for kind apiKill.
		recoveries []float64
	}{
		{
			name: "published and resolved in time",
			l: Ledger{
				Faults: []AppFault{fault(subjA, 0, 100)},
				Writes: []Write{warning(subjA, 2, 1, "a"), resolved(subjA, 102, 1, "a")},
			},
			want: map[string]counts{kindApp: {Injected: 1}},
		},
		{
			name: "never published",
			l:    Ledger{Faults: []AppFault{fault(subjA, 0, 100)}},
			want: map[string]counts{kindApp: {Injected: 1, Missed: 1}, Quiet: {Missed: 1}},
		},
		{
			name: "published after the bound",
			l: Ledger{
				Faults: []AppFault{fault(subjA, 0, 100)},
				Writes: []Write{warning(subjA, 61, 1, "a"), resolved(subjA, 102, 1, "a")},
			},
			want: map[string]counts{kindApp: {Injected: 1, Missed: 1}, Quiet: {Missed: 1}},
		},
		{
			name: "published exactly at the bound",
			l: Ledger{
				Faults: []AppFault{fault(subjA, 0, 100)},
				Writes: []Write{warning(subjA, 60, 1, "a"), resolved(subjA, 102, 1, "a")},
			},
			want: map[string]counts{kindApp: {Injected: 1}},
		},
		{
			name: "grace moves the deadline",
			l: Ledger{
				Faults: []AppFault{{Reason: reason, Subject: subjA, Start: at(0), End: at(200), Grace: 30 * time.Second}},
				Writes: []Write{warning(subjA, 85, 31, "a"), resolved(subjA, 202, 31, "a")},
			},
			want: map[string]counts{kindApp: {Injected: 1}},
		},
		{
			name: "removed before it was due: silence is right",
			l:    Ledger{Faults: []AppFault{fault(subjA, 0, 30)}},
			want: map[string]counts{kindApp: {Injected: 1}},
		},
		{
			name: "removed before it was due but published: its Resolved is due",
			l: Ledger{
				Faults: []AppFault{fault(subjA, 0, 30)},
				Writes: []Write{warning(subjA, 2, 1, "a")},
			},
			want: map[string]counts{kindApp: {Injected: 1, MissedResolved: 1}, Quiet: {MissedResolved: 1}},
		},
		{
			name: "due after the run ended",
			l:    Ledger{Faults: []AppFault{fault(subjA, 0, -1)}, End: at(30)},
			want: map[string]counts{kindApp: {Injected: 1}},
		},
		{
			name: "a blocking fault extends the deadline past its end",
			l: Ledger{
				Injections: []Injection{injection("apiKill", 10, 50)},
				Faults:     []AppFault{fault(subjA, 0, 300)},
				Writes:     []Write{warning(subjA, 100, 1, "a"), resolved(subjA, 302, 1, "a")},
			},
			want:       map[string]counts{"apiKill": {Injected: 1}, kindApp: {Injected: 1}},
			recoveries: []float64{50},
		},
		{
			name: "overlapping faults count a miss under each",
			l: Ledger{
				Injections: []Injection{injection("apiKill", 10, 50), injection("catalog", 20, 80)},
				Faults:     []AppFault{fault(subjA, 0, 300)},
			},
			want: map[string]counts{"apiKill": {Injected: 1, Missed: 1, NotRecovered: 1}, "catalog": {Injected: 1, Missed: 1, NotRecovered: 1}, kindApp: {Injected: 1, Missed: 1}},
		},
		{
			name: "a non-blocking fault does not extend the deadline",
			l: Ledger{
				Injections: []Injection{injection("catalog", 10, 50)},
				Faults:     []AppFault{fault(subjA, 0, 300)},
				Writes:     []Write{warning(subjA, 100, 1, "a"), resolved(subjA, 302, 1, "a")},
			},
			want:       map[string]counts{"catalog": {Injected: 1, Missed: 1}, kindApp: {Injected: 1, Missed: 1}},
			recoveries: nil,
		},
		{
			name: "resolved too late",
			l: Ledger{
				Faults: []AppFault{fault(subjA, 0, 100)},
				Writes: []Write{warning(subjA, 2, 1, "a"), resolved(subjA, 170, 1, "a")},
			},
			want: map[string]counts{kindApp: {Injected: 1, MissedResolved: 1}, Quiet: {MissedResolved: 1}},
		},
		{
			name: "Resolved while the fault is in place",
			l: Ledger{
				Faults: []AppFault{fault(subjA, 0, 100)},
				Writes: []Write{warning(subjA, 2, 1, "a"), resolved(subjA, 50, 1, "a"), resolved(subjA, 102, 1, "a")},
			},
			want: map[string]counts{kindApp: {Injected: 1, FalseResolved: 1}, Quiet: {FalseResolved: 1}},
		},
		{
			// The removal's first attempt (at 90) timed out and may have
			// landed; the retry at 100 did: statusd resolving at 95, and
			// only then, is neither false nor missed.
			name: "Resolved after a removal attempt whose outcome is unknown",
			l: Ledger{
				Faults: []AppFault{withTried(fault(subjA, 0, 100), -1, 90)},
				Writes: []Write{warning(subjA, 2, 1, "a"), resolved(subjA, 95, 1, "a")},
			},
			want: map[string]counts{kindApp: {Injected: 1}},
		},
		{
			// The same before the removal's first attempt is false.
			name: "Resolved before any removal attempt",
			l: Ledger{
				Faults: []AppFault{withTried(fault(subjA, 0, 100), -1, 90)},
				Writes: []Write{warning(subjA, 2, 1, "a"), resolved(subjA, 80, 1, "a"), resolved(subjA, 102, 1, "a")},
			},
			want: map[string]counts{kindApp: {Injected: 1, FalseResolved: 1}, Quiet: {FalseResolved: 1}},
		},
		{
			// The fault's first attempt (at 0) may have landed; the retry
			// at 20 did: a Warning firing since 2 matches it.
			name: "Warning after a failing attempt whose outcome is unknown",
			l: Ledger{
				Faults: []AppFault{withTried(fault(subjA, 20, 100), 0, -1)},
				Writes: []Write{warning(subjA, 4, 2, "a"), resolved(subjA, 102, 2, "a")},
			},
			want: map[string]counts{kindApp: {Injected: 1}},
		},
		{
			name: "a late Resolved of the previous episode is not false",
			l: Ledger{
				Faults: []AppFault{fault(subjA, 0, 100), fault(subjA, 110, 300)},
				Writes: []Write{warning(subjA, 2, 1, "a"), warning(subjA, 112, 111, "a"), resolved(subjA, 113, 1, "a"), resolved(subjA, 302, 111, "a")},
			},
			want: map[string]counts{kindApp: {Injected: 2}},
		},
		{
			name: "a Warning for no fault, rewritten, counts once",
			l: Ledger{
				Writes: []Write{warning(subjB, 10, 9, "a"), warning(subjB, 20, 9, "a")},
			},
			want: map[string]counts{Quiet: {FalseWarnings: 1}, kindApp: {FalseWarnings: 1}},
		},
		{
			name: "a Warning whose episode began before the fault",
			l: Ledger{
				Faults: []AppFault{fault(subjA, 100, 200)},
				Writes: []Write{warning(subjA, 50, 50, "a"), warning(subjA, 101, 101, "a"), resolved(subjA, 202, 101, "a")},
			},
			want: map[string]counts{Quiet: {FalseWarnings: 1}, kindApp: {Injected: 1, FalseWarnings: 1}},
		},
		{
			name: "a Warning written after its fault was removed",
			l: Ledger{
				Faults: []AppFault{fault(subjA, 0, 100)},
				Writes: []Write{warning(subjA, 2, 1, "a"), resolved(subjA, 101, 1, "a"), warning(subjA, 130, 1, "a"), warning(subjA, 161, 1, "a")},
			},
			want: map[string]counts{Quiet: {FalseWarnings: 1}, kindApp: {Injected: 1, FalseWarnings: 1}},
		},
		{
			name: "two Event objects for one reason and subject",
			l: Ledger{
				Objects: []EventObject{
					{Namespace: "ns", Name: "one", Reason: reason, Subject: subjA, Created: at(1)},
					{Namespace: "ns", Name: "two", Reason: reason, Subject: subjA, Created: at(5)},
					{Namespace: "ns", Name: "three", Reason: reason, Subject: subjB, Created: at(5)},
					{Namespace: "ns", Name: "four", Reason: reason + "Resolved", Subject: subjA, Created: at(5)},
				},
			},
			want: map[string]counts{Quiet: {Duplicates: 1}, kindApp: {Duplicates: 1}},
		},
		{
			name: "a write by a replica not holding the Lease",
			l: Ledger{
				Holders: []Holder{{At: at(-100), Identity: "a"}, {At: at(30), Identity: "b"}},
				Faults:  []AppFault{fault(subjA, 0, 100)},
				Writes:  []Write{warning(subjA, 2, 1, "a"), warning(subjA, 31, 1, "a"), warning(subjA, 40, 1, "a"), resolved(subjA, 102, 1, "b")},
			},
			want: map[string]counts{Quiet: {ZombieWrites: 1}, kindApp: {Injected: 1, ZombieWrites: 1}},
		},
		{
			name: "crashes count, injected kills do not",
			l: Ledger{
				Injections: []Injection{injection("leaderKill", 100, 100)},
				Exits:      []Exit{{At: at(100), Instance: "a", Injected: true}, {At: at(300), Instance: "b", Why: "exit status 1"}},
			},
			want:       map[string]counts{"leaderKill": {Injected: 1}, Quiet: {Crashed: 1}, kindApp: {Crashed: 1}},
			recoveries: nil,
		},
		{
			name: "recovery waits for the publishing of a fault that started during the outage",
			l: Ledger{
				Injections: []Injection{injection("apiKill", 50, 60)},
				Faults:     []AppFault{fault(subjA, 55, 300)},
				Writes:     []Write{warning(subjA, 100, 56, "a"), resolved(subjA, 302, 56, "a")},
			},
			want:       map[string]counts{"apiKill": {Injected: 1}, kindApp: {Injected: 1}},
			recoveries: []float64{40},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := tc.l
			if l.Holders == nil {
				l.Holders = holders
			}
			l.Ticks = ticks
			if l.End.IsZero() {
				l.End = at(1000)
			}
			res := Check(l, testRules, []string{"apiKill", "catalog", "leaderKill"}, kindApp)
			require.Len(t, res, 5)
			for _, r := range res {
				assert.Equal(t, tc.want[r.Name], countsOf(r), "%s: %v", r.Name, r.Details)
				if r.Name == "apiKill" {
					assert.Equal(t, tc.recoveries, r.Recoveries, "apiKill recoveries")
				}
			}
		})
	}
}

func TestCheckIsPure(t *testing.T) {
	l := Ledger{
		Faults: []AppFault{fault(subjA, 0, 100)},
		Writes: []Write{resolved(subjA, 102, 1, "a"), warning(subjA, 2, 1, "a")},
		End:    at(1000),
	}
	first := Check(l, testRules, nil, kindApp)
	assert.Equal(t, "ev-resolved", l.Writes[0].Name, "input order kept")
	assert.Equal(t, first, Check(l, testRules, nil, kindApp), "same input, same verdict")
}

func TestRecoveryQuantiles(t *testing.T) {
	var inj []Injection
	var ticks []Tick
	for i := range 10 {
		inj = append(inj, injection("apiKill", i*100, i*100+10))
		ticks = append(ticks, Tick{At: at(i*100 + 10 + i + 1), Instance: "a"})
	}
	res := Check(Ledger{Injections: inj, Ticks: ticks, End: at(2000)}, testRules, []string{"apiKill"}, kindApp)
	r := res[0]
	assert.Equal(t, 10, r.Injected)
	assert.InDelta(t, 5.0, r.RecoveryP50, 1e-9)
	assert.InDelta(t, 10.0, r.RecoveryP99, 1e-9)
	assert.InDelta(t, 10.0, r.RecoveryMax, 1e-9)
}

// TestSharedNote says the machine was shared only when the load says so.
func TestSharedNote(t *testing.T) {
	tests := []struct {
		name  string
		loads []float64
		want  string
	}{
		{name: "not sampled", want: ""},
		{name: "quiet", loads: []float64{0.3, 3, 6.2}, want: ""},
		{name: "shared", loads: []float64{20, 40, 60}, want: " **Other work shared these 2 cores during the run**: the recovery times include waiting for a core."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, sharedNote(tt.loads, 2))
		})
	}
}
