package cel

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	gocel "github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types"
	apiservercel "k8s.io/apiserver/pkg/cel"
	"k8s.io/apiserver/pkg/cel/common"
	"k8s.io/apiserver/pkg/cel/openapi"
	"k8s.io/kube-openapi/pkg/validation/spec"

	"statusd.io/statusd/pkg/apischema"
	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/yamlpos"
)

// Typed checking. Every expression is compiled twice. The program that
// runs is checked with object as dyn, because statusd's values are the
// API server's JSON (timestamps are strings, int-or-string fields either),
// and that program is unchanged whatever schema is known. A second check,
// the one Kubernetes runs on a ValidatingAdmissionPolicy
// (k8s.io/apiserver's typechecking.go does the same: typed check, untyped
// program), types object from the subject resource's OpenAPI v3 schema,
// the objects look-ups return from their sources' schemas and params from
// their values, so that a misspelt field, a comparison of mismatched types
// or a condition that is not a bool is an error at load, at its position,
// instead of an Unknown finding forever. The declared types are built by
// k8s.io/apiserver/pkg/cel/common.SchemaDeclType, as for CRD validation
// rules; this file only adapts the schema to how statusd represents values
// and finds what the check found.
//
// Zero values Kubernetes omits: the API server leaves out a field that is
// unset (an omitempty integer at 0, an empty string, a nil pointer), and
// reading an absent field is an error, so `object.status.availableReplicas
// < 1` is Unknown exactly when a Deployment has no available replica.
// statusd does not fill absent fields with zero values: it would need the
// schema of every object at every read, it would make absent and zero the
// same where Kubernetes means different things (a nil spec.replicas is
// "defaulted", a nil limit is "unlimited"), and an expression would then
// mean something else here than in Kubernetes' own CEL. Instead, reading
// an optional scalar field directly is a lint warning that names the field
// and the fix (`object.status.?availableReplicas.orValue(0)` or a has()
// guard). A field is optional unless the schema requires it, gives it a
// default, or marks it always set (apischema.ExtAlwaysSet: the generator
// found Kubernetes serves it even at its zero value or defaults it), or it
// is metadata every served object has.

// sourceIdentPrefix names the identifiers a typed check puts in place of a
// look-up's source literal, so that the look-up returns that source's type.
const sourceIdentPrefix = "statusd_source__"

// lookupResults are the look-ups that return a source's objects, and
// whether they return an optional object rather than a list.
var lookupResults = map[string]bool{
	"objects": false, "inNamespace": false, "onNode": false, "ownedBy": false, "withLabels": false, "lookup": true,
}

// alwaysServedMeta are the metadata fields the API server sets on every
// object it serves; the schema marks none of them required.
var alwaysServedMeta = []string{"name", "namespace", "uid", "creationTimestamp", "resourceVersion"}

var (
	bareOnce sync.Once
	bareVal  *gocel.Env
	bareErr  error
)

// bareEnv is the environment without object and params, which the typed
// check declares with their types.
func bareEnv() (*gocel.Env, error) {
	bareOnce.Do(func() { bareVal, bareErr = newEnvWith(nil, nil) })
	return bareVal, bareErr
}

// typer holds the typed environments of one Compile.
type typer struct {
	base     *gocel.Env
	provider *apiservercel.DeclTypeProvider
	objects  map[string]*apiservercel.DeclType
	envs     map[string]*gocel.Env
	// idents maps a source literal to the identifier of its typed look-ups.
	idents map[string]string
}

