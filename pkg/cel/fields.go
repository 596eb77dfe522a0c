package cel

import (
	"maps"
	"strings"

	"github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/operators"
	"github.com/google/cel-go/common/overloads"
	"github.com/google/cel-go/common/types"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/prune"
	"statusd.io/statusd/pkg/suppress"
)

// Limits of the field analysis. An expression past them is not analysed:
// its sources keep whole objects. No sane expression comes near them; they
// only guarantee that the analysis ends.
const (
	// fieldsMaxPath bounds a path's length, which a comprehension whose
	// accumulator selects from itself would grow without end.
	fieldsMaxPath = 32
	// fieldsMaxDepth bounds how many list levels a value may be away from
	// the field it was read from.
	fieldsMaxDepth = 16
	// fieldsMaxRounds bounds the fixpoint iteration of one comprehension's
	// accumulator.
	fieldsMaxRounds = 64
)

// Fields returns, for each object source of the catalogue, the fields any
// of its expressions could read from that source's objects, so that the
// watch caches can drop the rest (see pkg/prune). A source whose reads
// cannot be bounded (an object handed to a function the analysis does not
// know, a look-up whose source name is not a literal) maps to nil: keep
// whole objects. Metrics sources are not in the map: no expression reads
// their objects, and the scraper's own reads are pkg/sources' business.
//
// The analysis is an abstract interpretation of the checked ASTs: a value
// is the set of places in objects it may come from (a source, a path of
// field names, and how many list levels below that path it is). Selecting,
// indexing, conditionals, list literals, concatenation, optionals,
// conditions(o) and the list functions that return their receiver's
// elements propagate places; ranging over a place marks it Iterated; every
// other function, and every expression's result, reads its arguments
// whole (All). A field is dropped only when no such rule can reach it, so
// pruning never changes an evaluation: the same findings, messages and
// errors. Reasons are analysed with their subject as object; variables
// with the subject of each reason that reads them; suppression key
// expressions with the cause's and the symptom's subject, the two they are
// evaluated on.
func (c *Catalog) Fields() map[string]*prune.Tree {
	a := &fieldAnalysis{
		cat:     c,
		trees:   map[string]*prune.Tree{},
		unsound: map[string]bool{},
		vars:    map[varSubject]absValue{},
		busy:    map[varSubject]bool{},
	}
	for name, s := range c.Source.Sources {
		if s.IsObjects() {
			a.trees[name] = prune.New()
		}
	}
	// A catalogue that did not compile is never run; should one get here,
	// its missing programs would read nothing, so prune nothing.
	if len(c.Reasons) != len(c.Source.Reasons) {
		a.all = true
	}
	for _, r := range c.Reasons {
		if r.When == nil || (!r.Reason.Message.IsZero() && r.Message == nil) || (!r.Grace.Since.IsZero() && r.Since == nil) {
			a.all = true
		}
		for _, p := range []*Program{r.When, r.Message, r.Since} {
			a.root(p, r.Subject)
		}
		for _, e := range r.Edges {
			if e.Key == nil {
				if e.Join.Kind == catalog.JoinKey {
					a.all = true
				}
				a.joinReads(e.Join.Kind)
				continue
			}
			a.root(e.Key, r.Subject)
			if sym := c.Reason(e.Reason); sym != nil {
				a.root(e.Key, sym.Subject)
			} else {
				a.all = true
			}
		}
	}
	out := make(map[string]*prune.Tree, len(a.trees))
	for name, t := range a.trees {
		if a.all || a.unsound[name] {
			t = nil
		}
		out[name] = t
	}
	return out
}

// joinReads keeps what a named join reads (suppress.JoinFields) in every
// source of the resources it reads: the engine's joiner reads every source
// of a resource, not only the edge's subjects.
func (a *fieldAnalysis) joinReads(kind catalog.JoinKind) {
	for res, tree := range suppress.JoinFields(kind) {
		for name, s := range a.cat.Source.Sources {
			if s.IsObjects() && suppress.ResourceOf(s) == res {
				a.trees[name].Merge(tree)
			}
		}
	}
}

// place is one abstract reference into the objects of a source: the value
// at path (field names joined by pathSep), depth list levels below it. A
// negative depth is a list (made by a list literal or a look-up) whose
// elements are -depth levels above the path: cluster.objects("pods") is
// ("pods", "", -1).
type place struct {
	src   string
	path  string
	depth int
}

const pathSep = "\x00"

func (p place) keys() []string {
	if p.path == "" {
		return nil
	}
	return strings.Split(p.path, pathSep)
}

