package cel

import (
	"errors"
	"time"

	gocel "github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/ast"

	"statusd.io/statusd/pkg/catalog"
)

// Compile-time bounds. Whoever can edit the catalogue ConfigMap can hand
// statusd up to a mebibyte of it, so compiling it is bounded like
// evaluating it: per expression by size and depth, and in total by CPU
// time. docs/bounds.md documents each bound.
const (
	// MaxExpressionSize caps one expression, in Unicode code points. cel-go
	// type-checks an expression in time that grows with the square of its
	// calls and comprehensions (its checker copies its type mapping at
	// every overload it resolves): at 8,192 code points the worst
	// expression checks in about 0.3 s of CPU, at cel-go's own default of
	// 100,000 in tens of seconds. The longest shipped expression has about
	// 2,500.
	MaxExpressionSize = 8192
	// MaxParseDepth caps the parser's recursion (nested calls, operators
	// and parentheses); cel-go's default is 250.
	MaxParseDepth = 100
	// MaxLiteralNesting caps how deep list and map literals nest inside
	// one another. cel-go's checker takes time that grows with the cube of
	// that depth (240 levels take seconds per expression), and no
	// condition needs more than a few; a nested value belongs in a param.
	MaxLiteralNesting = 16
	// DefaultCompileBudget is the CPU time one compile of a catalogue may
	// take before it is refused. The shipped catalogue compiles in about
	// half a second; a hostile mebibyte is refused after this long.
	DefaultCompileBudget = 5 * time.Second
)

// ErrCompileBudget marks a catalogue refused because compiling it took
// longer than Options.CompileBudget.
var ErrCompileBudget = errors.New("compile budget exhausted")

// CPUClock reads a CPU-time clock. The compile budget is CPU time, not
// wall time, so that a busy machine (other processes, a tick running
// beside a reload) does not refuse a catalogue that compiles quickly.
type CPUClock func() time.Duration

// budget tracks one compile's CPU time against Options.CompileBudget.
type budget struct {
	clock CPUClock
	start time.Duration
	limit time.Duration
	// spent is set once the budget ran out: every later expression is
	// skipped, and the error is reported once.
	spent bool
}

// exhausted reports whether the budget has run out.
func (b *budget) exhausted() bool {
	if b.spent {
		return true
	}
	if b.limit > 0 && b.clock()-b.start > b.limit {
		b.spent = true
	}
	return b.spent
}

// literalNesting returns the deepest nesting of list and map literals in
// a parsed expression and the node where it is reached.
func literalNesting(a *gocel.Ast) (depth int, at int64) {
	var walk func(e ast.Expr, d int)
	walk = func(e ast.Expr, d int) {
		if e == nil {
			return
		}
		switch e.Kind() {
		case ast.ListKind:
			d++
			if d > depth {
				depth, at = d, e.ID()
			}
			for _, el := range e.AsList().Elements() {
				walk(el, d)
			}
		case ast.MapKind:
			d++
			if d > depth {
				depth, at = d, e.ID()
			}
			for _, en := range e.AsMap().Entries() {
				walk(en.AsMapEntry().Key(), d)
				walk(en.AsMapEntry().Value(), d)
			}
		case ast.StructKind:
			for _, f := range e.AsStruct().Fields() {
				walk(f.AsStructField().Value(), d)
			}
		case ast.CallKind:
			c := e.AsCall()
			if c.IsMemberFunction() {
				walk(c.Target(), d)
			}
			for _, arg := range c.Args() {
				walk(arg, d)
			}
		case ast.SelectKind:
			walk(e.AsSelect().Operand(), d)
		case ast.ComprehensionKind:
			c := e.AsComprehension()
			walk(c.IterRange(), d)
			walk(c.AccuInit(), d)
			walk(c.LoopCondition(), d)
			walk(c.LoopStep(), d)
			walk(c.Result(), d)
		}
	}
	walk(a.NativeRep().Expr(), 0)
	return depth, at
}

// checkLiteralNesting refuses an expression whose literals nest deeper
// than MaxLiteralNesting, at the literal that passes it.
func (cm *compiler) checkLiteralNesting(a *gocel.Ast, e catalog.Expr, field, reason string) bool {
	depth, id := literalNesting(a)
	if depth <= MaxLiteralNesting {
		return true
	}
	loc := a.NativeRep().SourceInfo().GetStartLocation(id)
	cm.errs.Errorf(e.Locate(loc.Line(), loc.Column()), reason,
		"%s: list and map literals nested %d deep, more than the limit of %d; declare a nested value as a param", field, depth, MaxLiteralNesting)
	return false
}

// overBudget reports whether the compile budget has run out, recording
// the refusal once, at the first expression left uncompiled.
func (cm *compiler) overBudget(e catalog.Expr, field, reason string) bool {
	if !cm.budget.exhausted() {
		return false
	}
	if !cm.budgetReported {
		cm.budgetReported = true
		cm.errs.Errorf(e.Pos, reason, "%s: %v: compiling the catalogue took more than %s of CPU time, so it is refused (this expression and those after it were not compiled); split or simplify it, or raise --max-compile-time",
			field, ErrCompileBudget, cm.budget.limit)
	}
	return true
}

var processStart = time.Now()

// wallClock is wall time since the process started, a CPUClock where no
// CPU clock can be read.
func wallClock() time.Duration { return time.Since(processStart) }
