package cel

import (
	"fmt"
	"reflect"
	"strings"

	gocel "github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/interpreter"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

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

// maxValue bounds a rendered value, and maxTraceDepth the nesting shown:
// explain is for reading, and deep nodes are field accesses.
const (
	maxValue      = 160
	maxTraceDepth = 4
)

// Trace evaluates r's condition on o with state tracking and returns the
// outcome and the values of its sub-expressions (cel-go's OptTrackState),
// outermost first. Sub-expressions inside a comprehension's loop are left
// out: their recorded value is only the last iteration's and would mislead.
func (e *Evaluator) Trace(r *Reason, o *snapshot.Object) (Result, []Step) {
	p := r.When
	p.tracedOnce.Do(func() {
		pl, err := sharedPlanner()
		if err != nil {
			p.tracedErr = err
			return
		}
		// Metered like the tick's programs, so explaining a reason that
		// scans a large source is as bounded as evaluating it.
		p.traced, p.tracedErr = pl.planTraced(p.ast)
	})
	if p.tracedErr != nil {
		return Result{Outcome: Unknown, Err: p.tracedErr}, nil
	}
	// The outcome and cost come from the ordinary program, so explain
	// agrees with the tick; the traced run (exhaustive, so both sides of
	// every && and || have values) supplies only the sub-expression values.
	// Nothing remembered is used: explain shows what an evaluation costs.
	res := e.when(r, o)
	outer := e.meter.used
	e.meter.used = 0
	var state interpreter.EvalState
	_, _ = run(func() ref.Val {
		return p.traced.ObserveEval(&e.act, func(o any) {
			if s, ok := o.(interpreter.EvalState); ok {
				state = s
			}
		})
	})
	e.spent += e.meter.used
	e.meter.used = outer
	if state == nil {
		return res, nil
	}
	native := p.ast.NativeRep()
	info := native.SourceInfo()
	var steps []Step
	var walk func(n ast.NavigableExpr, depth int)
	walk = func(n ast.NavigableExpr, depth int) {
		switch n.Kind() {
		case ast.LiteralKind, ast.IdentKind:
			return
		}
		if val, ok := state.Value(n.ID()); ok {
			steps = append(steps, Step{Expr: exprText(info, n), Value: render(val), Depth: depth})
		}
		if n.Kind() == ast.ComprehensionKind || depth >= maxTraceDepth {
			return
		}
		for _, c := range n.Children() {
			walk(c, depth+1)
		}
	}
	// The root is the whole condition, which explain prints already.
	for _, c := range ast.NavigateAST(native).Children() {
		walk(c, 0)
	}
	return res, steps
}

// exprText renders a node as CEL, re-sugaring macros (the environment
// keeps macro calls for this), so that explain shows what the operator
// wrote rather than its expansion.
func exprText(info *ast.SourceInfo, n ast.NavigableExpr) string {
	s, err := gocel.ExprToString(n, info)
	if err != nil {
		return fmt.Sprintf("<expr %d>", n.ID())
	}
	return strings.Join(strings.Fields(s), " ")
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
		s = x.String()
	case types.Timestamp:
		s = x.Time.UTC().Format("2006-01-02T15:04:05Z")
	case *metricsVal:
		s = "metrics(" + x.what + ")"
	case *clusterVal:
		s = "cluster"
	case objList:
		names := make([]string, 0, min(len(x.objs), 5))
		for _, o := range x.objs[:min(len(x.objs), 5)] {
			names = append(names, o.Ref())
		}
		s = fmt.Sprintf("%d objects [%s]", len(x.objs), strings.Join(names, ", "))
		if len(x.objs) > 5 {
			s = strings.TrimSuffix(s, "]") + ", …]"
		}
	default:
		// Through protobuf's JSON value, which every CEL list and map
		// (including maps over Go values) converts to.
		native, err := v.ConvertToNative(jsonValueType)
		if err == nil {
			if b, err := protojson.Marshal(native.(*structpb.Value)); err == nil {
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

// jsonValueType asks cel-go for a JSON value.
var jsonValueType = reflect.TypeFor[*structpb.Value]()
