package cel

import (
	gocel "github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types"
)

// growingLookups are the look-ups whose result grows with the size of a
// namespace (inNamespace, and withLabels, which visits the namespace's
// objects to filter them) or of the cluster (objects); onNode, ownedBy
// and lookup are indexes whose result does not.
var growingLookups = map[string]bool{"inNamespace": true, "withLabels": true, "objects": true}

// checkSelfScans warns where a reason scans, for every subject, the
// objects of its own resource in a look-up that grows with the namespace:
// `cluster.inNamespace("pods", object.metadata.namespace).exists(...)` on
// every pod visits each namespace's pods once per pod, quadratic in the
// namespace's size (41 s a tick at 5,000 pods in one namespace). The
// threshold comes from the cost estimate: the scan is reported when the
// expression's estimated cost per subject reaches defaultLookupHint, the
// estimator's size of a namespace, that is when the scan is not bounded
// by something smaller. The tick budget bounds such a reason at run time;
// the warning says which indexed look-up to use instead.
func (cm *compiler) checkSelfScans(r *Reason) {
	subj, ok := cm.src.Sources[r.Subject]
	if !ok {
		return
	}
	seen := map[string]bool{}
	var visit func(p *Program, via string)
	visit = func(p *Program, via string) {
		if p == nil || p.ast == nil {
			return
		}
		for _, v := range p.refs.variables {
			if i, ok := cm.cat.varIndex[v.name]; ok && i < len(cm.cat.Variables) && !seen[v.name] {
				seen[v.name] = true
				visit(cm.cat.Variables[i].Program, v.name)
			}
		}
		if p.Cost.Max < defaultLookupHint {
			return
		}
		for _, sc := range growingScans(p.ast) {
			src, ok := cm.src.Sources[sc.source]
			if !ok || src.Group != subj.Group || src.Resource != subj.Resource {
				continue
			}
			where := p.Field
			if via != "" {
				where = "variables." + via + ", read by this reason,"
			}
			cm.errs.Warnf(p.Expr.Locate(sc.line, sc.col), r.Name,
				"%s scans the %s objects of cluster.%s(%q, ...) for every %s subject (estimated cost %s per subject): the work grows with the square of a namespace's size; "+
					"use an indexed look-up instead: cluster.lookup(%q, namespace, name) for one object, cluster.ownedBy(%q, uid) for an owner's, cluster.onNode(%q, node) for a node's, or make the namespace the subject",
				where, sc.source, sc.fn, sc.source, r.Subject, formatCost(p.Cost.Max), sc.source, sc.source, sc.source)
		}
	}
	visit(r.When, "")
	visit(r.Message, "")
	visit(r.Since, "")
}

// scan is a comprehension over a growing look-up, at the look-up.
type scan struct {
	source, fn string
	line, col  int
}

// growingScans finds the comprehensions (exists, all, filter, map, ...)
// whose range is a growing look-up, directly or through other
// comprehensions (a filter before an exists).
func growingScans(a *gocel.Ast) []scan {
	native := a.NativeRep()
	info := native.SourceInfo()
	var out []scan
	seen := map[int64]bool{}
	for _, n := range ast.MatchDescendants(ast.NavigateAST(native), ast.KindMatcher(ast.ComprehensionKind)) {
		rng := n.AsComprehension().IterRange()
		for rng.Kind() == ast.ComprehensionKind {
			rng = rng.AsComprehension().IterRange()
		}
		if rng.Kind() != ast.CallKind || seen[rng.ID()] {
			continue
		}
		call := rng.AsCall()
		if !call.IsMemberFunction() || call.Target().Kind() != ast.IdentKind || call.Target().AsIdent() != varCluster ||
			!growingLookups[call.FunctionName()] || len(call.Args()) == 0 || call.Args()[0].Kind() != ast.LiteralKind {
			continue
		}
		name, ok := call.Args()[0].AsLiteral().(types.String)
		if !ok {
			continue
		}
		seen[rng.ID()] = true
		loc := info.GetStartLocation(rng.ID())
		out = append(out, scan{source: string(name), fn: call.FunctionName(), line: loc.Line(), col: loc.Column()})
	}
	return out
}
