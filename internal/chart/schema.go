package chart

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// SchemaDraft is the JSON Schema dialect of values.schema.json: draft-07,
// which every helm 3 validates and editors understand.
const SchemaDraft = "http://json-schema.org/draft-07/schema#"

// Comment markers in values.yaml, in the manner of helm-docs and
// external-dns's chart.
const (
	// docMarker starts a key's description; the comment lines after it
	// continue it.
	docMarker = "# --"
	// schemaMarker adds one JSON-schema keyword to the key below it:
	// "# @schema minimum: 1". An explicit additionalProperties makes a
	// mapping pass-through (a Kubernetes type such as resources): its
	// default's keys are an example, not the schema.
	schemaMarker = "# @schema "
)

// ValuesSchema generates the JSON schema of a chart's values.yaml: one
// property per key, typed from its default, described by its `# --`
// comment, and with additionalProperties false on every mapping the chart
// owns, so that helm refuses a misspelt key instead of ignoring it. Every
// leaf (and every pass-through mapping) must be documented; a missing
// description is an error, as is a malformed @schema line.
func ValuesSchema(values []byte) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(values, &doc); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("values must be one YAML mapping")
	}
	g := &schemaGen{}
	root := g.node(doc.Content[0], "", "")
	if len(g.errs) > 0 {
		return nil, errors.Join(g.errs...)
	}
	root["$schema"] = SchemaDraft
	root["$comment"] = "Generated from values.yaml by internal/chart; do not edit. Run make generate."
	root["title"] = "statusd chart values"
	// Helm passes a parent chart's global values to a subchart; statusd
	// reads none, but must accept them.
	root["properties"].(map[string]any)["global"] = map[string]any{
		"type":        "object",
		"description": "Global values of a parent chart; statusd reads none.",
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(root); err != nil {
		return nil, fmt.Errorf("encode values schema: %w", err)
	}
	return b.Bytes(), nil
}

// schemaGen collects errors while walking values.yaml.
type schemaGen struct {
	errs []error
}

func (g *schemaGen) errorf(n *yaml.Node, format string, args ...any) {
	g.errs = append(g.errs, fmt.Errorf("line %d: %s", n.Line, fmt.Sprintf(format, args...)))
}

// node returns the schema of value n at path, described by the comment on
// its key (keyComment).
func (g *schemaGen) node(n *yaml.Node, path, keyComment string) map[string]any {
	s := map[string]any{}
	desc, keywords := g.parseComment(n, path, keyComment)
	if desc != "" {
		s["description"] = desc
	}
	for k, v := range keywords {
		s[k] = v
	}
	_, open := keywords["additionalProperties"]
	switch n.Kind {
	case yaml.MappingNode:
		setDefault(s, "type", "object")
		if open {
			if desc == "" {
				g.errorf(n, "%s: undocumented; add a %q comment", path, docMarker)
			}
			break
		}
		props := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			props[k.Value] = g.node(v, join(path, k.Value), k.HeadComment)
		}
		s["properties"] = props
		s["additionalProperties"] = false
	case yaml.SequenceNode:
		setDefault(s, "type", "array")
		if _, ok := s["items"]; !ok && len(n.Content) > 0 {
			s["items"] = g.node(n.Content[0], path+"[]", "# -- item")
			delete(s["items"].(map[string]any), "description")
		}
		if desc == "" {
			g.errorf(n, "%s: undocumented; add a %q comment", path, docMarker)
		}
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			g.errorf(n, "%s: %v", path, err)
			break
		}
		switch n.Tag {
		case "!!str":
			setDefault(s, "type", "string")
		case "!!int":
			setDefault(s, "type", "integer")
		case "!!float":
			setDefault(s, "type", "number")
		case "!!bool":
			setDefault(s, "type", "boolean")
		}
		if v != nil {
			s["default"] = v
		}
		if desc == "" {
			g.errorf(n, "%s: undocumented; add a %q comment", path, docMarker)
		}
	default:
		g.errorf(n, "%s: unsupported YAML node (anchors and aliases are not used in values)", path)
	}
	return s
}

// parseComment reads a key's head comment: the last paragraph that starts
// with docMarker is the description, and @schema lines in it add keywords.
// Earlier paragraphs (a file header) are not the key's.
func (g *schemaGen) parseComment(n *yaml.Node, path, comment string) (string, map[string]any) {
	lines := strings.Split(comment, "\n")
	start := -1
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), docMarker) {
			start = i
		}
	}
	keywords := map[string]any{}
	if start < 0 {
		return "", keywords
	}
	var desc []string
	for _, l := range lines[start:] {
		l = strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, schemaMarker):
			var kv map[string]any
			if err := yaml.Unmarshal([]byte(strings.TrimPrefix(l, schemaMarker)), &kv); err != nil || len(kv) != 1 {
				g.errorf(n, "%s: %q: want \"%skeyword: value\"", path, l, schemaMarker)
				continue
			}
			for k, v := range kv {
				keywords[k] = v
			}
		case strings.HasPrefix(l, docMarker):
			desc = append(desc, strings.TrimSpace(strings.TrimPrefix(l, docMarker)))
		case l == "#" || l == "":
			desc = append(desc, "")
		default:
			desc = append(desc, strings.TrimSpace(strings.TrimPrefix(l, "#")))
		}
	}
	return strings.TrimSpace(strings.ReplaceAll(strings.Join(desc, " "), "  ", " ")), keywords
}

func setDefault(s map[string]any, k string, v any) {
	if _, ok := s[k]; !ok {
		s[k] = v
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// valuesRow is one documented value, for the chart's README.
type valuesRow struct {
	key, typ, def, desc string
}

// valuesRows lists every documented value of values.yaml, in file order:
// leaves and pass-through mappings, with their type, default and
// description as the schema has them.
func valuesRows(values []byte) ([]valuesRow, error) {
	raw, err := ValuesSchema(values)
	if err != nil {
		return nil, err
	}
	var schema map[string]any
	if err := json.Unmarshal(raw, &schema); err != nil {
		return nil, fmt.Errorf("decode values schema: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(values, &doc); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	var rows []valuesRow
	var walk func(n *yaml.Node, s map[string]any, path string) error
	walk = func(n *yaml.Node, s map[string]any, path string) error {
		props, owned := s["properties"].(map[string]any)
		if n.Kind == yaml.MappingNode && owned {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i].Value
				if err := walk(n.Content[i+1], props[k].(map[string]any), join(path, k)); err != nil {
					return err
				}
			}
			return nil
		}
		var v any
		if err := n.Decode(&v); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		def, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		typ, _ := s["type"].(string)
		desc, _ := s["description"].(string)
		rows = append(rows, valuesRow{key: path, typ: typ, def: string(def), desc: desc})
		return nil
	}
	if err := walk(doc.Content[0], schema, ""); err != nil {
		return nil, err
	}
	return rows, nil
}
