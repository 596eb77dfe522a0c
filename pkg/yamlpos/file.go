package yamlpos

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// File is one source file of a catalogue, rule test or snapshot:
// its name as given by the user, its bytes, and the line index used for
// error snippets.
type File struct {
	// Name is the path as the user gave it; errors print it unchanged.
	Name string
	// Data is the file's content.
	Data []byte
	// lines holds the byte offset where each line starts.
	lines []int
}

// NewFile wraps data read from name.
func NewFile(name string, data []byte) *File {
	f := &File{Name: name, Data: data, lines: []int{0}}
	for i, b := range data {
		if b == '\n' {
			f.lines = append(f.lines, i+1)
		}
	}
	return f
}

// Line returns the text of the 1-based line n, without its newline, or ""
// when n is out of range.
func (f *File) Line(n int) string {
	if f == nil || n < 1 || n > len(f.lines) {
		return ""
	}
	start := f.lines[n-1]
	end := len(f.Data)
	if n < len(f.lines) {
		end = f.lines[n] - 1
	}
	if end < start {
		return ""
	}
	return strings.TrimRight(string(f.Data[start:end]), "\r")
}

// Hash is the SHA-256 of the content, used by hot reload to act only when a
// file really changed (the kubelet rewrites ConfigMap volumes without
// changing them).
func (f *File) Hash() string {
	sum := sha256.Sum256(f.Data)
	return hex.EncodeToString(sum[:])
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// Documents parses the file into its YAML documents. A syntax error is
// returned as an *Error at the line the problem is on (see failingLine).
func (f *File) Documents() ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(f.Data))
	var docs []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return docs, f.syntaxError(err)
		}
		if len(n.Content) == 0 || IsNull(Root(&n)) {
			continue // an empty document, such as after a trailing ---
		}
		docs = append(docs, &n)
	}
}

func (f *File) syntaxError(err error) *Error {
	msg := err.Error()
	e := &Error{Pos: Pos{File: f.Name}, Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
	line := 0
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		e.Msg = "invalid YAML: " + m[2]
	}
	if l := f.failingLine(yamlProblem(msg)); l > 0 {
		line = l
	}
	if line > 0 {
		e.Pos.Line = line
		e.Pos.Col = 1
		e.Snippet = f.Line(line)
		if binary(f.Data) {
			// Not a YAML file at all (a device, /proc/self/environ, an
			// executable): say so and quote none of it, since it may be
			// anything, the environment's secrets included.
			e.Msg = "invalid YAML: the file holds control characters, so it is not a YAML file (" + strings.TrimPrefix(e.Msg, "invalid YAML: ") + ")"
			e.Snippet = "…"
		}
	}
	return e
}

// binary reports whether data holds a control character YAML never allows
// (anything below space but tab, newline and carriage return, or DEL):
// such a file is not YAML, and no part of it is quoted in errors.
func binary(data []byte) bool {
	for _, b := range data {
		if (b < 0x20 && b != '\t' && b != '\n' && b != '\r') || b == 0x7f {
			return true
		}
	}
	return false
}

// yamlProblem is a YAML error's message without its "yaml: line N: " prefix.
func yamlProblem(msg string) string {
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		return m[2]
	}
	return strings.TrimPrefix(msg, "yaml: ")
}

// failingLine finds the line a YAML syntax error is on. The line yaml.v3
// names is that of the enclosing collection, 0-based for parser errors, and
// missing on the first line, so an error on line 7 of a reason may be
// reported on the line above the reason. The first line whose inclusion
// makes the file fail with the same problem is where the problem is; it is
// found by bisection over prefixes of the file, a few parses for any size.
func (f *File) failingLine(problem string) int {
	fails := func(n int) bool {
		end := len(f.Data)
		if n < len(f.lines) {
			end = f.lines[n]
		}
		dec := yaml.NewDecoder(bytes.NewReader(f.Data[:end]))
		for {
			var doc yaml.Node
			err := dec.Decode(&doc)
			if err == nil {
				continue
			}
			return !errors.Is(err, io.EOF) && yamlProblem(err.Error()) == problem
		}
	}
	lo, hi := 1, len(f.lines)
	if !fails(hi) {
		return 0
	}
	for lo < hi {
		mid := lo + (hi-lo)/2
		if fails(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// IsNull reports whether n is an explicit or empty null scalar.
func IsNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

// Root returns the top-level node of a document node.
func Root(doc *yaml.Node) *yaml.Node {
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		return doc.Content[0]
	}
	return doc
}

// Field returns the value node of key in a mapping node, or nil.
func Field(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}
