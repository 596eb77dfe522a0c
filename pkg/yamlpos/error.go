package yamlpos

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Pos is a position in a YAML file. Line and Col are 1-based; a zero
// Line means the position is unknown.
type Pos struct {
	File string
	Line int
	Col  int
}

// String renders file:line:col, dropping what is unknown.
func (p Pos) String() string {
	switch {
	case p.Line == 0:
		return p.File
	case p.Col == 0:
		return p.File + ":" + strconv.Itoa(p.Line)
	}
	return p.File + ":" + strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Col)
}

// Error is one problem found in a file, at a position. Decoders, lint and
// the compiler produce lists of them, so that an operator sees every problem
// in one run, the way promtool check rules does.
type Error struct {
	// Pos is where the problem is.
	Pos Pos
	// Reason is the name of the catalogue reason the problem is in, if any;
	// formats without reasons leave it empty.
	Reason string
	// Msg says what is wrong, lowercase, without trailing punctuation.
	Msg string
	// Warning marks a finding that does not stop the catalogue from loading.
	Warning bool
	// Snippet is the source line, shown with a caret under Pos.Col.
	Snippet string
	// Kind is the format's sentinel (catalog.ErrInvalid,
	// snapshot.ErrInvalid, ...) that errors.Is matches; it separates a
	// user's broken file from statusd's own failures, and one format's from
	// another's.
	Kind error
}

// Error renders "file:line:col: reason X: message", then the snippet and a
// caret line when a snippet is known.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Head())
	if e.Snippet != "" && e.Pos.Col > 0 {
		b.WriteString("\n | ")
		b.WriteString(e.Snippet)
		b.WriteString("\n | ")
		b.WriteString(caret(e.Snippet, e.Pos.Col))
	}
	return b.String()
}

// Head is the one-line form without snippet.
func (e *Error) Head() string {
	var b strings.Builder
	b.WriteString(e.Pos.String())
	b.WriteString(": ")
	if e.Warning {
		b.WriteString("warning: ")
	}
	if e.Reason != "" {
		b.WriteString("reason ")
		b.WriteString(e.Reason)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Is matches the error's kind.
func (e *Error) Is(target error) bool { return e.Kind != nil && target == e.Kind }

// caret returns a line that puts ^ under the 1-based column col of line,
// keeping tabs so the caret lines up in a terminal. Columns count
// characters, not bytes, as yaml.v3 and cel-go count them.
func caret(line string, col int) string {
	var b strings.Builder
	i := 0
	for _, r := range line {
		if i >= col-1 {
			break
		}
		i++
		if r == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
	}
	b.WriteByte('^')
	return b.String()
}

// ErrorList is every problem found in one load. It is an error only when it
// holds at least one non-warning entry; see Err.
type ErrorList []*Error

// Error joins the entries, one per line.
func (l ErrorList) Error() string {
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Unwrap exposes the entries to errors.As.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// Errors returns the entries that are not warnings.
func (l ErrorList) Errors() ErrorList {
	var out ErrorList
	for _, e := range l {
		if !e.Warning {
			out = append(out, e)
		}
	}
	return out
}

// Warnings returns the entries that are warnings.
func (l ErrorList) Warnings() ErrorList {
	var out ErrorList
	for _, e := range l {
		if e.Warning {
			out = append(out, e)
		}
	}
	return out
}

// Err returns the list as an error when it holds an error, or nil when it
// holds only warnings or nothing.
func (l ErrorList) Err() error {
	if len(l.Errors()) == 0 {
		return nil
	}
	return l
}

// Sort orders entries by file, line and column, so output is stable
// whatever order the checks ran in.
func (l ErrorList) Sort() {
	slices.SortStableFunc(l, func(a, b *Error) int {
		return cmp.Or(
			cmp.Compare(a.Pos.File, b.Pos.File),
			cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Col, b.Pos.Col),
			cmp.Compare(a.Msg, b.Msg),
		)
	})
}

// Dedupe drops entries equal in position, reason, message and severity,
// keeping the first. A node reached through many aliases is validated once
// per alias, and each copy would otherwise repeat the same findings.
func (l ErrorList) Dedupe() ErrorList {
	type key struct {
		pos         Pos
		reason, msg string
		warning     bool
	}
	seen := make(map[key]bool, len(l))
	out := l[:0]
	for _, e := range l {
		k := key{e.Pos, e.Reason, e.Msg, e.Warning}
		if !seen[k] {
			seen[k] = true
			out = append(out, e)
		}
	}
	clear(l[len(out):])
	return out
}

// Errorf adds an error at pos.
func (l *ErrorList) Errorf(pos Pos, reason, format string, args ...any) {
	*l = append(*l, &Error{Pos: pos, Reason: reason, Msg: fmt.Sprintf(format, args...)})
}

// Warnf adds a warning at pos.
func (l *ErrorList) Warnf(pos Pos, reason, format string, args ...any) {
	*l = append(*l, &Error{Pos: pos, Reason: reason, Msg: fmt.Sprintf(format, args...), Warning: true})
}

// WithKind sets kind on the entries that have none and returns the list: a
// format's checks add entries with Errorf, and stamp the format's sentinel
// once on what they return.
func (l ErrorList) WithKind(kind error) ErrorList {
	for _, e := range l {
		if e.Kind == nil {
			e.Kind = kind
		}
	}
	return l
}

// AttachSnippets fills in the source line of entries that lack one, for the
// caret display.
func (l ErrorList) AttachSnippets(files []*File) {
	for _, e := range l {
		if e.Snippet != "" || e.Pos.Line == 0 {
			continue
		}
		for _, f := range files {
			if f.Name == e.Pos.File {
				e.Snippet = f.Line(e.Pos.Line)
				break
			}
		}
	}
}
