package cel

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	gocel "github.com/google/cel-go/cel"
	"github.com/google/cel-go/checker"
	"github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/interpreter"
	"k8s.io/apiserver/pkg/cel/library"

	"statusd.io/statusd/pkg/apischema"
	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/suppress"
)

// Default limits. The per-evaluation limit is ten times Kubernetes'
// PerCallLimit because one statusd expression may legitimately scan a
// namespace's pods; the tick budget bounds the sum, so a catalogue cannot
// stall the daemon whatever its expressions do.
//
// DefaultTickBudget is calibrated on CPU time (internal/bench
// BenchmarkTickBudget, 2 cores): the costliest reasons per unit measured,
// scans and string building over a namespace's pods, take about 35 ns of
// CPU a unit, so 30 million units, with the quarter more a tick's
// decisions may draw (Evaluator.Reserve), are about 1.3 s of CPU. The
// shipped catalogue spends about 6 million units on a cold tick at 30,000
// pods. The previous default, 2e9, allowed over a minute.
const (
	DefaultCostLimit      uint64 = 10_000_000
	DefaultTickBudget     uint64 = 30_000_000
	DefaultSourceSizeHint uint64 = 100_000
	// defaultElementHint is the size assumed for lists, maps and strings
	// inside an object. Objects are schema-less (dyn), so one hint serves
	// strings, lists and maps alike: names are at most 253 characters,
	// label values 63, and lists of containers, ports or conditions are
	// short. A larger hint
	// would price a single scan of a large source's names past the limit;
	// the run-time limit catches a real outlier.
	defaultElementHint uint64 = 256
	// defaultLookupHint is the size assumed for what an indexed look-up
	// returns (cluster.inNamespace, onNode, ownedBy, withLabels): one
	// namespace's, node's, owner's or label value's share of a source, not
	// the whole source. Kubernetes' scalability thresholds put 110 pods on a
	// node and a few thousand in a namespace. With the whole source assumed,
	// a look-up followed by a check of each object's conditions cost as much
	// as a scan of the source and was refused, although it is exactly what
	// the refusal message recommends; a scan inside a scan stays refused.
	defaultLookupHint uint64 = 1_000
	// defaultConditionsHint bounds conditions(o): conditions are a list map
	// keyed by type, and no kind defines more than a few dozen types.
	defaultConditionsHint uint64 = 32
)

// Options are the limits an operator sets for statusd itself; they are not
// part of the catalogue, so whoever can edit the catalogue cannot raise
// them.
type Options struct {
	// CostLimit caps one expression: its estimated cost at load (larger ones
	// are refused) and its actual cost at run time (larger evaluations are
	// cut off and the reason is Unknown for that subject).
	CostLimit uint64
	// TickBudget caps the total cost of one evaluator (one tick); once it is
	// spent, the remaining evaluations of the tick are Unknown.
	TickBudget uint64
	// SourceSizeHint is the number of objects assumed per source when
	// estimating cost; it makes a scan of a source inside a scan of a source
	// visibly quadratic at lint time.
	SourceSizeHint uint64
	// Schemas types each source's objects for the typed check (types.go);
	// nil uses the built-in kinds' schemas only, and a source no schema
	// describes stays dynamic.
	Schemas apischema.Resolver
	// CompileBudget caps the CPU time one Compile may take; past it the
	// catalogue is refused with ErrCompileBudget at the first expression
	// not compiled. DefaultCompileBudget when zero; negative disables it.
	CompileBudget time.Duration
	// CompileClock reads the CPU time the budget is measured on; nil reads
	// the compiling thread's CPU time. Tests inject a fake.
	CompileClock CPUClock
}

func (o Options) withDefaults() Options {
	if o.CostLimit == 0 {
		o.CostLimit = DefaultCostLimit
	}
	if o.TickBudget == 0 {
		o.TickBudget = DefaultTickBudget
	}
	if o.SourceSizeHint == 0 {
		o.SourceSizeHint = DefaultSourceSizeHint
	}
	if o.CompileBudget == 0 {
		o.CompileBudget = DefaultCompileBudget
	}
	if o.CompileClock == nil {
		o.CompileClock = threadCPU
	}
	return o
}

