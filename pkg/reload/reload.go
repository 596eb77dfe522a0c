// Package reload keeps statusd's catalogue current: it watches the
// catalogue's files (a mounted ConfigMap) or the ConfigMaps themselves
// through the API (the shipped catalogue's and an operator's overlay,
// merged in a defined order into one catalogue), and offers a new
// compiled catalogue only when the content changed and every file
// decodes, compiles and passes the graph checks
// (pkg/loader). Anything less is rejected whole and the previous catalogue
// stays in force, as Prometheus keeps its last good rule set.
//
// Reloads are serialised: one goroutine per watcher reads, compiles and
// queues updates, latest first, so two events can never race two
// half-applied catalogues (kube-state-metrics once crashed that way). The
// consumer (the daemon) says through Update.Done whether it applied a
// catalogue; content it could not apply is compiled and offered again on
// the next event rather than remembered as seen.
package reload

import (
	"context"
	"log/slog"
	"sync"

	"k8s.io/apimachinery/pkg/runtime"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/loader"
)

// Update is the outcome of one reload attempt. It carries everything its
// consumer needs, including the object the content came from, so that no
// field is shared between the watcher's goroutine and the consumer's.
type Update struct {
	*loader.Result
	// Object is what the content came from, for Events about a rejected
	// catalogue (the ConfigMap); nil for files and the embedded catalogue.
	Object runtime.Object

	done func(applied bool)
}

// Rejected reports whether the content was refused: it did not compile.
func (u *Update) Rejected() bool { return u.Catalog == nil }

// Done tells the watcher whether the consumer applied the update's
// catalogue. Content applied is remembered, so that an identical rewrite is
// no change; content the consumer could not apply (its sources would not
// start) is forgotten, so that the next event offers it again. Calling it
// for a rejected update, or more than once, does nothing.
func (u *Update) Done(applied bool) {
	if u.done != nil {
		u.done(applied)
		u.done = nil
	}
}

// Options configure watchers.
type Options struct {
	// Compile sets the limits catalogues are compiled with.
	Compile cel.Options
	// Logger is where reloads are reported; discarded when nil.
	Logger *slog.Logger
}

func (o Options) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger.With("component", "reload")
}

// tracker remembers what content was dealt with, so that only changes are
// compiled and offered, and queues updates for the consumer, the latest
// replacing one not yet taken.
//
// Ownership: offer runs on the watcher's goroutine, Update.Done on the
// consumer's; mu guards last and pending between them.
type tracker struct {
	mu sync.Mutex
	// last is the hash of the latest content whose outcome is settled: it
	// was rejected, or the consumer applied it.
	last string
	// pending is the hash of the content offered and not yet settled.
	pending string

	out  chan *Update
	opts Options
	log  *slog.Logger
}

func newTracker(opts Options) *tracker {
	return &tracker{out: make(chan *Update, 1), opts: opts, log: opts.logger()}
}

// offer compiles files, with the problems found reading them, when their
// content differs from what was dealt with, and queues the outcome.
func (t *tracker) offer(ctx context.Context, files []*catalog.File, readErrs catalog.ErrorList, origin string, obj runtime.Object) {
	if ctx.Err() != nil {
		return
	}
	h := loader.Hash(files)
	t.mu.Lock()
	seen := len(readErrs) == 0 && (h == t.last || h == t.pending)
	t.mu.Unlock()
	if seen {
		return
	}
	u := &Update{Result: loader.Files(files, readErrs, origin, t.opts.Compile), Object: obj}
	t.mu.Lock()
	switch {
	case len(readErrs) > 0:
		// An unreadable file is a rejected catalogue; do not remember
		// this content, so that the file is read again on the next event.
	case u.Rejected():
		t.last, t.pending = h, ""
	default:
		t.pending = h
		u.done = func(applied bool) { t.settle(h, applied) }
	}
	t.mu.Unlock()
	if u.Rejected() {
		t.log.Warn("Catalogue rejected; keeping the previous one", "origin", origin, "errors", len(u.Problems.Errors()))
	} else {
		t.log.Info("Catalogue loaded", "origin", origin, "catalog", u.Catalog.Source.Metadata.Name,
			"version", u.Catalog.Source.Metadata.Version, "reasons", len(u.Catalog.Reasons), "warnings", len(u.Problems.Warnings()))
	}
	t.send(u)
}

// settle records what the consumer did with the content of hash h.
func (t *tracker) settle(h string, applied bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.pending == h {
		t.pending = ""
	}
	if applied {
		t.last = h
	}
}

// send queues u, replacing an update the consumer has not taken yet: only
// the latest content matters. The tracker is the only sender, so the send
// after the drain cannot block.
func (t *tracker) send(u *Update) {
	select {
	case <-t.out:
	default:
	}
	t.out <- u
}

// Static offers one catalogue loaded once (the embedded one, or any
// loader.Result) through the same interface as the watchers.
type Static struct{ out chan *Update }

// NewStatic returns a source that offers res, once.
func NewStatic(res *loader.Result) *Static {
	s := &Static{out: make(chan *Update, 1)}
	s.out <- &Update{Result: res}
	return s
}

// Updates delivers the one update.
func (s *Static) Updates() <-chan *Update { return s.out }

// Run waits for ctx to end: there is nothing to watch.
func (s *Static) Run(ctx context.Context) error {
	<-ctx.Done()
	return nil
}
