// Command apischema writes statusd's built-in Kubernetes API schemas
// (pkg/apischema/builtin.json) from the Kubernetes release the local
// control plane pins (this module's go.mod), so the schemas statusd types
// expressions with are exactly the ones that release's kube-apiserver
// serves at /openapi/v3, not written by hand.
//
// Usage (from the repository root, normally through `make generate`):
//
//	cd tools/controlplane && go run ./apischema -o ../../pkg/apischema/builtin.json
//
// The output is an OpenAPI v3 components document (the shape of one
// /openapi/v3/apis/GROUP/VERSION response without its paths) holding every
// definition reachable from a resource statusd can watch with an informer,
// descriptions dropped, plus a map from group/version/resource to the
// definition of its kind. A property Kubernetes always serves (a field
// without omitempty, or one the API server defaults) carries
// "x-statusd-always-set": true, found by defaulting a filled-in object of
// each kind with the release's own defaulting functions; lint uses it to
// tell a field an expression may read directly from one that is omitted at
// its zero value.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	endpointsopenapi "k8s.io/apiserver/pkg/endpoints/openapi"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/kube-openapi/pkg/validation/spec"
	"k8s.io/kubernetes/pkg/api/legacyscheme"
	"k8s.io/kubernetes/pkg/generated/openapi"

	// Every built-in API group, so that legacyscheme knows its kinds and
	// their defaulting functions.
	_ "k8s.io/kubernetes/pkg/apis/admissionregistration/install"
	_ "k8s.io/kubernetes/pkg/apis/apiserverinternal/install"
	_ "k8s.io/kubernetes/pkg/apis/apps/install"
	_ "k8s.io/kubernetes/pkg/apis/autoscaling/install"
	_ "k8s.io/kubernetes/pkg/apis/batch/install"
	_ "k8s.io/kubernetes/pkg/apis/certificates/install"
	_ "k8s.io/kubernetes/pkg/apis/coordination/install"
	_ "k8s.io/kubernetes/pkg/apis/core/install"
	_ "k8s.io/kubernetes/pkg/apis/discovery/install"
	_ "k8s.io/kubernetes/pkg/apis/events/install"
	_ "k8s.io/kubernetes/pkg/apis/flowcontrol/install"
	_ "k8s.io/kubernetes/pkg/apis/networking/install"
	_ "k8s.io/kubernetes/pkg/apis/node/install"
	_ "k8s.io/kubernetes/pkg/apis/policy/install"
	_ "k8s.io/kubernetes/pkg/apis/rbac/install"
	_ "k8s.io/kubernetes/pkg/apis/resource/install"
	_ "k8s.io/kubernetes/pkg/apis/scheduling/install"
	_ "k8s.io/kubernetes/pkg/apis/storage/install"
	_ "k8s.io/kubernetes/pkg/apis/storagemigration/install"
)

const (
	refPrefix    = "#/components/schemas/"
	extGVK       = "x-kubernetes-group-version-kind"
	extAlwaysSet = "x-statusd-always-set"
)

// document is the file written: pkg/apischema reads the same shape.
type document struct {
	// Resources maps group/version/resource ("v1/pods",
	// "apps/v1/deployments") to the definition of its kind.
	Resources map[string]string `json:"resources"`
	// ClusterScoped lists the resources that are not namespaced.
	ClusterScoped []string `json:"clusterScoped"`
	Components    struct {
		Schemas map[string]*spec.Schema `json:"schemas"`
	} `json:"components"`
}

func main() {
	out := flag.String("o", "", "output file")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "apischema: -o FILE is required")
		os.Exit(2)
	}
	doc, err := build()
	if err != nil {
		fmt.Fprintf(os.Stderr, "apischema: %v\n", err)
		os.Exit(1)
	}
	b, err := encode(doc)
	if err != nil {
		fmt.Fprintf(os.Stderr, "apischema: %v\n", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "apischema: %v\n", err)
		os.Exit(1)
	}
}

