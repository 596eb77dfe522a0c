package catalog

import (
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
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
func ReadFiles(paths ...string) ([]*File, ErrorList) {
	files, errs := collect(paths, readPath, filepath.Join, filepath.Dir)
	if len(files) == 0 && len(errs) == 0 {
		errs = append(errs, &Error{Pos: Pos{File: strings.Join(paths, ",")}, Msg: "no catalogue files found"})
	}
	return files, errs.WithKind(ErrInvalid)
}

// ReadFS is ReadFiles over a file system, for catalogues embedded in the
// binary.
func ReadFS(fsys fs.FS, names ...string) ([]*File, ErrorList) {
	read := func(n string) ([]*File, error) {
		data, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, fmt.Errorf("read catalogue: %w", err)
		}
		return []*File{NewFile(n, data)}, nil
	}
	files, errs := collect(names, read, path.Join, path.Dir)
	if len(files) == 0 && len(errs) == 0 {
		errs = append(errs, &Error{Pos: Pos{File: strings.Join(names, ",")}, Msg: "no catalogue files found"})
	}
	return files, errs.WithKind(ErrInvalid)
}

// collect reads paths and, transitively, the files their includes name
// (relative to the including file), each file once. Errors are positioned:
// a missing include at the include that names it.
func collect(paths []string, read func(string) ([]*File, error), join func(...string) string, dir func(string) string) ([]*File, ErrorList) {
	type pending struct {
		path string
		from Pos // where an include named it; zero for a path given
	}
	queue := make([]pending, len(paths))
	for i, p := range paths {
		queue[i] = pending{path: p}
	}
	seen := map[string]bool{}
	var out []*File
	var errs ErrorList
	for len(queue) > 0 {
		next := queue[0]
		queue = queue[1:]
		files, err := read(next.path)
		if err != nil {
			pos := next.from
			if pos.File == "" {
				pos = Pos{File: next.path}
			}
			errs = append(errs, &Error{Pos: pos, Msg: err.Error()})
			continue
		}
		for _, f := range files {
			key := filepath.Clean(f.Name)
			if seen[key] {
				continue
			}
			seen[key] = true
			out = append(out, f)
			for _, inc := range includesOf(f) {
				target := join(dir(f.Name), inc.path)
				if !seen[filepath.Clean(target)] {
					queue = append(queue, pending{path: target, from: inc.pos})
				}
			}
		}
	}
	return out, errs
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
