package main

import (
	"bytes"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"golang.org/x/term"
)

// terminalWidth returns the width of the terminal w writes to, or 0 when w
// is not a terminal (a pipe, a file, a test's buffer): then output stays
// plain, every line whole, for grep and scripts.
func terminalWidth(w io.Writer) int {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return 0
	}
	width, _, err := term.GetSize(int(f.Fd()))
	if err != nil || width <= 0 {
		return 0
	}
	return width
}

// fitTable runs table into a buffer and writes it to w with every line cut
// to width characters (an ellipsis marks a cut), as kubectl does not but
// as a wide table in a narrow terminal needs: wrapped rows lose their
// columns. width 0 writes the table unchanged.
func fitTable(w io.Writer, width int, table func(io.Writer) error) error {
	if width <= 0 {
		return table(w)
	}
	var buf bytes.Buffer
	if err := table(&buf); err != nil {
		return err
	}
	lines := strings.SplitAfter(buf.String(), "\n")
	var out strings.Builder
	for _, l := range lines {
		nl := strings.HasSuffix(l, "\n")
		l = strings.TrimSuffix(l, "\n")
		out.WriteString(fitLine(l, width))
		if nl {
			out.WriteByte('\n')
		}
	}
	_, err := io.WriteString(w, out.String())
	return err
}

// fitLine cuts line to at most width characters, counting runes (the
// table's text is mostly ASCII; wide runes may overrun by a column).
func fitLine(line string, width int) string {
	if utf8.RuneCountInString(line) <= width {
		return line
	}
	runes := []rune(line)
	return strings.TrimRight(string(runes[:width-1]), " ") + "…"
}
