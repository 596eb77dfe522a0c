// Package loader is the one way statusd loads a catalogue: read it (files
// and directories, a ConfigMap's data, or the catalogue embedded in the
// binary), decode and validate it (pkg/catalog), and compile its
// expressions (pkg/cel), with one policy for errors and panics. The daemon,
// the reload watchers, lint, rule tests, eval, explain, snapshot and rbac
// all call it, so that a catalogue one of them accepts is exactly one the
// others accept, as Prometheus's server and promtool share one rule loader.
//
// The policy: every problem is a positioned finding, all of them in one
// result (lint reports everything at once); expressions are compiled
// whenever every file was read and parsed as YAML, so CEL errors show up
// beside validation errors; a catalogue with any error has no compiled
// form; and a panic of the compiler on a broken catalogue, a statusd bug,
// becomes an internal-error finding rather than a crash.
package loader

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/rules"
)

// OriginEmbedded is the origin of the catalogue embedded in the binary.
const OriginEmbedded = "embedded"

// CompileBudgetFlag is the flag that sets CompileBudget on every command
// that loads a catalogue, named by the error a refused catalogue gets.
const CompileBudgetFlag = "--max-compile-time"

// CompileBudget is the CPU time compiling one catalogue may take, for
// every load that does not set cel.Options.CompileBudget itself: the
// commands set it from CompileBudgetFlag, so that run (files and
// ConfigMap), lint, test, eval, explain and snapshot share one bound.
var CompileBudget = cel.DefaultCompileBudget

// Result is one load: what was read, what it compiled to, and every
// problem found.
type Result struct {
	// Files are the files read, in the order read.
	Files []*catalog.File
	// Source is the decoded catalogue; possibly partial when Problems holds
	// errors, nil when nothing could be read.
	Source *catalog.Catalog
	// Catalog is the compiled catalogue; nil unless Problems holds no
	// error.
	Catalog *cel.Catalog
	// Problems holds every error and warning, sorted by position,
	// duplicates removed. Every entry matches catalog.ErrInvalid except
	// an internal error.
	Problems catalog.ErrorList
	// Decoded reports whether every file was read, decoded and validated
	// without error, whatever the expressions hold: enough for what only
	// needs the sources (statusd rbac).
	Decoded bool
	// Compiled reports whether the expressions were checked: false when a
	// file could not be read or parsed, since fixing that may reveal more.
	Compiled bool
	// Hash identifies the content by file name and bytes, independent of
	// order, so that a rewrite with identical content is no change.
	Hash string
	// Origin says where the content came from (paths, configmap/NS/NAME,
	// or embedded), for logs and Events.
	Origin string
}

// Err returns the errors as one error, or nil when the catalogue loaded.
func (r *Result) Err() error { return r.Problems.Err() }

// Paths loads the catalogue made of files and directories (a directory
// contributes its *.yaml and *.yml files of kind Catalog, following
// includes), or the embedded catalogue when paths is empty.
func Paths(paths []string, opts cel.Options) *Result {
	if len(paths) == 0 {
		return Embedded(opts)
	}
	files, errs := catalog.ReadFiles(paths...)
	return Files(files, errs, strings.Join(paths, ","), opts)
}

// Embedded loads the catalogue shipped in the binary.
func Embedded(opts cel.Options) *Result {
	files, errs := catalog.ReadFS(rules.FS, rules.Files()...)
	return Files(files, errs, OriginEmbedded, opts)
}

// ConfigMap loads the catalogue held in a ConfigMap's data, one file per
// key ending in .yaml or .yml.
func ConfigMap(cm *corev1.ConfigMap, opts cel.Options) *Result {
	files := ConfigMapFiles(cm)
	var errs catalog.ErrorList
	origin := "configmap/" + cm.Namespace + "/" + cm.Name
	if len(files) == 0 {
		errs.Errorf(catalog.Pos{File: origin}, "", "no catalogue files found: no data key ends in .yaml or .yml")
	}
	errs = append(errs, catalog.CheckIncludes(files)...)
	return Files(files, errs, origin, opts)
}

