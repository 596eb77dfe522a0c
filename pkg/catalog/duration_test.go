package catalog

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		name string
		in   time.Duration
		want string
	}{
		{"zero", 0, "0s"},
		{"seconds", 20 * time.Second, "20s"},
		{"rounded to the second", 1500 * time.Millisecond, "2s"},
		{"whole minutes", 42 * time.Minute, "42m"},
		{"minutes and seconds", 90 * time.Second, "1m30s"},
		{"hours and minutes", 65 * time.Minute, "1h5m"},
		{"whole hours", 3 * time.Hour, "3h"},
		{"days and hours", 74 * time.Hour, "3d2h"},
		{"days drop minutes", 49*time.Hour + 10*time.Minute, "2d1h"},
		{"negative", -5 * time.Minute, "-5m"},
		// The Event writer's former formatter said "less than a second"
		// and rounded 23h59m50s up to 1d; statusd now has one formatter.
		{"seconds carry into the hour", 59*time.Minute + 59*time.Second + 600*time.Millisecond, "1h"},
		{"hours keep minutes", 23*time.Hour + 59*time.Minute + 50*time.Second, "23h59m"},
		{"minutes and seconds past forty", 42*time.Minute + 20*time.Second, "42m20s"},
		{"days without hours", 72 * time.Hour, "3d"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, FormatDuration(tc.in))
		})
	}
}
