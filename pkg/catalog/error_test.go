package catalog_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"statusd.io/statusd/pkg/catalog"
)

// TestExprLocate maps positions inside expressions, as cel-go reports them
// (1-based line, 0-based column), back to the file, for every scalar style.
func TestExprLocate(t *testing.T) {
	src := header + // lines 1-3
		"sources: {pods: {version: v1, resource: pods}}\n" + // 4
		"reasons:\n" + // 5
		"- name: Plain\n" + // 6
		"  subject: pods\n" + // 7
		"  summary: s\n" + // 8
		"  when: a && b.c\n" + // 9
		"  message: |\n" + // 10
		"    \"x\" +\n" + // 11
		"      y.z\n" + // 12
		"  grace: {for: 1m, since: \"object.x\"}\n" + // 13
		"  suppresses: [{reason: Flow, join: {key: 'k + \"\"'}}]\n" + // 14
		"- {name: Flow, subject: pods, summary: s, when: \"p || q\"}\n" + // 15
		"- name: Folded\n" + // 16
		"  subject: pods\n" + // 17
		"  summary: s\n" + // 18
		"  when: >\n" + // 19
		"    aaa &&\n" + // 20
		"    bbb\n" + // 21
		"  message: |-  # a comment after the indicator\n" + // 22
		"\n" + // 23
		"    m1\n" + // 24
		"    m2\n" + // 25
		"- name: MultiLinePlain\n" + // 26
		"  subject: pods\n" + // 27
		"  summary: s\n" + // 28
		"  when: aaa &&\n" + // 29
		"    bbb\n" // 30
	c, errs := parse(src)
	require.Empty(t, errs)
	at := func(line, col int) catalog.Pos { return catalog.Pos{File: "t.yaml", Line: line, Col: col} }

	tests := []struct {
		name      string
		expr      catalog.Expr
		text      string
		pos       catalog.Pos
		line, col int
		want      catalog.Pos
	}{
		{name: "plain-start", expr: c.Reason("Plain").When, text: "a && b.c", pos: at(9, 9), line: 1, col: 0, want: at(9, 9)},
		{name: "plain-token", expr: c.Reason("Plain").When, line: 1, col: 5, want: at(9, 14)},
		{name: "line-zero-is-first-line", expr: c.Reason("Plain").When, line: 0, col: 2, want: at(9, 11)},
		{name: "literal-first-line", expr: c.Reason("Plain").Message, text: "\"x\" +\n  y.z\n", pos: at(11, 5), line: 1, col: 4, want: at(11, 9)},
		{name: "literal-second-line", expr: c.Reason("Plain").Message, line: 2, col: 4, want: at(12, 9)},
		{name: "double-quoted", expr: c.Reason("Plain").Grace.Since, text: "object.x", pos: at(13, 28), line: 1, col: 7, want: at(13, 35)},
		{name: "single-quoted-key", expr: c.Reason("Plain").Suppresses[0].Join.Key, text: `k + ""`, pos: at(14, 44), line: 1, col: 2, want: at(14, 46)},
		{name: "flow-mapping", expr: c.Reason("Flow").When, text: "p || q", pos: at(15, 50), line: 1, col: 5, want: at(15, 55)},
		{name: "folded-first-line", expr: c.Reason("Folded").When, text: "aaa && bbb\n", pos: at(20, 5), line: 1, col: 4, want: at(20, 9)},
		{name: "folded-later-line", expr: c.Reason("Folded").When, line: 2, col: 3, want: at(20, 5)},
		{name: "literal-after-blank-line", expr: c.Reason("Folded").Message, text: "\nm1\nm2", pos: at(24, 5), line: 3, col: 1, want: at(25, 6)},
		{name: "literal-first-content-line", expr: c.Reason("Folded").Message, line: 2, col: 0, want: at(24, 5)},
		{name: "multi-line-plain", expr: c.Reason("MultiLinePlain").When, text: "aaa && bbb", pos: at(29, 9), line: 1, col: 4, want: at(29, 13)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.text != "" {
				assert.Equal(t, tt.text, tt.expr.Text)
				assert.Equal(t, tt.pos, tt.expr.Pos)
			}
			assert.Equal(t, tt.want, tt.expr.Locate(tt.line, tt.col))
		})
	}
}

// TestCaretFromDecoder checks end to end that columns the decoder reports
// after non-ASCII text line up with the caret.
func TestCaretFromDecoder(t *testing.T) {
	_, errs := parse(header + "params: {greeting: \"grüß → dich\", bogus: [1, 2], 3: x}\nbogus: 1\n")
	require.Len(t, errs, 2)
	assert.Equal(t, "t.yaml:4:53: param name \"3\" must be an identifier (letters, digits, _)\n"+
		" | params: {greeting: \"grüß → dich\", bogus: [1, 2], 3: x}\n"+
		" |                                                     ^", errs[0].Error())
	assert.Equal(t, "t.yaml:5:1: unknown field \"bogus\"\n | bogus: 1\n | ^", errs[1].Error())
}
