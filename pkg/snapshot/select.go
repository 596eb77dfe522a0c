package snapshot

import (
	"path"

	"k8s.io/apimachinery/pkg/labels"

	"statusd.io/statusd/pkg/catalog"
)

// Selection is a source's namespace and label selection in matchable form.
// Live informers apply what the API allows server-side and the rest with
// Matches; snapshot files apply all of it with Matches, so both paths select
// the same objects.
type Selection struct {
	Group, Version, Resource string
	names                    []string
	globs                    []string
	nsSelector               labels.Selector
	selector                 labels.Selector
}

// NewSelection compiles a source's selection. The catalogue has already
// been validated, so selector errors cannot happen here; should one slip
// through, it selects nothing rather than everything.
func NewSelection(src catalog.Source) *Selection {
	s := &Selection{Group: src.Group, Version: src.Version, Resource: src.Resource, selector: labels.Everything()}
	for _, n := range src.Namespaces.Names {
		if isGlob(n) {
			s.globs = append(s.globs, n)
		} else {
			s.names = append(s.names, n)
		}
	}
	if src.Namespaces.Selector != "" {
		sel, err := labels.Parse(src.Namespaces.Selector)
		if err != nil {
			sel = labels.Nothing()
		}
		s.nsSelector = sel
	}
	if src.Selector != "" {
		sel, err := labels.Parse(src.Selector)
		if err != nil {
			sel = labels.Nothing()
		}
		s.selector = sel
	}
	return s
}

func isGlob(s string) bool {
	for _, r := range s {
		if r == '*' || r == '?' || r == '[' {
			return true
		}
	}
	return false
}

// Names are the exact namespace names, when the selection names only those;
// informers then watch just these namespaces.
func (s *Selection) Names() []string {
	if len(s.globs) > 0 || s.nsSelector != nil {
		return nil
	}
	return s.names
}

// Selector is the label selector, for server-side filtering.
func (s *Selection) Selector() labels.Selector { return s.selector }

// NamespaceMatches reports whether namespace ns (with labels nsLabels, which
// are nil when unknown) is selected. Cluster-scoped objects (ns == "")
// always match: a namespace selection restricts namespaced objects only.
func (s *Selection) NamespaceMatches(ns string, nsLabels labels.Labels) bool {
	if ns == "" || (len(s.names) == 0 && len(s.globs) == 0 && s.nsSelector == nil) {
		return true
	}
	for _, n := range s.names {
		if n == ns {
			return true
		}
	}
	for _, g := range s.globs {
		if ok, _ := path.Match(g, ns); ok {
			return true
		}
	}
	if s.nsSelector != nil && nsLabels != nil {
		return s.nsSelector.Matches(nsLabels)
	}
	return false
}

// Matches reports whether o belongs to the source: same group, version and
// resource, a selected namespace, and matching labels.
func (s *Selection) Matches(o *Object, nsLabels labels.Labels) bool {
	gv := o.GroupVersion()
	if gv.Group != s.Group || gv.Version != s.Version || ResourceFor(o.Kind) != s.Resource {
		return false
	}
	return s.NamespaceMatches(o.Namespace, nsLabels) && s.selector.Matches(o.Labels())
}