func build() (*document, error) {
	namer := endpointsopenapi.NewDefinitionNamer(legacyscheme.Scheme)
	// Go package paths to the names kube-apiserver serves them under.
	friendly := map[string]string{}
	raw := openapi.GetOpenAPIDefinitions(func(path string) spec.Ref { return spec.Ref{} })
	for path := range raw {
		name, _ := namer.GetDefinitionName(path)
		friendly[path] = name
	}
	defs := openapi.GetOpenAPIDefinitions(func(path string) spec.Ref {
		name, ok := friendly[path]
		if !ok {
			name = path
		}
		return spec.MustCreateRef(refPrefix + name)
	})
	all := map[string]*spec.Schema{}
	byGVK := map[schema.GroupVersionKind]string{}
	for path, def := range defs {
		name, ext := namer.GetDefinitionName(path)
		s := def.Schema
		strip(&s)
		if len(ext) > 0 {
			if s.Extensions == nil {
				s.Extensions = spec.Extensions{}
			}
			s.Extensions[extGVK] = ext[extGVK]
			var gvks []schema.GroupVersionKind
			if err := s.Extensions.GetObject(extGVK, &gvks); err != nil {
				return nil, fmt.Errorf("definition %s: %w", name, err)
			}
			for _, gvk := range gvks {
				byGVK[gvk] = name
			}
		}
		all[name] = &s
	}

	doc := &document{Resources: map[string]string{}}
	doc.Components.Schemas = map[string]*spec.Schema{}
	factory := informers.NewSharedInformerFactory(nil, 0)
	var kinds []schema.GroupVersionKind
	for gvk := range legacyscheme.Scheme.AllKnownTypes() {
		if gvk.Version == runtime.APIVersionInternal {
			continue
		}
		name, ok := byGVK[gvk]
		if !ok {
			continue
		}
		gvr, ok := informable(factory, gvk)
		if !ok {
			continue
		}
		key := gvr.Version + "/" + gvr.Resource
		if gvr.Group != "" {
			key = gvr.Group + "/" + key
		}
		doc.Resources[key] = name
		kinds = append(kinds, gvk)
		copyReachable(all, name, doc.Components.Schemas)
	}
	for key := range doc.Resources {
		namespaced, ok := isNamespaced(key)
		if !ok {
			return nil, fmt.Errorf("%s: no typed client says whether it is namespaced", key)
		}
		if !namespaced {
			doc.ClusterScoped = append(doc.ClusterScoped, key)
		}
	}
	sort.Strings(doc.ClusterScoped)
	sort.Slice(kinds, func(i, j int) bool { return kinds[i].String() < kinds[j].String() })
	always := map[string]map[string]bool{}
	for _, gvk := range kinds {
		if err := markAlwaysSet(gvk, byGVK[gvk], all, always); err != nil {
			return nil, fmt.Errorf("%s: %w", gvk, err)
		}
	}
	// Fields the API server's create strategies (PrepareForCreate in
	// k8s.io/kubernetes/pkg/registry) set on every new object; defaulting
	// does not run those, so they are named here, and checked to exist.
	for _, f := range createStrategyFields {
		s, ok := doc.Components.Schemas[f[0]]
		if !ok {
			return nil, fmt.Errorf("create-strategy field %s.%s: no such definition", f[0], f[1])
		}
		if _, ok := s.Properties[f[1]]; !ok {
			return nil, fmt.Errorf("create-strategy field %s.%s: no such property", f[0], f[1])
		}
		if always[f[0]] == nil {
			always[f[0]] = map[string]bool{}
		}
		always[f[0]][f[1]] = true
	}
	for name, props := range always {
		s := doc.Components.Schemas[name]
		for p := range props {
			prop := s.Properties[p]
			if prop.Extensions == nil {
				prop.Extensions = spec.Extensions{}
			}
			prop.Extensions[extAlwaysSet] = true
			s.Properties[p] = prop
		}
	}
	return doc, nil
}

