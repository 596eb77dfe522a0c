package cel

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/interpreter"

	"statusd.io/statusd/pkg/series"
	"statusd.io/statusd/pkg/snapshot"
)

// Errors that classify a failed evaluation. Both are the catalogue's
// problem, not statusd's: the finding is Unknown with the error text.
var (
	// ErrCostLimit: one evaluation exceeded Options.CostLimit.
	ErrCostLimit = errors.New("evaluation cost limit exceeded")
	// ErrBudget: the tick's total budget was spent before this evaluation:
	// the reason was starved for this tick (see engine, Result.Starved).
	ErrBudget = errors.New("starved: tick budget exhausted")
)

// Evaluator evaluates a compiled catalogue against one snapshot. It caches
// per subject (variables) and per snapshot (selectors), and counts the
// tick's cost. It is not safe for concurrent use: a tick owns one.
type Evaluator struct {
	cat       *Catalog
	snap      *snapshot.Snapshot
	ctx       context.Context
	cluster   *clusterVal
	now       types.Timestamp
	selectors selectorCache
	// seriesSelectors caches parsed metric selectors for the tick.
	seriesSelectors map[string]*series.Selector
	spent           uint64
	budget          uint64
	// meter counts the running evaluation's cost (see meter.go).
	meter meter

	subject *snapshot.Object
	object  ref.Val
	vars    map[string]ref.Val
	varsVal *lazyVars
	metrics ref.Val
	act     activation
	// polls counts the comprehension iterations that asked whether the
	// tick was cancelled.
	polls uint
}

// NewEvaluator prepares an evaluation of snap. ctx bounds the tick: a
// cancelled context interrupts a running expression.
func (c *Catalog) NewEvaluator(ctx context.Context, snap *snapshot.Snapshot) *Evaluator {
	ev := &Evaluator{
		cat:             c,
		snap:            snap,
		ctx:             ctx,
		now:             types.Timestamp{Time: snap.Time},
		selectors:       selectorCache{},
		seriesSelectors: map[string]*series.Selector{},
		budget:          c.opts.TickBudget,
		meter:           meter{limit: c.opts.CostLimit},
		vars:            map[string]ref.Val{},
	}
	ev.cluster = newClusterVal(ev)
	ev.varsVal = &lazyVars{Mapper: types.NewStringInterfaceMap(types.DefaultTypeAdapter, map[string]any{}), ev: ev}
	ev.act.ev = ev
	return ev
}

// Spent is the cost used so far.
func (e *Evaluator) Spent() uint64 { return e.spent }

// Exhausted reports whether the budget is spent: every evaluation from now
// on fails with ErrBudget.
func (e *Evaluator) Exhausted() bool { return e.spent >= e.budget }

// Reserve grants the tick's second phase (rendering messages, grace start
// times and join keys of the findings its conditions produced) a quarter
// of the budget beyond it: without one, a tick whose conditions spent the
// budget could not compute the join keys that suppress symptoms, and
// would publish what a firing cause should hide. A tick thus spends at
// most 1.25 times its budget, plus the overshoot of one evaluation.
func (e *Evaluator) Reserve() {
	e.budget = e.cat.opts.TickBudget + e.cat.opts.TickBudget/4
}

// Snapshot is the snapshot being evaluated.
func (e *Evaluator) Snapshot() *snapshot.Snapshot { return e.snap }

// activation resolves the expression variables for the current subject
// without allocating a map per evaluation.
type activation struct{ ev *Evaluator }

func (a *activation) ResolveName(name string) (any, bool) {
	ev := a.ev
	switch name {
	case varObject:
		return ev.object, true
	case varParams:
		return ev.cat.params, true
	case varVariables:
		return ev.varsVal, true
	case varCluster:
		return ev.cluster, true
	case varNow:
		return ev.now, true
	case varMetrics:
		return ev.subjectMetrics(), true
	case interruptVar:
		// Comprehensions ask on every iteration; the tick's context is
		// polled on every interruptEvery-th.
		ev.polls++
		if ev.polls%interruptEvery == 0 && ev.ctx.Err() != nil {
			return true, true
		}
	}
	return nil, false
}

func (a *activation) Parent() interpreter.Activation { return nil }

// setSubject switches the per-subject state.
func (e *Evaluator) setSubject(o *snapshot.Object) {
	if e.subject == o {
		return
	}
	e.subject = o
	e.object = objectVal(o)
	e.metrics = nil
	clear(e.vars)
}

// Outcome is the three-valued result of a condition.
type Outcome int

// The outcomes. Unknown is neither true nor false: it neither fires nor
// clears a reason.
const (
	False Outcome = iota
	True
	Unknown
)

func (o Outcome) String() string {
	switch o {
	case True:
		return "true"
	case False:
		return "false"
	}
	return "unknown"
}

// Result is a condition's evaluation on one subject.
type Result struct {
	Outcome Outcome
	// Err explains Unknown, or a False that is False only because the
	// condition reads a Prometheus query source and no endpoint is
	// configured (ErrQueryNotConfigured).
	Err error
	// Cost is what the evaluation spent.
	Cost uint64
}

