// Package reload keeps statusd's catalogue current: it watches the
// catalogue's files (a mounted ConfigMap) or the ConfigMap itself through
// the API, and hands over a new compiled catalogue only when the content
// changed and every file decodes, compiles and passes the graph checks.
// Anything less is rejected whole and the previous catalogue stays in
// force, as Prometheus keeps its last good rule set.
//
// Reloads are serialised: one goroutine per watcher reads, compiles and
// calls the handler, so two events can never race two half-applied
// catalogues (kube-state-metrics once crashed that way).
package reload

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/cel"
)

// Update is the outcome of one reload attempt.
type Update struct {
	// Catalog is the new compiled catalogue; nil when rejected.
	Catalog *cel.Catalog
	// Problems holds every error and warning found. A rejected update has
	// at least one error.
	Problems catalog.ErrorList
	// Hash identifies the content that was loaded.
	Hash string
	// Origin says where the content came from (file paths, or
	// ConfigMap namespace/name), for logs and Events.
	Origin string
}

// Rejected reports whether the update was refused.
func (u *Update) Rejected() bool { return u.Catalog == nil }

// Handler receives updates, from one goroutine at a time. It is called for
// accepted and rejected content alike; a rejected update must leave the
// catalogue in force untouched.
type Handler func(u *Update)

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

// Compile decodes, validates and compiles files as one catalogue. It is
// what every reload runs, so a catalogue that lint accepts is exactly one
// that loads.
func Compile(files []*catalog.File, opts cel.Options, origin string) *Update {
	u := &Update{Hash: hashFiles(files), Origin: origin}
	src, errs := catalog.Parse(files...)
	u.Problems = errs
	if errs.Err() != nil {
		return u
	}
	c, cerrs := cel.Compile(src, opts)
	u.Problems = append(u.Problems, cerrs...)
	u.Problems.Sort()
	if cerrs.Err() != nil {
		return u
	}
	u.Catalog = c
	return u
}

// hashFiles identifies a set of files by name and content, in name order,
// so that a rewrite with identical content (the kubelet refreshes
// ConfigMap volumes periodically) is recognised as no change.
func hashFiles(files []*catalog.File) string {
	sorted := slices.Clone(files)
	slices.SortFunc(sorted, func(a, b *catalog.File) int { return strings.Compare(a.Name, b.Name) })
	h := sha256.New()
	for _, f := range sorted {
		fmt.Fprintf(h, "%s\x00%d\x00", f.Name, len(f.Data))
		h.Write(f.Data)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// tracker remembers the last content seen, so that only changes are
// compiled and reported.
type tracker struct {
	last    string
	handler Handler
	opts    Options
	log     *slog.Logger
}

// offer compiles files when their content differs from the last offer and
// reports the outcome.
func (t *tracker) offer(ctx context.Context, files []*catalog.File, origin string) {
	if ctx.Err() != nil {
		return
	}
	h := hashFiles(files)
	if h == t.last {
		return
	}
	t.last = h
	u := Compile(files, t.opts.Compile, origin)
	if u.Rejected() {
		t.log.Warn("Catalogue rejected; keeping the previous one", "origin", origin, "errors", len(u.Problems.Errors()))
	} else {
		t.log.Info("Catalogue loaded", "origin", origin, "catalog", u.Catalog.Source.Metadata.Name,
			"version", u.Catalog.Source.Metadata.Version, "reasons", len(u.Catalog.Reasons), "warnings", len(u.Problems.Warnings()))
	}
	t.handler(u)
}
