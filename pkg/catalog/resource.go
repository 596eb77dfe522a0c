package catalog

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"
)

// ErrSecrets is matched (errors.Is) by a source that would read core
// Secrets, however it is spelled. statusd never reads Secrets, so it never
// asks for the right to.
var ErrSecrets = errors.New("statusd never reads Secrets")

// ErrResourceName is matched (errors.Is) by a group, version or resource
// that discovery could never list.
var ErrResourceName = errors.New("invalid resource name")

var (
	// resourceRE is the form discovery lists a resource in: a lowercase
	// DNS-1035 label (CRD plurals must be one).
	resourceRE = regexp.MustCompile(`^[a-z]([-a-z0-9]*[a-z0-9])?$`)
	// groupRE is a lowercase DNS-1123 subdomain.
	groupRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	// versionRE is a Kubernetes API version: v1, v2beta1, v1alpha3.
	versionRE = regexp.MustCompile(`^v[1-9][0-9]*((alpha|beta)[1-9][0-9]*)?$`)
)

// coreSingulars maps the singular of each core resource a catalogue is
// likely to name to its plural, to catch "pod" for "pods": discovery lists
// plurals only.
var coreSingulars = map[string]string{
	"pod": "pods", "node": "nodes", "service": "services", "secret": "secrets",
	"configmap": "configmaps", "namespace": "namespaces", "event": "events",
	"endpoint": "endpoints", "persistentvolume": "persistentvolumes",
	"persistentvolumeclaim": "persistentvolumeclaims", "serviceaccount": "serviceaccounts",
	"replicationcontroller": "replicationcontrollers", "resourcequota": "resourcequotas",
	"limitrange": "limitranges",
}

// CheckResource checks a source's group, version and resource against the
// rules discovery names follow: lowercase, plural, no subresource, no
// wildcard, and the core group written "" rather than "core". It is the one
// check both lint and rbac apply, so a catalogue lint accepts is one rbac
// can grant. Every problem is returned, each wrapping ErrResourceName or
// ErrSecrets. A metrics source names no resource and passes.
func CheckResource(s *Source) []error {
	if s.IsMetrics() {
		return nil
	}
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrResourceName}, args...)...))
	}
	g, r := s.Group, s.Resource
	if isSecrets(g, r) {
		// Said first and alone: however it is spelled, the answer is the same.
		if g == "" && r == "secrets" {
			return []error{ErrSecrets}
		}
		return []error{fmt.Errorf("%w (written group %q, resource %q)", ErrSecrets, g, r)}
	}
	if g == "*" || ((g == "" || isCore(g)) && strings.Contains(r, "*")) {
		// A wildcard that could reach Secrets is refused as reading them.
		errs = append(errs, fmt.Errorf("%w: a wildcard would include Secrets: %w", ErrSecrets, ErrResourceName))
	}
	switch {
	case g == "":
	case g == "*":
		bad("group %q: a wildcard is refused: name one group", g)
	case isCore(g):
		bad("group %q: the core group is written \"\" (or left out)", g)
	case !groupRE.MatchString(g):
		bad("group %q must be a lowercase DNS subdomain, as discovery lists it%s", g, suggest(g))
	}
	if s.Version != "" && !versionRE.MatchString(s.Version) {
		bad("version %q is not an API version such as v1 or v2beta1", s.Version)
	}
	switch {
	case r == "":
	case r == "*" || strings.Contains(r, "*"):
		bad("resource %q: a wildcard is refused: name one resource", r)
	case strings.Contains(r, "/"):
		bad("resource %q names a subresource: a source lists objects, name %q", r, r[:strings.Index(r, "/")])
	case !resourceRE.MatchString(r):
		bad("resource %q must be a lowercase plural as discovery lists it%s", r, suggest(r))
	case g == "" && coreSingulars[r] != "":
		bad("resource %q is singular: discovery lists %q", r, coreSingulars[r])
	}
	return errs
}

// isSecrets reports whether group and resource name core Secrets in any
// spelling: case, spaces, a singular, a subresource or group "core".
func isSecrets(group, resource string) bool {
	g := strings.ToLower(strings.TrimSpace(group))
	r := strings.ToLower(strings.TrimFunc(resource, unicode.IsSpace))
	r, _, _ = strings.Cut(r, "/")
	r = strings.TrimFunc(r, unicode.IsSpace)
	return (g == "" || g == "core") && (r == "secrets" || r == "secret")
}

// isCore reports whether group names the core group in a spelling other
// than "".
func isCore(group string) bool {
	return strings.EqualFold(strings.TrimSpace(group), "core")
}

// suggest offers the normalised spelling of a name when it differs.
func suggest(s string) string {
	n := strings.ToLower(strings.TrimSpace(s))
	if n != s && n != "" && (resourceRE.MatchString(n) || groupRE.MatchString(n)) {
		return fmt.Sprintf(": did you mean %q?", n)
	}
	return ""
}