// field returns the place of field f of p.
func (p place) field(f string) place {
	if p.path == "" {
		return place{src: p.src, path: f}
	}
	return place{src: p.src, path: p.path + pathSep + f}
}

// absValue is the set of places a value may come from; empty for values
// that hold nothing of an object (literals, results of functions that read
// their arguments whole).
type absValue map[place]struct{}

func (v absValue) add(o absValue) absValue {
	if len(o) == 0 {
		return v
	}
	if v == nil {
		v = absValue{}
	}
	for p := range o {
		v[p] = struct{}{}
	}
	return v
}

func union(vs ...absValue) absValue {
	var out absValue
	for _, v := range vs {
		out = out.add(v)
	}
	return out
}

// shift moves every place by d list levels: +1 for an element of a list,
// -1 for a list literal holding the value.
func (v absValue) shift(d int) absValue {
	if len(v) == 0 {
		return nil
	}
	out := make(absValue, len(v))
	for p := range v {
		p.depth += d
		out[p] = struct{}{}
	}
	return out
}

type varSubject struct{ name, subject string }

// scope binds comprehension variables, innermost first; they shadow
// object, variables and cluster.
type scope struct {
	name   string
	val    absValue
	parent *scope
}

func (s *scope) lookup(name string) (absValue, bool) {
	for ; s != nil; s = s.parent {
		if s.name == name {
			return s.val, true
		}
	}
	return nil, false
}

func (s *scope) with(name string, v absValue) *scope {
	return &scope{name: name, val: v, parent: s}
}

// fieldAnalysis is the state of one Fields call.
type fieldAnalysis struct {
	cat   *Catalog
	trees map[string]*prune.Tree
	// unsound sources keep whole objects; all makes every source do so.
	unsound map[string]bool
	all     bool
	// subject is the source object stands for in the expression being
	// analysed.
	subject string
	vars    map[varSubject]absValue
	busy    map[varSubject]bool
}

// root analyses a top-level expression: what it returns is read whole.
func (a *fieldAnalysis) root(p *Program, subject string) {
	if p == nil || p.ast == nil {
		return
	}
	prev := a.subject
	a.subject = subject
	a.readAll(a.eval(p.ast.NativeRep().Expr(), nil))
	a.subject = prev
}

// node returns the tree node of p, adding it: reaching a place at all
// keeps it present, since a select on a missing field is an error.
func (a *fieldAnalysis) node(p place) *prune.Tree {
	t := a.trees[p.src]
	if t == nil {
		t = prune.New()
		a.trees[p.src] = t
	}
	keys := p.keys()
	if len(keys) > fieldsMaxPath || p.depth > fieldsMaxDepth || p.depth < -fieldsMaxDepth {
		a.unsound[p.src] = true
		return prune.New()
	}
	return t.At(keys...)
}

// touch keeps every place of v present.
func (a *fieldAnalysis) touch(v absValue) absValue {
	for p := range v {
		a.node(p)
	}
	return v
}

// readAll keeps every place of v whole: v is read by something that may
// look at all of it.
func (a *fieldAnalysis) readAll(v absValue) {
	for p := range v {
		a.node(p).SetAll()
	}
}

// iterate marks the places of v ranged over and returns the places of the
// elements (or keys) the iteration variable takes. A place that is itself
// an element of a list in an object is kept whole: Iterated describes the
// value right at a path, and which list level a deeper value sits at is
// not recorded in a tree.
func (a *fieldAnalysis) iterate(v absValue) absValue {
	a.ranged(v)
	return v.shift(1)
}

// ranged marks the places of v as ranged over (see iterate).
func (a *fieldAnalysis) ranged(v absValue) {
	for p := range v {
		switch {
		case p.depth == 0:
			a.node(p).SetIterated()
		case p.depth > 0:
			a.node(p).SetAll()
		}
	}
}

func (a *fieldAnalysis) selectField(v absValue, f string) absValue {
	var out absValue
	for p := range v {
		q := p.field(f)
		a.node(q)
		out = out.add(absValue{q: {}})
	}
	return out
}

// isGlobal reports whether ident name is the environment's variable rather
// than a comprehension variable shadowing it.
func isGlobal(e ast.Expr, name string, sc *scope) bool {
	if e.Kind() != ast.IdentKind || e.AsIdent() != name {
		return false
	}
	_, shadowed := sc.lookup(name)
	return !shadowed
}

