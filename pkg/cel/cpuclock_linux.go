package cel

import (
	"time"

	"golang.org/x/sys/unix"
)

// threadCPU reads the calling thread's CPU time; Compile locks its
// goroutine to one thread, so this is the compile's own work, whatever
// else the process and the machine are doing.
func threadCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return wallClock()
	}
	return time.Duration(ts.Nano())
}
