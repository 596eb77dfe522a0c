package report

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Escape makes text from the cluster or a catalogue safe to print to a
// terminal, as kubectl does: control characters (C0 but newline and tab,
// DEL, C1) and bytes that are not UTF-8 are written as Go escapes (\x1b,
// \r, \u009b, \xff), so that an object name holding an escape sequence
// cannot move the cursor, retitle the window or hide the lines above it.
// Everything else, including non-ASCII text, is unchanged.
func Escape(s string) string {
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if unsafeRune(r, n) {
			break
		}
		i += n
	}
	if i == len(s) {
		return s // the common case: nothing to escape, nothing allocated
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		writeRune(&b, s[i:i+n], r, n)
		i += n
	}
	return b.String()
}

func unsafeRune(r rune, n int) bool {
	switch {
	case r == utf8.RuneError && n == 1:
		return true
	case r == '\n' || r == '\t':
		return false
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	}
	return false
}

func writeRune(b *strings.Builder, raw string, r rune, n int) {
	switch {
	case !unsafeRune(r, n):
		b.WriteString(raw)
	case n == 1 && r == utf8.RuneError:
		fmt.Fprintf(b, `\x%02x`, raw[0])
	case r == '\r':
		b.WriteString(`\r`)
	case r < 0x80:
		fmt.Fprintf(b, `\x%02x`, r)
	default:
		fmt.Fprintf(b, `\u%04x`, r)
	}
}

// EscapingWriter returns a writer that passes everything written through
// Escape. Commands wrap their standard output and error in it once, so
// that every table, explain view, lint message and snippet, and rule-test
// diff is escaped without each printer having to remember. Each Write is
// escaped on its own: a multi-byte character split across two writes is
// escaped byte by byte rather than passed through, which is safe (a C1
// control split in two still cannot reach the terminal).
func EscapingWriter(w io.Writer) io.Writer { return escapingWriter{w} }

type escapingWriter struct{ w io.Writer }

func (e escapingWriter) Write(p []byte) (int, error) {
	s := Escape(string(p))
	if _, err := io.WriteString(e.w, s); err != nil {
		return 0, err
	}
	return len(p), nil
}
