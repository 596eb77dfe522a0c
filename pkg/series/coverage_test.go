package series

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCoverage(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	// scrape is one scrape at t0+at: ok, or failed.
	type scrape struct {
		at time.Duration
		ok bool
	}
	every := func(from, to, step time.Duration) []scrape {
		var out []scrape
		for d := from; d <= to; d += step {
			out = append(out, scrape{at: d, ok: true})
		}
		return out
	}
	tests := []struct {
		name    string
		scrapes []scrape
		now     time.Duration
		window  time.Duration
		want    time.Duration
		wantErr string
	}{
		{name: "never scraped", now: time.Minute, window: 5 * time.Minute, want: 0, wantErr: "window not yet covered: 0s of 5m scraped"},
		{name: "one scrape", scrapes: every(0, 0, 15*time.Second), now: 0, window: 5 * time.Minute, want: 0, wantErr: "0s of 5m scraped"},
		{name: "one minute of five", scrapes: every(0, time.Minute, 15*time.Second), now: time.Minute, window: 5 * time.Minute, want: time.Minute, wantErr: "1m of 5m scraped"},
		{name: "exactly the window", scrapes: every(0, 5*time.Minute, 15*time.Second), now: 5 * time.Minute, window: 5 * time.Minute, want: 5 * time.Minute},
		{name: "a tick between scrapes", scrapes: every(0, 5*time.Minute, 15*time.Second), now: 5*time.Minute + 10*time.Second, window: 5 * time.Minute, want: 5 * time.Minute},
		{name: "longer than the window", scrapes: every(0, 30*time.Minute, 15*time.Second), now: 30 * time.Minute, window: 5 * time.Minute, want: 5 * time.Minute},
		{
			// First scrape 7s after the window's start: one interval more.
			name: "offset first scrape", scrapes: every(7*time.Second, 5*time.Minute, 15*time.Second),
			now: 5 * time.Minute, window: 5 * time.Minute, want: 4*time.Minute + 53*time.Second, wantErr: "4m53s of 5m scraped",
		},
		{
			// A gap of 2m (over the 1m bound) at 2m..4m: only what follows counts.
			name:    "a gap breaks the window",
			scrapes: append(every(0, 2*time.Minute, 15*time.Second), every(4*time.Minute, 6*time.Minute, 15*time.Second)...),
			now:     6 * time.Minute, window: 5 * time.Minute, want: 2 * time.Minute, wantErr: "2m of 5m scraped",
		},
		{
			// A gap within the bound does not.
			name:    "a gap within the bound",
			scrapes: append(every(0, 2*time.Minute, 15*time.Second), every(2*time.Minute+45*time.Second, 6*time.Minute, 15*time.Second)...),
			now:     6 * time.Minute, window: 5 * time.Minute, want: 5 * time.Minute,
		},
		{
			// Failed scrapes are gaps: four minutes of failures at 15s.
			name: "failed scrapes are a gap",
			scrapes: func() []scrape {
				s := every(0, 6*time.Minute, 15*time.Second)
				for i := range s {
					if s[i].at > time.Minute && s[i].at < 3*time.Minute {
						s[i].ok = false
					}
				}
				return s
			}(),
			now: 6 * time.Minute, window: 5 * time.Minute, want: 3 * time.Minute, wantErr: "3m of 5m scraped",
		},
		{
			name: "stale target covers nothing", scrapes: every(0, 5*time.Minute, 15*time.Second),
			now: 7 * time.Minute, window: 5 * time.Minute, want: 0, wantErr: "0s of 5m scraped",
		},
		{
			// Coverage is read at now: later scrapes do not count.
			name: "scrapes after now are ignored", scrapes: every(0, 10*time.Minute, 15*time.Second),
			now: 2 * time.Minute, window: 5 * time.Minute, want: 2 * time.Minute, wantErr: "2m of 5m scraped",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newTestHistory(t, Options{StaleAfter: time.Minute, Retention: time.Hour})
			p := page(t, "up", 1)
			for _, s := range tt.scrapes {
				if s.ok {
					require.NoError(t, h.Append(t0.Add(s.at), p))
				} else {
					require.NoError(t, h.Fail(t0.Add(s.at), errors.New("connection refused")))
				}
			}
			now := t0.Add(tt.now)
			assert.Equal(t, tt.want, h.Coverage(now, tt.window))
			err := h.Covered(now, tt.window)
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrNotCovered)
			assert.ErrorContains(t, err, tt.wantErr)
		})
	}
}

// TestCoverageOfAWindowAsLongAsTheRetention: a window may be as long as
// the retention; scrapes that do not fall on the window's edge still cover
// it, because scrape records outlive the samples by one staleness bound.
func TestCoverageOfAWindowAsLongAsTheRetention(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	h := newTestHistory(t, Options{Retention: 15 * time.Minute, StaleAfter: 65 * time.Second})
	p := page(t, "up", 1)
	// Every 30s, 7s past the half minute, for an hour.
	for i := range 120 {
		require.NoError(t, h.Append(t0.Add(7*time.Second+time.Duration(i)*30*time.Second), p))
	}
	for _, off := range []time.Duration{0, 10 * time.Second, 29 * time.Second} {
		now := t0.Add(7*time.Second + 119*30*time.Second + off)
		require.NoError(t, h.Covered(now, 15*time.Minute), "tick %s after the last scrape", off)
	}
}

func BenchmarkCoverage(b *testing.B) {
	t0 := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	h := newTestHistory(b, Options{Retention: time.Hour, StaleAfter: time.Minute})
	p := page(b, "up", 1)
	for i := range 240 {
		require.NoError(b, h.Append(t0.Add(time.Duration(i)*15*time.Second), p))
	}
	now := t0.Add(time.Hour)
	b.ReportAllocs()
	for b.Loop() {
		_ = h.Coverage(now, 15*time.Minute)
	}
}
