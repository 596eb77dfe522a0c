package promstack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"statusd.io/statusd/internal/testenv"
)

// BinDirEnv names the environment variable that overrides where the
// binaries are looked up, for CI caches kept outside the checkout.
const BinDirEnv = "STATUSD_PROMSTACK_BIN"

// ErrBinariesMissing reports that `make promstack` has not been run.
var ErrBinariesMissing = errors.New("prometheus and alertmanager binaries missing (run make promstack)")

// stopGrace is how long a server gets between SIGTERM and SIGKILL.
const stopGrace = 5 * time.Second

// startTimeout bounds how long a server may take to answer its readiness
// endpoint; both take a second or two, more on a loaded machine.
const startTimeout = 60 * time.Second

// binary returns the path of the named binary.
func binary(name string) (string, error) {
	dir := os.Getenv(BinDirEnv)
	if dir == "" {
		root, err := testenv.RepoRoot()
		if err != nil {
			return "", fmt.Errorf("locate bin/promstack (or set %s): %w", BinDirEnv, err)
		}
		dir = filepath.Join(root, "bin", "promstack")
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%w: %s not found in %s", ErrBinariesMissing, name, dir)
	}
	return p, nil
}

// process is one running server.
type process struct {
	name    string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
}

// start forks path with args into its own process group, output appended
// to logPath, with PR_SET_PDEATHSIG so that the test binary's death takes
// the server with it.
func start(name, path string, args []string, dir, logPath string) (*process, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open log of %s: %w", name, err)
	}
	defer func() { _ = logf.Close() }() // the child holds its own descriptor
	_, _ = fmt.Fprintf(logf, "=== promstack %s: %s %s\n", time.Now().Format(time.RFC3339Nano), path, strings.Join(args, " "))
	cmd := exec.Command(path, args...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + dir, "TMPDIR=" + dir}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p := &process{name: name, logPath: logPath, cmd: cmd, exited: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		// Pdeathsig is delivered when the thread that forked the child
		// ends, not the process: keep this thread until the child exits,
		// so only the test binary's death (or Stop) ends it.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			close(p.exited)
			return
		}
		started <- nil
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	return p, nil
}

// running reports whether the process is alive.
func (p *process) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// stop sends SIGTERM to the process group, SIGKILL after grace, and waits
// until the process is reaped.
func (p *process) stop(grace time.Duration) {
	pgid := p.cmd.Process.Pid
	if p.running() {
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(grace):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-p.exited
		}
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

// waitReady polls url until it answers 200, the process exits or the
// timeout passes; failures carry the tail of the log.
func (p *process) waitReady(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		last = probe(ctx, url)
		if last == nil {
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("%s exited: %w; last lines of %s:\n%s", p.name, p.waitErr, p.logPath, tail(p.logPath, 30))
		case <-ctx.Done():
			return fmt.Errorf("wait for %s: %w (last check: %w); last lines of %s:\n%s", p.name, ctx.Err(), last, p.logPath, tail(p.logPath, 30))
		case <-tick.C:
		}
	}
}

func probe(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("probe %s: %w", url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("probe %s: %w", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("probe %s: %s", url, resp.Status)
	}
	return nil
}

// tail returns the last n lines of a log file, for error messages.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// freePort returns a port that was free on 127.0.0.1 a moment ago, for
// both TCP and UDP (Alertmanager's gossip binds both on one port).
func freePort() (int, error) {
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("find free loopback port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		_ = u.Close()
		return port, nil
	}
	return 0, errors.New("find free loopback port: none free for both tcp and udp")
}
