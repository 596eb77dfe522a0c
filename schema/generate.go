package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/ruletest"
	"statusd.io/statusd/pkg/snapshot"
)

// Draft is the JSON Schema dialect of the generated file: draft-07, because
// yaml-language-server validates later drafts only partially.
const Draft = "http://json-schema.org/draft-07/schema#"

// Patterns the decoder and validator enforce, repeated here because
// pkg/catalog keeps its own unexported. TestSchema checks them against
// sample catalogues, so a drift shows up there.
const (
	// identPattern is what params, sources and variables are named with,
	// so that expressions can read them as params.<name>.
	identPattern = `^[A-Za-z_][A-Za-z0-9_]*$`
	// reasonNamePattern is what Kubernetes expects of an Event reason.
	reasonNamePattern = `^[A-Za-z][A-Za-z0-9]{0,127}$`
	// durationPattern accepts Prometheus durations (1h30m, 2d), Go
	// durations (1.5h, 300ms) and the name of a duration param.
	durationPattern = `^(0|([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h|d|w|y))+|[A-Za-z_][A-Za-z0-9_]*)$`
)

// Generate returns the schema of the catalogue format, formatted and
// newline-terminated as it is committed. It reads pkg/catalog's source for
// the doc comments, so it runs from the statusd source tree (as go test and
// go generate do), not from an installed binary.
func Generate() ([]byte, error) {
	return generate(reflect.TypeFor[catalog.Catalog](), catalog.Kind,
		"statusd catalogue ("+catalog.APIVersion+", kind "+catalog.Kind+")", "pkg/catalog")
}

// GenerateRuleTest returns the schema of rule-test files (kind RuleTest).
func GenerateRuleTest() ([]byte, error) {
	return generate(reflect.TypeFor[ruletest.File](), ruletest.Kind,
		"statusd rule test ("+catalog.APIVersion+", kind "+ruletest.Kind+")", "pkg/ruletest")
}

// GenerateSnapshot returns the schema of snapshot files (kind Snapshot).
func GenerateSnapshot() ([]byte, error) {
	return generate(reflect.TypeFor[snapshot.File](), snapshot.FileKind,
		"statusd snapshot ("+catalog.APIVersion+", kind "+snapshot.FileKind+")", "pkg/snapshot")
}

// docPackages are the packages whose doc comments describe the formats'
// fields, by directory under the repository root.
var docPackages = []string{"pkg/catalog", "pkg/ruletest", "pkg/snapshot"}

func generate(root reflect.Type, kind, title, pkg string) ([]byte, error) {
	d := &docs{types: map[string]string{}, fields: map[string]map[string]string{}, consts: map[string]string{}}
	for _, dir := range docPackages {
		if err := readDocs(filepath.Join(repoDir(), dir), "statusd.io/statusd/"+dir, d); err != nil {
			return nil, err
		}
	}
	g := &generator{docs: d}
	n := g.object(root, "")
	// Each format's kind is its own (rule tests and snapshots are both a
	// File in Go).
	for _, p := range n.Properties {
		if p.name == "kind" && len(p.schema.Enum) == 0 {
			p.schema.Enum = []any{kind}
		}
	}
	if len(g.errs) > 0 {
		return nil, fmt.Errorf("generate %s schema: %w", root, errors.Join(g.errs...))
	}
	n.Schema = Draft
	n.Comment = "Generated from the Go types of " + pkg + " by package schema; do not edit. Run make generate."
	n.Title = title

	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(n); err != nil {
		return nil, fmt.Errorf("encode %s schema: %w", root, err)
	}
	return b.Bytes(), nil
}

// repoDir is the root of the source tree this file was compiled from.
func repoDir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return ".."
	}
	return filepath.Join(filepath.Dir(file), "..")
}

