package yamlpos_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"statusd.io/statusd/pkg/yamlpos"
)

var errKind = errors.New("invalid test file")

func heads(errs yamlpos.ErrorList) []string {
	out := make([]string, len(errs))
	for i, e := range errs {
		out[i] = e.Head()
	}
	return out
}

func TestPosString(t *testing.T) {
	tests := []struct {
		name string
		pos  yamlpos.Pos
		want string
	}{
		{name: "full", pos: yamlpos.Pos{File: "a.yaml", Line: 3, Col: 7}, want: "a.yaml:3:7"},
		{name: "no-column", pos: yamlpos.Pos{File: "a.yaml", Line: 3}, want: "a.yaml:3"},
		{name: "no-line", pos: yamlpos.Pos{File: "a.yaml", Col: 7}, want: "a.yaml"},
		{name: "nothing", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.pos.String())
		})
	}
}

func TestErrorFormat(t *testing.T) {
	pos := yamlpos.Pos{File: "a.yaml", Line: 4, Col: 9}
	tests := []struct {
		name string
		err  yamlpos.Error
		want string
	}{
		{
			name: "head-only",
			err:  yamlpos.Error{Pos: pos, Msg: "bad"},
			want: "a.yaml:4:9: bad",
		},
		{
			name: "reason",
			err:  yamlpos.Error{Pos: pos, Reason: "PodPending", Msg: "bad"},
			want: "a.yaml:4:9: reason PodPending: bad",
		},
		{
			name: "warning",
			err:  yamlpos.Error{Pos: pos, Reason: "PodPending", Msg: "unused", Warning: true},
			want: "a.yaml:4:9: warning: reason PodPending: unused",
		},
		{
			name: "caret",
			err:  yamlpos.Error{Pos: pos, Msg: "bad", Snippet: "  when: x +"},
			want: "a.yaml:4:9: bad\n |   when: x +\n |         ^",
		},
		{
			name: "caret-first-column",
			err:  yamlpos.Error{Pos: yamlpos.Pos{File: "a.yaml", Line: 1, Col: 1}, Msg: "bad", Snippet: "bogus: 1"},
			want: "a.yaml:1:1: bad\n | bogus: 1\n | ^",
		},
		{
			name: "caret-keeps-tabs",
			err:  yamlpos.Error{Pos: yamlpos.Pos{File: "a.yaml", Line: 1, Col: 4}, Msg: "bad", Snippet: "\t\tx y"},
			want: "a.yaml:1:4: bad\n | \t\tx y\n | \t\t ^",
		},
		{
			name: "caret-counts-characters",
			err:  yamlpos.Error{Pos: yamlpos.Pos{File: "a.yaml", Line: 1, Col: 13}, Msg: "bad", Snippet: `summary: "ü→" bogus`},
			want: "a.yaml:1:13: bad\n | summary: \"ü→\" bogus\n |             ^",
		},
		{
			name: "caret-past-end",
			err:  yamlpos.Error{Pos: yamlpos.Pos{File: "a.yaml", Line: 1, Col: 6}, Msg: "bad", Snippet: "ab"},
			want: "a.yaml:1:6: bad\n | ab\n |   ^",
		},
		{
			name: "no-column-no-caret",
			err:  yamlpos.Error{Pos: yamlpos.Pos{File: "a.yaml", Line: 2}, Msg: "bad", Snippet: "x: 1"},
			want: "a.yaml:2: bad",
		},
		{
			name: "no-position",
			err:  yamlpos.Error{Pos: yamlpos.Pos{File: "a.yaml"}, Msg: "read catalogue: boom"},
			want: "a.yaml: read catalogue: boom",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.err.Error())
			require.NotErrorIs(t, &tt.err, errKind, "no kind, no match")
			tt.err.Kind = errKind
			assert.ErrorIs(t, &tt.err, errKind)
		})
	}
}

func TestErrorList(t *testing.T) {
	var l yamlpos.ErrorList
	require.NoError(t, l.Err(), "empty")
	l.Warnf(yamlpos.Pos{File: "b.yaml", Line: 1, Col: 1}, "", "param %q is not used", "x")
	require.NoError(t, l.Err(), "warnings only")
	l.Errorf(yamlpos.Pos{File: "a.yaml", Line: 9, Col: 2}, "R", "second")
	l.Errorf(yamlpos.Pos{File: "a.yaml", Line: 2, Col: 5}, "", "first")
	l.Errorf(yamlpos.Pos{File: "a.yaml", Line: 9, Col: 1}, "", "before second")

	require.NotErrorIs(t, l.Err(), errKind, "entries without a kind")
	_ = l.WithKind(errKind)
	require.ErrorIs(t, l.Err(), errKind)
	assert.Len(t, l.Errors(), 3)
	assert.Len(t, l.Warnings(), 1)
	assert.True(t, l.Warnings()[0].Warning)

	l.Sort()
	assert.Equal(t, []string{
		"a.yaml:2:5: first",
		"a.yaml:9:1: before second",
		"a.yaml:9:2: reason R: second",
		`b.yaml:1:1: warning: param "x" is not used`,
	}, heads(l))

	f := yamlpos.NewFile("a.yaml", []byte("l1\nl2 abcd\n"))
	l.AttachSnippets([]*yamlpos.File{f})
	assert.Equal(t, "l2 abcd", l[0].Snippet)
	assert.Empty(t, l[3].Snippet, "no such file")
	assert.Equal(t, "a.yaml:2:5: first\n | l2 abcd\n |     ^", l[0].Error())
	assert.Equal(t, l[0].Error()+"\n"+l[1].Error()+"\n"+l[2].Error()+"\n"+l[3].Error(), l.Error())

	var e *yamlpos.Error
	require.ErrorAs(t, l.Err(), &e)
	assert.Equal(t, "first", e.Msg, "errors.As finds the first entry")
	assert.Len(t, l.Unwrap(), 4)
	assert.NotErrorIs(t, l, errors.New("other"))
}