// Program is one compiled expression.
type Program struct {
	// Expr is the source expression with its position.
	Expr catalog.Expr
	// Cost is the estimated cost range of one evaluation.
	Cost checker.CostEstimate
	// Field names where the expression sits (when, message, ...).
	Field string

	ast *gocel.Ast
	prg interpreter.Interpretable
	// traced is built on first explain: tracking state slows evaluation, so
	// only explain pays for it.
	tracedOnce sync.Once
	traced     *interpreter.ObservableInterpretable
	tracedErr  error
	refs       refs
}

// Edge is a compiled suppression edge.
type Edge struct {
	catalog.Edge
	// Cause is the reason declaring the edge.
	Cause string
	// Key is the key expression of a key join.
	Key *Program
}

// Reason is a compiled reason.
type Reason struct {
	catalog.Reason
	When    *Program
	Message *Program
	Since   *Program
	Edges   []*Edge
	// Hash identifies the definition, including the params and variables it
	// reads: engine state carries across a reload only for reasons whose
	// hash did not change.
	Hash string
	// Rank is the reason's position in evaluation order.
	Rank int

	// gates are the conjuncts of When remembered per object (memo.go);
	// gateSet is the subject's resource, whose objects' memos number them.
	gates   []gate
	gateSet string
}

// Variable is a compiled variable.
type Variable struct {
	Name    string
	Program *Program
}

// Catalog is a compiled catalogue, immutable and safe to share between
// goroutines; each tick evaluates it through its own Evaluator.
type Catalog struct {
	// Source is the catalogue it was compiled from.
	Source *catalog.Catalog
	// Reasons are in evaluation order: every cause before its symptoms.
	Reasons []*Reason
	// Graph is the suppression graph.
	Graph *suppress.Graph
	// Variables in declaration order.
	Variables []*Variable

	byName    map[string]*Reason
	varIndex  map[string]int
	params    ref.Val
	paramVals map[string]any
	opts      Options
	// gates counts the gates of the reasons of each subject resource (a
	// source's GVR): the size of the memo of an object of that resource,
	// which no other resource's reasons ever have as subject.
	gates map[string]int
}

// Reason returns the reason called name, or nil.
func (c *Catalog) Reason(name string) *Reason { return c.byName[name] }

var (
	envOnce sync.Once
	envVal  *gocel.Env
	envErr  error
)

// sharedEnv builds the environment once per process: building it validates
// hundreds of declarations and takes milliseconds.
func sharedEnv() (*gocel.Env, error) {
	envOnce.Do(func() { envVal, envErr = newEnv() })
	return envVal, envErr
}