// newTyper resolves the schema of every source and builds the typed base
// environment. Resources without a schema stay dynamic, with a note. It
// returns nil when typed checking is impossible (an internal error, noted).
func (cm *compiler) newTyper() *typer {
	res := cm.opts.Schemas
	if res == nil {
		b, err := apischema.Builtin()
		if err != nil {
			cm.errs.Notef(catalog.Pos{}, "", "internal error: %v; expressions are not type-checked", err)
			return nil
		}
		res = b
	}
	if r, ok := res.(apischema.Refresher); ok {
		// The schemas served now (a daemon reloads its catalogue long
		// after it started, and CRDs are installed and upgraded meanwhile).
		res = r.Refresh()
	}
	t := &typer{objects: map[string]*apiservercel.DeclType{}, envs: map[string]*gocel.Env{}, idents: map[string]string{}}
	var roots []*apiservercel.DeclType
	names := &typeNamer{byKey: map[string]*apiservercel.DeclType{}, keys: map[*apiservercel.DeclType]string{}}
	for _, name := range cm.src.SourceNames() {
		s := cm.src.Sources[name]
		if !s.IsObjects() {
			continue // metrics and Prometheus query sources have no objects
		}
		gvr := apischema.GVR{Group: s.Group, Version: s.Version, Resource: s.Resource}
		sch, err := res.ResourceSchema(gvr)
		if err != nil {
			if errors.Is(err, apischema.ErrNotFound) {
				cm.errs.Notef(s.Pos, "", "source %q: no schema known for %s, so its objects stay dynamic and their fields are not checked; give lint its CustomResourceDefinition with --crd FILE, or a cluster with --kubeconfig", name, gvr)
			} else {
				cm.errs.Notef(s.Pos, "", "source %q: %v; its objects stay dynamic", name, err)
			}
			continue
		}
		if preservesUnknown(sch) {
			cm.errs.Notef(s.Pos, "", "source %q: the schema of %s preserves unknown fields at its top (x-kubernetes-preserve-unknown-fields), so its objects may have any field and stay dynamic; their fields are not checked", name, gvr)
			continue
		}
		id := identName(name)
		dt := common.SchemaDeclType(&openapi.Schema{Schema: prepareRoot(sch)}, false)
		if dt == nil || !dt.IsObject() {
			cm.errs.Notef(s.Pos, "", "source %q: the schema of %s does not describe an object, so its objects stay dynamic and their fields are not checked", name, gvr)
			continue
		}
		dt = names.name(dt, "statusd.object."+id)
		t.objects[name] = dt
		t.idents[name] = sourceIdentPrefix + id
		roots = append(roots, dt)
	}
	params := cm.paramsDeclType()
	roots = append(roots, params)
	bare, err := bareEnv()
	if err != nil {
		cm.errs.Notef(catalog.Pos{}, "", "internal error: build the typed CEL environment: %v; expressions are not type-checked", err)
		return nil
	}
	t.provider = apiservercel.NewDeclTypeProvider(roots...)
	// object.metadata.namespace, as Kubernetes' CEL reads it since 1.29.
	t.provider.SetRecognizeKeywordAsFieldName(true)
	popts, err := t.provider.EnvOptions(bare.CELTypeProvider())
	if err != nil {
		cm.errs.Notef(catalog.Pos{}, "", "internal error: declare schema types: %v; expressions are not type-checked", err)
		return nil
	}
	opts := append(popts, gocel.Variable(varParams, params.CelType()))
	for _, name := range sortedKeys(t.objects) {
		opts = append(opts, t.lookupDecls(name)...)
	}
	t.base, err = bare.Extend(opts...)
	if err != nil {
		cm.errs.Notef(catalog.Pos{}, "", "internal error: build the typed CEL environment: %v; expressions are not type-checked", err)
		return nil
	}
	return t
}