// createStrategyFields are set by registry strategies on create: a pod's
// phase (Pending) and QoS class, a namespace's phase (Active), a persistent
// volume's and a claim's phase (Pending).
var createStrategyFields = [][2]string{
	{"io.k8s.api.core.v1.PodStatus", "phase"},
	{"io.k8s.api.core.v1.PodStatus", "qosClass"},
	{"io.k8s.api.core.v1.NamespaceStatus", "phase"},
	{"io.k8s.api.core.v1.PersistentVolumeStatus", "phase"},
	{"io.k8s.api.core.v1.PersistentVolumeClaimStatus", "phase"},
}

// informable finds the resource of a kind among those client-go has
// informers for: statusd watches through informers, so these are the kinds
// a source can name.
func informable(f informers.SharedInformerFactory, gvk schema.GroupVersionKind) (schema.GroupVersionResource, bool) {
	plural, _ := meta.UnsafeGuessKindToResource(gvk)
	for _, r := range []string{plural.Resource, strings.ToLower(gvk.Kind)} {
		gvr := gvk.GroupVersion().WithResource(r)
		if _, err := f.ForResource(gvr); err == nil {
			return gvr, true
		}
	}
	return schema.GroupVersionResource{}, false
}

// isNamespaced reads a resource's scope from client-go's generated typed
// clients: a namespaced resource's accessor takes the namespace
// (Pods(namespace)), a cluster-scoped one takes nothing (Nodes()).
func isNamespaced(key string) (bool, bool) {
	parts := strings.Split(key, "/")
	group, version, resource := "", parts[0], parts[1]
	if len(parts) == 3 {
		group, version, resource = parts[0], parts[1], parts[2]
	}
	prefix, _, _ := strings.Cut(group, ".")
	if group == "" {
		prefix = "core"
	}
	cs := reflect.TypeFor[*kubernetes.Clientset]()
	for i := 0; i < cs.NumMethod(); i++ {
		m := cs.Method(i)
		if !strings.EqualFold(m.Name, prefix+version) || m.Type.NumOut() != 1 {
			continue
		}
		gv := m.Type.Out(0)
		for j := 0; j < gv.NumMethod(); j++ {
			rm := gv.Method(j)
			if strings.EqualFold(rm.Name, resource) {
				return rm.Type.NumIn() == 1, true
			}
		}
	}
	return false, false
}

// strip drops what type checking does not read: descriptions make up most
// of the served documents.
func strip(s *spec.Schema) {
	if s == nil {
		return
	}
	s.Description = ""
	s.Title = ""
	s.Example = nil
	s.ExternalDocs = nil
	for k := range s.Extensions {
		if k != extGVK && !strings.HasPrefix(k, "x-kubernetes-int-or-string") &&
			!strings.HasPrefix(k, "x-kubernetes-preserve-unknown-fields") &&
			!strings.HasPrefix(k, "x-kubernetes-embedded-resource") {
			delete(s.Extensions, k)
		}
	}
	if len(s.Extensions) == 0 {
		s.Extensions = nil
	}
	for k, p := range s.Properties {
		strip(&p)
		s.Properties[k] = p
	}
	if s.Items != nil {
		strip(s.Items.Schema)
	}
	if s.AdditionalProperties != nil {
		strip(s.AdditionalProperties.Schema)
	}
	for i := range s.AllOf {
		strip(&s.AllOf[i])
	}
}

// copyReachable copies a definition and every definition it refers to.
func copyReachable(all map[string]*spec.Schema, name string, out map[string]*spec.Schema) {
	if _, done := out[name]; done {
		return
	}
	s, ok := all[name]
	if !ok {
		return
	}
	out[name] = s
	for _, ref := range refs(s) {
		copyReachable(all, ref, out)
	}
}

func refs(s *spec.Schema) []string {
	if s == nil {
		return nil
	}
	var out []string
	if r := s.Ref.String(); r != "" {
		out = append(out, strings.TrimPrefix(r, refPrefix))
	}
	for _, p := range s.Properties {
		out = append(out, refs(&p)...)
	}
	if s.Items != nil {
		out = append(out, refs(s.Items.Schema)...)
	}
	if s.AdditionalProperties != nil {
		out = append(out, refs(s.AdditionalProperties.Schema)...)
	}
	for i := range s.AllOf {
		out = append(out, refs(&s.AllOf[i])...)
	}
	return out
}

