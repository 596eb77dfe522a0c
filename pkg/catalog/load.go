package catalog

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"statusd.io/statusd/pkg/yamlpos"
)

// Load reads catalogue files and directories and merges them into one
// catalogue. A directory contributes its *.yaml and *.yml files whose kind is
// Catalog, so rule tests may live beside them. Every problem in every file is
// returned in the list; the catalogue is usable only when list.Err() is nil.
// Commands load through pkg/loader, which also compiles; this is the
// format's half.
func Load(paths ...string) (*Catalog, ErrorList) {
	files, errs := ReadFiles(paths...)
	c, more := Parse(files...)
	errs = append(errs, more...)
	errs.Sort()
	return c, errs.WithKind(ErrInvalid)
}

// readPath reads a catalogue file, or a directory's catalogue files, each
// capped (and a directory's files together capped) at c.
func readPath(p string, c Cap) ([]*File, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("read catalogue: %w", err)
	}
	if !st.IsDir() {
		f, err := yamlpos.ReadFile(p, c)
		if err != nil {
			return nil, fmt.Errorf("read catalogue: %w", err)
		}
		return []*File{f}, nil
	}
	entries, err := os.ReadDir(p)
	if err != nil {
		return nil, fmt.Errorf("read catalogue directory: %w", err)
	}
	var out []*File
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") || !IsYAML(name) {
			continue
		}
		f, err := yamlpos.ReadFile(filepath.Join(p, name), c)
		if err != nil {
			return nil, fmt.Errorf("read catalogue: %w", err)
		}
		c.Bytes -= int64(len(f.Data))
		if k := KindOf(f); k == Kind || k == KindOverlay {
			out = append(out, f)
		}
	}
	return out, nil
}

// LoadFS is Load over a file system, for catalogues embedded in the binary
// or mounted from a ConfigMap.
func LoadFS(fsys fs.FS, names ...string) (*Catalog, ErrorList) {
	files, errs := ReadFS(fsys, names...)
	c, more := Parse(files...)
	return c, append(errs, more...).WithKind(ErrInvalid)
}

// KindOf returns the kind declared by the first document of f, or "" when
// it cannot tell; it lets a directory mix catalogues and rule tests.
func KindOf(f *File) string {
	docs, err := f.Documents()
	if err != nil || len(docs) == 0 {
		return Kind // let the parser report the problem
	}
	if k := yamlpos.Field(yamlpos.Root(docs[0]), "kind"); k != nil {
		return k.Value
	}
	return ""
}

// Parse decodes and merges catalogue files already in memory and validates
// the result (everything but the CEL expressions, which pkg/cel checks).
// Given no files, it reports nothing: Load and LoadFS report a missing
// catalogue at the paths they were given.
func Parse(files ...*File) (*Catalog, ErrorList) {
	merged := &Catalog{Params: map[string]Param{}, Sources: map[string]Source{}}
	var errs ErrorList
	// Files that did not come through Load (a ConfigMap's keys) meet the
	// same cap; decoding a catalogue costs far more than its bytes.
	total := int64(0)
	for _, f := range files {
		total += int64(len(f.Data))
	}
	if total > MaxBytes {
		return merged, ErrorList{{Pos: Pos{File: fileNames(files)}, Msg: fmt.Sprintf("catalogue of %d bytes: %v", total,
			Cap{Bytes: MaxBytes, Flag: MaxBytesFlag}.TooLarge("catalogue"))}}.WithKind(ErrInvalid)
	}
	var first *Catalog
	type doc struct {
		part *Catalog
		root *yaml.Node
		file *File
	}
	var bases, overlays []doc
	for _, f := range files {
		merged.Files = append(merged.Files, f)
		docs, err := f.Documents()
		if err != nil {
			var perr *Error
			if !errors.As(err, &perr) {
				perr = &Error{Pos: Pos{File: f.Name}, Msg: err.Error()}
			}
			errs = append(errs, perr)
		}
		for _, d := range docs {
			part, perrs := decodeDocument(f, d)
			errs = append(errs, perrs...)
			if part == nil {
				continue
			}
			if part.Kind == KindOverlay {
				overlays = append(overlays, doc{part, yamlpos.Root(d), f})
			} else {
				bases = append(bases, doc{part, yamlpos.Root(d), f})
			}
		}
	}
	// Overlays apply after every catalogue file, whatever the order of
	// the paths, so that they can override and disable.
	for _, d := range bases {
		if first == nil {
			first = d.part
			merged.APIVersion, merged.Kind, merged.Metadata, merged.Settings = d.part.APIVersion, d.part.Kind, d.part.Metadata, d.part.Settings
		} else {
			mergeHeader(merged, d.part, d.root, d.file, &errs)
		}
		checkBaseOnly(d.part, &errs)
		mergeInto(merged, d.part, &errs)
	}
	for _, d := range overlays {
		if first == nil {
			errs = append(errs, &Error{
				Pos: Pos{File: d.file.Name, Line: d.root.Line, Col: d.root.Column},
				Msg: "a " + KindOverlay + " extends a catalogue: load it together with the catalogue's files",
			})
			continue
		}
		applyOverlay(merged, d.part, &errs)
	}
	applyEdges(merged, &errs)
	if first == nil && len(errs) == 0 && len(files) > 0 {
		errs = append(errs, &Error{Pos: Pos{File: fileNames(files)}, Msg: "no catalogue document found"})
	}
	errs = append(errs, Validate(merged)...)
	errs = errs.Dedupe()
	errs.AttachSnippets(files)
	errs.Sort()
	return merged, errs.WithKind(ErrInvalid)
}

func fileNames(files []*File) string {
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = f.Name
	}
	return strings.Join(names, ",")
}

