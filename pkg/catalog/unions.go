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
		if !e.block {
			e.segs = foldedSegments(d.File(), e.Text, e.Pos)
		}
	case n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0:
		e.Pos.Col++
		e.quoted = true
		e.segs = foldedSegments(d.File(), e.Text, e.Pos)
	default:
		e.segs = foldedSegments(d.File(), e.Text, e.Pos)
	}
}

// foldedSegments maps a folded or multi-line flow scalar's text back to
// its lines: YAML joined the lines with spaces, so each file line is found
// in the text in order, from where the previous one ended. A line that is
// not found as it is (an escape sequence in a quoted scalar) ends the map,
// and positions past it fall back to the first line.
func foldedSegments(f *yamlpos.File, text string, start Pos) []segment {
	var segs []segment
	cursor := 0
	// The text cannot span more lines than it has line breaks and blanks.
	last := start.Line + strings.Count(text, "\n") + strings.Count(text, " ") + 1
	for line := start.Line; cursor < len(text) && line <= last; line++ {
		raw := f.Line(line)
		col := len(raw) - len(strings.TrimLeft(raw, " ")) + 1
		if line == start.Line {
			col = start.Col
		}
		if col-1 > len(raw) {
			break
		}
		content := strings.TrimRight(raw[col-1:], " ")
		if content == "" {
			continue
		}
		// The line continues the text after the blanks YAML folded into
		// it. A closing quote or trailing comment is not part of the text,
		// so the line's longest prefix found there is what it holds: one
		// linear comparison, where searching for ever shorter prefixes took
		// time quadratic in the line's length (minutes for a mebibyte).
		at := cursor + len(text[cursor:]) - len(strings.TrimLeft(text[cursor:], " \t\n"))
		n := commonPrefix(content, text[at:])
		if n == 0 {
			break
		}
		segs = append(segs, segment{off: at, line: line, col: col})
		cursor = at + n
	}
	if len(segs) < 2 {
		return nil
	}
	return segs
}

// commonPrefix returns the length of the longest common prefix of a and b.
func commonPrefix(a, b string) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
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
