package catalog

import (
	"fmt"
	"strings"
)

// PromQLError is a structural error in a PromQL query, at a 1-based line
// and 0-based column of the query text (as Expr.Locate takes them).
type PromQLError struct {
	Line, Col int
	Msg       string
}

func (e *PromQLError) Error() string { return e.Msg }

// CheckPromQL checks the structure of a PromQL query: brackets that
// balance and match, string literals that end, and something to evaluate.
// It is deliberately not Prometheus's parser: importing
// github.com/prometheus/prometheus/promql/parser raises every Kubernetes
// module statusd builds on to the release Prometheus was built with (and
// client_golang and common with them), which would decide the Kubernetes
// version of the whole product for a lint message. The server parses each
// query anyway; its error, with its position, is what the reasons that
// read the source see (Unknown), and what `statusd lint
// --prometheus-url` could ask for. This check catches the mistakes YAML
// quoting makes likely (a lost bracket or quote) at lint time, with a
// position.
func CheckPromQL(q string) error {
	type open struct {
		c         byte
		line, col int
	}
	var stack []open
	line, col := 1, 0
	closer := map[byte]byte{')': '(', ']': '[', '}': '{'}
	content := false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\n':
			line, col = line+1, 0
			continue
		case c == '#':
			// A comment runs to the end of the line.
			for i+1 < len(q) && q[i+1] != '\n' {
				i++
			}
		case c == '"' || c == '\'' || c == '`':
			sl, sc := line, col
			i++
			col++
			for ; i < len(q) && q[i] != c; i++ {
				switch {
				case q[i] == '\\' && c != '`' && i+1 < len(q):
					i++
					col++
				case q[i] == '\n':
					if c != '`' {
						return &PromQLError{sl, sc, "string literal is not terminated on its line"}
					}
					line, col = line+1, -1
				}
				col++
			}
			if i == len(q) {
				return &PromQLError{sl, sc, "string literal is not terminated"}
			}
			content = true
		case c == '(' || c == '[' || c == '{':
			stack = append(stack, open{c, line, col})
		case closer[c] != 0:
			if len(stack) == 0 {
				return &PromQLError{line, col, fmt.Sprintf("unexpected %q", c)}
			}
			top := stack[len(stack)-1]
			if top.c != closer[c] {
				return &PromQLError{line, col, fmt.Sprintf("%q closes %q opened at line %d column %d", c, top.c, top.line, top.col+1)}
			}
			stack = stack[:len(stack)-1]
		case c != ' ' && c != '\t' && c != '\r':
			content = true
		}
		col++
	}
	if len(stack) > 0 {
		top := stack[len(stack)-1]
		return &PromQLError{top.line, top.col, fmt.Sprintf("%q is never closed", top.c)}
	}
	if !content || strings.TrimSpace(q) == "" {
		return &PromQLError{1, 0, "query is empty"}
	}
	return nil
}