func refName(s *spec.Schema) string {
	if r := s.Ref.String(); r != "" {
		return strings.TrimPrefix(r, refPrefix)
	}
	for i := range s.AllOf {
		if n := refName(&s.AllOf[i]); n != "" {
			return n
		}
	}
	return ""
}

// markAlwaysSet defaults an object of the kind whose every nested struct
// and one element of every list of structs are filled in, serialises it,
// and records the scalar properties that appear: those Kubernetes writes
// even at their zero value or defaults when absent.
func markAlwaysSet(gvk schema.GroupVersionKind, def string, all map[string]*spec.Schema, always map[string]map[string]bool) (err error) {
	defer func() {
		if p := recover(); p != nil {
			// A defaulting function that needs more than a skeleton object:
			// the kind keeps no marks, so lint asks for guards on its fields.
			err = nil
		}
	}()
	obj, err := legacyscheme.Scheme.New(gvk)
	if err != nil {
		return err
	}
	fill(reflect.ValueOf(obj).Elem(), 0)
	legacyscheme.Scheme.Default(obj)
	b, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	walk(def, v, all, always, 0)
	return nil
}

// fill allocates every nested struct pointer and one element of every
// slice of structs, leaving scalars at their zero values.
func fill(v reflect.Value, depth int) {
	if depth > 12 {
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			f := v.Field(i)
			if v.Type().Field(i).IsExported() {
				fill(f, depth+1)
			}
		}
	case reflect.Pointer:
		if v.IsNil() && v.Type().Elem().Kind() == reflect.Struct && v.CanSet() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		if !v.IsNil() {
			fill(v.Elem(), depth+1)
		}
	case reflect.Slice:
		if v.Len() == 0 && v.CanSet() && (v.Type().Elem().Kind() == reflect.Struct) {
			v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		}
		for i := 0; i < v.Len(); i++ {
			fill(v.Index(i), depth+1)
		}
	}
}

func walk(def string, v any, all map[string]*spec.Schema, always map[string]map[string]bool, depth int) {
	s, ok := all[def]
	if !ok || depth > 16 {
		return
	}
	m, ok := v.(map[string]any)
	if !ok {
		return
	}
	for k, child := range m {
		prop, ok := s.Properties[k]
		if !ok {
			continue
		}
		switch {
		case refName(&prop) != "":
			walk(refName(&prop), child, all, always, depth+1)
		case prop.Items != nil && prop.Items.Schema != nil && refName(prop.Items.Schema) != "":
			if l, ok := child.([]any); ok {
				for _, e := range l {
					walk(refName(prop.Items.Schema), e, all, always, depth+1)
				}
			}
		case len(prop.Type) == 1 && prop.Type[0] != "object" && prop.Type[0] != "array":
			if always[def] == nil {
				always[def] = map[string]bool{}
			}
			always[def][k] = true
		}
	}
}

// encode writes one definition per line, sorted, so that a Kubernetes
// upgrade shows as a readable diff.
func encode(doc *document) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("{\"resources\":{\n")
	keys := make([]string, 0, len(doc.Resources))
	for k := range doc.Resources {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		kb, _ := json.Marshal(k)
		vb, _ := json.Marshal(doc.Resources[k])
		fmt.Fprintf(&b, "%s:%s", kb, vb)
		if i < len(keys)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString("},\"clusterScoped\":[\n")
	for i, k := range doc.ClusterScoped {
		kb, _ := json.Marshal(k)
		b.Write(kb)
		if i < len(doc.ClusterScoped)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString("],\"components\":{\"schemas\":{\n")
	names := make([]string, 0, len(doc.Components.Schemas))
	for k := range doc.Components.Schemas {
		names = append(names, k)
	}
	sort.Strings(names)
	for i, n := range names {
		nb, _ := json.Marshal(n)
		sb, err := json.Marshal(doc.Components.Schemas[n])
		if err != nil {
			return nil, fmt.Errorf("definition %s: %w", n, err)
		}
		fmt.Fprintf(&b, "%s:%s", nb, sb)
		if i < len(names)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString("}}}\n")
	return b.Bytes(), nil
}
