package series

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/common/model"
)

// MatchType is how a label matcher compares a label's value.
type MatchType uint8

// The four matchers of PromQL. Regular expressions are RE2, anchored at
// both ends as in PromQL.
const (
	MatchEqual MatchType = iota
	MatchNotEqual
	MatchRegexp
	MatchNotRegexp
)

// String returns the operator as written in a selector.
func (t MatchType) String() string {
	switch t {
	case MatchEqual:
		return "="
	case MatchNotEqual:
		return "!="
	case MatchRegexp:
		return "=~"
	case MatchNotRegexp:
		return "!~"
	}
	return fmt.Sprintf("MatchType(%d)", uint8(t))
}

type matcher struct {
	name  string
	typ   MatchType
	value string
	re    *regexp.Regexp
}

func (m *matcher) matches(v string) bool {
	switch m.typ {
	case MatchEqual:
		return v == m.value
	case MatchNotEqual:
		return v != m.value
	case MatchRegexp:
		return m.re.MatchString(v)
	default:
		return !m.re.MatchString(v)
	}
}

// Selector picks series by metric name and label matchers, in PromQL's
// instant-selector syntax: vllm:num_requests_waiting{model_name=~"llama.*"}.
// Parse it once, when the rule is compiled, and use it on every query; it
// is immutable and safe for concurrent use.
type Selector struct {
	name     string
	bucket   string // name + "_bucket", built once for Quantile's look-ups
	matchers []matcher
	text     string
}

// ParseSelector parses a selector: a metric name (colons allowed), a brace
// list of matchers (label="v", label!="v", label=~"re", label!~"re"), or
// both. Label values are quoted with ", ' or ` as in PromQL; a quoted
// string alone in the braces is the metric name, as in PromQL 3, for names
// outside the legacy character set. Like PromQL it refuses a selector that
// would match every series. Errors are *SyntaxError.
func ParseSelector(s string) (*Selector, error) {
	p := &textParser{in: s, kind: "selector"}
	sel, err := p.selector()
	if err != nil {
		return nil, err
	}
	if sel.name != "" {
		sel.bucket = sel.name + "_bucket"
	}
	if sel.name == "" {
		empty := true
		for i := range sel.matchers {
			empty = empty && sel.matchers[i].matches("")
		}
		if empty {
			return nil, p.errorAt(0, "a selector needs a metric name or a matcher that does not match the empty string")
		}
	}
	return sel, nil
}

// ParseSeries parses one series written as a selector with only equality
// matchers, such as vllm:num_requests_running{model_name="llama"}: the
// form promtool test files name their input series in.
func ParseSeries(s string) (Series, error) {
	p := &textParser{in: s, kind: "series"}
	sel, err := p.selector()
	if err != nil {
		return Series{}, err
	}
	if sel.name == "" {
		return Series{}, p.errorAt(0, "a series needs a metric name")
	}
	x := Series{Name: sel.name}
	for _, m := range sel.matchers {
		if m.typ != MatchEqual {
			return Series{}, p.errorAt(0, fmt.Sprintf("label %q: a series takes only = matchers, not %s", m.name, m.typ))
		}
		x.Labels = append(x.Labels, Label{Name: m.name, Value: m.value})
	}
	c, err := canonical(x)
	if err != nil {
		return Series{}, p.errorAt(0, err.Error())
	}
	return c, nil
}

// Name returns the metric name the selector requires, or "" when it selects
// by matchers only.
func (s *Selector) Name() string {
	return s.name
}

// String returns the selector as it was written, for messages.
func (s *Selector) String() string {
	return s.text
}

// Matches reports whether the selector picks x.
func (s *Selector) Matches(x Series) bool {
	if s.name != "" && x.Name != s.name {
		return false
	}
	return s.matchLabels(x)
}

func (s *Selector) matchLabels(x Series) bool {
	for i := range s.matchers {
		m := &s.matchers[i]
		v := x.Name
		if m.name != model.MetricNameLabel {
			v = x.Labels.Get(m.name)
		}
		if !m.matches(v) {
			return false
		}
	}
	return true
}

// textParser is a small hand-written scanner shared by the selector, series
// and values grammars; each keeps its own entry point.
type textParser struct {
	in   string
	pos  int
	kind string
}

func (p *textParser) errorAt(offset int, msg string) *SyntaxError {
	return &SyntaxError{Kind: p.kind, Input: p.in, Offset: offset, Msg: msg}
}

func (p *textParser) errorf(format string, args ...any) *SyntaxError {
	return p.errorAt(p.pos, fmt.Sprintf(format, args...))
}

func (p *textParser) skipSpace() {
	for p.pos < len(p.in) && isSpace(p.in[p.pos]) {
		p.pos++
	}
}

// peek returns the next byte, or 0 at the end of the input.
func (p *textParser) peek() byte {
	if p.pos < len(p.in) {
		return p.in[p.pos]
	}
	return 0
}

// found describes the next byte for error messages.
func (p *textParser) found() string {
	if p.pos >= len(p.in) {
		return "end of input"
	}
	r, _ := utf8.DecodeRuneInString(p.in[p.pos:])
	return strconv.QuoteRune(r)
}

