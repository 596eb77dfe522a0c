package catalog

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"statusd.io/statusd/pkg/yamlpos"
)

// ReadFiles reads catalogue paths the way Load does (a directory
// contributes its *.yaml and *.yml files of kind Catalog, dot-files and
// subdirectories excluded, which also skips the kubelet's ..data
// directories of a mounted ConfigMap) without decoding them, for callers
// that hash or watch the content before compiling it. It returns what it
// could read and every path it could not, positioned (a missing include at
// the include naming it); Parse of the files is then what Load returns.
// Includes stay inside the catalogue and all files together are capped at
// MaxBytes.
func ReadFiles(paths ...string) ([]*File, ErrorList) {
	files, errs := collect(paths, osTree{})
	if len(files) == 0 && len(errs) == 0 {
		errs = append(errs, &Error{Pos: Pos{File: strings.Join(paths, ",")}, Msg: "no catalogue files found"})
	}
	return files, errs.WithKind(ErrInvalid)
}

// ReadFS is ReadFiles over a file system, for catalogues embedded in the
// binary or mounted from a ConfigMap; includes name other files of fsys.
func ReadFS(fsys fs.FS, names ...string) ([]*File, ErrorList) {
	files, errs := collect(names, fsTree{fsys})
	if len(files) == 0 && len(errs) == 0 {
		errs = append(errs, &Error{Pos: Pos{File: strings.Join(names, ",")}, Msg: "no catalogue files found"})
	}
	return files, errs.WithKind(ErrInvalid)
}

// MaxBytes caps the total size of a catalogue: every file given and every
// file they include, together (and so each file alone). A ConfigMap holds
// at most 1 MiB, the default. The CLI's --max-catalog-bytes sets it at
// start-up, before any catalogue is read.
var MaxBytes int64 = DefaultMaxBytes

// DefaultMaxBytes is MaxBytes unless a flag raises it: what a ConfigMap holds.
const DefaultMaxBytes = 1 << 20

// MaxBytesFlag is the flag that raises MaxBytes, named in errors.
const MaxBytesFlag = "--max-catalog-bytes"

// ErrInclude is matched (errors.Is) by an include that names a path outside
// the catalogue: absolute, escaping with "..", or a symbolic link that
// leads out of the including file's directory tree.
var ErrInclude = errors.New("include outside the catalogue")

// tree is where a catalogue's files come from: the operating system's
// files, or an fs.FS (a mounted ConfigMap, the embedded catalogue).
type tree interface {
	// read returns the catalogue files at p, each at most budget bytes;
	// an include (given false) must name a regular file, a path given may
	// name a directory.
	read(p string, given bool, budget Cap) ([]*File, error)
	join(elem ...string) string
	dir(p string) string
	// root is the directory a given path's includes stay below: the
	// path itself when it is a directory, else the directory it is in.
	root(p string) string
	// contains checks that target, named by an include of a file under
	// root, stays inside root once links are followed.
	contains(root, target string) error
}

// Cap is the size cap of a file read, with the flag that raises it.
type Cap = yamlpos.Cap

// collect reads paths and, transitively, the files their includes name
// (relative to the including file), each file once. Errors are positioned:
// a missing include at the include that names it. Includes may not leave
// the directory of the path given that led to them, and all files
// together are capped at MaxBytes.
func collect(paths []string, t tree) ([]*File, ErrorList) {
	type pending struct {
		path string
		root string // the directory the given path lives in; includes stay below it
		from Pos    // where an include named it; zero for a path given
	}
	queue := make([]pending, len(paths))
	for i, p := range paths {
		queue[i] = pending{path: p, root: t.root(p)}
	}
	seen := map[string]bool{}
	var out []*File
	var errs ErrorList
	used := int64(0)
	for len(queue) > 0 {
		next := queue[0]
		queue = queue[1:]
		pos := next.from
		if pos.File == "" {
			pos = Pos{File: next.path}
		}
		if next.from.File != "" {
			if err := t.contains(next.root, next.path); err != nil {
				errs = append(errs, &Error{Pos: pos, Msg: err.Error()})
				continue
			}
		}
		files, err := t.read(next.path, next.from.File == "", Cap{Bytes: MaxBytes - used, Flag: MaxBytesFlag})
		if err != nil {
			if errors.Is(err, yamlpos.ErrTooLarge) {
				err = fmt.Errorf("read catalogue: %w", Cap{Bytes: MaxBytes, Flag: MaxBytesFlag}.TooLarge(next.path+" (with the files read before it)"))
			}
			errs = append(errs, &Error{Pos: pos, Msg: err.Error()})
			if errors.Is(err, yamlpos.ErrTooLarge) {
				break // the budget is spent: reading on would only repeat this
			}
			continue
		}
		for _, f := range files {
			key := filepath.Clean(f.Name)
			if seen[key] {
				continue
			}
			seen[key] = true
			used += int64(len(f.Data))
			out = append(out, f)
			for _, inc := range includesOf(f) {
				if err := checkInclude(inc.path); err != nil {
					errs = append(errs, &Error{Pos: inc.pos, Msg: err.Error()})
					continue
				}
				target := t.join(t.dir(f.Name), inc.path)
				if !seen[filepath.Clean(target)] {
					queue = append(queue, pending{path: target, root: next.root, from: inc.pos})
				}
			}
		}
	}
	return out, errs
}

