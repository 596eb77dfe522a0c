package main

import (
	"bytes"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFitTable(t *testing.T) {
	table := func(w io.Writer) error {
		_, err := io.WriteString(w, "SUBJECT      REASON   MESSAGE\nPod/ns/a     Pending  a long message that does not fit\nPod/ns/ü→    X        short\n")
		return err
	}
	tests := []struct {
		name  string
		width int
		want  string
	}{
		{name: "pipe keeps lines whole", width: 0, want: "SUBJECT      REASON   MESSAGE\nPod/ns/a     Pending  a long message that does not fit\nPod/ns/ü→    X        short\n"},
		{name: "wide terminal", width: 200, want: "SUBJECT      REASON   MESSAGE\nPod/ns/a     Pending  a long message that does not fit\nPod/ns/ü→    X        short\n"},
		{name: "narrow terminal", width: 30, want: "SUBJECT      REASON   MESSAGE\nPod/ns/a     Pending  a long…\nPod/ns/ü→    X        short\n"},
		{name: "cut in the padding", width: 14, want: "SUBJECT…\nPod/ns/a…\nPod/ns/ü→…\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			require.NoError(t, fitTable(&b, tt.width, table))
			assert.Equal(t, tt.want, b.String())
		})
	}
	assert.Equal(t, 0, terminalWidth(&bytes.Buffer{}), "a buffer is not a terminal")
}
