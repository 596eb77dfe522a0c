package cel

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestHumanTime(t *testing.T) {
	tests := []struct {
		name string
		in   time.Time
		want string
	}{
		{"UTC", time.Date(2026, 12, 5, 12, 47, 25, 0, time.UTC), "2026-12-05T12:47:25Z"},
		{"fraction truncated", time.Date(2026, 12, 5, 12, 47, 25, 999_999_999, time.UTC), "2026-12-05T12:47:25Z"},
		{"other zone shown in UTC", time.Date(2026, 12, 5, 13, 47, 25, 0, time.FixedZone("CET", 3600)), "2026-12-05T12:47:25Z"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, humanTime(tc.in))
		})
	}
}
