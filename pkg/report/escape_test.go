package report

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEscape(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "plain text unchanged", in: "Pod/ns/web-0 Insufficient cpu", want: "Pod/ns/web-0 Insufficient cpu"},
		{name: "newline and tab kept", in: "a\tb\nc", want: "a\tb\nc"},
		{name: "non-ASCII kept", in: "café ←→ 日本", want: "café ←→ 日本"},
		{name: "clear screen", in: "x\x1b[2Jy", want: `x\x1b[2Jy`},
		{name: "window title OSC", in: "\x1b]0;pwned\x07", want: `\x1b]0;pwned\x07`},
		{name: "carriage return overwrites a line", in: "ok\rFAIL", want: `ok\rFAIL`},
		{name: "backspace and NUL", in: "a\bb\x00", want: `a\x08b\x00`},
		{name: "DEL", in: "a\x7f", want: `a\x7f`},
		{name: "C1 CSI as UTF-8", in: "a\u009b2Jb", want: `a\u009b2Jb`},
		{name: "invalid UTF-8 byte", in: "a\xffb\x9b", want: `a\xffb\x9b`},
		{name: "empty", in: "", want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, Escape(tc.in))
			var b bytes.Buffer
			n, err := fmt.Fprint(EscapingWriter(&b), tc.in)
			require.NoError(t, err)
			assert.Equal(t, len(tc.in), n)
			assert.Equal(t, tc.want, b.String())
		})
	}
}

func TestEscapingWriterSplitC1(t *testing.T) {
	var b bytes.Buffer
	w := EscapingWriter(&b)
	_, _ = w.Write([]byte{'a', 0xc2})
	_, _ = w.Write([]byte{0x9b, 'b'})
	assert.Equal(t, `a\xc2\x9bb`, b.String())
}

func BenchmarkEscapePlain(b *testing.B) {
	s := "Pod/iaas-addon-kuberay-p3m9/kuberay-operator-7d9f8-xk2lp  AddonPodsUnschedulable←AddonInstallFailed  Insufficient cpu"
	for b.Loop() {
		_ = Escape(s)
	}
}
