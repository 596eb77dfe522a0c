package cel

import (
	"fmt"
	"slices"
	"sync"

	gocel "github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/interpreter"
	"k8s.io/apiserver/pkg/cel/library"
)

// planner turns checked expressions into interpretables that share one
// dispatcher. cel-go's Env.Program builds, for every program, a dispatcher
// holding a fresh binding of every overload in the environment, and the
// program keeps it for its life: the shipped catalogue's 264 programs
// held 13 MiB of copies of one table, a tenth of statusd's live heap at
// 30,000 pods. Planning resolves each call to its overload once, so the
// programs of an environment can share its dispatcher; what cel-go's
// program adds around the interpretable (interrupt checks, panic recovery,
// errors as Go errors) is Evaluator.eval's.
type planner struct {
	interp interpreter.Interpreter
}

var (
	plannerOnce sync.Once
	plannerVal  *planner
	plannerErr  error
)

// sharedPlanner is the planner of sharedEnv, built once per process.
func sharedPlanner() (*planner, error) {
	plannerOnce.Do(func() {
		env, err := sharedEnv()
		if err != nil {
			plannerErr = err
			return
		}
		plannerVal, plannerErr = newPlanner(env)
	})
	return plannerVal, plannerErr
}

// newPlanner binds every function of env into one dispatcher, as cel-go's
// newProgram does for each program (in a fixed order, so a duplicate
// overload is reported the same way every time).
func newPlanner(env *gocel.Env) (*planner, error) {
	disp := interpreter.NewDispatcher()
	fns := env.Functions()
	names := make([]string, 0, len(fns))
	for name := range fns {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		bindings, err := fns[name].Bindings()
		if err != nil {
			return nil, fmt.Errorf("bind function %s: %w", name, err)
		}
		if err := disp.Add(bindings...); err != nil {
			return nil, fmt.Errorf("bind function %s: %w", name, err)
		}
	}
	provider, adapter := env.CELTypeProvider(), env.CELTypeAdapter()
	attrs := interpreter.NewAttributeFactory(env.Container, adapter, provider)
	return &planner{interp: interpreter.NewInterpreter(disp, env.Container, provider, adapter, attrs)}, nil
}

// plan builds the interpretable the tick runs. Its options are those
// cel-go's Env.Program applies, in its order, for newEnv's libraries'
// program options (OptionalTypes' or/orValue, library.Regex's find and
// findAll on constant patterns) and for CustomDecorator(decorateMeter)
// (the Evaluator's meter enforces CostLimit; cel-go's cost tracking takes
// quadratic time in loops, see meter.go), InterruptCheckFrequency and
// OptOptimize. A library added to newEnv with program options of its own
// needs them here too (TestPlannerMatchesProgram compares results with
// Env.Program's).
func (p *planner) plan(a *gocel.Ast) (interpreter.Interpretable, error) {
	return p.interp.NewInterpretable(a.NativeRep(),
		interpreter.CustomDecorator(decorateOptionalOr),
		interpreter.CustomDecorator(decorateMeter),
		interpreter.InterruptableEval(),
		interpreter.Optimize(),
		interpreter.CompileRegexConstants(library.FindRegexOptimization, library.FindAllRegexOptimization, interpreter.MatchesRegexOptimization),
	)
}

// planTraced builds the interpretable explain runs: exhaustive (both sides
// of every && and || evaluated) and recording each sub-expression's value,
// metered and interruptible like the tick's (cel-go's OptTrackState and
// OptExhaustiveEval).
func (p *planner) planTraced(a *gocel.Ast) (*interpreter.ObservableInterpretable, error) {
	i, err := p.interp.NewInterpretable(a.NativeRep(),
		interpreter.CustomDecorator(decorateOptionalOr),
		interpreter.CustomDecorator(decorateMeter),
		interpreter.InterruptableEval(),
		interpreter.ExhaustiveEval(),
		interpreter.EvalStateObserver(),
	)
	if err != nil {
		return nil, err
	}
	oi, ok := i.(*interpreter.ObservableInterpretable)
	if !ok {
		return nil, fmt.Errorf("internal error: traced program is %T, not observable", i)
	}
	return oi, nil
}

// interruptVar is the variable cel-go's interruptible comprehensions read
// before each iteration; true stops the evaluation with an
// EvalCancelledError.
const interruptVar = "#interrupted"

// interruptEvery is how many comprehension iterations pass between checks
// of the tick's context (cel-go's InterruptCheckFrequency): a check is a
// channel poll, cheap but not free in a tight loop.
const interruptEvery = 100

// run evaluates as cel-go's Program.Eval does: a panic inside cel-go (an
// interrupted comprehension, or a defect) becomes an error, and an error
// value becomes a Go error.
func run(eval func() ref.Val) (out ref.Val, err error) {
	defer func() {
		if r := recover(); r != nil {
			switch t := r.(type) {
			case interpreter.EvalCancelledError:
				err = t
			default:
				err = fmt.Errorf("internal error: %v", r)
			}
		}
	}()
	out = eval()
	if types.IsError(out) {
		return out, out.(*types.Err)
	}
	return out, nil
}

// decorateOptionalOr plans optional.or(optional) and optional.orValue(value)
// as OptionalTypes does: the right-hand side is evaluated only when the
// optional is empty. The dispatcher has no orValue overload; the library
// supplies it through this program option, which Env.Program would apply.
func decorateOptionalOr(i interpreter.Interpretable) (interpreter.Interpretable, error) {
	call, ok := i.(interpreter.InterpretableCall)
	if !ok || len(call.Args()) != 2 {
		return i, nil
	}
	o := &optionalOr{id: call.ID(), lhs: call.Args()[0], rhs: call.Args()[1]}
	switch {
	case call.Function() == "or" && (call.OverloadID() == "" || call.OverloadID() == "optional_or_optional"):
	case call.Function() == "orValue" && (call.OverloadID() == "" || call.OverloadID() == "optional_orValue_value"):
		o.unwrap = true
	default:
		return i, nil
	}
	return o, nil
}

// optionalOr is a planned or (unwrap false) or orValue (unwrap true).
type optionalOr struct {
	id       int64
	lhs, rhs interpreter.Interpretable
	unwrap   bool
}

func (o *optionalOr) ID() int64 { return o.id }

func (o *optionalOr) Eval(vars interpreter.Activation) ref.Val {
	l := o.lhs.Eval(vars)
	opt, ok := l.(*types.Optional)
	switch {
	case !ok:
		// An error or unknown, passed on as cel-go does.
		return l
	case !opt.HasValue():
		return o.rhs.Eval(vars)
	case o.unwrap:
		return opt.GetValue()
	}
	return opt
}