func decodeDocument(f *File, doc *yaml.Node) (*Catalog, ErrorList) {
	root := yamlpos.Root(doc)
	d := yamlpos.NewDecoder(f, ErrInvalid)
	if root.Kind != yaml.MappingNode {
		// The file may be anything (a password file, the wrong ConfigMap
		// key): say what it is, quote none of it, and elide the snippet.
		d.Errorf(root, "a catalogue must be a mapping, got %s", yamlpos.KindOf(root))
		errs := d.Errors()
		errs[len(errs)-1].Snippet = "…"
		return nil, errs
	}
	var c Catalog
	d.Decode(root, &c)
	if d.OverLimit() {
		// Half-decoded reasons would only add errors about what the limit
		// left out.
		return nil, d.Errors()
	}
	checkHeader(d, root, &c)
	c.docPos = d.Pos(root)
	if n := yamlpos.Field(root, "disable"); n != nil {
		for _, item := range n.Content {
			c.disableAt = append(c.disableAt, d.Pos(item))
		}
	}
	return &c, d.Errors()
}

// checkHeader refuses documents that are not catalogues, or catalogues of a
// major version this build does not understand.
func checkHeader(d *yamlpos.Decoder, root *yaml.Node, c *Catalog) {
	av := yamlpos.Field(root, "apiVersion")
	switch {
	case av == nil:
		d.Errorf(root, "missing apiVersion: want %s", APIVersion)
	case !sameMajor(c.APIVersion, APIVersion):
		d.Errorf(av, "unsupported apiVersion %q: this statusd reads %s", c.APIVersion, APIVersion)
	}
	k := yamlpos.Field(root, "kind")
	switch {
	case k == nil:
		d.Errorf(root, "missing kind: want %s", Kind)
	case c.Kind != Kind && c.Kind != KindOverlay:
		d.Errorf(k, "kind is %q, want %s (or %s for a file that extends one)", c.Kind, Kind, KindOverlay)
	}
	md := yamlpos.Field(root, "metadata")
	if md == nil {
		d.Errorf(root, "missing metadata: a catalogue needs metadata.name and metadata.version")
	} else {
		if c.Metadata.Name == "" {
			d.Errorf(md, "metadata.name is required")
		}
		if c.Metadata.Version == "" {
			d.Errorf(md, "metadata.version is required: it is carried on every Event")
		}
	}
}

// sameMajor compares group and major version: statusd.io/v1alpha1 and
// statusd.io/v1beta2 share major 1.
func sameMajor(got, want string) bool {
	gg, gv, ok1 := strings.Cut(got, "/")
	wg, wv, ok2 := strings.Cut(want, "/")
	return ok1 && ok2 && gg == wg && major(gv) == major(wv) && major(gv) != ""
}

func major(v string) string {
	if !strings.HasPrefix(v, "v") {
		return ""
	}
	end := 1
	for end < len(v) && v[end] >= '0' && v[end] <= '9' {
		end++
	}
	if end == 1 {
		return ""
	}
	rest := v[end:]
	if rest != "" && !strings.HasPrefix(rest, "alpha") && !strings.HasPrefix(rest, "beta") {
		return ""
	}
	return v[:end]
}

func mergeHeader(into, part *Catalog, root *yaml.Node, f *File, errs *ErrorList) {
	if part.Metadata != into.Metadata && part.Metadata.Name != "" {
		md := yamlpos.Field(root, "metadata")
		*errs = append(*errs, &Error{
			Pos: Pos{File: f.Name, Line: md.Line, Col: md.Column},
			Msg: fmt.Sprintf("metadata %s/%s differs from %s/%s in the first file: one catalogue has one name and version",
				part.Metadata.Name, part.Metadata.Version, into.Metadata.Name, into.Metadata.Version),
		})
	}
	if part.Settings.PublishSecondary {
		into.Settings.PublishSecondary = true
	}
}

func mergeInto(into, part *Catalog, errs *ErrorList) {
	for _, name := range sortedKeys(part.Params) {
		p := part.Params[name]
		if prev, dup := into.Params[name]; dup {
			errs.Errorf(p.Pos, "", "param %q is declared twice (first at %s)", name, prev.Pos)
			continue
		}
		into.Params[name] = p
	}
	for _, name := range sortedKeys(part.Sources) {
		s := part.Sources[name]
		if prev, dup := into.Sources[name]; dup {
			errs.Errorf(s.Pos, "", "source %q is declared twice (first at %s)", name, prev.Pos)
			continue
		}
		into.Sources[name] = s
	}
	into.Variables = append(into.Variables, part.Variables...)
	into.Reasons = append(into.Reasons, part.Reasons...)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// SourceNames returns the source names in sorted order.
func (c *Catalog) SourceNames() []string { return sortedKeys(c.Sources) }

// ParamNames returns the param names in sorted order.
func (c *Catalog) ParamNames() []string { return sortedKeys(c.Params) }

// Reason returns the reason named name, or nil.
func (c *Catalog) Reason(name string) *Reason {
	i := slices.IndexFunc(c.Reasons, func(r Reason) bool { return r.Name == name })
	if i < 0 {
		return nil
	}
	return &c.Reasons[i]
}

// File returns the loaded file called name, or nil; errors use it for
// snippets.
func (c *Catalog) File(name string) *File {
	for _, f := range c.Files {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// Hash identifies the catalogue's content across all its files.
func (c *Catalog) Hash() string {
	var b strings.Builder
	for _, f := range c.Files {
		b.WriteString(f.Name)
		b.WriteString(f.Hash())
	}
	return NewFile("", []byte(b.String())).Hash()
}

// IsYAML reports whether a file name has a YAML extension, the files a
// directory of catalogues or rule tests contributes.
func IsYAML(name string) bool {
	return strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")
}
