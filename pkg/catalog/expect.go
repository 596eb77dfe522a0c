package catalog

import (
	"strings"
)

// MissingAnnotation marks the stand-in object statusd evaluates in place of
// an expected object that does not exist (see Expectation). Expressions
// tell it from a real object with
// object.metadata.?annotations[?"statusd.io/missing"].hasValue().
const MissingAnnotation = "statusd.io/missing"

// Expectation declares an object that a resource source must hold, so
// that its absence is a subject reasons can be about, as KAITO's reporter
// reports "Deployment kaito-system/kaito-workspace is missing". While none
// of its names is in the source, every reason over the source is also
// evaluated on a stand-in object: the source's apiVersion, the given kind,
// the first name's namespace and name, no uid, and the annotation
// MissingAnnotation. A reason decides in its when whether the absence is a
// fault (the stack is installed, say); its grace runs from the first tick
// that saw the stand-in, and it resolves when one of the names appears,
// because the stand-in is then gone. Events about a stand-in are written
// about its Namespace when that exists, since the object itself cannot be
// looked at.
type Expectation struct {
	// Pos is where the expectation was declared.
	Pos Pos `json:"-"`
	// Kind of the expected object, such as Deployment; required, because
	// no object of the source may exist to learn it from.
	Kind string `json:"kind"`
	// Names are the expected object as namespace/name (name alone for a
	// cluster-scoped resource). Any one of them satisfies the
	// expectation, for a component with several install namespaces; the
	// first is the stand-in's name.
	Names []string `json:"names,omitempty"`
	// Param names a param holding the list of names instead, so that the
	// reasons' params and the expectation cannot drift apart.
	Param string `json:"param,omitempty"`
}

// SplitName splits an expected name into namespace and name; the namespace
// is empty for a cluster-scoped name.
func SplitName(s string) (namespace, name string) {
	if ns, n, ok := strings.Cut(s, "/"); ok {
		return ns, n
	}
	return "", s
}

// validateExpectations checks a source's expectations and resolves param
// references into Names.
func validateExpectations(c *Catalog, name string, s *Source, errs *ErrorList) {
	if len(s.Expect) > 0 && s.Metrics != nil {
		errs.Errorf(s.Pos, "", "source %q: expect applies to resource sources, not to metrics sources", name)
		return
	}
	for i := range s.Expect {
		e := &s.Expect[i]
		if e.Kind == "" || !isKind(e.Kind) {
			errs.Errorf(e.Pos, "", "source %q: expect[%d]: kind %q must be an UpperCamelCase kind such as Deployment", name, i, e.Kind)
		}
		switch {
		case e.Param != "" && len(e.Names) > 0:
			errs.Errorf(e.Pos, "", "source %q: expect[%d]: give names or param, not both", name, i)
			continue
		case e.Param != "":
			p, ok := c.Params[e.Param]
			if !ok {
				errs.Errorf(e.Pos, "", "source %q: expect[%d]: param %q is not declared", name, i, e.Param)
				continue
			}
			list, ok := p.Value.([]any)
			if !ok {
				errs.Errorf(e.Pos, "", "source %q: expect[%d]: param %q must be a list of names", name, i, e.Param)
				continue
			}
			names := make([]string, 0, len(list))
			for _, v := range list {
				if s, ok := v.(string); ok {
					names = append(names, s)
				}
			}
			if len(names) != len(list) {
				errs.Errorf(e.Pos, "", "source %q: expect[%d]: param %q must hold only strings", name, i, e.Param)
				continue
			}
			e.Names = names
		}
		if len(e.Names) == 0 {
			errs.Errorf(e.Pos, "", "source %q: expect[%d]: names (or a param holding them) are required", name, i)
		}
		for _, n := range e.Names {
			ns, obj := SplitName(n)
			if obj == "" || strings.Contains(obj, "/") || (strings.Contains(n, "/") && ns == "") {
				errs.Errorf(e.Pos, "", "source %q: expect[%d]: %q must be namespace/name or name", name, i, n)
			}
		}
	}
}

// isKind reports whether s looks like a Kubernetes kind: a capital letter
// followed by letters and digits.
func isKind(s string) bool {
	for i, r := range s {
		switch {
		case i == 0 && (r < 'A' || r > 'Z'):
			return false
		case (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9'):
			return false
		}
	}
	return s != ""
}
