package cel

import (
	"slices"
	"strings"

	"statusd.io/statusd/pkg/apischema"
	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/suppress"
)

// checkJoins refuses a named join whose sides cannot both produce a key:
// such an edge never matches, so its symptom is never hidden, and nothing
// else says so. sameNode keys an object by spec.nodeName (a Node by its
// name), so a subject whose schema has no spec.nodeName (a Deployment, a
// Service) has no node; sameOwner keys by controller ownerReference, which
// a cluster-scoped object (a Node, a PersistentVolume) does not carry from
// the namespaced workloads it would be joined to. Sources without a schema
// are not judged.
func (cm *compiler) checkJoins() {
	cm.checkResourceJoins()
	if cm.typed == nil {
		return
	}
	for i := range cm.src.Reasons {
		r := &cm.src.Reasons[i]
		for _, e := range r.Suppresses {
			sym := cm.src.Reason(e.Reason)
			if sym == nil {
				continue
			}
			sides := []struct{ role, source string }{{"cause " + r.Name, r.Subject}, {"symptom " + sym.Name, sym.Subject}}
			for _, side := range sides {
				switch e.Join.Kind {
				case catalog.JoinSameNode:
					if has, known := cm.typed.hasNode(cm.src, side.source); known && !has {
						cm.errs.Errorf(e.Pos, r.Name, "suppresses[%s].join: sameNode needs both subjects on a node, but the %s's subject %q (%s) has no spec.nodeName, so the edge never matches; join on sameNamespace, sameOwner or a key expression instead",
							e.Reason, side.role, side.source, gvrOf(cm.src, side.source))
					}
				case catalog.JoinSameOwner:
					if ns, known := cm.namespaced(side.source); known && !ns {
						cm.errs.Errorf(e.Pos, r.Name, "suppresses[%s].join: sameOwner joins objects through their controller, but the %s's subject %q (%s) is cluster-scoped, so the edge never matches; join on cluster, sameSubject or a key expression instead",
							e.Reason, side.role, side.source, gvrOf(cm.src, side.source))
					}
				}
			}
		}
	}
}

func gvrOf(c *catalog.Catalog, source string) string {
	s, ok := c.Sources[source]
	if !ok {
		return "?"
	}
	return s.GVR()
}

// hasNode reports whether a source's objects can name a node.
func (t *typer) hasNode(c *catalog.Catalog, source string) (has, known bool) {
	s, ok := c.Sources[source]
	if !ok {
		return false, false
	}
	if s.Group == "" && s.Resource == "nodes" {
		return true, true
	}
	dt, ok := t.objects[source]
	if !ok {
		return false, false
	}
	spec, ok := dt.Fields["spec"]
	if !ok || !spec.Type.IsObject() {
		return false, true
	}
	_, ok = spec.Type.Fields["nodeName"]
	return ok, true
}

// namespaced reports a source's scope when the schemas know it.
func (cm *compiler) namespaced(source string) (namespaced, known bool) {
	s, ok := cm.src.Sources[source]
	if !ok {
		return false, false
	}
	res := cm.opts.Schemas
	if res == nil {
		b, err := apischema.Builtin()
		if err != nil {
			return false, false
		}
		res = b
	}
	sc, ok := res.(apischema.Scoper)
	if !ok {
		return false, false
	}
	return sc.Namespaced(apischema.GVR{Group: s.Group, Version: s.Version, Resource: s.Resource})
}