// Compile compiles every expression of a validated catalogue, checks
// references, cost and the suppression graph, and returns the compiled
// catalogue with the problems found (warnings included). The catalogue is
// usable only when errs.Err() is nil.
//
// Compile runs within Options.CompileBudget of CPU time: it checks the
// budget before each expression, and each expression is bounded by
// MaxExpressionSize, MaxParseDepth and MaxLiteralNesting, so it overruns
// the budget by at most one expression's time.
func Compile(src *catalog.Catalog, opts Options) (*Catalog, catalog.ErrorList) {
	opts = opts.withDefaults()
	// The budget reads this thread's CPU clock: keep the goroutine on it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	env, err := sharedEnv()
	if err != nil {
		return nil, catalog.ErrorList{{Msg: fmt.Sprintf("internal error: build CEL environment: %v", err)}}
	}
	c := &Catalog{Source: src, byName: map[string]*Reason{}, varIndex: map[string]int{}, opts: opts}
	cm := &compiler{
		env: env, cat: c, src: src, opts: opts,
		budget: budget{clock: opts.CompileClock, start: opts.CompileClock(), limit: opts.CompileBudget},
	}
	c.paramVals, c.params = cm.params()
	cm.typed = cm.newTyper()
	for i, v := range src.Variables {
		c.varIndex[v.Name] = i
	}
	for i, v := range src.Variables {
		// The field names the variable, as expressions read it, since a
		// variable has no reason to name.
		p := cm.compile(v.Expression, "variables."+v.Name, "", nil)
		if p != nil {
			cm.checkVarOrder(p, v.Name, i)
		}
		c.Variables = append(c.Variables, &Variable{Name: v.Name, Program: p})
	}
	var names []string
	var edges []suppress.Edge
	for i := range src.Reasons {
		r := &Reason{Reason: src.Reasons[i]}
		names = append(names, r.Name)
		r.When = cm.compile(r.Reason.When, "when", r.Name, gocel.BoolType)
		r.Message = cm.compile(r.Reason.Message, "message", r.Name, gocel.StringType)
		r.Since = cm.compile(r.Grace.Since, "grace.since", r.Name, nil)
		// message and grace.since are evaluated where when holds, so a
		// has() in when guards them too.
		guards := cm.typeCheck(r.When, r.Subject, r.Name, gocel.BoolType, nil)
		cm.typeCheck(r.Message, r.Subject, r.Name, gocel.StringType, guards)
		cm.typeCheck(r.Since, r.Subject, r.Name, nil, guards)
		for j, e := range r.Suppresses {
			ce := &Edge{Edge: e, Cause: r.Name}
			if e.Join.Kind == catalog.JoinKey {
				ce.Key = cm.compile(e.Join.Key, "suppresses["+e.Reason+"].join.key", r.Name, gocel.StringType)
				// The key is computed on the cause and on the symptom; when
				// they are of different kinds it usually branches on
				// object.kind, which a static check cannot follow, so
				// object is dynamic there.
				subject := r.Subject
				if sym := src.Reason(e.Reason); sym != nil && sym.Subject != r.Subject {
					subject = ""
				}
				cm.typeCheck(ce.Key, subject, r.Name, gocel.StringType, nil)
			}
			r.Edges = append(r.Edges, ce)
			edges = append(edges, suppress.Edge{Cause: r.Name, Symptom: e.Reason, Join: string(e.Join.Kind), Index: j})
		}
		cm.checkSelfScans(r)
		if _, dup := c.byName[r.Name]; !dup {
			c.byName[r.Name] = r
		}
	}
	if cm.budgetReported {
		// Refused: what follows would only add to the time spent.
		cm.errs.AttachSnippets(src.Files)
		cm.errs.Sort()
		return c, cm.errs.WithKind(catalog.ErrInvalid)
	}
	cm.typeVariables()
	cm.checkJoins()
	g, cycles := suppress.NewGraph(names, edges)
	for _, cyc := range cycles {
		r := src.Reason(cyc.Path[0])
		pos := r.Pos
		for _, e := range r.Suppresses {
			if e.Reason == cyc.Path[1] {
				pos = e.Pos
			}
		}
		cm.errs.Errorf(pos, r.Name, "%v", cyc)
	}
	if g != nil {
		c.Graph = g
		for rank, name := range g.Order() {
			r := c.byName[name]
			r.Rank = rank
			c.Reasons = append(c.Reasons, r)
		}
	}
	pure := &purity{cat: c, vars: map[string]bool{}, busy: map[string]bool{}}
	for _, r := range c.Reasons {
		r.Hash = cm.hash(r)
		cm.planGates(r, pure)
	}
	cm.warnUnused()
	cm.errs.AttachSnippets(src.Files)
	cm.errs.Sort()
	return c, cm.errs.WithKind(catalog.ErrInvalid)
}

type compiler struct {
	env  *gocel.Env
	cat  *Catalog
	src  *catalog.Catalog
	opts Options
	errs catalog.ErrorList
	// typed is the typed check's state; nil when it could not be built.
	typed *typer
	used  struct {
		params, variables, sources map[string]bool
		metrics                    bool
	}
	// budget is the compile's CPU time; budgetReported is set once its
	// exhaustion has been reported.
	budget         budget
	budgetReported bool
	// paramText caches params rendered as JSON for hash.
	paramText map[string]string
}