// node is one JSON Schema. Fields are in the order a reader of the
// generated file wants them; Properties keeps declaration order.
type node struct {
	Schema               string   `json:"$schema,omitempty"`
	Comment              string   `json:"$comment,omitempty"`
	Title                string   `json:"title,omitempty"`
	Description          string   `json:"description,omitempty"`
	Type                 string   `json:"type,omitempty"`
	Enum                 []any    `json:"enum,omitempty"`
	EnumDescriptions     []string `json:"enumDescriptions,omitempty"` // a VS Code extension to the draft
	Pattern              string   `json:"pattern,omitempty"`
	Minimum              *int     `json:"minimum,omitempty"`
	Maximum              *int     `json:"maximum,omitempty"`
	MinLength            *int     `json:"minLength,omitempty"`
	Items                *node    `json:"items,omitempty"`
	Properties           props    `json:"properties,omitempty"`
	Required             []string `json:"required,omitempty"`
	PropertyNames        *node    `json:"propertyNames,omitempty"`
	AdditionalProperties any      `json:"additionalProperties,omitempty"`
	AnyOf                []*node  `json:"anyOf,omitempty"`
}

// prop is a named property.
type prop struct {
	name   string
	schema *node
}

// props are an object's properties in declaration order, so the file
// reads like types.go.
type props []prop

