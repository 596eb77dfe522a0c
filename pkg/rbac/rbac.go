package rbac

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"statusd.io/statusd/pkg/catalog"
)

// ErrSecrets is returned for a catalogue whose sources would need access
// to core Secrets (by name or through a wildcard). statusd never reads
// Secrets, so it never asks for the right to.
var ErrSecrets = catalog.ErrSecrets

// Defaults for Options.
const (
	// DefaultName names the ClusterRole, the Role and the Lease.
	DefaultName = "statusd"
	// DefaultNamespace is where statusd runs when none is given.
	DefaultNamespace = "statusd"
	// CatalogSuffix is appended to the name for the default catalogue
	// ConfigMap, as the Helm chart names it.
	CatalogSuffix = "-catalog"
)

// The verbs, in the order the roles list them (reads first).
const (
	verbGet    = "get"
	verbList   = "list"
	verbWatch  = "watch"
	verbCreate = "create"
	verbUpdate = "update"
	verbPatch  = "patch"
)

// verbOrder fixes the order of verbs in a rule, so output is deterministic
// and reads as reads, then writes.
var verbOrder = []string{verbGet, verbList, verbWatch, verbCreate, verbUpdate, verbPatch}

// read is what an informer needs: an initial list, a watch, and get for
// the odd direct read.
var read = []string{verbGet, verbList, verbWatch}

// eventVerbs are what pkg/emit does with Events: create a new one, patch it
// while its reason fires (a create that finds the name taken turns into a
// patch), update and get on conflicts, and list and watch its own at
// start-up to restore state.
var eventVerbs = []string{verbGet, verbList, verbWatch, verbCreate, verbUpdate, verbPatch}

// Options name the objects the roles refer to and create. Zero fields take
// the defaults.
type Options struct {
	// Name of the ClusterRole and Role; DefaultName by default.
	Name string
	// Namespace statusd runs in, which holds the Role, the Lease and the
	// catalogue ConfigMap; DefaultNamespace by default.
	Namespace string
	// Lease is the leader-election Lease's name; DefaultName by default
	// (statusd run names its Lease statusd).
	Lease string
	// ConfigMaps are the catalogue ConfigMaps' names (the shipped
	// catalogue's and an overlay's, which statusd loads as one). None means
	// the catalogue is read from files and no ConfigMap access is granted.
	ConfigMaps []string
	// Labels are put on both roles.
	Labels map[string]string
}

func (o Options) withDefaults() Options {
	if o.Name == "" {
		o.Name = DefaultName
	}
	if o.Namespace == "" {
		o.Namespace = DefaultNamespace
	}
	if o.Lease == "" {
		o.Lease = DefaultName
	}
	return o
}

// groupResource is one resource of one API group.
type groupResource struct{ group, resource string }

// ClusterRules returns the cluster-wide rules cat needs, merged (one rule
// per API group and verb set) and sorted by API group and resource so that
// the same catalogue always yields the same bytes. Every source that would
// need Secrets is reported, joined, each wrapping ErrSecrets.
func ClusterRules(cat *catalog.Catalog) ([]rbacv1.PolicyRule, error) {
	verbs := map[groupResource]map[string]bool{}
	grant := func(gr groupResource, vs []string) {
		if verbs[gr] == nil {
			verbs[gr] = map[string]bool{}
		}
		for _, v := range vs {
			verbs[gr][v] = true
		}
	}
	var errs []error
	for _, name := range cat.SourceNames() {
		src := cat.Sources[name]
		if src.IsQuery() {
			continue // asks Prometheus, not the API server
		}
		gr := groupResource{group: src.Group, resource: src.Resource}
		if src.IsMetrics() {
			gr = groupResource{resource: "pods"}
		}
		if problems := catalog.CheckResource(&src); len(problems) > 0 {
			for _, p := range problems {
				errs = append(errs, fmt.Errorf("source %q (%s): %w", name, src.GVR(), p))
			}
			continue
		}
		if gr.resource == "" {
			errs = append(errs, fmt.Errorf("source %q: no resource", name))
			continue
		}
		grant(gr, read)
		if src.Namespaces.Selector != "" {
			grant(groupResource{resource: "namespaces"}, read)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	grant(groupResource{resource: "events"}, eventVerbs)
	return merge(verbs), nil
}

// merge turns per-resource verb sets into rules: one per API group and verb
// set, resources sorted, rules sorted by group then first resource.
func merge(verbs map[groupResource]map[string]bool) []rbacv1.PolicyRule {
	type ruleKey struct{ group, verbs string }
	byKey := map[ruleKey]*rbacv1.PolicyRule{}
	for gr, set := range verbs {
		vs := ordered(set)
		k := ruleKey{gr.group, strings.Join(vs, ",")}
		r := byKey[k]
		if r == nil {
			r = &rbacv1.PolicyRule{APIGroups: []string{gr.group}, Verbs: vs}
			byKey[k] = r
		}
		r.Resources = append(r.Resources, gr.resource)
	}
	rules := make([]rbacv1.PolicyRule, 0, len(byKey))
	for _, r := range byKey {
		slices.Sort(r.Resources)
		rules = append(rules, *r)
	}
	slices.SortFunc(rules, func(a, b rbacv1.PolicyRule) int {
		return cmp.Or(strings.Compare(a.APIGroups[0], b.APIGroups[0]),
			strings.Compare(a.Resources[0], b.Resources[0]))
	})
	return rules
}

// ordered returns the verbs of set in verbOrder.
func ordered(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for _, v := range verbOrder {
		if set[v] {
			out = append(out, v)
		}
	}
	return out
}

// RoleRules returns the rules statusd needs in its own namespace, each
// restricted to the one object it uses where the API allows it.
func RoleRules(opts Options) []rbacv1.PolicyRule {
	opts = opts.withDefaults()
	rules := []rbacv1.PolicyRule{
		// Leader election (client-go's LeaseLock) gets the Lease, creates
		// it when absent and updates it to renew. A create cannot be
		// restricted by name (the name is in the body, not the URL, when
		// RBAC decides), so it stands alone; get and update are limited to
		// the one Lease.
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{verbCreate}},
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, ResourceNames: []string{opts.Lease}, Verbs: []string{verbGet, verbUpdate}},
	}
	if names := nonEmpty(opts.ConfigMaps); len(names) > 0 {
		// The catalogue watcher (pkg/reload) lists and watches with the
		// field selector metadata.name=<ConfigMap>, one watch per
		// ConfigMap. The API server then
		// authorizes the list and the watch as requests for that one name,
		// so resourceNames restricts them too: a list or watch of every
		// ConfigMap in the namespace, which would read other applications'
		// configuration, stays forbidden.
		rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: names, Verbs: slices.Clone(read)})
	}
	return rules
}