// compile parses, checks, estimates and plans one expression. It returns
// nil for an empty expression, and nil with errors recorded for a bad one.
func (cm *compiler) compile(e catalog.Expr, field, reason string, want *gocel.Type) *Program {
	if e.IsZero() || cm.overBudget(e, field, reason) {
		return nil
	}
	a, iss := cm.env.Parse(e.Text)
	if iss.Err() == nil {
		// Before the check, whose time grows with the cube of the depth.
		if !cm.checkLiteralNesting(a, e, field, reason) {
			return nil
		}
		a, iss = cm.env.Check(a)
	}
	if iss.Err() != nil {
		for _, ce := range iss.Errors() {
			pos := e.Locate(ce.Location.Line(), ce.Location.Column())
			// statusd declares no container; cel-go names the empty one anyway.
			cm.errs.Errorf(pos, reason, "%s: %s", field, strings.TrimSuffix(ce.Message, " (in container '')"))
		}
		return nil
	}
	if want != nil {
		out := a.OutputType()
		if !out.IsExactType(want) && !out.IsExactType(gocel.DynType) {
			cm.errs.Errorf(e.Pos, reason, "%s must return %s, got %s", field, want, out)
			return nil
		}
	}
	p := &Program{Expr: e, Field: field, ast: a}
	p.refs = collectRefs(a)
	if !cm.checkRefs(p, reason) {
		return nil
	}
	est, err := cm.env.EstimateCost(a, &estimator{hint: cm.opts.SourceSizeHint})
	if err != nil {
		cm.errs.Errorf(e.Pos, reason, "%s: estimate cost: %v", field, err)
		return nil
	}
	p.Cost = est
	switch {
	case est.Max > cm.opts.CostLimit:
		cm.errs.Errorf(e.Pos, reason, "%s: estimated cost %s exceeds the limit %d: scanning a whole source per subject, or a scan inside a scan, costs too much in a large cluster; use an indexed look-up (cluster.inNamespace, ownedBy, onNode, withLabels, lookup) instead",
			field, formatCost(est.Max), cm.opts.CostLimit)
		return nil
	case est.Max > cm.opts.CostLimit/2:
		cm.errs.Warnf(e.Pos, reason, "%s: estimated cost %s is near the limit %d", field, formatCost(est.Max), cm.opts.CostLimit)
	}
	prg, err := cm.plan(a)
	if err != nil {
		cm.errs.Errorf(e.Pos, reason, "%s: %v", field, err)
		return nil
	}
	p.prg = prg
	return p
}

// plan turns a checked expression into a program.
func (cm *compiler) plan(a *gocel.Ast) (interpreter.Interpretable, error) {
	p, err := sharedPlanner()
	if err != nil {
		return nil, err
	}
	return p.plan(a)
}

func formatCost(c uint64) string {
	if c == math.MaxUint64 {
		return "unbounded"
	}
	return fmt.Sprintf("%d", c)
}

// checkRefs verifies that params, variables and sources an expression
// names exist, reporting each at its own position.
func (cm *compiler) checkRefs(p *Program, reason string) bool {
	ok := true
	mark := func(m *map[string]bool, k string) {
		if *m == nil {
			*m = map[string]bool{}
		}
		(*m)[k] = true
	}
	for _, r := range p.refs.params {
		mark(&cm.used.params, r.name)
		if _, found := cm.src.Params[r.name]; !found {
			cm.errs.Errorf(p.Expr.Locate(r.line, r.col), reason, "%s: unknown param %q%s", p.Field, r.name, hint(r.name, cm.src.ParamNames()))
			ok = false
		}
	}
	for _, r := range p.refs.variables {
		mark(&cm.used.variables, r.name)
		if _, found := cm.cat.varIndex[r.name]; !found {
			cm.errs.Errorf(p.Expr.Locate(r.line, r.col), reason, "%s: unknown variable %q", p.Field, r.name)
			ok = false
		}
	}
	for _, r := range p.refs.sources {
		mark(&cm.used.sources, r.name)
		s, found := cm.src.Sources[r.name]
		switch {
		case !found:
			cm.errs.Errorf(p.Expr.Locate(r.line, r.col), reason, "%s: unknown source %q%s", p.Field, r.name, hint(r.name, cm.src.SourceNames()))
			ok = false
		case s.IsMetrics():
			cm.errs.Errorf(p.Expr.Locate(r.line, r.col), reason, "%s: source %q is a metrics source; read it with cluster.metrics(pod)", p.Field, r.name)
			ok = false
		case s.IsQuery() && r.fn != "query" && r.fn != "sourceStatus":
			cm.errs.Errorf(p.Expr.Locate(r.line, r.col), reason, "%s: source %q is a prometheus source; read it with cluster.query(%q) or cluster.query(%q, object)", p.Field, r.name, r.name, r.name)
			ok = false
		case !s.IsQuery() && r.fn == "query":
			cm.errs.Errorf(p.Expr.Locate(r.line, r.col), reason, "%s: source %q is not a prometheus source; cluster.query reads query sources only", p.Field, r.name)
			ok = false
		}
	}
	if p.refs.metrics {
		cm.used.metrics = true
	}
	return ok
}

func hint(name string, known []string) string {
	if len(known) == 0 {
		return ""
	}
	return "; declared: " + strings.Join(known, ", ")
}