// MarshalJSON writes the properties as an object in declaration order.
func (ps props) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, p := range ps {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := marshal(p.name)
		if err != nil {
			return nil, err
		}
		v, err := marshal(p.schema)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// marshal is json.Marshal without HTML escaping, so descriptions keep their
// <CEL> and -> as written.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("marshal schema: %w", err)
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

func ptr(i int) *int { return &i }

// generator walks pkg/catalog's types.
type generator struct {
	docs *docs
	errs []error
	// freeKeys is set while a field whose map keys are not identifiers
	// (freeKeys) is generated.
	freeKeys bool
	// freeInner is set while a field whose values' map keys are not
	// identifiers (freeInnerKeys) is generated.
	freeInner bool
}

// special returns the schema of the types whose YAML form is not a plain
// mapping of their json fields, without description, or ok false for
// other types. typeDoc says whether the type's doc comment is worth
// appending to the field's, which it is when it explains the YAML forms
// rather than Go internals.
func (g *generator) special(t reflect.Type) (n *node, typeDoc, ok bool) {
	switch t {
	case reflect.TypeFor[catalog.Expr]():
		return &node{Type: "string"}, false, true
	case reflect.TypeFor[catalog.Param]():
		return &node{Description: "A constant: any YAML scalar, list or mapping."}, false, true
	case reflect.TypeFor[catalog.Severity]():
		enum := make([]any, len(catalog.Severities))
		for i, s := range catalog.Severities {
			enum[i] = string(s)
		}
		return &node{Type: "string", Enum: enum}, false, true
	case reflect.TypeFor[catalog.Duration]():
		return duration(), true, true
	case reflect.TypeFor[catalog.IntOrString]():
		return &node{AnyOf: []*node{
			{Type: "integer", Minimum: ptr(1), Maximum: ptr(65535), Description: "A container port number."},
			{Type: "string", MinLength: ptr(1), Description: "A container port name."},
		}}, true, true
	case reflect.TypeFor[catalog.Namespaces]():
		return &node{AnyOf: []*node{
			{Type: "string", Description: "One namespace name or glob."},
			{Type: "array", Items: &node{Type: "string"}, Description: "Namespace names or globs."},
			g.object(t, "Names and a namespace label selector."),
		}}, true, true
	case reflect.TypeFor[catalog.Grace]():
		return &node{AnyOf: append(duration().AnyOf,
			g.object(t, "A window measured from a timestamp."),
		)}, true, true
	case reflect.TypeFor[map[string]any]():
		return &node{Type: "object", Description: "A Kubernetes object as kubectl get -o yaml prints it: apiVersion, kind, metadata (name, namespace, uid, ...), spec and status."}, false, true
	case reflect.TypeFor[snapshot.Status]():
		return &node{Type: "string", Enum: []any{string(snapshot.StatusReady), string(snapshot.StatusAbsent), string(snapshot.StatusForbidden), string(snapshot.StatusFailed)}}, false, true
	case reflect.TypeFor[catalog.Join]():
		return &node{AnyOf: []*node{
			g.joinKinds(),
			g.object(t, "A CEL key computed on both subjects."),
		}}, true, true
	}
	return nil, false, false
}

// extra holds constraints the Go types cannot express, by Type.jsonName.
var extra = map[string]func(n *node){
	"Catalog.apiVersion": func(n *node) {
		group, version, _ := strings.Cut(catalog.APIVersion, "/")
		major := regexp.MustCompile(`^v[0-9]+`).FindString(version)
		n.Pattern = "^" + regexp.QuoteMeta(group) + "/" + major + "((alpha|beta).*)?$"
	},
	"Catalog.kind": func(n *node) { n.Enum = []any{catalog.Kind} },
	// Rule tests and snapshots share the catalogue's apiVersion.
	"File.apiVersion": func(n *node) {
		group, version, _ := strings.Cut(catalog.APIVersion, "/")
		major := regexp.MustCompile(`^v[0-9]+`).FindString(version)
		n.Pattern = "^" + regexp.QuoteMeta(group) + "/" + major + "((alpha|beta).*)?$"
	},

	"Reason.name":   func(n *node) { n.Pattern = reasonNamePattern },
	"Variable.name": func(n *node) { n.Pattern = identPattern },
	"Scrape.path":   func(n *node) { n.Pattern = "^/" },
}

// freeKeys are the maps, by Type.jsonName, whose keys are not
// identifiers: series names with labels.
var freeKeys = map[string]bool{"SeriesInput.values": true}

// freeInnerKeys are the maps of maps, by Type.jsonName, whose own keys are
// identifiers (query source names) and whose values' keys are not (series
// with labels, such as {namespace="a", pod="p"}).
var freeInnerKeys = map[string]bool{"Case.queries": true}

// required overrides the json tags' omitempty, by Type.jsonName.
var required = map[string]bool{
	// A catalogue may be split over files, some holding no reasons.
	"Catalog.reasons": false,
	// The mapping form of a join exists only to carry the key.
	"Join.key": true,
}

func duration() *node {
	return &node{AnyOf: []*node{
		{Type: "string", Pattern: durationPattern, Description: "A length such as 30s, 5m, 1h30m or 2d, or a duration param's name."},
		{Type: "integer", Enum: []any{0}, Description: "Zero: at once."},
	}}
}

func (g *generator) joinKinds() *node {
	n := &node{Type: "string", Description: "A named join."}
	for _, k := range catalog.JoinKinds {
		n.Enum = append(n.Enum, string(k))
		d, ok := g.docs.consts[string(k)]
		if !ok {
			g.errs = append(g.errs, fmt.Errorf("join %q has no documented constant", k))
		}
		n.EnumDescriptions = append(n.EnumDescriptions, d)
	}
	return n
}

// schema returns the schema of a value of type t.
func (g *generator) schema(t reflect.Type) *node {
	n, _ := g.schemaDoc(t)
	return n
}

// schemaDoc is schema, also saying whether t's doc comment belongs in the
// description (see special).
func (g *generator) schemaDoc(t reflect.Type) (*node, bool) {
	if n, typeDoc, ok := g.special(t); ok {
		return n, typeDoc
	}
	return g.plain(t), false
}

func (g *generator) plain(t reflect.Type) *node {
	switch t.Kind() {
	case reflect.Pointer:
		return g.schema(t.Elem())
	case reflect.Struct:
		return g.object(t, "")
	case reflect.Slice:
		return &node{Type: "array", Items: g.schema(t.Elem())}
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			g.errs = append(g.errs, fmt.Errorf("%s: map keys must be strings", t))
			return &node{}
		}
		if g.freeKeys {
			return &node{Type: "object", AdditionalProperties: g.schema(t.Elem())}
		}
		// The catalogue's maps (params, sources) are keyed by names that
		// expressions use as identifiers.
		n := &node{Type: "object", PropertyNames: &node{Pattern: identPattern}}
		if g.freeInner {
			g.freeInner, g.freeKeys = false, true
			n.AdditionalProperties = g.schema(t.Elem())
			g.freeInner, g.freeKeys = true, false
			return n
		}
		n.AdditionalProperties = g.schema(t.Elem())
		return n
	case reflect.String:
		return &node{Type: "string"}
	case reflect.Bool:
		return &node{Type: "boolean"}
	case reflect.Int, reflect.Int32, reflect.Int64:
		return &node{Type: "integer"}
	case reflect.Float64:
		return &node{Type: "number"}
	}
	g.errs = append(g.errs, fmt.Errorf("%s: no schema for kind %s; map it in generator.special", t, t.Kind()))
	return &node{}
}

