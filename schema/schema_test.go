package schema_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/schema"
)

var update = flag.Bool("update", false, "rewrite catalog.schema.json")

const committed = "catalog.schema.json"

// TestSchema keeps the committed schemas equal to what the Go types
// generate; make verify runs it with -update and fails on a diff.
func TestSchema(t *testing.T) {
	for file, gen := range map[string]func() ([]byte, error){
		committed:              schema.Generate,
		"ruletest.schema.json": schema.GenerateRuleTest,
		"snapshot.schema.json": schema.GenerateSnapshot,
	} {
		t.Run(file, func(t *testing.T) {
			got, err := gen()
			require.NoError(t, err)
			if *update {
				require.NoError(t, os.WriteFile(file, got, 0o644))
				return
			}
			want, err := os.ReadFile(file)
			require.NoError(t, err, "run make generate")
			if line, w, g, differ := firstDiff(want, got); differ {
				t.Errorf("schema/%s is stale: run make generate\nfirst difference at line %d:\n  committed: %s\n  generated: %s", file, line, w, g)
			}
		})
	}
}

// firstDiff finds the first line where a and b differ; the schema is too
// long for a full dump to help.
func firstDiff(a, b []byte) (line int, la, lb string, differ bool) {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := range max(len(al), len(bl)) {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y || i >= len(al) || i >= len(bl) {
			return i + 1, x, y, true
		}
	}
	return 0, "", "", false
}

// TestSchemaValidates checks the generated schema against the draft-07
// meta-schema and against sample catalogues, and that it agrees with the
// decoder on each sample: what one accepts the other accepts. The shipped
// catalogue's files are checked against the schema one by one, as an
// editor does; they refer to each other, so only make test-rules decodes
// them, together.
func TestSchemaValidates(t *testing.T) {
	sch := compile(t)
	type test struct {
		file string
		// want is a part of the validation error; empty means valid.
		want string
		// shipped files are not decoded alone.
		shipped bool
	}
	tests := []test{
		{file: "testdata/full.good.yaml"},
		{file: "testdata/split.good.yaml"},
		{file: "testdata/unknown-field.bad.yaml", want: "at '/reasons/0': additional properties 'sevrity' not allowed"},
		{file: "testdata/unknown-join.bad.yaml", want: "at '/reasons/0/suppresses/0/join'"},
		{file: "testdata/join-without-key.bad.yaml", want: "at '/reasons/0/suppresses/0/join'"},
		{file: "testdata/severity.bad.yaml", want: "at '/reasons/0/severity'"},
		{file: "testdata/duration.bad.yaml", want: "at '/reasons/0/grace'"},
		{file: "testdata/reason-name.bad.yaml", want: "at '/reasons/0/name'"},
		{file: "testdata/port.bad.yaml", want: "at '/sources/vllm/metrics/port'"},
		// jsonschema v6.0.3 reports propertyNames errors at a wrong
		// location, so only the message is checked.
		{file: "testdata/param-name.bad.yaml", want: "invalid propertyName 'max-waiting'"},
		{file: "testdata/namespaces.bad.yaml", want: "at '/sources/nodes/namespaces'"},
		{file: "testdata/when-type.bad.yaml", want: "at '/reasons/0/when'"},
		{file: "testdata/api-version.bad.yaml", want: "at '/apiVersion'"},
		{file: "testdata/missing-metadata.bad.yaml", want: "missing property 'metadata'"},
	}
	shipped, err := filepath.Glob("../rules/catalog*.yaml")
	require.NoError(t, err)
	for _, f := range shipped {
		tests = append(tests, test{file: f, shipped: true})
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			err := sch.Validate(instance(t, tt.file))
			if tt.shipped {
				require.NoError(t, err)
				return
			}
			_, decodeErrs := catalog.Load(tt.file)
			if tt.want == "" {
				require.NoError(t, err)
				require.NoError(t, decodeErrs.Err(), "the decoder must accept what the schema accepts")
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Error(t, decodeErrs.Err(), "the decoder must refuse what the schema refuses")
		})
	}
}

// TestSchemaDescribesEveryProperty makes sure editors have something to
// show on hover for every field, which Generate guarantees by refusing
// undocumented fields.
func TestSchemaDescribesEveryProperty(t *testing.T) {
	data, err := schema.Generate()
	require.NoError(t, err)
	var root map[string]any
	require.NoError(t, json.Unmarshal(data, &root))
	var walk func(path string, n map[string]any)
	walk = func(path string, n map[string]any) {
		if props, ok := n["properties"].(map[string]any); ok {
			for name, p := range props {
				pm := p.(map[string]any)
				assert.NotEmpty(t, pm["description"], "property %s/%s has no description", path, name)
				walk(path+"/"+name, pm)
			}
		}
		for _, key := range []string{"items", "additionalProperties"} {
			if sub, ok := n[key].(map[string]any); ok {
				walk(path+"/"+key, sub)
			}
		}
		if branches, ok := n["anyOf"].([]any); ok {
			for _, b := range branches {
				walk(path, b.(map[string]any))
			}
		}
	}
	walk("", root)
}

func compile(t *testing.T) *jsonschema.Schema {
	t.Helper()
	data, err := schema.Generate()
	require.NoError(t, err)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource(committed, doc))
	sch, err := c.Compile(committed) // also validates against the draft-07 meta-schema
	require.NoError(t, err)
	return sch
}

// instance reads a YAML file as the JSON value an editor validates.
func instance(t *testing.T, path string) any {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var v any
	require.NoError(t, yaml.Unmarshal(data, &v))
	j, err := json.Marshal(v)
	require.NoError(t, err)
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	require.NoError(t, err)
	return inst
}

// TestFormatSchemasValidate checks the rule-test and snapshot schemas
// against the draft-07 meta-schema, the shipped rule tests and example
// snapshots against them, and that each rejects a misspelt field, as the
// strict decoders do.
func TestFormatSchemasValidate(t *testing.T) {
	for _, tt := range []struct {
		file  string
		gen   func() ([]byte, error)
		globs []string
		bad   string
	}{
		{
			"ruletest.schema.json", schema.GenerateRuleTest,
			[]string{"../rules/tests/*.yaml"},
			"apiVersion: statusd.io/v1alpha1\nkind: RuleTest\ncatalogs: [c.yaml]\ncases:\n- name: x\n  steps:\n  - at: 0m\n    expect: {firng: [{reason: A}]}\n",
		},
		{
			"snapshot.schema.json", schema.GenerateSnapshot,
			[]string{"../examples/*-snapshot.yaml"},
			"apiVersion: statusd.io/v1alpha1\nkind: Snapshot\nobjcts: []\n",
		},
	} {
		t.Run(tt.file, func(t *testing.T) {
			data, err := tt.gen()
			require.NoError(t, err)
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
			require.NoError(t, err)
			c := jsonschema.NewCompiler()
			require.NoError(t, c.AddResource(tt.file, doc))
			sch, err := c.Compile(tt.file)
			require.NoError(t, err)
			var files []string
			for _, g := range tt.globs {
				m, err := filepath.Glob(g)
				require.NoError(t, err)
				files = append(files, m...)
			}
			require.NotEmpty(t, files)
			for _, f := range files {
				require.NoError(t, sch.Validate(instance(t, f)), f)
			}
			bad := filepath.Join(t.TempDir(), "bad.yaml")
			require.NoError(t, os.WriteFile(bad, []byte(tt.bad), 0o644))
			assert.Error(t, sch.Validate(instance(t, bad)))
		})
	}
}