// When evaluates a reason's condition on subject o.
// An outcome remembered on the object (memo.go) costs nothing.
func (e *Evaluator) When(r *Reason, o *snapshot.Object) Result {
	out, gateCost, decided := e.gated(r, o)
	if decided {
		return Result{Outcome: out, Cost: gateCost}
	}
	res := e.when(r, o)
	res.Cost += gateCost
	return res
}

// when evaluates the whole condition, remembering nothing.
func (e *Evaluator) when(r *Reason, o *snapshot.Object) Result {
	e.setSubject(o)
	v, cost, err := e.eval(r.When)
	if errors.Is(err, ErrQueryNotConfigured) {
		// The condition needs Prometheus and statusd runs without one:
		// the reason does not apply here (ErrQueryNotConfigured).
		return Result{Outcome: False, Err: err, Cost: cost}
	}
	if err != nil {
		return Result{Outcome: Unknown, Err: err, Cost: cost}
	}
	b, ok := v.(types.Bool)
	if !ok {
		return Result{Outcome: Unknown, Err: fmt.Errorf("when returned %s, not bool", v.Type().TypeName()), Cost: cost}
	}
	if b {
		return Result{Outcome: True, Cost: cost}
	}
	return Result{Outcome: False, Cost: cost}
}

// maxMessage bounds a message: Events cap theirs, and a runaway expression
// must not build megabytes.
const maxMessage = 4096

// Message renders the reason's message for o. When the expression errors or
// yields an empty or non-string value, the static summary is returned with
// the error, so a broken message never loses the Event.
func (e *Evaluator) Message(r *Reason, o *snapshot.Object) (string, error) {
	if r.Message == nil {
		return r.Summary, nil
	}
	e.setSubject(o)
	v, _, err := e.eval(r.Message)
	if err != nil {
		return r.Summary, err
	}
	s, ok := v.(types.String)
	if !ok || strings.TrimSpace(string(s)) == "" {
		return r.Summary, fmt.Errorf("message returned %q (%s)", fmt.Sprint(v.Value()), v.Type().TypeName())
	}
	msg := string(s)
	if len(msg) > maxMessage {
		// Cut at a character boundary: half a character is invalid UTF-8,
		// which an Event must not carry.
		cut := maxMessage
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut]
	}
	return msg, nil
}

// Since evaluates a reason's grace.since on o. ok is false when the reason
// has none or it failed, in which case the grace window runs from the first
// tick that saw the condition.
func (e *Evaluator) Since(r *Reason, o *snapshot.Object) (t time.Time, err error) {
	if r.Since == nil {
		return time.Time{}, nil
	}
	e.setSubject(o)
	v, _, err := e.eval(r.Since)
	if err != nil {
		return time.Time{}, err
	}
	return toTime(v)
}

// Key evaluates a key join's expression on o. An empty key joins nothing.
func (e *Evaluator) Key(edge *Edge, o *snapshot.Object) (string, error) {
	e.setSubject(o)
	v, _, err := e.eval(edge.Key)
	if err != nil {
		return "", err
	}
	s, ok := v.(types.String)
	if !ok {
		return "", fmt.Errorf("join key returned %s, not string", v.Type().TypeName())
	}
	return string(s), nil
}

func (e *Evaluator) eval(p *Program) (ref.Val, uint64, error) {
	if e.spent >= e.budget {
		return nil, 0, fmt.Errorf("%w: %d spent of %d", ErrBudget, e.spent, e.budget)
	}
	// A variable is evaluated inside the expression that reads it, and
	// has a limit and a cost of its own.
	outer := e.meter.used
	e.meter.used = 0
	v, err := run(func() ref.Val { return p.prg.Eval(&e.act) })
	cost := e.meter.used
	e.meter.used = outer
	e.spent += cost
	if err != nil {
		return nil, cost, classify(err)
	}
	if types.IsError(v) {
		return nil, cost, classify(v.(*types.Err))
	}
	return v, cost, nil
}

// variable evaluates a variable for the current subject, once.
func (e *Evaluator) variable(name string) (ref.Val, bool) {
	if v, ok := e.vars[name]; ok {
		return v, true
	}
	i, ok := e.cat.varIndex[name]
	if !ok || e.cat.Variables[i].Program == nil {
		return nil, false
	}
	v, _, err := e.eval(e.cat.Variables[i].Program)
	if err != nil {
		v = types.WrapErr(fmt.Errorf("variable %s: %w", name, err))
	}
	e.vars[name] = v
	return v, true
}

func classify(err error) error {
	msg := err.Error()
	if strings.Contains(msg, "cost limit exceeded") {
		return fmt.Errorf("%w: %s", ErrCostLimit, msg)
	}
	if errors.Is(err, ErrQueryNotConfigured) {
		// Kept matchable: it turns the condition False, not Unknown.
		return &sentinelError{msg: msg, is: ErrQueryNotConfigured}
	}
	if Outage(err) {
		// Kept matchable: an outage's Unknown is not the catalogue's.
		return &sentinelError{msg: msg, is: errOutage}
	}
	return errors.New(msg)
}

// sentinelError is a classified error that keeps its message as CEL wrote
// it and still matches its sentinel.
type sentinelError struct {
	msg string
	is  error
}

func (e *sentinelError) Error() string { return e.msg }
func (e *sentinelError) Unwrap() error { return e.is }
