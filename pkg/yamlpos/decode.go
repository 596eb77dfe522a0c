package yamlpos

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// maxNodes caps how many YAML nodes one document may expand to. Aliases can
// make a small file expand exponentially ("billion laughs"); a catalogue has
// a few thousand nodes, so a million is generous and still bounded.
const maxNodes = 1_000_000

// maxAliasNodes caps how many nodes a document may decode through aliases.
// A catalogue aliases a shared edge list or grace block, a few hundred
// nodes; without this cap a two-kilobyte file could make the decoder, and
// then validation, work through maxNodes nodes (a large snapshot file,
// which shares the decoder, needs maxNodes; it needs no aliases).
const maxAliasNodes = 100_000

// NodeDecoder is implemented by types whose YAML form is not a plain
// mapping (durations, expressions, unions): the Decoder hands them the node
// and they report their own errors through it.
type NodeDecoder interface {
	DecodeNode(d *Decoder, n *yaml.Node)
}

// Decoder decodes YAML nodes into Go values strictly: unknown fields,
// duplicate keys and wrong types are errors at the offending node, and
// decoding goes on after an error so that one run reports everything. The
// catalogue, rule-test and snapshot formats share it so that all of
// statusd's files report errors the same way; each stamps its own error kind
// on what the decoder finds.
type Decoder struct {
	file  *File
	kind  error
	errs  ErrorList
	nodes int
	// aliased counts the nodes decoded through an alias, inAlias how many
	// aliases the current node is reached through.
	aliased, inAlias int
	// reported holds "pos\x00message" of every error, so that a node
	// reached through many aliases is reported once, not once per alias.
	reported map[string]bool
}

// NewDecoder returns a decoder that reports positions in f. Every error it
// records has the given kind (the format's sentinel, such as
// catalog.ErrInvalid), which errors.Is matches.
func NewDecoder(f *File, kind error) *Decoder { return &Decoder{file: f, kind: kind} }

// File returns the file the decoder reads, for node decoders that look at
// the source text around a node.
func (d *Decoder) File() *File { return d.file }

// Errors returns what the decoder found so far.
func (d *Decoder) Errors() ErrorList { return d.errs }

// Errorf records an error at node n.
func (d *Decoder) Errorf(n *yaml.Node, format string, args ...any) {
	p := d.Pos(n)
	msg := fmt.Sprintf(format, args...)
	key := p.String() + "\x00" + msg
	if d.reported[key] {
		return
	}
	if d.reported == nil {
		d.reported = map[string]bool{}
	}
	d.reported[key] = true
	d.errs = append(d.errs, &Error{Pos: p, Msg: msg, Snippet: d.file.Line(p.Line), Kind: d.kind})
}

// OverLimit reports whether the document expanded past maxNodes or
// maxAliasNodes, in which case what was decoded is incomplete and must not
// be validated.
func (d *Decoder) OverLimit() bool { return d.nodes > maxNodes || d.aliased > maxAliasNodes }

// Pos returns the position of node n.
func (d *Decoder) Pos(n *yaml.Node) Pos {
	return Pos{File: d.file.Name, Line: n.Line, Col: n.Column}
}

// Decode decodes n into the value v points to.
func (d *Decoder) Decode(n *yaml.Node, v any) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		panic("yamlpos: Decode needs a non-nil pointer")
	}
	d.decode(n, rv.Elem())
}

