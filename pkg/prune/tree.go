package prune

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Tree is the set of fields to keep of the objects of one source (or of
// the sources sharing one watch cache). The zero value and New keep only
// what Apply always keeps; a nil *Tree keeps everything.
//
// A Tree is built by one goroutine (pkg/cel's analysis) and only read
// afterwards: Apply, String and Equal are safe for concurrent use, the
// methods that mark nodes are not.
type Tree struct {
	// all keeps the node's whole value; children and iterated are then
	// meaningless and kept empty, so that equal trees look equal.
	all bool
	// iterated: an expression ranges over the node, so a map there is kept
	// whole (its keys are data).
	iterated bool
	children map[string]*Tree
}

// New returns an empty tree: it keeps only what Apply always keeps.
func New() *Tree { return &Tree{} }

// Child returns the node of key, adding it if it is absent: an added node
// keeps the key present (a map under it empty) until it is marked or given
// children itself. Under a node that is All, every key is kept already, and
// Child returns a detached node whose marks change nothing.
func (t *Tree) Child(key string) *Tree {
	if t.all {
		return &Tree{}
	}
	if c := t.children[key]; c != nil {
		return c
	}
	if t.children == nil {
		t.children = map[string]*Tree{}
	}
	c := &Tree{}
	t.children[key] = c
	return c
}

// At returns the node at path, adding the nodes that are absent (see Child).
func (t *Tree) At(path ...string) *Tree {
	n := t
	for _, k := range path {
		n = n.Child(k)
	}
	return n
}

// Lookup returns the node of key, or nil when the tree has none.
func (t *Tree) Lookup(key string) *Tree { return t.children[key] }

// Keys returns the keys of t's children, sorted.
func (t *Tree) Keys() []string { return slices.Sorted(maps.Keys(t.children)) }

// SetAll makes t keep its whole value.
func (t *Tree) SetAll() {
	t.all, t.iterated, t.children = true, false, nil
}

// SetIterated records that an expression ranges over t's value.
func (t *Tree) SetIterated() {
	if !t.all {
		t.iterated = true
	}
}

// IsAll reports whether t keeps its whole value.
func (t *Tree) IsAll() bool { return t.all }

// IsIterated reports whether an expression ranges over t's value.
func (t *Tree) IsIterated() bool { return t.iterated }

// Merge adds what o keeps to t. Merging nil (keep everything) makes t All,
// the closest a tree can come to nil in place; Union keeps nil as nil.
func (t *Tree) Merge(o *Tree) {
	switch {
	case t.all:
		return
	case o == nil || o.all:
		t.SetAll()
		return
	}
	t.iterated = t.iterated || o.iterated
	for k, oc := range o.children {
		t.Child(k).Merge(oc)
	}
}

// Union returns a new tree keeping what any of trees keeps, for sources
// that share one watch cache. It is nil (keep everything) when any tree is
// nil, and an empty tree when there are none.
func Union(trees ...*Tree) *Tree {
	out := New()
	for _, t := range trees {
		if t == nil {
			return nil
		}
		out.Merge(t)
	}
	return out
}

// Clone returns a deep copy of t.
func (t *Tree) Clone() *Tree {
	if t == nil {
		return nil
	}
	return Union(t)
}

// Equal reports whether t and o keep the same fields. Sources compare a
// reloaded catalogue's trees with the running ones to tell which watch
// caches must be refilled.
func (t *Tree) Equal(o *Tree) bool {
	if t == nil || o == nil {
		return t == o
	}
	if t.all != o.all || t.iterated != o.iterated || len(t.children) != len(o.children) {
		return false
	}
	for k, c := range t.children {
		if !c.Equal(o.children[k]) {
			return false
		}
	}
	return true
}

// String renders t in a stable form that Parse reads back: each node is
// its key followed by * (All), ~ (Iterated) and its children in braces,
// keys sorted and quoted when they are not plain names. The root has no
// key: "{metadata*,status{conditions~{status*,type*}}}". A nil tree is
// "nil".
func (t *Tree) String() string {
	if t == nil {
		return "nil"
	}
	var b strings.Builder
	t.write(&b)
	return b.String()
}

func (t *Tree) write(b *strings.Builder) {
	switch {
	case t.all:
		b.WriteByte('*')
		return
	case t.iterated:
		b.WriteByte('~')
	}
	if len(t.children) == 0 && t.iterated {
		return
	}
	b.WriteByte('{')
	for i, k := range t.Keys() {
		if i > 0 {
			b.WriteByte(',')
		}
		writeKey(b, k)
		c := t.children[k]
		if c.all || c.iterated || len(c.children) > 0 {
			c.write(b)
		}
	}
	b.WriteByte('}')
}

func writeKey(b *strings.Builder, k string) {
	if plain(k) {
		b.WriteString(k)
		return
	}
	b.WriteString(strconv.Quote(k))
}

// plain reports whether k needs no quotes: field names and most label
// keys.
func plain(k string) bool {
	if k == "" || k == "nil" {
		return false
	}
	for _, r := range k {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9',
			r == '_', r == '-', r == '.', r == '/', r == ':', r == '@', r == '$':
		default:
			return false
		}
	}
	return true
}