// ConfigMapFiles returns the catalogue files a ConfigMap holds, in key
// order, named so that errors say where to look:
// configmap/monitoring/statusd-catalog/addons.yaml:12:7.
func ConfigMapFiles(cm *corev1.ConfigMap) []*catalog.File {
	keys := make([]string, 0, len(cm.Data))
	for k := range cm.Data {
		if catalog.IsYAML(k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	out := make([]*catalog.File, len(keys))
	for i, k := range keys {
		out[i] = catalog.NewFile("configmap/"+cm.Namespace+"/"+cm.Name+"/"+k, []byte(cm.Data[k]))
	}
	return out
}

// Files decodes, validates and compiles files already read, together with
// the problems found reading them (readErrs), as one catalogue.
func Files(files []*catalog.File, readErrs catalog.ErrorList, origin string, opts cel.Options) *Result {
	r := &Result{Files: files, Hash: Hash(files), Origin: origin}
	if opts.CompileBudget == 0 {
		// Zero in cel.Options means its default; from the flag it means
		// no limit.
		opts.CompileBudget = CompileBudget
		if opts.CompileBudget <= 0 {
			opts.CompileBudget = -1
		}
	}
	problems := slices.Clone(readErrs)
	if len(files) > 0 {
		src, errs := catalog.Parse(files...)
		r.Source = src
		problems = append(problems, errs...)
		r.Decoded = problems.Err() == nil
		if complete(src, problems) {
			c, cerrs := compile(src, opts)
			r.Compiled = c != nil
			problems = append(problems, cerrs...)
			if problems.Err() == nil {
				r.Catalog = c
			}
		}
	}
	problems = problems.Dedupe()
	problems.Sort()
	r.Problems = problems
	return r
}

// complete reports whether every file was read and parsed as YAML, so that
// the catalogue holds every declaration its author wrote: compiling a
// catalogue that lacks a file would report every reference into it as
// undeclared. An unreadable path, or a directory without catalogues, is
// reported at the path itself, without a line.
func complete(src *catalog.Catalog, errs catalog.ErrorList) bool {
	if len(src.Files) == 0 {
		return false
	}
	for _, e := range errs {
		if !e.Warning && e.Pos.Line == 0 && e.Pos.File != "" && src.File(e.Pos.File) == nil {
			return false
		}
	}
	for _, f := range src.Files {
		if _, err := f.Documents(); err != nil {
			return false
		}
	}
	return true
}

// compile runs the CEL compiler over a catalogue that may hold decoding
// errors. The compiler is written for catalogues that passed validation; a
// panic on a broken one is a statusd bug, reported as an internal error
// finding (which does not match catalog.ErrInvalid) so that the operator
// still sees every other problem and the process keeps running.
func compile(src *catalog.Catalog, opts cel.Options) (c *cel.Catalog, errs catalog.ErrorList) {
	defer func() {
		if p := recover(); p != nil {
			c = nil
			errs = catalog.ErrorList{{
				Pos: catalog.Pos{File: fileNames(src.Files)},
				Msg: fmt.Sprintf("internal error: compiling expressions panicked (a statusd bug, please report it): %v", p),
			}}
		}
	}()
	return cel.Compile(src, opts)
}

func fileNames(files []*catalog.File) string {
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = f.Name
	}
	return strings.Join(names, ",")
}

// Hash identifies a set of files by name and content, in name order, so
// that a rewrite with identical content (the kubelet refreshes ConfigMap
// volumes periodically) is recognised as no change.
func Hash(files []*catalog.File) string {
	sorted := slices.Clone(files)
	slices.SortFunc(sorted, func(a, b *catalog.File) int { return strings.Compare(a.Name, b.Name) })
	h := sha256.New()
	for _, f := range sorted {
		fmt.Fprintf(h, "%s\x00%d\x00", f.Name, len(f.Data))
		h.Write(f.Data)
	}
	return hex.EncodeToString(h.Sum(nil))
}
