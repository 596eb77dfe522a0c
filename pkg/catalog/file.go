package catalog

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

// File is one source file of a catalogue (or of a rule test or snapshot):
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
// returned as an *Error at the line the YAML parser names.
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
		if len(n.Content) == 0 {
			continue
		}
		docs = append(docs, &n)
	}
}

func (f *File) syntaxError(err error) *Error {
	msg := err.Error()
	e := &Error{Pos: Pos{File: f.Name}, Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		e.Pos.Line = line
		e.Pos.Col = 1
		e.Msg = "invalid YAML: " + m[2]
		e.Snippet = f.Line(line)
	}
	return e
}

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