// object returns the mapping form of struct t: its json fields, closed to
// others as the decoder is. desc defaults to the type's doc comment.
func (g *generator) object(t reflect.Type, desc string) *node {
	n := &node{Type: "object", AdditionalProperties: false, Description: desc}
	if n.Description == "" {
		n.Description = g.docs.typeDoc(t)
	}
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "" || name == "-" {
			continue
		}
		key := t.Name() + "." + name
		fieldDoc, ok := g.docs.fieldDoc(t, f.Name)
		if !ok {
			g.errs = append(g.errs, fmt.Errorf("field %s.%s has no doc comment: the schema's description comes from it", t.Name(), f.Name))
		}
		g.freeKeys, g.freeInner = freeKeys[key], freeInnerKeys[key]
		s, typeDoc := g.schemaDoc(f.Type)
		g.freeKeys, g.freeInner = false, false
		s.Description = jsonLead(fieldDoc, f.Name, name)
		if typeDoc {
			s.Description += "\n\n" + g.docs.typeDoc(f.Type)
		}
		if fn, ok := extra[key]; ok {
			fn(s)
		}
		req, ok := required[key]
		if !ok {
			req = !slices.Contains(strings.Split(opts, ","), "omitempty")
		}
		if req {
			n.Required = append(n.Required, name)
		}
		n.Properties = append(n.Properties, prop{name, s})
	}
	if len(n.Properties) == 0 {
		g.errs = append(g.errs, fmt.Errorf("%s has no json fields; map it in generator.special", t))
	}
	return n
}

// jsonLead replaces the Go field name that starts a doc comment by the
// name catalogue authors write.
func jsonLead(doc, goName, jsonName string) string {
	if rest, ok := strings.CutPrefix(doc, goName+" "); ok {
		return jsonName + " " + rest
	}
	return doc
}

// docs are pkg/catalog's doc comments, as plain text.
type docs struct {
	types  map[string]string
	fields map[string]map[string]string
	// consts maps a string constant's value to its doc comment, without
	// the leading "Name:".
	consts map[string]string
}

func (d *docs) typeDoc(t reflect.Type) string { return d.types[qualified(t)] }

func (d *docs) fieldDoc(t reflect.Type, field string) (string, bool) {
	s, ok := d.fields[qualified(t)][field]
	return s, ok && s != ""
}

// qualified names a type by package and name: rule tests and snapshots
// both have a File.
func qualified(t reflect.Type) string { return t.PkgPath() + "." + t.Name() }

// readDocs parses the non-test Go files of dir, the package importPath,
// into d.
func readDocs(dir, importPath string, d *docs) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("read package source (Generate runs from the statusd source tree): %w", err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.ParseComments)
		if err != nil {
			return fmt.Errorf("parse package source: %w", err)
		}
		files = append(files, f)
	}
	pkg, err := doc.NewFromFiles(fset, files, importPath)
	if err != nil {
		return fmt.Errorf("read package docs: %w", err)
	}
	for _, t := range pkg.Types {
		d.types[importPath+"."+t.Name] = text(t.Doc)
		for _, spec := range t.Decl.Specs {
			ts, ok := spec.(*ast.TypeSpec)
			if !ok {
				continue
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				continue
			}
			fields := map[string]string{}
			for _, f := range st.Fields.List {
				for _, n := range f.Names {
					fields[n.Name] = text(f.Doc.Text())
				}
			}
			d.fields[importPath+"."+ts.Name.Name] = fields
		}
		for _, c := range t.Consts {
			for _, spec := range c.Decl.Specs {
				vs, ok := spec.(*ast.ValueSpec)
				if !ok || len(vs.Values) != 1 || len(vs.Names) != 1 {
					continue
				}
				lit, ok := vs.Values[0].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					continue
				}
				v, err := strconv.Unquote(lit.Value)
				if err != nil {
					continue
				}
				s := text(vs.Doc.Text())
				d.consts[v] = strings.TrimPrefix(s, vs.Names[0].Name+": ")
			}
		}
	}
	return nil
}

// text turns a doc comment into description text: the lines of a
// paragraph joined, paragraphs apart, for editors that wrap on their own.
func text(comment string) string {
	var paras []string
	for _, p := range strings.Split(strings.TrimSpace(comment), "\n\n") {
		paras = append(paras, strings.Join(strings.Fields(p), " "))
	}
	return strings.Join(paras, "\n\n")
}