// eval returns the places e's value may come from, marking what e reads.
func (a *fieldAnalysis) eval(e ast.Expr, sc *scope) absValue {
	if a.all {
		return nil
	}
	switch e.Kind() {
	case ast.LiteralKind:
		return nil
	case ast.IdentKind:
		name := e.AsIdent()
		if v, ok := sc.lookup(name); ok {
			return v
		}
		if name == varObject {
			if a.subject == "" {
				a.all = true
				return nil
			}
			return absValue{{src: a.subject}: {}}
		}
		// params, variables, cluster, now, metrics, type names: nothing
		// of an object.
		return nil
	case ast.SelectKind:
		sel := e.AsSelect()
		op := sel.Operand()
		if isGlobal(op, varVariables, sc) {
			v := a.variable(sel.FieldName())
			if sel.IsTestOnly() {
				// Whether a lazily evaluated variable is there may
				// depend on its evaluation.
				a.readAll(v)
				return nil
			}
			return v
		}
		v := a.eval(op, sc)
		if sel.IsTestOnly() {
			// has(x.f) only asks whether f is there; the node added keeps
			// it there.
			a.selectField(v, sel.FieldName())
			return nil
		}
		return a.selectField(v, sel.FieldName())
	case ast.CallKind:
		return a.call(e, sc)
	case ast.ListKind:
		var out absValue
		for _, el := range e.AsList().Elements() {
			out = out.add(a.eval(el, sc).shift(-1))
		}
		return out
	case ast.MapKind:
		for _, en := range e.AsMap().Entries() {
			me := en.AsMapEntry()
			a.readAll(a.eval(me.Key(), sc))
			a.readAll(a.eval(me.Value(), sc))
		}
		return nil
	case ast.StructKind:
		for _, f := range e.AsStruct().Fields() {
			a.readAll(a.eval(f.AsStructField().Value(), sc))
		}
		return nil
	case ast.ComprehensionKind:
		return a.comprehension(e.AsComprehension(), sc)
	}
	a.all = true
	return nil
}

// variable returns the value of variables.name for the current subject,
// analysing it once per subject.
func (a *fieldAnalysis) variable(name string) absValue {
	k := varSubject{name, a.subject}
	if v, ok := a.vars[k]; ok {
		return v
	}
	i, ok := a.cat.varIndex[name]
	if !ok || i >= len(a.cat.Variables) || a.cat.Variables[i].Program == nil || a.busy[k] {
		// Unknown or failed variables do not compile, and declaration order
		// rules out cycles; should either get here, prune nothing.
		a.all = true
		return nil
	}
	a.busy[k] = true
	v := a.eval(a.cat.Variables[i].Program.ast.NativeRep().Expr(), nil)
	delete(a.busy, k)
	a.vars[k] = v
	return v
}

// comprehension runs the accumulator to a fixpoint: its value is what the
// initial value and any step may hold.
func (a *fieldAnalysis) comprehension(c ast.ComprehensionExpr, sc *scope) absValue {
	elems := a.iterate(a.eval(c.IterRange(), sc))
	loop := sc
	if c.HasIterVar2() {
		// The first variable is an index or a key: a number, or a string
		// the Iterated mark keeps.
		loop = loop.with(c.IterVar(), nil).with(c.IterVar2(), elems)
	} else {
		loop = loop.with(c.IterVar(), elems)
	}
	accu := union(a.eval(c.AccuInit(), sc))
	for round := 0; ; round++ {
		if round == fieldsMaxRounds || a.all {
			a.all = true
			return nil
		}
		in := loop.with(c.AccuVar(), accu)
		a.readAll(a.eval(c.LoopCondition(), in))
		next := union(accu, a.eval(c.LoopStep(), in))
		if len(next) == len(accu) {
			break
		}
		accu = next
	}
	return a.eval(c.Result(), sc.with(c.AccuVar(), accu))
}

// passFunctions return (part of) their receiver or first argument: the
// optional helpers and ext lists' reverse, slice and sortBy's
// @sortByAssociatedKeys. Their other arguments are read whole.
var passFunctions = map[string]bool{
	"optional.of": true, "value": true, "reverse": true, "slice": true,
	"@sortByAssociatedKeys": true, "dyn": true,
}

// unionFunctions return one of their receiver and arguments.
var unionFunctions = map[string]bool{
	"orValue": true, "or": true, operators.Add: true,
}

// lookupSources are the cluster functions that return a source's objects:
// a list of them, or for lookup an optional one.
var lookupSources = map[string]int{
	"objects": -1, "inNamespace": -1, "onNode": -1, "ownedBy": -1, "withLabels": -1, "lookup": 0,
}

