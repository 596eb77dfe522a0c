package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"syscall"
)

// While the run grows the cluster, statusd ticks over every pod added, and
// at tens of thousands of pods a tick costs it a second of CPU: on two cores
// it then takes much of the CPU the control plane needs to create, schedule
// and start pods. So statusd runs at a lower priority (a higher nice value)
// while the cluster grows. It still receives every watch event as it
// happens; it only ticks less often until the growth is done. It is back at
// nice 0 before the catch-up pause that precedes each measurement window, so
// nothing measured runs at the lower priority.

// setNice sets the nice value of every thread of process pid. Linux keeps
// nice per thread and a new thread inherits its creator's, so a second pass
// catches threads started by threads the first pass had not reached yet.
func setNice(pid, nice int) error {
	for range 2 {
		tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
		if err != nil {
			return fmt.Errorf("threads of %d: %w", pid, err)
		}
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			// A thread may have exited since the listing: ESRCH is fine.
			if err := syscall.Setpriority(syscall.PRIO_PROCESS, tid, nice); err != nil && !errors.Is(err, syscall.ESRCH) {
				return fmt.Errorf("set nice %d on thread %d of %d: %w", nice, tid, pid, err)
			}
		}
	}
	return nil
}

// canRestoreNice reports whether this process may lower a nice value again
// (root, CAP_SYS_NICE or RLIMIT_NICE), which it needs to put statusd back to
// 0 before measuring. It tries on a thread of its own that is thrown away
// afterwards, whatever its nice value ends up.
func canRestoreNice() bool {
	ok := make(chan bool)
	go func() {
		// Never unlocked: the runtime ends the thread when this
		// goroutine returns, so a raised nice value dies with it.
		runtime.LockOSThread()
		tid := syscall.Gettid()
		if err := syscall.Setpriority(syscall.PRIO_PROCESS, tid, 1); err != nil {
			ok <- false
			return
		}
		ok <- syscall.Setpriority(syscall.PRIO_PROCESS, tid, 0) == nil
	}()
	return <-ok
}