// lookupDecls declares, for one typed source, the identifier that stands
// for its name in look-ups and the look-up overloads that take it and
// return its objects typed.
func (t *typer) lookupDecls(source string) []gocel.EnvOption {
	ident := t.idents[source]
	srcType := gocel.OpaqueType("statusd.source." + strings.TrimPrefix(ident, sourceIdentPrefix))
	obj := t.objects[source].CelType()
	list := gocel.ListType(obj)
	id := func(fn string) string { return "statusd_typed_" + fn + "_" + ident }
	str := gocel.StringType
	return []gocel.EnvOption{
		gocel.Variable(ident, srcType),
		gocel.Function("objects", gocel.MemberOverload(id("objects"), []*gocel.Type{mapStringDyn, srcType}, list)),
		gocel.Function("inNamespace", gocel.MemberOverload(id("inNamespace"), []*gocel.Type{mapStringDyn, srcType, str}, list)),
		gocel.Function("onNode", gocel.MemberOverload(id("onNode"), []*gocel.Type{mapStringDyn, srcType, str}, list)),
		gocel.Function("ownedBy", gocel.MemberOverload(id("ownedBy"), []*gocel.Type{mapStringDyn, srcType, str}, list)),
		gocel.Function("withLabels", gocel.MemberOverload(id("withLabels"), []*gocel.Type{mapStringDyn, srcType, str, str}, list)),
		gocel.Function("lookup", gocel.MemberOverload(id("lookup"), []*gocel.Type{mapStringDyn, srcType, str, str}, gocel.OptionalType(obj))),
	}
}

// env returns the typed environment whose object is the subject source's
// type, or dyn for "" and for a source without a schema.
func (t *typer) env(subject string) (*gocel.Env, error) {
	if e, ok := t.envs[subject]; ok {
		return e, nil
	}
	objType := gocel.DynType
	if dt, ok := t.objects[subject]; ok {
		objType = dt.CelType()
	}
	e, err := t.base.Extend(gocel.Variable(varObject, objType))
	if err != nil {
		return nil, err
	}
	t.envs[subject] = e
	return e, nil
}

// typeNamer names object types by structure: the same schema reached by
// two paths (a pod's containers and initContainers, a pod and a
// Deployment's pod template) is one type, so lists of them concatenate and
// compare. apiserver's MaybeAssignTypeName names by path, which would make
// them distinct. The name is the first path the structure was met at.
type typeNamer struct {
	byKey map[string]*apiservercel.DeclType
	keys  map[*apiservercel.DeclType]string
}

func (n *typeNamer) name(t *apiservercel.DeclType, path string) *apiservercel.DeclType {
	out, key := n.visit(t, path)
	n.keys[out] = key
	return out
}

func (n *typeNamer) visit(t *apiservercel.DeclType, path string) (*apiservercel.DeclType, string) {
	switch {
	case t.IsObject():
		fields := make(map[string]*apiservercel.DeclField, len(t.Fields))
		parts := make([]string, 0, len(t.Fields))
		for _, fn := range sortedKeys(t.Fields) {
			f := t.Fields[fn]
			ft, fk := n.visit(f.Type, path+"."+fn)
			fields[fn] = apiservercel.NewDeclField(fn, ft, f.Required, nil, nil)
			parts = append(parts, fmt.Sprintf("%s:%t:%s", fn, f.Required, fk))
		}
		key := "{" + strings.Join(parts, ",") + "}"
		if known, ok := n.byKey[key]; ok {
			return known, key
		}
		obj := apiservercel.NewObjectType(path, fields)
		obj.MinSerializedSize = t.MinSerializedSize
		n.byKey[key] = obj
		return obj, key
	case t.IsList():
		elem, ek := n.visit(t.ElemType, path+".@idx")
		return apiservercel.NewListType(elem, t.MaxElements), "[" + ek + "]"
	case t.IsMap():
		elem, ek := n.visit(t.ElemType, path+".@elem")
		return apiservercel.NewMapType(t.KeyType, elem, t.MaxElements), "map[" + ek + "]"
	}
	return t, t.CelType().String()
}

func identName(source string) string {
	var b strings.Builder
	for _, r := range source {
		if r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			fmt.Fprintf(&b, "_%x_", r)
		}
	}
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// prepareRoot adapts a resource's schema to statusd's values and marks the
// fields every served object has as required.
func prepareRoot(s *spec.Schema) *spec.Schema {
	out := prepare(s, 0)
	if out.Properties == nil {
		return out
	}
	req := append([]string(nil), out.Required...)
	for _, f := range []string{"apiVersion", "kind", "metadata"} {
		if _, ok := out.Properties[f]; ok {
			req = append(req, f)
		}
	}
	out.Required = req
	if m, ok := out.Properties["metadata"]; ok && m.Properties != nil {
		mreq := append([]string(nil), m.Required...)
		for _, f := range alwaysServedMeta {
			if _, ok := m.Properties[f]; ok {
				mreq = append(mreq, f)
			}
		}
		m.Required = mreq
		out.Properties["metadata"] = m
	}
	return out
}