// checkVarOrder refuses a variable that reads itself or a later variable:
// declaration order is evaluation order, which rules out cycles.
func (cm *compiler) checkVarOrder(p *Program, name string, index int) {
	for _, r := range p.refs.variables {
		if j, ok := cm.cat.varIndex[r.name]; ok && j >= index {
			cm.errs.Errorf(p.Expr.Locate(r.line, r.col), "", "variable %q reads variable %q, which is not declared before it", name, r.name)
		}
	}
}

// params converts the catalogue's params to CEL values. Strings that read
// as durations become durations, so `now - since > params.stuckAfter`
// type-checks at run time without a duration() call.
func (cm *compiler) params() (map[string]any, ref.Val) {
	vals := make(map[string]any, len(cm.src.Params))
	for name, p := range cm.src.Params {
		v := p.Value
		if s, ok := v.(string); ok && looksLikeDuration(s) {
			if d, err := catalog.ParseDuration(s); err == nil {
				v = types.Duration{Duration: d}
			}
		}
		vals[name] = v
	}
	return vals, types.NewStringInterfaceMap(types.DefaultTypeAdapter, vals)
}

func looksLikeDuration(s string) bool {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return false
	}
	last := s[len(s)-1]
	return last == 's' || last == 'm' || last == 'h' || last == 'd' || last == 'w' || last == 'y'
}

// hash identifies a reason's meaning: its expressions, timers and the
// params and variables they read. Moving a reason in the file or editing
// its description keeps its state; changing its condition resets it.
func (cm *compiler) hash(r *Reason) string {
	h := sha256.New()
	write := func(parts ...string) {
		for _, p := range parts {
			h.Write([]byte(p))
			h.Write([]byte{0})
		}
	}
	write(r.Name, r.Subject, r.Reason.When.Text, r.Reason.Message.Text, r.Summary, string(r.Level()),
		r.Grace.For.D.String(), r.Grace.Since.Text, r.Clear.D.String(), fmt.Sprint(r.Priority), r.Layer)
	seenP, seenV := map[string]bool{}, map[string]bool{}
	var visit func(p *Program)
	visit = func(p *Program) {
		if p == nil {
			return
		}
		for _, ref := range p.refs.params {
			seenP[ref.name] = true
		}
		for _, ref := range p.refs.variables {
			if !seenV[ref.name] {
				seenV[ref.name] = true
				if i, ok := cm.cat.varIndex[ref.name]; ok && i < len(cm.cat.Variables) {
					visit(cm.cat.Variables[i].Program)
				}
			}
		}
	}
	visit(r.When)
	visit(r.Message)
	visit(r.Since)
	for _, name := range sortedSet(seenP) {
		write("param", name, cm.paramJSON(name))
	}
	for _, name := range sortedSet(seenV) {
		if i, ok := cm.cat.varIndex[name]; ok {
			write("variable", name, cm.src.Variables[i].Expression.Text)
		}
	}
	sum := h.Sum(nil)
	return hex.EncodeToString(sum[:8])
}

