package ruletest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/series"
)

func mustNotation(t *testing.T, s string) []series.Step {
	t.Helper()
	steps, err := series.ParseNotation(s)
	require.NoError(t, err)
	return steps
}

func newFile(name string, data []byte) *catalog.File { return catalog.NewFile(name, data) }