// maxSchemaDepth bounds the copy of a schema; a deeper one is dynamic
// from there down (resolved schemas are finite, since recursive references
// were cut, but a CRD may nest deeply).
const maxSchemaDepth = 64

// prepare copies a schema as statusd reads its values:
//   - strings of format date-time, date, duration and byte stay strings
//     (statusd's values are the API server's JSON);
//   - an object without properties, an object that preserves unknown
//     fields (x-kubernetes-preserve-unknown-fields, or additionalProperties
//     true beside its properties), an array without items and a schema
//     without a type are dyn, not an object with only the fields the
//     schema lists. Kubernetes' own CEL hides the unknown fields of such an
//     object (it validates what the API server stores, and pruning keeps
//     them out of typed access); statusd reads the objects as served, and
//     a controller writes exactly there what no schema lists (a CRD whose
//     schema is only `type: object` with preserve-unknown-fields is served
//     with apiVersion, kind and metadata as its only properties, yet every
//     object has a spec and a status). Typing such an object as the closed
//     list of its properties refused every read of its real fields;
//     Kubernetes' rule would make them unreachable;
//   - a property with a default or marked always set counts as required,
//     since every served object has it.
func prepare(s *spec.Schema, depth int) *spec.Schema {
	if s == nil {
		return nil
	}
	out := *s
	dyn := func() *spec.Schema {
		return &spec.Schema{VendorExtensible: spec.VendorExtensible{Extensions: spec.Extensions{"x-kubernetes-int-or-string": true}}}
	}
	if depth > maxSchemaDepth {
		return dyn()
	}
	typ := ""
	if len(s.Type) > 0 {
		typ = s.Type[0]
	}
	switch {
	case s.Format == "int-or-string" || isExt(s, "x-kubernetes-int-or-string"):
		return &out
	case typ == "" || len(s.Type) > 1:
		return dyn()
	case typ == "object" && preservesUnknown(s):
		return dyn()
	case typ == "object" && len(s.Properties) == 0 && (s.AdditionalProperties == nil || s.AdditionalProperties.Schema == nil):
		return dyn()
	case typ == "array" && (s.Items == nil || s.Items.Schema == nil):
		return dyn()
	case typ == "string":
		switch s.Format {
		case "date-time", "date", "duration", "byte":
			out.Format = ""
		}
		return &out
	}
	if len(s.Properties) > 0 {
		props := make(map[string]spec.Schema, len(s.Properties))
		req := append([]string(nil), s.Required...)
		for k, p := range s.Properties {
			if p.Default != nil || isExt(&p, apischema.ExtAlwaysSet) {
				req = append(req, k)
			}
			props[k] = *prepare(&p, depth+1)
		}
		out.Properties, out.Required = props, req
	}
	if s.AdditionalProperties != nil && s.AdditionalProperties.Schema != nil {
		ap := *s.AdditionalProperties
		ap.Schema = prepare(s.AdditionalProperties.Schema, depth+1)
		out.AdditionalProperties = &ap
	}
	if s.Items != nil && s.Items.Schema != nil {
		it := *s.Items
		it.Schema = prepare(s.Items.Schema, depth+1)
		out.Items = &it
	}
	return &out
}

// preservesUnknown reports whether served objects may carry fields the
// schema does not list here: x-kubernetes-preserve-unknown-fields, or
// additionalProperties true (without a schema) beside listed properties.
func preservesUnknown(s *spec.Schema) bool {
	if isExt(s, "x-kubernetes-preserve-unknown-fields") {
		return true
	}
	ap := s.AdditionalProperties
	return len(s.Properties) > 0 && ap != nil && ap.Allows && ap.Schema == nil
}

