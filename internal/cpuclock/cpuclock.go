// Package cpuclock reports a benchmark's CPU time per op beside its wall
// time. On a shared machine wall time counts the time other processes had
// a core; the process's CPU time (user and system, every thread, the
// garbage collector's included) counts only the work done, so it is the
// steadier number when benchmarks run beside other work.
package cpuclock

import (
	"syscall"
	"testing"
	"time"
)

// Clock is a start reading of the process's CPU time.
type Clock struct{ start time.Duration }

// Start reads the clock.
func Start() Clock { return Clock{Now()} }

// Report adds the CPU time since Start, per op, to b as cpu-ms/op.
func (c Clock) Report(b *testing.B) {
	b.ReportMetric(float64(Now()-c.start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}

// Now is the process's CPU time so far; 0 where getrusage fails.
func Now() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
