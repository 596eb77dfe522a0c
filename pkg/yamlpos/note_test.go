package yamlpos_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"statusd.io/statusd/pkg/yamlpos"
)

// TestNotes checks that a note is neither an error nor a warning: lint
// prints it, and it never fails a run, even with --fatal-warnings.
func TestNotes(t *testing.T) {
	var l yamlpos.ErrorList
	l.Notef(yamlpos.Pos{File: "a.yaml", Line: 3, Col: 5}, "", "source %q stays untyped", "widgets")
	l.Notef(yamlpos.Pos{File: "a.yaml", Line: 3, Col: 5}, "", "source %q stays untyped", "widgets")
	require.NoError(t, l.Err())
	assert.Empty(t, l.Errors())
	assert.Empty(t, l.Warnings())
	assert.Equal(t, `a.yaml:3:5: note: source "widgets" stays untyped`, l[0].Head())
	assert.Len(t, l.Dedupe(), 1)
}