// checkInclude refuses an include that is not a plain relative path: an
// absolute path is an error, not silently made relative, and ".." may not
// climb out of the including file's directory.
func checkInclude(p string) error {
	switch {
	case strings.ContainsRune(p, 0):
		return fmt.Errorf("%w: include %q holds a NUL byte", ErrInclude, p)
	case filepath.IsAbs(p) || strings.HasPrefix(p, "/") || strings.HasPrefix(p, `\`):
		return fmt.Errorf("%w: include %q is absolute: name a file relative to the including file", ErrInclude, p)
	case !filepath.IsLocal(p) || slices.Contains(strings.Split(filepath.ToSlash(p), "/"), ".."):
		return fmt.Errorf("%w: include %q uses \"..\": name a file in or below the including file's directory", ErrInclude, p)
	}
	return nil
}

// osTree reads catalogue files from the operating system.
type osTree struct{}

func (osTree) read(p string, given bool, c Cap) ([]*File, error) {
	if given {
		return readPath(p, c)
	}
	f, err := yamlpos.ReadFile(p, c)
	if err != nil {
		return nil, fmt.Errorf("read catalogue: %w", err)
	}
	return []*File{f}, nil
}
func (osTree) join(elem ...string) string { return filepath.Join(elem...) }
func (osTree) dir(p string) string        { return filepath.Dir(p) }

func (osTree) root(p string) string {
	if st, err := os.Stat(p); err == nil && st.IsDir() {
		return p
	}
	return filepath.Dir(p)
}

// contains follows symbolic links in both paths, so that a link planted in
// the catalogue directory cannot lead an include elsewhere. A target that
// does not exist is left for read to report.
func (osTree) contains(root, target string) error {
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil //nolint:nilerr // read reports the missing directory at the include
	}
	realTarget, err := filepath.EvalSymlinks(target)
	if err != nil {
		return nil //nolint:nilerr // read reports the missing file at the include
	}
	rel, err := filepath.Rel(realRoot, realTarget)
	if err != nil || !filepath.IsLocal(rel) {
		return fmt.Errorf("%w: %s leads out of %s through a symbolic link", ErrInclude, target, root)
	}
	return nil
}

// fsTree reads catalogue files from an fs.FS, whose names cannot leave it.
type fsTree struct{ fsys fs.FS }

func (t fsTree) read(n string, _ bool, c Cap) ([]*File, error) {
	f, err := yamlpos.ReadFileFS(t.fsys, n, c)
	if err != nil {
		return nil, fmt.Errorf("read catalogue: %w", err)
	}
	return []*File{f}, nil
}
func (fsTree) join(elem ...string) string { return path.Join(elem...) }
func (fsTree) dir(p string) string        { return path.Dir(p) }
func (fsTree) root(string) string         { return "." }
func (fsTree) contains(_, target string) error {
	if !fs.ValidPath(target) {
		return fmt.Errorf("%w: %q is not a name in the catalogue", ErrInclude, target)
	}
	return nil
}

type include struct {
	path string
	pos  Pos
}

// includesOf lists the includes a file declares, without decoding the rest;
// a malformed list is the decoder's to report.
func includesOf(f *File) []include {
	docs, err := f.Documents()
	if err != nil {
		return nil
	}
	var out []include
	for _, doc := range docs {
		list := yamlpos.Field(yamlpos.Root(doc), "includes")
		if list == nil || list.Kind != yaml.SequenceNode {
			continue
		}
		for _, n := range list.Content {
			if n.Kind == yaml.ScalarNode && n.Value != "" {
				out = append(out, include{path: n.Value, pos: Pos{File: f.Name, Line: n.Line, Col: n.Column}})
			}
		}
	}
	return out
}

// CheckIncludes checks the includes of files that were not read through
// ReadFiles or ReadFS, such as a ConfigMap's keys, all of which are the
// catalogue already: each include must be a plain relative path (no
// absolute path, no ".." segment) naming another of files, so that an
// include a ConfigMap cannot satisfy is refused rather than ignored.
func CheckIncludes(files []*File) ErrorList {
	names := make(map[string]bool, len(files))
	for _, f := range files {
		names[path.Clean(filepath.ToSlash(f.Name))] = true
	}
	var errs ErrorList
	for _, f := range files {
		for _, inc := range includesOf(f) {
			if err := checkInclude(inc.path); err != nil {
				errs = append(errs, &Error{Pos: inc.pos, Msg: err.Error()})
				continue
			}
			if !names[path.Join(path.Dir(filepath.ToSlash(f.Name)), filepath.ToSlash(inc.path))] {
				errs = append(errs, &Error{Pos: inc.pos, Msg: fmt.Sprintf("include %q names no .yaml or .yml key of the ConfigMap", yamlpos.Token(inc.path))})
			}
		}
	}
	return errs.WithKind(ErrInvalid)
}
