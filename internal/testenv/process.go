package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// stopGrace is how long a component gets between SIGTERM and SIGKILL; they
// take well under a second, except the apiserver, see graceFor.
const stopGrace = 5 * time.Second

// graceFor returns how long a component may shut down gracefully.
// kube-apiserver gets none: after SIGTERM it stops listening at once but then
// waits up to a minute for open watches to drain, which no test wants to pay
// for; SIGKILL is also the harder case for the clients a restart test checks.
func graceFor(name string) time.Duration {
	if name == KubeAPIServer {
		return 0
	}
	return stopGrace
}

// spawner forks every child from one goroutine locked to its OS thread.
//
// PR_SET_PDEATHSIG fires when the thread that forked a child exits, not the
// process, and the Go runtime may otherwise fork from any thread. Pinning the
// forks to one thread that lives until Env.Stop makes the signal mean "the test
// binary died": a panicking test or a timeout then cannot leave an etcd
// running. When the goroutine returns it is still locked, so the runtime ends
// the thread and any child still alive gets SIGKILL.
type spawner struct {
	reqs chan func()
}

func newSpawner() *spawner {
	s := &spawner{reqs: make(chan func())}
	go s.loop()
	return s
}

func (s *spawner) loop() {
	runtime.LockOSThread()
	for f := range s.reqs {
		f()
	}
}

// do runs f on the spawner's thread and waits for it.
func (s *spawner) do(f func()) {
	done := make(chan struct{})
	s.reqs <- func() {
		defer close(done)
		f()
	}
	<-done
}

func (s *spawner) close() { close(s.reqs) }

// process is one component: how to run it, and the running instance if any.
// Its log file is appended to across restarts so a restart test keeps the
// history of both runs.
type process struct {
	name    string
	path    string
	args    []string
	env     []string
	logPath string

	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
}

// start forks the process into its own process group, with stdout and stderr
// going to its log file.
func (p *process) start(sp *spawner) error {
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open log of %s: %w", p.name, err)
	}
	defer func() { _ = logf.Close() }() // the child holds its own descriptor
	_, _ = fmt.Fprintf(logf, "=== testenv %s: %s %s\n", time.Now().Format(time.RFC3339Nano), p.path, strings.Join(p.args, " "))

	cmd := exec.Command(p.path, p.args...)
	cmd.Env = p.env
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	sp.do(func() { err = cmd.Start() })
	if err != nil {
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	p.cmd = cmd
	p.exited = make(chan struct{})
	p.waitErr = nil
	go func(exited chan struct{}) {
		p.waitErr = cmd.Wait()
		close(exited)
	}(p.exited)
	return nil
}

// pid returns the running instance's pid, 0 if none was started.
func (p *process) pid() int {
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// running reports whether the instance started last is still alive.
func (p *process) running() bool {
	if p.exited == nil {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// stop sends SIGTERM to the process group, then SIGKILL after grace (at once
// if grace is 0), and waits until the process is reaped, so that its pid is
// gone when stop returns.
func (p *process) stop(grace time.Duration) error {
	if p.exited == nil {
		return nil
	}
	pgid := p.pid()
	if p.running() {
		sig := syscall.SIGKILL
		if grace > 0 {
			sig = syscall.SIGTERM
		}
		_ = syscall.Kill(-pgid, sig)
		// A paused (SIGSTOPped) group only acts on SIGTERM once it
		// runs again.
		_ = syscall.Kill(-pgid, syscall.SIGCONT)
		select {
		case <-p.exited:
		case <-time.After(grace):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-p.exited
		}
	}
	// Anything the component forked into its group goes too.
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill process group of %s: %w", p.name, err)
	}
	return nil
}

// exitError describes how the process ended, with the tail of its log.
func (p *process) exitError() error {
	err := p.waitErr
	if err == nil {
		err = errors.New("exit status 0")
	}
	return fmt.Errorf("%s exited: %w; last lines of %s:\n%s", p.name, err, p.logPath, tail(p.logPath, 30))
}

// tail returns the last n lines of a log file, for error messages.
func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	defer func() { _ = f.Close() }()
	const window = 64 << 10
	if st, err := f.Stat(); err == nil && st.Size() > window {
		_, _ = f.Seek(st.Size()-window, io.SeekStart)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return fmt.Sprintf("(read log: %v)", err)
	}
	lines := bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// logMentions reports whether the log contains s; used to recognise a lost
// race for a port.
func logMentions(path, s string) bool {
	data, err := os.ReadFile(path)
	return err == nil && bytes.Contains(data, []byte(s))
}

// freePorts returns n distinct ports that were free on 127.0.0.1 a moment ago.
// Another process can take one before the component binds it; callers retry
// with new ports when the component reports "address already in use".
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find free loopback port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// processAlive reports whether pid names a live (not yet reaped) process.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// rssKiB reads a process's resident set size from /proc, for the memory
// figures the tests report.
func rssKiB(pid int) int {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kib, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return kib
		}
	}
	return 0
}