func (p *textParser) selector() (*Selector, error) {
	sel := &Selector{text: strings.TrimSpace(p.in)}
	p.skipSpace()
	if isNameStart(p.peek()) {
		start := p.pos
		for p.pos < len(p.in) && isNameChar(p.in[p.pos]) {
			p.pos++
		}
		sel.name = p.in[start:p.pos]
		p.skipSpace()
	}
	if p.peek() == '{' {
		p.pos++
		if err := p.matchers(sel); err != nil {
			return nil, err
		}
		p.skipSpace()
	}
	if p.pos < len(p.in) {
		return nil, p.errorf("unexpected %s", p.found())
	}
	if sel.name == "" && len(sel.matchers) == 0 {
		return nil, p.errorAt(0, "empty selector")
	}
	return sel, nil
}

// matchers parses the inside of a brace list, the '{' already consumed.
func (p *textParser) matchers(sel *Selector) error {
	for {
		p.skipSpace()
		if p.peek() == '}' {
			p.pos++
			return nil
		}
		start := p.pos
		var name string
		quoted := isQuote(p.peek())
		switch {
		case quoted:
			var err error
			if name, err = p.str(); err != nil {
				return err
			}
		case isLabelStart(p.peek()):
			for p.pos < len(p.in) && isLabelChar(p.in[p.pos]) {
				p.pos++
			}
			name = p.in[start:p.pos]
		default:
			return p.errorf("expected a label name or '}', found %s", p.found())
		}
		p.skipSpace()
		if quoted && (p.peek() == ',' || p.peek() == '}') {
			// A quoted string on its own names the metric.
			if sel.name != "" {
				return p.errorAt(start, "metric name given twice")
			}
			sel.name = name
		} else {
			if name == "" {
				return p.errorAt(start, "empty label name")
			}
			m, err := p.matcher(name)
			if err != nil {
				return err
			}
			if m.name == model.MetricNameLabel && m.typ == MatchEqual {
				if sel.name != "" {
					return p.errorAt(start, "metric name given twice")
				}
				sel.name = m.value
			} else {
				sel.matchers = append(sel.matchers, m)
			}
		}
		p.skipSpace()
		switch p.peek() {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return nil
		default:
			return p.errorf("expected ',' or '}', found %s", p.found())
		}
	}
}

// matcher parses an operator and a quoted value after a label name.
func (p *textParser) matcher(name string) (matcher, error) {
	m := matcher{name: name}
	switch {
	case strings.HasPrefix(p.in[p.pos:], "=~"):
		m.typ = MatchRegexp
	case strings.HasPrefix(p.in[p.pos:], "!~"):
		m.typ = MatchNotRegexp
	case strings.HasPrefix(p.in[p.pos:], "!="):
		m.typ = MatchNotEqual
	case p.peek() == '=':
		m.typ = MatchEqual
	default:
		return m, p.errorf("expected one of = != =~ !~ after label %q, found %s", name, p.found())
	}
	p.pos += len(m.typ.String())
	p.skipSpace()
	if !isQuote(p.peek()) {
		return m, p.errorf("expected a quoted label value, found %s", p.found())
	}
	valueAt := p.pos
	v, err := p.str()
	if err != nil {
		return m, err
	}
	m.value = v
	if m.typ == MatchRegexp || m.typ == MatchNotRegexp {
		// Anchored like PromQL: label=~"a" matches "a", not "ab".
		if m.re, err = regexp.Compile("^(?:" + v + ")$"); err != nil {
			return m, p.errorAt(valueAt, fmt.Sprintf("label %q: invalid regular expression: %v", name, err))
		}
	}
	return m, nil
}

// str parses a string quoted as in PromQL: "..." and '...' with Go escapes,
// `...` raw.
func (p *textParser) str() (string, error) {
	start := p.pos
	q := p.in[p.pos]
	p.pos++
	end := -1
	for i := p.pos; i < len(p.in); i++ {
		c := p.in[i]
		if c == q {
			end = i
			break
		}
		if c == '\\' && q != '`' {
			i++
		} else if c == '\n' && q != '`' {
			break
		}
	}
	if end < 0 {
		return "", p.errorAt(start, "unterminated quoted string")
	}
	p.pos = end + 1
	raw := p.in[start+1 : end]
	var s string
	switch q {
	case '`':
		s = raw
	case '"':
		var err error
		if s, err = strconv.Unquote(p.in[start : end+1]); err != nil {
			return "", p.errorAt(start, "invalid escape in quoted string")
		}
	default:
		// Go has no single-quoted strings: re-quote the text with double
		// quotes, trading \' for ' and " for \".
		var b strings.Builder
		b.WriteByte('"')
		for i := 0; i < len(raw); i++ {
			switch c := raw[i]; {
			case c == '\\' && i+1 < len(raw) && raw[i+1] == '\'':
				b.WriteByte('\'')
				i++
			case c == '\\' && i+1 < len(raw):
				b.WriteString(raw[i : i+2])
				i++
			case c == '"':
				b.WriteString(`\"`)
			default:
				b.WriteByte(c)
			}
		}
		b.WriteByte('"')
		var err error
		if s, err = strconv.Unquote(b.String()); err != nil {
			return "", p.errorAt(start, "invalid escape in quoted string")
		}
	}
	if !utf8.ValidString(s) {
		return "", p.errorAt(start, "quoted string is not valid UTF-8")
	}
	return s, nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isQuote(c byte) bool { return c == '"' || c == '\'' || c == '`' }

func isLabelStart(c byte) bool {
	return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

func isLabelChar(c byte) bool { return isLabelStart(c) || ('0' <= c && c <= '9') }

func isNameStart(c byte) bool { return isLabelStart(c) || c == ':' }

func isNameChar(c byte) bool { return isLabelChar(c) || c == ':' }