// paramJSON renders a param's value once per compile: every reason that
// reads it hashes it, and a param may be large.
func (cm *compiler) paramJSON(name string) string {
	if j, ok := cm.paramText[name]; ok {
		return j
	}
	b, _ := json.Marshal(cm.src.Params[name].Value)
	if cm.paramText == nil {
		cm.paramText = map[string]string{}
	}
	cm.paramText[name] = string(b)
	return string(b)
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// warnUnused reports declarations nothing reads; they are usually typos of
// something that is read.
func (cm *compiler) warnUnused() {
	subjects := map[string]bool{}
	for _, r := range cm.src.Reasons {
		subjects[r.Subject] = true
	}
	for _, name := range cm.src.SourceNames() {
		s := cm.src.Sources[name]
		if s.IsMetrics() {
			if !cm.used.metrics {
				cm.errs.Warnf(s.Pos, "", "metrics source %q is scraped but no expression reads metrics", name)
			}
			continue
		}
		if !subjects[name] && !cm.used.sources[name] {
			cm.errs.Warnf(s.Pos, "", "source %q is not used by any reason", name)
		}
	}
	for _, name := range cm.src.ParamNames() {
		if !cm.used.params[name] && !usedAsDuration(cm.src, name) {
			cm.errs.Warnf(cm.src.Params[name].Pos, "", "param %q is not used", name)
		}
	}
	for _, v := range cm.src.Variables {
		if !cm.used.variables[v.Name] {
			cm.errs.Warnf(v.Pos, "", "variable %q is not used", v.Name)
		}
	}
}

func usedAsDuration(c *catalog.Catalog, param string) bool {
	for _, r := range c.Reasons {
		if r.Grace.For.Param == param || r.Clear.Param == param {
			return true
		}
	}
	for _, s := range c.Sources {
		if s.Metrics != nil && (s.Metrics.Interval.Param == param || s.Metrics.Timeout.Param == param) {
			return true
		}
	}
	return false
}

// ref is one reference found in an expression, with its position.
type refAt struct {
	name      string
	line, col int
	// fn is the cluster function a source reference is an argument of.
	fn string
}

type refs struct {
	params, variables, sources []refAt
	metrics                    bool
}

// collectRefs walks a checked AST for params.x, variables.x,
// cluster.fn("source", ...) and metrics uses.
func collectRefs(a *gocel.Ast) refs {
	var out refs
	native := a.NativeRep()
	info := native.SourceInfo()
	loc := func(id int64) (int, int) {
		l := info.GetStartLocation(id)
		return l.Line(), l.Column()
	}
	root := ast.NavigateAST(native)
	for _, n := range ast.MatchDescendants(root, ast.KindMatcher(ast.SelectKind)) {
		sel := n.AsSelect()
		if sel.Operand().Kind() != ast.IdentKind {
			continue
		}
		line, col := loc(n.ID())
		col++ // a select starts at its dot; point at the field name
		switch sel.Operand().AsIdent() {
		case varParams:
			out.params = append(out.params, refAt{name: sel.FieldName(), line: line, col: col})
		case varVariables:
			out.variables = append(out.variables, refAt{name: sel.FieldName(), line: line, col: col})
		}
	}
	for _, n := range ast.MatchDescendants(root, ast.KindMatcher(ast.CallKind)) {
		call := n.AsCall()
		if !call.IsMemberFunction() || call.Target().Kind() != ast.IdentKind || call.Target().AsIdent() != varCluster {
			continue
		}
		if call.FunctionName() == "metrics" {
			out.metrics = true
			continue
		}
		if !lookupFunctions[call.FunctionName()] || len(call.Args()) == 0 {
			continue
		}
		arg := call.Args()[0]
		if arg.Kind() != ast.LiteralKind {
			continue
		}
		if s, ok := arg.AsLiteral().(types.String); ok {
			line, col := loc(arg.ID())
			out.sources = append(out.sources, refAt{name: string(s), line: line, col: col, fn: call.FunctionName()})
		}
	}
	for _, n := range ast.MatchDescendants(root, ast.KindMatcher(ast.IdentKind)) {
		if n.AsIdent() == varMetrics {
			out.metrics = true
		}
	}
	return out
}

// estimator gives the cost estimator sizes the dynamic, schema-less
// objects cannot: a source holds SourceSizeHint objects, an indexed look-up
// returns defaultLookupHint of them (at most the whole source), conditions(o)
// defaultConditionsHint, anything else inside an object defaultElementHint
// elements.
type estimator struct {
	hint uint64
}

func (e *estimator) EstimateSize(checker.AstNode) *checker.SizeEstimate {
	return &checker.SizeEstimate{Min: 0, Max: defaultElementHint}
}

func (e *estimator) EstimateCallCost(function, overloadID string, target *checker.AstNode, args []checker.AstNode) *checker.CallEstimate {
	if overloadID == "statusd_conditions_dyn" {
		return &checker.CallEstimate{CostEstimate: checker.CostEstimate{Min: 1, Max: 1}, ResultSize: &checker.SizeEstimate{Min: 0, Max: defaultConditionsHint}}
	}
	if !strings.HasPrefix(overloadID, "statusd_cluster_") {
		// Kubernetes' libraries (quantity, regex, lists, ...) estimate their own.
		return (&library.CostEstimator{SizeEstimator: e}).EstimateCallCost(function, overloadID, target, args)
	}
	est := &checker.CallEstimate{CostEstimate: checker.CostEstimate{Min: 1, Max: 1}}
	switch function {
	case "objects":
		est.ResultSize = &checker.SizeEstimate{Min: 0, Max: e.hint}
	case "inNamespace", "onNode", "ownedBy", "withLabels":
		est.ResultSize = &checker.SizeEstimate{Min: 0, Max: min(e.hint, defaultLookupHint)}
	}
	if function == "withLabels" {
		// Filtering a namespace by labels visits its objects.
		est.CostEstimate = checker.CostEstimate{Min: 1, Max: e.hint}
	}
	return est
}
