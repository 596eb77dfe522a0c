package engine

import (
	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/snapshot"
)

// missing returns the stand-ins of the expected objects that source does
// not hold this tick (see catalog.Expectation), built once per tick and
// source. A source that cannot be read has none: what it holds is unknown,
// and absence of evidence is not absence. A source whose resource is not
// served (StatusAbsent) holds nothing, so each of its expected objects is
// missing.
func (t *tick) missing(source string, set *snapshot.Set) []*snapshot.Object {
	if objs, ok := t.standIns[source]; ok {
		return objs
	}
	var out []*snapshot.Object
	if src, ok := t.e.cat.Source.Sources[source]; ok {
		out = standIns(src, set)
	}
	if t.standIns == nil {
		t.standIns = map[string][]*snapshot.Object{}
	}
	t.standIns[source] = out
	return out
}

// standIns builds the stand-ins of src's expected objects that set does not
// hold; none when set cannot be read.
func standIns(src catalog.Source, set *snapshot.Set) []*snapshot.Object {
	if len(src.Expect) == 0 || set == nil || (set.Status != snapshot.StatusReady && set.Status != snapshot.StatusAbsent) {
		return nil
	}
	apiVersion := src.Version
	if src.Group != "" {
		apiVersion = src.Group + "/" + src.Version
	}
	var out []*snapshot.Object
	for _, exp := range src.Expect {
		if len(exp.Names) == 0 || present(set, exp.Names) {
			continue
		}
		ns, name := catalog.SplitName(exp.Names[0])
		md := map[string]any{
			"name":        name,
			"annotations": map[string]any{catalog.MissingAnnotation: "true"},
		}
		if ns != "" {
			md["namespace"] = ns
		}
		out = append(out, snapshot.NewObject(map[string]any{"apiVersion": apiVersion, "kind": exp.Kind, "metadata": md}))
	}
	return out
}

// present reports whether set holds any of names.
func present(set *snapshot.Set, names []string) bool {
	for _, n := range names {
		ns, name := catalog.SplitName(n)
		if set.Get(ns, name) != nil {
			return true
		}
	}
	return false
}

// IsStandIn reports whether o is the stand-in of a missing expected object
// rather than an object of the cluster.
func IsStandIn(o *snapshot.Object) bool {
	// Every object of the cluster has a uid: this keeps the map copy off
	// the common path.
	if o.UID != "" {
		return false
	}
	md, _ := o.Map()["metadata"].(map[string]any)
	ann, _ := md["annotations"].(map[string]any)
	_, ok := ann[catalog.MissingAnnotation]
	return ok && o.UID == ""
}

// targetOf is the object an Event about subject s should name: s itself,
// except for the stand-in of a missing object, which cannot be looked at.
// Its Event then names its Namespace when the snapshot holds it (any source
// of namespaces), so that kubectl describe namespace shows it; otherwise
// the stand-in itself, as KAITO's reporter names a missing CRD.
func (t *tick) targetOf(s Subject) *Subject {
	if s.Namespace == "" {
		return nil
	}
	for _, name := range t.snap.Sets() {
		set := t.snap.Set(name)
		o := set.Get("", s.Namespace)
		if o != nil && o.Kind == "Namespace" {
			ns := SubjectOf(o)
			return &ns
		}
	}
	return nil
}