func (d *Decoder) decode(n *yaml.Node, v reflect.Value) {
	d.nodes++
	if d.inAlias > 0 {
		d.aliased++
	}
	if d.OverLimit() {
		switch {
		case d.nodes == maxNodes+1:
			d.Errorf(n, "document expands to more than %d nodes (aliases?)", maxNodes)
		case d.aliased == maxAliasNodes+1:
			d.Errorf(n, "aliases expand to more than %d nodes", maxAliasNodes)
		}
		return
	}
	if n.Kind == yaml.AliasNode {
		d.inAlias++
		defer func() { d.inAlias-- }()
	}
	for n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			d.Errorf(n, "unknown alias")
			return
		}
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		// An empty value keeps the zero value, but a struct still records
		// where it was written, so that what validation then finds missing
		// (an empty "- " reason, "pods: ~") has a position.
		if v.Kind() == reflect.Struct {
			if info := structFields(v.Type()); info.pos >= 0 {
				v.Field(info.pos).Set(reflect.ValueOf(d.Pos(n)))
			}
		}
		return
	}
	if v.CanAddr() {
		if nd, ok := v.Addr().Interface().(NodeDecoder); ok {
			nd.DecodeNode(d, n)
			return
		}
	}
	switch v.Kind() {
	case reflect.Struct:
		d.decodeStruct(n, v)
	case reflect.Map:
		d.decodeMap(n, v)
	case reflect.Slice:
		d.decodeSlice(n, v)
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, v.Elem())
	case reflect.String:
		if s, ok := d.String(n); ok {
			v.SetString(s)
		}
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			d.Errorf(n, "expected a boolean, got %s", Describe(n))
			return
		}
		b, _ := strconv.ParseBool(strings.ToLower(n.Value))
		v.SetBool(b)
	case reflect.Int, reflect.Int32, reflect.Int64:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
			d.Errorf(n, "expected an integer, got %s", Describe(n))
			return
		}
		i, err := strconv.ParseInt(n.Value, 0, 64)
		if err != nil || v.OverflowInt(i) {
			d.Errorf(n, "integer %s out of range", n.Value)
			return
		}
		v.SetInt(i)
	case reflect.Uint, reflect.Uint32, reflect.Uint64:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
			d.Errorf(n, "expected a non-negative integer, got %s", Describe(n))
			return
		}
		i, err := strconv.ParseUint(n.Value, 0, 64)
		if err != nil || v.OverflowUint(i) {
			d.Errorf(n, "integer %s out of range", n.Value)
			return
		}
		v.SetUint(i)
	case reflect.Float64:
		if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") {
			d.Errorf(n, "expected a number, got %s", Describe(n))
			return
		}
		f, err := strconv.ParseFloat(n.Value, 64)
		if err != nil {
			d.Errorf(n, "invalid number %q", n.Value)
			return
		}
		v.SetFloat(f)
	case reflect.Interface:
		var out any
		if err := n.Decode(&out); err != nil {
			d.Errorf(n, "%s", Message(err))
			return
		}
		if out != nil {
			v.Set(reflect.ValueOf(out))
		}
	default:
		panic(fmt.Sprintf("yamlpos: cannot decode into %s", v.Type()))
	}
}

// String decodes a scalar string, refusing numbers, booleans and
// collections: a strict format would rather ask for quotes than guess.
func (d *Decoder) String(n *yaml.Node) (string, bool) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!str" && n.Tag != "!!null") {
		hint := ""
		if n.Kind == yaml.ScalarNode {
			hint = "; quote it to make it a string"
		}
		d.Errorf(n, "expected a string, got %s%s", Describe(n), hint)
		return "", false
	}
	return n.Value, true
}

// Mapping iterates the key/value pairs of a mapping node, reporting
// duplicate keys and non-string keys, and calling fn for each good pair.
func (d *Decoder) Mapping(n *yaml.Node, fn func(key string, k, v *yaml.Node)) bool {
	if n.Kind != yaml.MappingNode {
		d.Errorf(n, "expected a mapping, got %s", Describe(n))
		return false
	}
	seen := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.Errorf(k, "mapping keys must be strings, got %s", Describe(k))
			continue
		}
		if k.Tag == "!!merge" {
			d.Errorf(k, "merge keys (<<) are not supported")
			continue
		}
		if prev, dup := seen[k.Value]; dup {
			d.Errorf(k, "duplicate key %q (first at line %d)", k.Value, prev.Line)
			continue
		}
		seen[k.Value] = k
		fn(k.Value, k, val)
	}
	return true
}

func (d *Decoder) decodeStruct(n *yaml.Node, v reflect.Value) {
	info := structFields(v.Type())
	if info.pos >= 0 {
		v.Field(info.pos).Set(reflect.ValueOf(d.Pos(n)))
	}
	d.Mapping(n, func(key string, k, val *yaml.Node) {
		idx, ok := info.byName[key]
		if !ok {
			d.Errorf(k, "unknown field %q%s", key, Suggest(key, info.names))
			return
		}
		d.decode(val, v.Field(idx))
	})
}

func (d *Decoder) decodeMap(n *yaml.Node, v reflect.Value) {
	if v.Type().Key().Kind() != reflect.String {
		panic("yamlpos: map keys must be strings")
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	d.Mapping(n, func(key string, _, val *yaml.Node) {
		elem := reflect.New(v.Type().Elem()).Elem()
		if existing := v.MapIndex(reflect.ValueOf(key)); existing.IsValid() {
			elem.Set(existing)
		}
		d.decode(val, elem)
		v.SetMapIndex(reflect.ValueOf(key).Convert(v.Type().Key()), elem)
	})
}

func (d *Decoder) decodeSlice(n *yaml.Node, v reflect.Value) {
	if n.Kind != yaml.SequenceNode {
		d.Errorf(n, "expected a list, got %s", Describe(n))
		return
	}
	out := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, c := range n.Content {
		d.decode(c, out.Index(i))
	}
	v.Set(out)
}

// Describe names a node's type the way an operator would say it.
func Describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!str":
			return fmt.Sprintf("string %q", Token(n.Value))
		case "!!int":
			return "integer " + Token(n.Value)
		case "!!float":
			return "number " + Token(n.Value)
		case "!!bool":
			return "boolean " + n.Value
		case "!!null":
			return "null"
		}
		return Token(n.Tag) + " " + Token(n.Value)
	case yaml.DocumentNode:
		return "a document"
	}
	return "an alias"
}

