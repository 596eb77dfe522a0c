package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"statusd.io/statusd/internal/fixtures"
	"statusd.io/statusd/internal/loadgen"
)

// replica is one statusd process the run supervises as a kubelet would: in
// its own process group (so that killing it kills everything it started),
// restarted after it exits, and killed when its resident memory passes
// the container's limit, as the kernel's OOM killer would.
type replica struct {
	name    string
	bin     string
	args    []string
	logPath string
	addr    string
	// memLimit is the container limit in bytes; 0 for none.
	memLimit float64
	// restartDelay is how long the supervisor waits before starting an
	// exited replica again (a kubelet's first back-off is 10 seconds).
	restartDelay time.Duration
	onExit       func(Exit)

	mu       sync.Mutex
	cmd      *exec.Cmd
	exited   chan struct{}
	injected bool // the current process's end was injected
	paused   bool
	oom      bool // the current process was killed for its memory
	stopped  bool
	pids     []int
	peakRSS  float64
}

// start starts the process; the caller holds r.mu.
func (r *replica) startLocked() error {
	logf, err := os.OpenFile(r.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("log of %s: %w", r.name, err)
	}
	defer func() { _ = logf.Close() }()
	cmd := exec.Command(r.bin, r.args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own group, killed with the run (Pdeathsig) if the run dies
	// without cleaning up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", r.name, err)
	}
	r.cmd, r.exited, r.injected, r.paused, r.oom = cmd, make(chan struct{}), false, false, false
	r.pids = append(r.pids, cmd.Process.Pid)
	go r.wait(cmd, r.exited)
	return nil
}

// wait reaps cmd, reports the exit and restarts the replica after
// restartDelay unless the run is stopping.
func (r *replica) wait(cmd *exec.Cmd, exited chan struct{}) {
	err := cmd.Wait()
	// Anything the process left in its group goes with it.
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	r.mu.Lock()
	injected, stopped, oom := r.injected, r.stopped, r.oom
	close(exited)
	r.mu.Unlock()
	if stopped {
		return
	}
	why := "exit status 0"
	if err != nil {
		why = err.Error()
	}
	if oom {
		why = "OOM-killed: resident memory over the container limit"
	}
	if r.onExit != nil {
		r.onExit(Exit{At: time.Now(), Instance: r.name, Injected: injected, Why: why})
	}
	time.Sleep(r.restartDelay)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return
	}
	if err := r.startLocked(); err != nil {
		fmt.Fprintf(os.Stderr, "restart %s: %v\n", r.name, err)
	}
}

// start starts the replica for the first time.
func (r *replica) start() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.startLocked()
}

// signal sends sig to the running process's group; injected marks a kill
// the run means.
func (r *replica) signal(sig syscall.Signal, injected bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil || r.stopped {
		return errors.New(r.name + " is not running")
	}
	select {
	case <-r.exited:
		return errors.New(r.name + " is not running")
	default:
	}
	if injected {
		r.injected = true
	}
	switch sig {
	case syscall.SIGSTOP:
		r.paused = true
	case syscall.SIGCONT:
		// Whatever the process does once it runs again is its own.
		r.paused, r.injected = false, false
	}
	if err := syscall.Kill(-r.cmd.Process.Pid, sig); err != nil {
		return fmt.Errorf("signal %s: %w", r.name, err)
	}
	return nil
}

// pid is the running process's pid, 0 when none runs.
func (r *replica) pid() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil {
		return 0
	}
	select {
	case <-r.exited:
		return 0
	default:
		return r.cmd.Process.Pid
	}
}

// isPaused reports whether the run froze the process.
func (r *replica) isPaused() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.paused
}

// enforceMemory kills the process (not injected: a crash) once its RSS
// passes the limit, and remembers the peak.
func (r *replica) enforceMemory() {
	pid := r.pid()
	if pid == 0 {
		return
	}
	rss, _ := loadgen.ProcStatus(pid)
	r.mu.Lock()
	r.peakRSS = max(r.peakRSS, rss)
	r.mu.Unlock()
	if r.memLimit > 0 && rss > r.memLimit {
		fmt.Fprintf(os.Stderr, "%s: RSS %.0f MiB over the limit %.0f MiB: killed as the OOM killer would\n", r.name, rss/mib, r.memLimit/mib)
		r.mu.Lock()
		r.oom = true
		r.mu.Unlock()
		_ = r.signal(syscall.SIGKILL, false)
	}
}

// stop ends the replica for good: SIGCONT (a frozen process cannot act on
// SIGTERM), SIGTERM, then SIGKILL after grace, always to the whole process
// group, and waits until it is reaped.
func (r *replica) stop(grace time.Duration) {
	r.mu.Lock()
	r.stopped = true
	cmd, exited := r.cmd, r.exited
	r.mu.Unlock()
	if cmd == nil {
		return
	}
	pg := -cmd.Process.Pid
	_ = syscall.Kill(pg, syscall.SIGTERM)
	_ = syscall.Kill(pg, syscall.SIGCONT)
	select {
	case <-exited:
	case <-time.After(grace):
		_ = syscall.Kill(pg, syscall.SIGKILL)
		<-exited
	}
	_ = syscall.Kill(pg, syscall.SIGKILL)
}

// startedPIDs are the pids of every process the replica started.
func (r *replica) startedPIDs() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int(nil), r.pids...)
}

// ready waits until the replica's /readyz answers 200.
func (r *replica) ready(ctx context.Context) error {
	if err := fixtures.WaitReady(ctx, r.addr); err != nil {
		return fmt.Errorf("%s (log %s): %w", r.name, r.logPath, err)
	}
	return nil
}

const mib = 1 << 20
