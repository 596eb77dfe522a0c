package cel

import (
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
	"github.com/google/cel-go/interpreter"
)

// meter counts the cost of one evaluation and cuts it off past the limit.
//
// It replaces cel-go's runtime cost tracking (gocel.CostTracking with
// gocel.CostLimit), which in cel-go v0.26 keeps a stack of observed values
// that a comprehension grows by a few entries per iteration and searches
// linearly: tracking a loop of n steps takes O(n²) time. Tracked,
// [..64,000 elements..].all(x, true) takes 12 s instead of 10 ms, so the
// limit that tracker enforces is reached only after minutes, and a plain
// scan of a large source stalls the tick it was meant to protect.
//
// The meter charges one unit per call (operators included) and per
// attribute (a variable, a field selection, a conditional) evaluated, each
// in constant time; a label selection also pays for the objects it visits.
// Every iteration of a comprehension evaluates at least one of them (its
// step reads the accumulator), so the count grows with the work done. Past
// the limit it aborts the evaluation the way cel-go's tracker does, with
// an EvalCancelledError that the program turns into an error.
type meter struct {
	used, limit uint64
}

func (m *meter) charge(n uint64) {
	m.used += n
	if m.used > m.limit {
		panic(interpreter.EvalCancelledError{
			Cause:   interpreter.CostLimitExceeded,
			Message: "operation cancelled: actual cost limit exceeded",
		})
	}
}

// meterOf finds the evaluator's meter behind the activations cel-go wraps
// around ours (context, comprehension variables); programs evaluated
// without an Evaluator (explain's traced run) are not metered here.
func meterOf(vars interpreter.Activation) *meter {
	for a := vars; a != nil; a = a.Parent() {
		if act, ok := a.(*activation); ok {
			return &act.ev.meter
		}
	}
	return nil
}

// decorateMeter wraps calls and attributes so that evaluating them charges
// the meter. The wrappers embed the node's interface, so the planner and
// cel-go's own decorators (constant folding, regex precompilation) still
// see a call or an attribute; folds and constants are left as they are.
func decorateMeter(i interpreter.Interpretable) (interpreter.Interpretable, error) {
	switch n := i.(type) {
	case *meteredCall, *meteredAttr:
		return i, nil
	case interpreter.InterpretableCall:
		return &meteredCall{InterpretableCall: n}, nil
	case interpreter.InterpretableAttribute:
		return &meteredAttr{InterpretableAttribute: n}, nil
	}
	return i, nil
}

type meteredCall struct {
	interpreter.InterpretableCall
}

func (c *meteredCall) Eval(vars interpreter.Activation) ref.Val {
	v := c.InterpretableCall.Eval(vars)
	if m := meterOf(vars); m != nil {
		cost := uint64(1)
		switch l := v.(type) {
		case objList:
			// Indexed look-ups return a view of the index for free; a label
			// selection filtered the objects it visited.
			if c.OverloadID() == "statusd_cluster_withLabels" {
				cost += uint64(len(l.objs))
			}
		case traits.Lister:
			// Sorting, flattening, ranges and the like cost what they
			// produce: no comprehension step counts that work.
			if n, ok := l.Size().(types.Int); ok && n > 0 {
				cost += uint64(n)
			}
		}
		m.charge(cost)
	}
	return v
}

type meteredAttr struct {
	interpreter.InterpretableAttribute
}

func (a *meteredAttr) Eval(vars interpreter.Activation) ref.Val {
	v := a.InterpretableAttribute.Eval(vars)
	if m := meterOf(vars); m != nil {
		// A variable and each field selected from it, as cel-go counts.
		cost := uint64(1)
		if na, ok := a.Attr().(interpreter.NamespacedAttribute); ok {
			cost += uint64(len(na.Qualifiers()))
		}
		m.charge(cost)
	}
	return v
}
