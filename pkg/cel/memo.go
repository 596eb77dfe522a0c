package cel

import (
	"sync/atomic"

	gocel "github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"

	"statusd.io/statusd/pkg/snapshot"
)

// A reason's condition usually rules a subject out on the subject alone:
// "the pod is Pending", "some container restarted more than N times". Such
// a test depends on nothing but the object and the catalogue's params, so
// its outcome cannot change until the object does, and the informers hand
// the evaluator the same *snapshot.Object tick after tick until it
// changes. A gate is such a test, a conjunct of `when` that reads no
// clock, no other object, no metrics and no variable that does; its
// outcome is remembered on the object. A false gate makes the whole
// condition false (false && anything is false in CEL, errors included), so
// a steady-state tick pays a look-up instead of an evaluation for every
// subject a gate rules out. When the whole condition is such a test, both
// outcomes are remembered.

// gate is one remembered test of a reason.
type gate struct {
	// slot is the gate's index in an object's memo, among the gates of
	// the reasons whose subject is of the same resource.
	slot int
	prg  *Program
	// whole is set when the gate is the entire condition, so that a true
	// outcome is the answer too.
	whole bool
}

// Memo outcomes; zero is "not evaluated on this object yet". Errors are
// not remembered: the condition is evaluated in full and reports them.
const (
	memoUnset uint32 = iota
	memoFalse
	memoTrue
)

// objCache is what the evaluator keeps on a snapshot object: its CEL value,
// converted on first use, and the outcomes of gates under one catalogue.
// The value, with the wrappers of every map and list read through it, is
// dropped by Forget once no evaluation has read it for a tick: in the
// steady state the gates rule most objects out without reading them, and
// their wrappers would otherwise be a third of what an object costs.
type objCache struct {
	val  atomic.Pointer[valBox]
	used atomic.Bool // read since the last Forget
	memo atomic.Pointer[memo]
}

// valBox holds a converted value, so that it can be swapped atomically.
type valBox struct{ v ref.Val }

// memo holds the gate outcomes of one catalogue for one object; a reload
// starts a new one. It is sized for the gates of the object's resource
// only, two bits an outcome: it is kept on every cached object, so a pod
// pays for the pod reasons' gates and not for every gate of the
// catalogue.
type memo struct {
	cat   *Catalog
	words []atomic.Uint32
}

// memoPerWord is how many outcomes a memo word holds.
const memoPerWord = 16

func newMemo(cat *Catalog, gates int) *memo {
	return &memo{cat: cat, words: make([]atomic.Uint32, (gates+memoPerWord-1)/memoPerWord)}
}

// load returns the outcome in slot.
func (m *memo) load(slot int) uint32 {
	return m.words[slot/memoPerWord].Load() >> (2 * (slot % memoPerWord)) & 3
}

// store sets the outcome in slot, leaving the word's other slots as
// another evaluator may have just set them.
func (m *memo) store(slot int, v uint32) {
	w, shift := &m.words[slot/memoPerWord], 2*(slot%memoPerWord)
	for {
		old := w.Load()
		if w.CompareAndSwap(old, old&^(3<<shift)|v<<shift) {
			return
		}
	}
}

func cacheOf(o *snapshot.Object) *objCache {
	if c, ok := o.Cached().(*objCache); ok {
		return c
	}
	o.CompareAndSwapCached(nil, &objCache{})
	return o.Cached().(*objCache)
}

func (c *objCache) value(o *snapshot.Object) ref.Val {
	if !c.used.Load() {
		c.used.Store(true)
	}
	for {
		if b := c.val.Load(); b != nil {
			return b.v
		}
		// Two readers may convert at once; the first stored wins, and
		// the other's conversion is only garbage.
		if b := (&valBox{v: toVal(o.Tree())}); c.val.CompareAndSwap(nil, b) {
			return b.v
		}
	}
}

// Forget drops the converted values of snap's objects that no evaluation
// read since the previous Forget of them, keeping the gate outcomes: an
// object read again is converted again, which costs what its first read
// did. The engine calls it after each tick.
func Forget(snap *snapshot.Snapshot) {
	// Two passes, since sets share objects (a source of pods and one of
	// the add-ons' pods): an object is dropped only when unread, whichever
	// set it is met in first.
	sets := snap.Sets()
	for _, name := range sets {
		for _, o := range snap.Set(name).Objects() {
			if c, ok := o.Cached().(*objCache); ok && !c.used.Load() && c.val.Load() != nil {
				c.val.Store(nil)
			}
		}
	}
	for _, name := range sets {
		for _, o := range snap.Set(name).Objects() {
			if c, ok := o.Cached().(*objCache); ok && c.used.Load() {
				c.used.Store(false)
			}
		}
	}
}

