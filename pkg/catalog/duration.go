package catalog

import (
	"fmt"
	"time"
)

// FormatDuration renders d for people in the catalogue's own duration
// syntax (20s, 42m, 1h5m, 3d2h), rounded to the second and to the two
// largest units that matter, so that what statusd prints can be pasted
// back into a catalogue. It is statusd's one duration formatter: the CEL
// function humanDuration and the Event writer's "resolved after" both call
// it.
func FormatDuration(d time.Duration) string {
	neg := ""
	if d < 0 {
		neg, d = "-", -d
	}
	d = d.Round(time.Second)
	days, hours := int64(d/(24*time.Hour)), int64(d%(24*time.Hour)/time.Hour)
	mins, secs := int64(d%time.Hour/time.Minute), int64(d%time.Minute/time.Second)
	var out string
	switch {
	case days > 0:
		out = fmt.Sprintf("%dd", days)
		if hours > 0 {
			out += fmt.Sprintf("%dh", hours)
		}
	case hours > 0:
		out = fmt.Sprintf("%dh", hours)
		if mins > 0 {
			out += fmt.Sprintf("%dm", mins)
		}
	case mins > 0:
		out = fmt.Sprintf("%dm", mins)
		if secs > 0 {
			out += fmt.Sprintf("%ds", secs)
		}
	default:
		out = fmt.Sprintf("%ds", secs)
	}
	return neg + out
}