type fieldInfo struct {
	byName map[string]int
	names  []string
	pos    int
}

var fieldCache sync.Map // reflect.Type → *fieldInfo

var posType = reflect.TypeFor[Pos]()

// structFields maps JSON names to field indexes. The json tags are the
// format's single source of truth: the schema generator reads them too.
func structFields(t reflect.Type) *fieldInfo {
	if fi, ok := fieldCache.Load(t); ok {
		return fi.(*fieldInfo)
	}
	fi := &fieldInfo{byName: map[string]int{}, pos: -1}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Name == "Pos" && f.Type == posType {
			fi.pos = i
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		fi.byName[name] = i
		fi.names = append(fi.names, name)
	}
	fieldCache.Store(t, fi)
	return fi
}

// Suggest returns "; did you mean X?" for the known name closest to key,
// when one is close enough to be a typo.
func Suggest(key string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		dist := editDistance(strings.ToLower(key), strings.ToLower(k))
		if dist < bestDist && len(key) >= 3 && dist <= len(key)/4+1 {
			best, bestDist = k, dist
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf("; did you mean %q?", best)
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Message strips the "yaml: " prefix the library puts on its errors.
func Message(err error) string {
	return strings.TrimPrefix(err.Error(), "yaml: ")
}

// DecodeStruct decodes a mapping into the struct p points to, field by
// field, even when the struct is a NodeDecoder: a union type's DecodeNode
// calls it for its mapping form.
func (d *Decoder) DecodeStruct(n *yaml.Node, p any) { d.decodeStruct(n, reflect.ValueOf(p).Elem()) }

// DecodeSlice decodes a sequence into the slice p points to.
func (d *Decoder) DecodeSlice(n *yaml.Node, p any) { d.decodeSlice(n, reflect.ValueOf(p).Elem()) }

// DecodeSingle strictly decodes a file that must hold exactly one YAML
// document (a rule test, a snapshot) into v. It returns the document's root,
// for checks of the caller's own, and the decoder, which holds what
// decoding found; the error is for a file that is not one document of
// YAML. what names the kind of file in that error; kind is the format's
// error sentinel, carried by every error found.
func DecodeSingle(f *File, what string, kind error, v any) (*yaml.Node, *Decoder, error) {
	docs, err := f.Documents()
	if err != nil {
		var perr *Error
		if errors.As(err, &perr) {
			perr.Kind = kind
		}
		return nil, nil, err
	}
	if len(docs) != 1 {
		return nil, nil, &Error{Pos: Pos{File: f.Name, Line: 1}, Msg: fmt.Sprintf("a %s file holds one document, found %d", what, len(docs)), Kind: kind}
	}
	d := NewDecoder(f, kind)
	root := Root(docs[0])
	if root.Kind != yaml.MappingNode {
		// The file may be anything (a password file, the wrong path): say
		// what it is, quote none of it, and elide the snippet.
		return nil, nil, &Error{Pos: d.Pos(root), Msg: fmt.Sprintf("a %s file must be a mapping, got %s", what, KindOf(root)), Snippet: "…", Kind: kind}
	}
	d.Decode(root, v)
	return root, d, nil
}

// maxToken is the most of a value an error quotes.
const maxToken = 40

// Token shortens a value quoted in an error to its first line and at most
// 40 bytes: a file that is not what it was meant to be (a password file
// named as an include, a key of the wrong ConfigMap) must not have its
// contents copied into errors, logs and Events.
func Token(s string) string {
	cut := false
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s, cut = s[:i], true
	}
	if len(s) > maxToken {
		s, cut = strings.ToValidUTF8(s[:maxToken], ""), true
	}
	if cut {
		s += "…"
	}
	return s
}

// KindOf names a node's kind without its value ("a string", "a list"), for
// errors about content that may not be the user's to see.
func KindOf(n *yaml.Node) string {
	switch n.Kind {
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!str":
			return "a string"
		case "!!int":
			return "an integer"
		case "!!float":
			return "a number"
		case "!!bool":
			return "a boolean"
		case "!!null":
			return "null"
		}
		return "a scalar"
	case yaml.AliasNode:
		return "an alias"
	}
	return Describe(n)
}
