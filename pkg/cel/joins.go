package cel

import (
	"statusd.io/statusd/pkg/apischema"
	"statusd.io/statusd/pkg/catalog"
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
