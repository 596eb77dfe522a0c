package cel

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	gocel "github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"

	"statusd.io/statusd/pkg/snapshot"
)

// Step is the value one sub-expression took, for explain output.
type Step struct {
	// Expr is the sub-expression as written.
	Expr string `json:"expr"`
	// Value is its value, rendered compactly.
	Value string `json:"value"`
	// Depth is its nesting below the root, for indentation.
	Depth int `json:"depth"`
}

// maxValue bounds a rendered value: explain is for reading.
const maxValue = 160

// Trace evaluates r's condition on o with state tracking and returns the
// outcome and the values of its sub-expressions (cel-go's OptTrackState),
// outermost first. Sub-expressions inside a comprehension's loop are left
// out: their recorded value is only the last iteration's and would mislead.
func (e *Evaluator) Trace(r *Reason, o *snapshot.Object) (Result, []Step) {
	p := r.When
	p.tracedOnce.Do(func() {
		env, err := sharedEnv()
		if err != nil {
			p.tracedErr = err
			return
		}
		p.traced, p.tracedErr = env.Program(p.ast,
			gocel.EvalOptions(gocel.OptTrackState, gocel.OptExhaustiveEval),
			gocel.CostLimit(e.cat.opts.CostLimit),
			gocel.CostTracking(&runtimeCost{}),
			gocel.InterruptCheckFrequency(100),
		)
	})
	if p.tracedErr != nil {
		return Result{Outcome: Unknown, Err: p.tracedErr}, nil
	}
	e.setSubject(o)
	v, det, err := p.traced.ContextEval(e.ctx, &e.act)
	var cost uint64
	if det != nil && det.ActualCost() != nil {
		cost = *det.ActualCost()
	}
	e.spent += cost
	res := Result{Cost: cost}
	switch {
	case err != nil:
		res.Outcome, res.Err = Unknown, classify(err)
	case types.IsError(v):
		res.Outcome, res.Err = Unknown, classify(v.(*types.Err))
	case v == types.True:
		res.Outcome = True
	case v == types.False:
		res.Outcome = False
	default:
		res.Outcome, res.Err = Unknown, fmt.Errorf("when returned %s, not bool", v.Type().TypeName())
	}
	if det == nil || det.State() == nil {
		return res, nil
	}
	state := det.State()
	native := p.ast.NativeRep()
	info := native.SourceInfo()
	text := p.Expr.Text
	var steps []Step
	var walk func(n ast.NavigableExpr, depth int)
	walk = func(n ast.NavigableExpr, depth int) {
		switch n.Kind() {
		case ast.LiteralKind, ast.IdentKind:
			return
		}
		if val, ok := state.Value(n.ID()); ok {
			steps = append(steps, Step{Expr: exprText(text, info, n), Value: render(val), Depth: depth})
		}
		if n.Kind() == ast.ComprehensionKind {
			return
		}
		for _, c := range n.Children() {
			walk(c, depth+1)
		}
	}
	walk(ast.NavigateAST(native), 0)
	return res, steps
}

// exprText returns the source text of a node, or its unparsed form when the
// source range is unknown (macro expansions).
func exprText(src string, info *ast.SourceInfo, n ast.NavigableExpr) string {
	if r, ok := info.GetOffsetRange(n.ID()); ok && r.Start >= 0 && r.Stop <= int32(len(src)) && r.Start < r.Stop {
		// Offsets are in code points.
		runes := []rune(src)
		if int(r.Stop) <= len(runes) {
			s := strings.Join(strings.Fields(string(runes[r.Start:r.Stop])), " ")
			if balanced(s) {
				return s
			}
		}
	}
	s, err := gocel.ExprToString(n, info)
	if err != nil {
		return fmt.Sprintf("<expr %d>", n.ID())
	}
	return s
}

// balanced reports whether brackets balance, which tells a whole
// sub-expression from a clipped range.
func balanced(s string) bool {
	depth := 0
	for _, r := range s {
		switch r {
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
			if depth < 0 {
				return false
			}
		}
	}
	return depth == 0
}

func render(v ref.Val) string {
	var s string
	switch x := v.(type) {
	case *types.Err:
		s = "error: " + x.Error()
	case types.String:
		s = fmt.Sprintf("%q", string(x))
	case types.Bool, types.Int, types.Uint, types.Double:
		s = fmt.Sprint(x.Value())
	case types.Duration:
		s = x.Duration.String()
	case types.Timestamp:
		s = x.Time.UTC().Format("2006-01-02T15:04:05Z")
	case *metricsVal:
		s = "metrics(" + x.what + ")"
	case *clusterVal:
		s = "cluster"
	default:
		native, err := v.ConvertToNative(jsonValueType)
		if err == nil {
			if b, err := json.Marshal(native); err == nil {
				s = string(b)
				break
			}
		}
		s = fmt.Sprint(v.Value())
	}
	if len(s) > maxValue {
		s = s[:maxValue] + "…"
	}
	return s
}

// jsonValueType asks cel-go for a JSON-shaped native value.
var jsonValueType = reflect.TypeFor[any]()