func isExt(s *spec.Schema, name string) bool {
	v, ok := s.Extensions[name]
	if !ok {
		return false
	}
	b, ok := v.(bool)
	return ok && b
}

// paramsDeclType types params from their values: an int param compared
// with a string is then an error at load.
func (cm *compiler) paramsDeclType() *apiservercel.DeclType {
	fields := map[string]*apiservercel.DeclField{}
	for name, v := range cm.cat.paramVals {
		fields[name] = apiservercel.NewDeclField(name, valueDeclType(v, 0), true, nil, nil)
	}
	return apiservercel.NewObjectType("statusd.params", fields)
}

// valueDeclType types a param value; lists and maps nested deeper than
// MaxLiteralNesting are typed dyn below that depth, since cel-go's checker
// takes time that grows faster than the square of a type's depth, and a
// param may nest as deep as YAML allows.
func valueDeclType(v any, depth int) *apiservercel.DeclType {
	if depth >= MaxLiteralNesting {
		return apiservercel.DynType
	}
	switch x := v.(type) {
	case bool:
		return apiservercel.BoolType
	case int, int64, int32, uint64:
		return apiservercel.IntType
	case float64, float32:
		return apiservercel.DoubleType
	case string:
		return apiservercel.StringType
	case types.Duration:
		return apiservercel.DurationType
	case []any:
		var elem *apiservercel.DeclType
		for _, e := range x {
			et := valueDeclType(e, depth+1)
			if elem == nil {
				elem = et
			} else if elem.CelType().String() != et.CelType().String() {
				elem = apiservercel.DynType
			}
		}
		if elem == nil {
			elem = apiservercel.DynType
		}
		return apiservercel.NewListType(elem, int64(len(x)))
	case map[string]any:
		return apiservercel.NewMapType(apiservercel.StringType, apiservercel.DynType, int64(len(x)))
	}
	return apiservercel.DynType
}

// typeVariables type-checks each variable. A variable is evaluated with
// the object of whichever reason reads it (directly, or through other
// variables), so when every reason that reads it has one subject source,
// its object is typed as that source's: a misspelt field in a variable is
// then an error at its position, as it is in a reason. A variable read by
// reasons of different subjects usually branches on object.kind, which a
// static check cannot follow, so object stays dynamic there, as it does
// in a variable no reason reads.
func (cm *compiler) typeVariables() {
	subjects := make([]map[string]bool, len(cm.cat.Variables))
	var visit func(name, subject string)
	visit = func(name, subject string) {
		i, ok := cm.cat.varIndex[name]
		if !ok || i >= len(cm.cat.Variables) || subjects[i][subject] {
			return
		}
		if subjects[i] == nil {
			subjects[i] = map[string]bool{}
		}
		subjects[i][subject] = true
		if p := cm.cat.Variables[i].Program; p != nil {
			for _, r := range p.refs.variables {
				visit(r.name, subject)
			}
		}
	}
	for _, r := range cm.src.Reasons {
		cr := cm.cat.byName[r.Name]
		if cr == nil {
			continue
		}
		progs := []*Program{cr.When, cr.Message, cr.Since}
		for _, e := range cr.Edges {
			progs = append(progs, e.Key)
		}
		for _, p := range progs {
			if p == nil {
				continue
			}
			for _, ref := range p.refs.variables {
				visit(ref.name, r.Subject)
			}
		}
	}
	for i, v := range cm.cat.Variables {
		subject := ""
		if len(subjects[i]) == 1 {
			for s := range subjects[i] {
				subject = s
			}
		}
		cm.typeCheck(v.Program, subject, "", nil, nil)
	}
}

