package testenv

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
)

// shared is the control plane Main started for this test binary.
var shared atomic.Pointer[Env]

// Main is a package's TestMain body: it starts one control plane for all the
// package's tests (a start costs seconds and hundreds of megabytes, too much
// per test), runs them, stops it and exits. A failed start fails the run
// with the reason, including "run make testenv" when the binaries are
// missing; it never skips.
//
// SIGINT and SIGTERM stop the control plane before the binary exits, so an
// interrupted `go test` leaves nothing behind.
func Main(m *testing.M, opts Options) {
	os.Exit(Run(m, opts))
}

// Run is Main without the exit, for a TestMain that has its own clean-up to
// do after the tests; it returns the exit code.
func Run(m *testing.M, opts Options) int {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case s := <-sigs:
			// During Start, cancelling makes Start clean up and fail.
			cancel()
			if env := shared.Load(); env != nil {
				_ = env.Stop()
				fmt.Fprintf(os.Stderr, "testenv: stopped control plane on %v\n", s)
				os.Exit(1)
			}
		case <-ctx.Done():
		}
	}()

	env, err := Start(ctx, opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: testenv: start control plane: %v\n", err)
		return 1
	}
	shared.Store(env)
	if ctx.Err() != nil { // interrupted between Start and Store
		_ = env.Stop()
		return 1
	}
	code := m.Run()
	if err := env.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: testenv: stop control plane: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// Shared returns the control plane that Main started. Calling it from a
// package whose TestMain does not call Main is a programming error and
// panics with a message saying so.
func Shared() *Env {
	env := shared.Load()
	if env == nil && lazy.Load() != nil {
		env = lazy.Load().start()
	}
	if env == nil {
		panic("testenv.Shared: no control plane; call testenv.Main(m, opts) from TestMain")
	}
	return env
}

// lazyStart is the control plane RunLazy starts on the first Shared call.
type lazyStart struct {
	ctx  context.Context
	opts Options
	once sync.Once
	err  error
}

// lazy is set by RunLazy for the test binary's lifetime.
var lazy atomic.Pointer[lazyStart]

func (l *lazyStart) start() *Env {
	l.once.Do(func() {
		env, err := Start(l.ctx, l.opts)
		if err != nil {
			l.err = err
			return
		}
		shared.Store(env)
	})
	if l.err != nil {
		// Every test that needs the control plane fails with the reason,
		// "run make testenv" included; none is skipped.
		panic(fmt.Sprintf("testenv: start control plane: %v", l.err))
	}
	return shared.Load()
}

// RunLazy is Run for a package whose tests do not all need the control
// plane: it starts when a test first calls Shared, not before m.Run, so
// that the package's pure tests, and above all its fuzz targets (whose
// workers run TestMain again and again), run without one. It is stopped
// after the tests, if it was started; a failed start fails every test
// that needed it.
func RunLazy(m *testing.M, opts Options) int {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l := &lazyStart{ctx: ctx, opts: opts}
	lazy.Store(l)
	defer lazy.Store(nil)
	go func() {
		select {
		case s := <-sigs:
			cancel()
			if env := shared.Load(); env != nil {
				_ = env.Stop()
				fmt.Fprintf(os.Stderr, "testenv: stopped control plane on %v\n", s)
			}
			os.Exit(1)
		case <-ctx.Done():
		}
	}()
	code := m.Run()
	if env := shared.Load(); env != nil {
		if err := env.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "FAIL: testenv: stop control plane: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
		shared.Store(nil)
	}
	return code
}