// checkResourceJoins refuses a sameWorkload, sameService or sameVolumeClaim
// edge that can never match: a side of a resource the join gives no key
// (sameService from a ConfigMap), a cluster-scoped side under sameWorkload,
// or a join that reads a resource the catalogue does not watch (a
// Deployment's pods are found through their ReplicaSets, so without a
// source of replicasets the edge never matches). Unlike the typed checks,
// these need only the sources' resources.
func (cm *compiler) checkResourceJoins() {
	for i := range cm.src.Reasons {
		r := &cm.src.Reasons[i]
		for _, e := range r.Suppresses {
			switch e.Join.Kind {
			case catalog.JoinSameWorkload, catalog.JoinSameService, catalog.JoinSameVolumeClaim:
			default:
				continue
			}
			sym := cm.src.Reason(e.Reason)
			if sym == nil {
				continue
			}
			cause, okc := cm.src.Sources[r.Subject]
			symptom, oks := cm.src.Sources[sym.Subject]
			if !okc || !oks || !cause.IsObjects() || !symptom.IsObjects() {
				continue
			}
			sides := []struct {
				role, source string
				res          suppress.Resource
			}{
				{"cause " + r.Name, r.Subject, suppress.ResourceOf(cause)},
				{"symptom " + sym.Name, sym.Subject, suppress.ResourceOf(symptom)},
			}
			bad := false
			for _, side := range sides {
				if p := suppress.SideProblem(e.Join.Kind, side.res); p != "" {
					cm.errs.Errorf(e.Pos, r.Name, "suppresses[%s].join: %s cannot produce a key for the %s's subject %q (%s): %s, so the edge never matches",
						e.Reason, e.Join.Kind, side.role, side.source, gvrOf(cm.src, side.source), p)
					bad = true
					continue
				}
				if e.Join.Kind == catalog.JoinSameWorkload {
					if ns, known := cm.namespaced(side.source); known && !ns {
						cm.errs.Errorf(e.Pos, r.Name, "suppresses[%s].join: sameWorkload joins objects through their controllers in one namespace, but the %s's subject %q (%s) is cluster-scoped, so the edge never matches",
							e.Reason, side.role, side.source, gvrOf(cm.src, side.source))
						bad = true
					}
				}
			}
			if bad {
				continue
			}
			needs := suppress.Needs(e.Join.Kind, sides[0].res, sides[1].res)
			cm.markJoinReads(e.Join.Kind, needs)
			missing := make([]suppress.Resource, 0, len(needs))
			for res := range needs {
				if !cm.watches(res) {
					missing = append(missing, res)
				}
			}
			slices.SortFunc(missing, func(a, b suppress.Resource) int { return strings.Compare(a.String(), b.String()) })
			for _, res := range missing {
				cm.errs.Errorf(e.Pos, r.Name, "suppresses[%s].join: %s between %s and %s reads %s (%s), but the catalogue has no source of them, so the edge never matches; declare one (sources: {%s: %s})",
					e.Reason, e.Join.Kind, sides[0].res, sides[1].res, res, needs[res], res.Resource, sourceHint(res))
			}
		}
	}
}

// sourceHint is the declaration of a source of res, for a fix to copy;
// every resource a join reads is served as v1.
func sourceHint(res suppress.Resource) string {
	if res.Group == "" {
		return "{version: v1, resource: " + res.Resource + "}"
	}
	return "{group: " + res.Group + ", version: v1, resource: " + res.Resource + "}"
}

// watches reports whether the catalogue has an object source of res.
func (cm *compiler) watches(res suppress.Resource) bool {
	for _, s := range cm.src.Sources {
		if s.IsObjects() && suppress.ResourceOf(s) == res {
			return true
		}
	}
	return false
}

// markJoinReads counts the sources a join reads as used: a source of
// ReplicaSets that only sameWorkload reads is not a typo.
func (cm *compiler) markJoinReads(kind catalog.JoinKind, needs map[suppress.Resource]string) {
	fields := suppress.JoinFields(kind)
	for name, s := range cm.src.Sources {
		if !s.IsObjects() {
			continue
		}
		res := suppress.ResourceOf(s)
		_, need := needs[res]
		_, read := fields[res]
		if need || read {
			if cm.used.sources == nil {
				cm.used.sources = map[string]bool{}
			}
			cm.used.sources[name] = true
		}
	}
}
