//go:build !linux

package cel

import "time"

// threadCPU falls back on wall time where no per-thread CPU clock is read:
// a busy machine may then refuse a catalogue sooner.
func threadCPU() time.Duration { return wallClock() }