// ErrSyntax is wrapped by Parse's errors.
var ErrSyntax = errors.New("invalid field tree")

// Parse reads a tree in String's form. Tests write expected trees this
// way, and an operator can read one in a log line.
func Parse(s string) (*Tree, error) {
	if strings.TrimSpace(s) == "nil" {
		return nil, nil
	}
	p := &parser{s: s}
	t := New()
	p.space()
	if err := p.node(t); err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.s) {
		return nil, p.errorf("unexpected %q", p.s[p.i:])
	}
	return t, nil
}

// MustParse is Parse for trees written in tests; it panics on an error.
func MustParse(s string) *Tree {
	t, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return t
}

type parser struct {
	s string
	i int
}

func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("%w at offset %d: %s", ErrSyntax, p.i, fmt.Sprintf(format, args...))
}

func (p *parser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\n' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *parser) peek() byte {
	p.space()
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

// node reads the marks and children of t.
func (p *parser) node(t *Tree) error {
	switch p.peek() {
	case '*':
		p.i++
		t.SetAll()
		return nil
	case '~':
		p.i++
		t.SetIterated()
	}
	if p.peek() != '{' {
		return nil
	}
	p.i++
	if p.peek() == '}' {
		p.i++
		return nil
	}
	for {
		k, err := p.key()
		if err != nil {
			return err
		}
		if t.children[k] != nil {
			return p.errorf("duplicate key %q", k)
		}
		if err := p.node(t.Child(k)); err != nil {
			return err
		}
		switch p.peek() {
		case ',':
			p.i++
		case '}':
			p.i++
			return nil
		default:
			return p.errorf("want , or }")
		}
	}
}

func (p *parser) key() (string, error) {
	if p.peek() == '"' {
		rest := p.s[p.i:]
		q, err := strconv.QuotedPrefix(rest)
		if err != nil {
			return "", p.errorf("bad quoted key")
		}
		p.i += len(q)
		k, _ := strconv.Unquote(q)
		return k, nil
	}
	start := p.i
	for p.i < len(p.s) && !strings.ContainsRune("{},*~\" \t\n", rune(p.s[p.i])) {
		p.i++
	}
	k := p.s[start:p.i]
	if !plain(k) {
		return "", p.errorf("bad key %q", k)
	}
	return k, nil
}

// lastApplied is the annotation kubectl apply writes: a second copy of
// the whole object as applied, which no reason needs.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// Apply returns obj trimmed to t. It never modifies obj: maps it trims are
// rebuilt (a Go map does not shrink when keys are deleted, so rebuilding is
// what frees the memory), and subtrees kept whole are shared with obj. It
// keeps apiVersion, kind, the metadata statusd reads outside expressions
// (Metadata) and spec.nodeName whatever t says, never keeps managedFields
// or the last-applied annotation unless t reads them, never removes a list
// element, and is idempotent: Apply of its own result changes nothing. A
// nil tree returns obj itself.
func (t *Tree) Apply(obj map[string]any) map[string]any {
	if t == nil || obj == nil {
		return obj
	}
	whole := t.all || t.iterated
	out := make(map[string]any, min(len(obj), len(t.children)+3))
	for k, v := range obj {
		switch k {
		case "apiVersion", "kind":
			out[k] = v
		case "metadata":
			if whole {
				out[k] = trimMetadata(v)
			} else {
				out[k] = pruneMetadata(v, t.children[k])
			}
		case "spec":
			if whole {
				out[k] = v
			} else if s, ok := pruneSpec(v, t.children[k]); ok {
				out[k] = s
			}
		default:
			if whole {
				out[k] = v
			} else if c := t.children[k]; c != nil {
				out[k] = c.prune(v, true)
			}
		}
	}
	return out
}

// prune trims v to t. top is false for an element of a list under t, where
// t's Iterated mark does not apply: it is about the value at n itself.
func (t *Tree) prune(v any, top bool) any {
	if t.all {
		return v
	}
	switch x := v.(type) {
	case map[string]any:
		if t.iterated && top {
			return x
		}
		out := make(map[string]any, min(len(x), len(t.children)))
		if len(x) < len(t.children) {
			for k, cv := range x {
				if c := t.children[k]; c != nil {
					out[k] = c.prune(cv, true)
				}
			}
		} else {
			for k, c := range t.children {
				if cv, ok := x[k]; ok {
					out[k] = c.prune(cv, true)
				}
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = t.prune(e, false)
		}
		return out
	}
	return v
}

// pruneSpec trims spec to n (nil: nothing read), keeping spec.nodeName,
// which the snapshot's node index reads. It reports false when nothing of
// spec is kept.
func pruneSpec(v any, n *Tree) (any, bool) {
	m, isMap := v.(map[string]any)
	if n == nil {
		if !isMap {
			return nil, false
		}
		node, ok := m["nodeName"]
		if !ok {
			return nil, false
		}
		return map[string]any{"nodeName": node}, true
	}
	out := n.prune(v, true)
	if om, ok := out.(map[string]any); ok && isMap {
		if node, had := m["nodeName"]; had {
			if _, kept := om["nodeName"]; !kept {
				om["nodeName"] = node // om is new: prune returns m itself only when keeping it whole
			}
		}
	}
	return out, true
}

// Metadata is the metadata every trimmed object keeps, whatever its tree
// reads: what snapshot.NewObject parses (identity, labels for the sources'
// and namespaces' selectors and cluster.withLabels, the owner and
// controller UIDs for ownedBy and suppression joins, creation and deletion
// times), what client-go's store reads (the resource version) and what the
// typed CEL environment declares always present (pkg/cel alwaysServedMeta).
// Everything else of metadata (annotations, generateName, generation,
// finalizers, the rest of each owner reference, managedFields) is kept
// only when the tree reads it: on a pod managed by a controller, that is
// most of what a trimmed pod would otherwise hold.
var Metadata = MustParse(`{creationTimestamp*,deletionTimestamp*,labels*,name*,namespace*,ownerReferences{controller*,uid*},resourceVersion*,uid*}`)

// pruneMetadata trims metadata to Metadata and what n (t's metadata node,
// nil when the tree reads none of it) reads. A node kept whole keeps all
// of metadata less managedFields and the last-applied annotation, as
// before trees existed; so does the last-applied annotation stay out when
// an expression ranges over annotations, since statusd has never cached
// it.
func pruneMetadata(v any, n *Tree) any {
	if n != nil && (n.all || n.iterated) {
		return trimMetadata(v)
	}
	out := pruneUnion(v, Metadata, n, true)
	md, ok := out.(map[string]any)
	if !ok {
		return out
	}
	if ann, ok := md["annotations"].(map[string]any); ok {
		if _, has := ann[lastApplied]; has {
			a := make(map[string]any, len(ann)-1)
			for ak, av := range ann {
				if ak != lastApplied {
					a[ak] = av
				}
			}
			md["annotations"] = a // md is new: pruneUnion copies a map it trims
		}
	}
	return md
}

// pruneUnion trims v to what a or b keeps (either may be nil, for
// nothing, but not both), as Union(a, b).prune would, without building
// the union for every object.
func pruneUnion(v any, a, b *Tree, top bool) any {
	switch {
	case a == nil && b == nil:
		return v
	case a == nil:
		return b.prune(v, top)
	case b == nil:
		return a.prune(v, top)
	case a.all || b.all:
		return v
	}
	switch x := v.(type) {
	case map[string]any:
		if top && (a.iterated || b.iterated) {
			return x
		}
		out := make(map[string]any, min(len(x), len(a.children)+len(b.children)))
		for k, cv := range x {
			ac, bc := a.children[k], b.children[k]
			if ac != nil || bc != nil {
				out[k] = pruneUnion(cv, ac, bc, true)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = pruneUnion(e, a, b, false)
		}
		return out
	}
	return v
}

// trimMetadata copies metadata without managedFields (a third or more of
// a pod managed by a controller and a kubelet) and the last-applied
// annotation; annotations left empty go.
func trimMetadata(v any) any {
	md, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := make(map[string]any, len(md))
	for k, x := range md {
		switch k {
		case "managedFields":
			continue
		case "annotations":
			ann, ok := x.(map[string]any)
			if !ok {
				break
			}
			if _, has := ann[lastApplied]; has {
				if len(ann) == 1 {
					continue
				}
				a := make(map[string]any, len(ann)-1)
				for ak, av := range ann {
					if ak != lastApplied {
						a[ak] = av
					}
				}
				x = a
			}
		}
		out[k] = x
	}
	return out
}