func (a *fieldAnalysis) call(e ast.Expr, sc *scope) absValue {
	call := e.AsCall()
	fn := call.FunctionName()
	args := call.Args()
	if call.IsMemberFunction() && isGlobal(call.Target(), varCluster, sc) {
		return a.clusterCall(fn, args, sc)
	}
	var target absValue
	if call.IsMemberFunction() {
		target = a.eval(call.Target(), sc)
	}
	switch fn {
	case operators.Conditional:
		a.readAll(a.eval(args[0], sc))
		return union(a.eval(args[1], sc), a.eval(args[2], sc))
	case operators.Index, operators.OptIndex:
		if isGlobal(args[0], varVariables, sc) {
			if s, ok := literalString(args[1]); ok {
				return a.variable(s)
			}
			a.all = true
			return nil
		}
		v := a.eval(args[0], sc)
		if s, ok := literalString(args[1]); ok {
			return a.selectField(v, s)
		}
		if args[1].Kind() == ast.LiteralKind {
			switch args[1].AsLiteral().(type) {
			case types.Int, types.Uint:
				return a.touch(v.shift(1))
			}
		}
		// A computed key or index: any part of the value may be read.
		a.readAll(v)
		a.readAll(a.eval(args[1], sc))
		return nil
	case operators.OptSelect:
		v := a.eval(args[0], sc)
		if s, ok := literalString(args[1]); ok {
			return a.selectField(v, s)
		}
		a.readAll(v)
		return nil
	case "conditions":
		if len(args) == 1 && !call.IsMemberFunction() {
			return a.selectField(a.selectField(a.eval(args[0], sc), "status"), "conditions")
		}
	case "hasValue":
		// Whether an optional holds a value is decided by a field's or a
		// list element's presence, which the places already keep, or by
		// optional.ofNonZeroValue, which reads its argument whole.
		if call.IsMemberFunction() && len(args) == 0 {
			return nil
		}
	case "optional.none":
		return nil
	case "optional.ofNonZeroValue":
		v := a.eval(args[0], sc)
		a.readAll(v)
		return v
	case overloads.Size:
		// Trimming never changes a list's length or a string, so only a
		// map's keys matter: Iterated keeps a map right at the place whole,
		// which is what size reads there. A place below a list level may be
		// a map that Iterated does not cover, and is kept whole. The length
		// of a list a look-up or a list literal made does not depend on
		// what its objects hold.
		v := target
		if !call.IsMemberFunction() && len(args) == 1 {
			v = a.eval(args[0], sc)
		}
		a.ranged(v)
		return nil
	case "first", "last":
		if call.IsMemberFunction() && len(args) == 0 {
			return a.touch(target.shift(1))
		}
	}
	switch {
	case passFunctions[fn]:
		rest := args
		if !call.IsMemberFunction() {
			if len(args) == 0 {
				return nil
			}
			target, rest = a.eval(args[0], sc), args[1:]
		}
		for _, arg := range rest {
			a.readAll(a.eval(arg, sc))
		}
		return target
	case unionFunctions[fn]:
		out := target
		for _, arg := range args {
			out = union(out, a.eval(arg, sc))
		}
		return out
	}
	// Any other function may read all of its receiver and arguments.
	a.readAll(target)
	for _, arg := range args {
		a.readAll(a.eval(arg, sc))
	}
	return nil
}

// clusterCall handles cluster.<fn>(...): look-ups return the objects of
// the literal source they name; metrics reads only kind and metadata of
// the objects it is given, which are always kept.
func (a *fieldAnalysis) clusterCall(fn string, args []ast.Expr, sc *scope) absValue {
	if depth, ok := lookupSources[fn]; ok && len(args) > 0 {
		for _, arg := range args[1:] {
			a.readAll(a.eval(arg, sc))
		}
		src, ok := literalString(args[0])
		if !ok {
			a.all = true
			return nil
		}
		v := absValue{{src: src, depth: depth}: {}}
		a.touch(v)
		return v
	}
	for _, arg := range args {
		v := a.eval(arg, sc)
		if fn == "metrics" || fn == "query" {
			// The object is read for its identity (namespace, name),
			// which every cache keeps.
			v = maps.Clone(v)
			maps.DeleteFunc(v, func(p place, _ struct{}) bool { return p.path == "" })
		}
		a.readAll(v)
	}
	return nil
}

func literalString(e ast.Expr) (string, bool) {
	if e.Kind() != ast.LiteralKind {
		return "", false
	}
	s, ok := e.AsLiteral().(types.String)
	return string(s), ok
}
