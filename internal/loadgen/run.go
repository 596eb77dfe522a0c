package loadgen

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// began is when the process started, for Say.
var began = time.Now()

// Elapsed is the time since the process started: how long a run took.
func Elapsed() time.Duration { return time.Since(began) }

// Say prints a step of a run, prefixed with the time since the process
// started: the progress log of the scale and chaos runs.
func Say(format string, args ...any) {
	fmt.Printf("%6s  %s\n", Elapsed().Round(time.Second), fmt.Sprintf(format, args...))
}

// Main runs a harness: run gets a context that ends on SIGINT, SIGTERM or
// after timeout, and must stop everything it started before it returns.
// An error is printed as "<name> failed: ..." and exits with status 1.
func Main(name string, timeout time.Duration, run func(context.Context) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := run(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "\n%s failed: %v\n", name, err)
		cancel()
		stop()
		os.Exit(1) //nolint:gocritic // both deferred calls have just run: run stopped everything it started
	}
}
