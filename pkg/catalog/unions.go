package catalog

import (
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"statusd.io/statusd/pkg/yamlpos"
)

// DecodeNode decodes an expression and records where its text starts, so
// that CEL errors point into the file.
func (e *Expr) DecodeNode(d *yamlpos.Decoder, n *yaml.Node) {
	s, ok := d.String(n)
	if !ok {
		return
	}
	e.Text = s
	e.Pos = d.Pos(n)
	switch {
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		// The node points at the | or > indicator; the text starts on the
		// next non-blank line, at its indentation.
		for line := n.Line + 1; line <= n.Line+1+strings.Count(s, "\n")+1; line++ {
			text := d.File().Line(line)
			if strings.TrimSpace(text) == "" {
				continue
			}
			e.Pos.Line = line
			e.Pos.Col = len(text) - len(strings.TrimLeft(text, " ")) + 1
			break
		}
		e.block = n.Style&yaml.LiteralStyle != 0
	case n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0:
		e.Pos.Col++
		e.quoted = true
	}
}

// DecodeNode decodes a duration, or a param name resolved by Validate.
func (du *Duration) DecodeNode(d *yamlpos.Decoder, n *yaml.Node) {
	du.Pos = d.Pos(n)
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" && n.Value == "0" {
		du.Raw = "0"
		return
	}
	if n.Kind == yaml.ScalarNode && (n.Tag == "!!int" || n.Tag == "!!float") {
		// Quoting would not help (a duration needs a unit), so say what
		// would.
		d.Errorf(n, "%v", &durationError{n.Value})
		return
	}
	s, ok := d.String(n)
	if !ok {
		return
	}
	du.Raw = s
	if isIdent(s) && !looksLikeDuration(s) {
		// A param name; Resolve fills D once params are known.
		du.Param = s
		return
	}
	v, err := ParseDuration(s)
	if err != nil {
		d.Errorf(n, "%v", err)
		return
	}
	du.D = v
}

// ParseDuration parses a duration in Prometheus's syntax (30s, 5m, 1h30m,
// 2d, 1w) or Go's (1.5h), so both communities' habits work; "0" is zero.
func ParseDuration(s string) (time.Duration, error) {
	if s == "0" {
		return 0, nil
	}
	if v, err := model.ParseDuration(s); err == nil {
		return time.Duration(v), nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, &durationError{s}
	}
	if v < 0 {
		return 0, &durationError{s}
	}
	return v, nil
}

type durationError struct{ s string }

func (e *durationError) Error() string {
	return "invalid duration " + strconv.Quote(e.s) + ": want a length such as 30s, 5m, 1h30m or 2d, or a param name"
}

func looksLikeDuration(s string) bool {
	return s != "" && s[0] >= '0' && s[0] <= '9'
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case i > 0 && r >= '0' && r <= '9':
		default:
			return false
		}
	}
	return true
}

// DecodeNode decodes a namespace name or glob, a list of them, or
// {names, selector}.
func (ns *Namespaces) DecodeNode(d *yamlpos.Decoder, n *yaml.Node) {
	switch n.Kind {
	case yaml.ScalarNode:
		if s, ok := d.String(n); ok {
			ns.Names = []string{s}
		}
	case yaml.SequenceNode:
		d.DecodeSlice(n, &ns.Names)
	case yaml.MappingNode:
		type plain Namespaces // without the DecodeNode method
		var p plain
		d.DecodeStruct(n, &p)
		*ns = Namespaces(p)
	default:
		d.Errorf(n, "expected a namespace name, glob, list or {names, selector}, got %s", yamlpos.Describe(n))
	}
}

// DecodeNode decodes a port number (1-65535) or name.
func (p *IntOrString) DecodeNode(d *yamlpos.Decoder, n *yaml.Node) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		i, err := strconv.Atoi(n.Value)
		if err != nil || i < 1 || i > 65535 {
			d.Errorf(n, "port %s out of range 1-65535", n.Value)
			return
		}
		p.Int = i
		return
	}
	if s, ok := d.String(n); ok {
		p.Str = s
	}
}

// DecodeNode decodes a grace window: a duration alone, or {for, since}.
func (g *Grace) DecodeNode(d *yamlpos.Decoder, n *yaml.Node) {
	if n.Kind == yaml.ScalarNode {
		g.For.DecodeNode(d, n)
		return
	}
	type plain Grace
	var p plain
	d.DecodeStruct(n, &p)
	*g = Grace(p)
}

// DecodeNode decodes a join: one of JoinKinds, or {key: <CEL>}.
func (j *Join) DecodeNode(d *yamlpos.Decoder, n *yaml.Node) {
	if n.Kind == yaml.ScalarNode {
		s, ok := d.String(n)
		if !ok {
			return
		}
		for _, k := range JoinKinds {
			if s == string(k) {
				j.Kind = k
				return
			}
		}
		names := make([]string, len(JoinKinds))
		for i, k := range JoinKinds {
			names[i] = string(k)
		}
		d.Errorf(n, "unknown join %q: want one of %s, or {key: <CEL>}%s", s, strings.Join(names, ", "), yamlpos.Suggest(s, names))
		j.Kind = JoinKind(s) // reported here; keeps validation from asking for a join again
		return
	}
	type plain Join
	var p plain
	d.DecodeStruct(n, &p)
	*j = Join(p)
	if j.Key.IsZero() && !d.OverLimit() {
		d.Errorf(n, "join mapping needs a key expression")
		return
	}
	j.Kind = JoinKey
}

// DecodeNode decodes a param value of any YAML type.
func (p *Param) DecodeNode(d *yamlpos.Decoder, n *yaml.Node) {
	p.Pos = d.Pos(n)
	var v any
	if err := n.Decode(&v); err != nil {
		d.Errorf(n, "%s", yamlpos.Message(err))
		return
	}
	p.Value = normalize(v)
}

// normalize turns yaml.v3's ints into int64, so that CEL sees one integer
// type whatever the value's size.
func normalize(v any) any {
	switch x := v.(type) {
	case int:
		return int64(x)
	case []any:
		for i := range x {
			x[i] = normalize(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = normalize(x[k])
		}
	}
	return v
}