// memoFor returns the object's memo under cat with room for the gates of
// set, the resource of the reasons evaluated on it. An object is only ever
// the subject of its own resource's reasons; should one be read under
// another's, a memo too small is replaced, which only forgets outcomes.
func (c *objCache) memoFor(cat *Catalog, set string) *memo {
	m := c.memo.Load()
	if n := cat.gates[set]; m == nil || m.cat != cat || len(m.words)*memoPerWord < n {
		m = newMemo(cat, n)
		c.memo.Store(m)
	}
	return m
}

// gated decides a condition from r's gates when it can: decided is false
// when the condition must be evaluated.
func (e *Evaluator) gated(r *Reason, o *snapshot.Object) (out Outcome, cost uint64, decided bool) {
	if len(r.gates) == 0 {
		return Unknown, 0, false // no memo is made for reasons that cannot use it
	}
	m := cacheOf(o).memoFor(e.cat, r.gateSet)
	for _, g := range r.gates {
		v := m.load(g.slot)
		if v == memoUnset {
			e.setSubject(o)
			res, c, err := e.eval(g.prg)
			cost += c
			if err != nil {
				return Unknown, cost, false
			}
			b, ok := res.(types.Bool)
			if !ok {
				return Unknown, cost, false
			}
			v = memoFalse
			if b {
				v = memoTrue
			}
			m.store(g.slot, v)
		}
		switch {
		case v == memoFalse:
			return False, cost, true
		case g.whole:
			return True, cost, true
		}
	}
	return Unknown, cost, false
}

// impure lists the names whose values change without the subject
// changing.
var impure = map[string]bool{varNow: true, varCluster: true, varMetrics: true}

// purity decides which expressions depend on the subject and params
// alone; variables are decided once each.
type purity struct {
	cat  *Catalog
	vars map[string]bool
	busy map[string]bool
}

func (p *purity) pure(e ast.Expr) bool {
	root := ast.NavigateExpr(nil, e)
	for _, n := range ast.MatchDescendants(root, ast.KindMatcher(ast.IdentKind)) {
		if impure[n.AsIdent()] {
			return false
		}
		// variables is read by name below; any other use of it
		// (variables["x"], a comprehension over it) cannot be checked.
		if n.AsIdent() == varVariables {
			parent, ok := n.Parent()
			if !ok || parent.Kind() != ast.SelectKind {
				return false
			}
		}
	}
	for _, n := range ast.MatchDescendants(root, ast.KindMatcher(ast.SelectKind)) {
		sel := n.AsSelect()
		if sel.Operand().Kind() == ast.IdentKind && sel.Operand().AsIdent() == varVariables && !p.variable(sel.FieldName()) {
			return false
		}
	}
	return true
}

func (p *purity) variable(name string) bool {
	if v, ok := p.vars[name]; ok {
		return v
	}
	i, ok := p.cat.varIndex[name]
	if !ok || i >= len(p.cat.Variables) || p.cat.Variables[i].Program == nil || p.busy[name] {
		return false
	}
	p.busy[name] = true
	v := p.pure(p.cat.Variables[i].Program.ast.NativeRep().Expr())
	delete(p.busy, name)
	p.vars[name] = v
	return v
}

// conjuncts flattens the top-level && of e.
func conjuncts(e ast.Expr) []ast.Expr {
	if e.Kind() == ast.CallKind && e.AsCall().FunctionName() == "_&&_" && len(e.AsCall().Args()) == 2 {
		return append(conjuncts(e.AsCall().Args()[0]), conjuncts(e.AsCall().Args()[1])...)
	}
	return []ast.Expr{e}
}

// planGates finds a reason's gates and plans each as a program of its own,
// cut from the checked condition, so it is evaluated exactly as it is
// inside the condition.
func (cm *compiler) planGates(r *Reason, p *purity) {
	if r.When == nil {
		return
	}
	if cm.cat.gates == nil {
		cm.cat.gates = map[string]int{}
	}
	if src, ok := cm.cat.Source.Sources[r.Subject]; ok {
		r.gateSet = src.GVR()
	}
	native := r.When.ast.NativeRep()
	root := native.Expr()
	if p.pure(root) {
		r.gates = []gate{{slot: cm.cat.gates[r.gateSet], prg: r.When, whole: true}}
		cm.cat.gates[r.gateSet]++
		return
	}
	for _, c := range conjuncts(root) {
		if !p.pure(c) {
			continue
		}
		checked := ast.NewCheckedAST(ast.NewAST(c, native.SourceInfo()), native.TypeMap(), native.ReferenceMap())
		pb, err := ast.ToProto(checked)
		if err != nil {
			continue
		}
		prg, err := cm.plan(gocel.CheckedExprToAst(pb))
		if err != nil {
			continue // a gate is an optimisation; the condition still works
		}
		r.gates = append(r.gates, gate{slot: cm.cat.gates[r.gateSet], prg: &Program{Expr: r.When.Expr, Field: "when", ast: r.When.ast, prg: prg}})
		cm.cat.gates[r.gateSet]++
	}
}