// typeCheck runs the typed check of an expression that compiled untyped.
// subject is the reason's source ("" for a variable, whose object is
// whatever subject reads it). Problems are recorded at their positions.
// guards are field paths already tested with has() where this expression
// is evaluated (a message and grace.since are evaluated only where when
// holds); it returns the paths this expression tests.
func (cm *compiler) typeCheck(p *Program, subject, reason string, want *gocel.Type, guards map[string]bool) map[string]bool {
	if cm.typed == nil || p == nil || cm.overBudget(p.Expr, p.Field, reason) {
		return nil
	}
	env, err := cm.typed.env(subject)
	if err != nil {
		cm.errs.Notef(p.Expr.Pos, reason, "internal error: typed environment for source %q: %v", subject, err)
		return nil
	}
	parsed, iss := env.Parse(p.Expr.Text)
	if iss.Err() != nil {
		return nil // the untyped compile reported it
	}
	cm.typed.rewriteLookups(parsed)
	checked, iss := env.Check(parsed)
	if iss.Err() != nil {
		for _, ce := range iss.Errors() {
			col := ce.Location.Column()
			if undefinedField.MatchString(ce.Message) {
				// A select starts at its dot (x.f) or at its dot and
				// question mark (x.?f); point at the field name.
				col++
				if _, opt, ok := selectAt(parsed, ce.ExprID); ok && opt {
					col++
				}
			}
			pos := p.Expr.Locate(ce.Location.Line(), col)
			msg := strings.TrimSuffix(ce.Message, " (in container '')")
			msg = cm.typed.explainIssue(msg, parsed, ce.ExprID, subject)
			cm.errs.Errorf(pos, reason, "%s: %s", p.Field, msg)
		}
		return nil
	}
	if want != nil {
		out := checked.OutputType()
		if !out.IsExactType(want) && !out.IsExactType(gocel.DynType) {
			cm.errs.Errorf(p.Expr.Pos, reason, "%s must return %s, got %s%s", p.Field, want, typeName(out), wantHint(want))
			return nil
		}
	}
	return cm.typed.warnOptional(cm, p, checked, reason, guards)
}

func wantHint(want *gocel.Type) string {
	switch {
	case want.IsExactType(gocel.BoolType):
		return ": a condition is a comparison or a test, such as x > 0, x == \"y\" or has(x)"
	case want.IsExactType(gocel.StringType):
		return ": convert it with string(...)"
	}
	return ""
}

// typeName prints a declared type as the operator wrote the schema: the
// generated object type names mean nothing to them.
func typeName(t *gocel.Type) string {
	s := t.String()
	if strings.HasPrefix(s, "statusd.object.") {
		return "object (" + s + ")"
	}
	return s
}

// rewriteLookups replaces the source literal of each look-up on a typed
// source with that source's identifier, so that the look-up's result is
// typed. Node IDs are kept, so positions are unchanged.
func (t *typer) rewriteLookups(a *gocel.Ast) {
	fac := ast.NewExprFactory()
	root := ast.NavigateAST(a.NativeRep())
	for _, n := range ast.MatchDescendants(root, ast.KindMatcher(ast.CallKind)) {
		call := n.AsCall()
		if _, ok := lookupResults[call.FunctionName()]; !ok || !call.IsMemberFunction() {
			continue
		}
		if call.Target().Kind() != ast.IdentKind || call.Target().AsIdent() != varCluster || len(call.Args()) == 0 {
			continue
		}
		arg := call.Args()[0]
		if arg.Kind() != ast.LiteralKind {
			continue
		}
		s, ok := arg.AsLiteral().(types.String)
		if !ok {
			continue
		}
		if ident, ok := t.idents[string(s)]; ok {
			arg.SetKindCase(fac.NewIdent(arg.ID(), ident))
		}
	}
}

var undefinedField = regexp.MustCompile(`^undefined field '([^']+)'$`)