// ClusterRole returns the ClusterRole cat needs, named by opts.
func ClusterRole(cat *catalog.Catalog, opts Options) (*rbacv1.ClusterRole, error) {
	opts = opts.withDefaults()
	rules, err := ClusterRules(cat)
	if err != nil {
		return nil, err
	}
	return &rbacv1.ClusterRole{
		TypeMeta:   metav1.TypeMeta{APIVersion: rbacv1.SchemeGroupVersion.String(), Kind: "ClusterRole"},
		ObjectMeta: metav1.ObjectMeta{Name: opts.Name, Labels: opts.Labels, Annotations: catalogAnnotations(cat)},
		Rules:      rules,
	}, nil
}

// Role returns the Role statusd needs in opts.Namespace.
func Role(opts Options) *rbacv1.Role {
	opts = opts.withDefaults()
	return &rbacv1.Role{
		TypeMeta:   metav1.TypeMeta{APIVersion: rbacv1.SchemeGroupVersion.String(), Kind: "Role"},
		ObjectMeta: metav1.ObjectMeta{Name: opts.Name, Namespace: opts.Namespace, Labels: opts.Labels},
		Rules:      RoleRules(opts),
	}
}

// AnnotationCatalog records on the ClusterRole which catalogue (name and
// version) it was derived from, so that a stale role can be told apart
// from a current one in the cluster.
const AnnotationCatalog = "statusd.io/catalog"

func catalogAnnotations(cat *catalog.Catalog) map[string]string {
	if cat.Metadata.Name == "" {
		return nil
	}
	return map[string]string{AnnotationCatalog: cat.Metadata.Name + "@" + cat.Metadata.Version}
}

// Manifest renders the ClusterRole cat needs and the Role of opts as one
// YAML stream, ready for kubectl apply.
func Manifest(cat *catalog.Catalog, opts Options) ([]byte, error) {
	cr, err := ClusterRole(cat, opts)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# RBAC for statusd with catalogue %s %s, generated by statusd rbac.\n", cat.Metadata.Name, cat.Metadata.Version)
	for i, obj := range []any{cr, Role(opts)} {
		out, err := yaml.Marshal(obj)
		if err != nil {
			return nil, fmt.Errorf("render rbac: %w", err)
		}
		if i > 0 {
			b.WriteString("---\n")
		}
		b.Write(out)
	}
	return b.Bytes(), nil
}

// RulesYAML renders only the ClusterRole's rules, as a YAML list: the form
// the Helm chart keeps (files/clusterrole-rules.yaml) and accepts in its
// rbac.rules value for a catalogue of one's own.
func RulesYAML(cat *catalog.Catalog) ([]byte, error) {
	rules, err := ClusterRules(cat)
	if err != nil {
		return nil, err
	}
	out, err := yaml.Marshal(rules)
	if err != nil {
		return nil, fmt.Errorf("render rbac rules: %w", err)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# ClusterRole rules for statusd with catalogue %s %s, generated by statusd rbac -o rules.\n", cat.Metadata.Name, cat.Metadata.Version)
	b.Write(out)
	return b.Bytes(), nil
}

// nonEmpty returns names without empty or repeated ones, in order.
func nonEmpty(names []string) []string {
	var out []string
	for _, n := range names {
		if n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}