// explainIssue adds what a checker message leaves out: the fields the
// object has, and names as the catalogue wrote them.
func (t *typer) explainIssue(msg string, parsed *gocel.Ast, id int64, subject string) string {
	for src, ident := range t.idents {
		msg = strings.ReplaceAll(msg, "statusd.source."+strings.TrimPrefix(ident, sourceIdentPrefix), "source "+src)
	}
	if m := undefinedField.FindStringSubmatch(msg); m != nil {
		fields := t.fieldsAt(parsed, id, subject)
		if len(fields) == 0 {
			// The operand is not a path from object (a comprehension
			// variable, a look-up's result): suggest from every declared
			// object type.
			others := slices.DeleteFunc(t.allFields(), func(f string) bool { return f == m[1] })
			if s := yamlpos.Suggest(m[1], others); s != "" {
				return msg + s
			}
		}
		if len(fields) > 0 {
			s := yamlpos.Suggest(m[1], fields)
			if s == "" {
				if len(fields) > 12 {
					fields = append(fields[:12:12], "...")
				}
				s = "; the fields here are " + strings.Join(fields, ", ")
			}
			msg += s
		}
		return msg
	}
	if strings.Contains(msg, "no matching overload for '_") && strings.Contains(msg, "applied to '(") {
		msg += "; both sides must have one type: convert one with int(), double(), string() or duration(), or compare with a value of the field's type"
	}
	return msg
}

// allFields lists the field names of every declared object type.
func (t *typer) allFields() []string {
	seen := map[string]bool{}
	for _, name := range t.provider.TypeNames() {
		dt, ok := t.provider.FindDeclType(name)
		if !ok || !dt.IsObject() {
			continue
		}
		for f := range dt.Fields {
			if u, ok := apiservercel.Unescape(f); ok {
				f = u
			}
			seen[f] = true
		}
	}
	return sortedKeys(seen)
}

// fieldsAt lists the fields of the object a failing select reads from,
// when its operand is a path from object (object.spec.x) whose type the
// schema gives.
func (t *typer) fieldsAt(parsed *gocel.Ast, id int64, subject string) []string {
	dt, ok := t.objects[subject]
	if !ok {
		return nil
	}
	operand, _, ok := selectAt(parsed, id)
	if !ok {
		return nil
	}
	var path []string
	for e := operand; ; {
		switch e.Kind() {
		case ast.SelectKind:
			path = append([]string{e.AsSelect().FieldName()}, path...)
			e = e.AsSelect().Operand()
			continue
		case ast.CallKind:
			op, f, ok := optSelectParts(e)
			if !ok {
				return nil
			}
			path = append([]string{f}, path...)
			e = op
			continue
		case ast.IdentKind:
			if e.AsIdent() != varObject {
				return nil
			}
		default:
			return nil
		}
		break
	}
	cur := dt
	for _, f := range path {
		fld, ok := cur.Fields[escapeField(f)]
		if !ok {
			return nil
		}
		cur = fld.Type
	}
	if !cur.IsObject() {
		return nil
	}
	out := make([]string, 0, len(cur.Fields))
	for f := range cur.Fields {
		if u, ok := apiservercel.Unescape(f); ok {
			f = u
		}
		out = append(out, f)
	}
	slices.Sort(out)
	return out
}

// selectAt finds the field selection with the given node ID, a plain
// select (x.f) or an optional one (x.?f), and returns its operand.
func selectAt(parsed *gocel.Ast, id int64) (operand ast.Expr, opt, ok bool) {
	root := ast.NavigateAST(parsed.NativeRep())
	for _, n := range ast.MatchDescendants(root, func(e ast.NavigableExpr) bool { return e.ID() == id }) {
		switch n.Kind() {
		case ast.SelectKind:
			return n.AsSelect().Operand(), false, true
		case ast.CallKind:
			if op, _, ok := optSelectParts(n); ok {
				return op, true, true
			}
		}
	}
	return nil, false, false
}

// optSelectParts splits x.?f, which cel-go parses into a call, into x and f.
func optSelectParts(e ast.Expr) (operand ast.Expr, field string, ok bool) {
	call := e.AsCall()
	if e.Kind() != ast.CallKind || call.FunctionName() != optSelect || len(call.Args()) != 2 || call.Args()[1].Kind() != ast.LiteralKind {
		return nil, "", false
	}
	f, ok := call.Args()[1].AsLiteral().(types.String)
	if !ok {
		return nil, "", false
	}
	return call.Args()[0], string(f), true
}

// warnOptional warns about each read of an optional scalar field that no
// has() of the same path in the expression guards.
func (t *typer) warnOptional(cm *compiler, p *Program, checked *gocel.Ast, reason string, guards map[string]bool) map[string]bool {
	native := checked.NativeRep()
	root := ast.NavigateAST(native)
	tested := map[string]bool{}
	guarded := map[string]bool{}
	for g := range guards {
		guarded[g] = true
	}
	for _, n := range ast.MatchDescendants(root, ast.KindMatcher(ast.SelectKind)) {
		if n.AsSelect().IsTestOnly() {
			guarded[pathOf(n)] = true
			tested[pathOf(n)] = true
		}
	}
	// x.?f (then orValue, hasValue, optMap) shows the author knows f may
	// be absent: a read of x.f beside it is the guarded branch.
	for _, n := range ast.MatchDescendants(root, ast.KindMatcher(ast.CallKind)) {
		if n.AsCall().FunctionName() == optSelect {
			if path := pathOf(n); path != "" {
				guarded[path] = true
				tested[path] = true
			}
		}
	}
	seen := map[string]bool{}
	for _, n := range ast.MatchDescendants(root, ast.KindMatcher(ast.SelectKind)) {
		sel := n.AsSelect()
		if sel.IsTestOnly() {
			continue
		}
		path := pathOf(n)
		if path == "" || guarded[path] || seen[path] {
			continue
		}
		opType := native.GetType(sel.Operand().ID())
		if opType == nil || opType.Kind() != types.StructKind {
			continue
		}
		dt, ok := t.provider.FindDeclType(opType.TypeName())
		if !ok {
			continue
		}
		fld, ok := dt.Fields[escapeField(sel.FieldName())]
		if !ok || fld.Required || !isScalar(fld.Type) {
			continue
		}
		seen[path] = true
		l := native.SourceInfo().GetStartLocation(n.ID())
		pos := p.Expr.Locate(l.Line(), l.Column()+1)
		op := strings.TrimSuffix(path, "."+sel.FieldName())
		cm.errs.Warnf(pos, reason, "%s: %s is optional: Kubernetes omits it when it is unset (an integer at 0, an empty string), and reading an absent field makes the reason Unknown; write %s.?%s.orValue(%s), or guard it with has(%s)",
			p.Field, path, op, sel.FieldName(), zeroLiteral(fld.Type), path)
	}
	return tested
}

// optSelect is the function cel-go parses x.?f into.
const optSelect = "_?._"

// escapeField maps a field name as written (namespace) to its declared
// name (__namespace__).
func escapeField(f string) string {
	if e, ok := apiservercel.Escape(f); ok {
		return e
	}
	return f
}

// pathOf renders a select chain rooted at an identifier (object.status.x,
// c.image); "" for anything else.
func pathOf(e ast.Expr) string {
	var parts []string
	for {
		switch e.Kind() {
		case ast.SelectKind:
			parts = append([]string{e.AsSelect().FieldName()}, parts...)
			e = e.AsSelect().Operand()
			continue
		case ast.CallKind:
			op, f, ok := optSelectParts(e)
			if !ok {
				return ""
			}
			parts = append([]string{f}, parts...)
			e = op
			continue
		case ast.IdentKind:
			return strings.Join(append([]string{e.AsIdent()}, parts...), ".")
		}
		return ""
	}
}

func isScalar(dt *apiservercel.DeclType) bool {
	if dt == nil || dt.IsObject() || dt.IsList() || dt.IsMap() {
		return false
	}
	return !dt.CelType().IsExactType(gocel.DynType)
}

func zeroLiteral(dt *apiservercel.DeclType) string {
	t := dt.CelType()
	switch {
	case t.IsExactType(gocel.IntType):
		return "0"
	case t.IsExactType(gocel.DoubleType):
		return "0.0"
	case t.IsExactType(gocel.BoolType):
		return "false"
	case t.IsExactType(gocel.StringType):
		return `""`
	}
	return "..."
}
