package catalog

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIncludes(t *testing.T) {
	tests := []struct {
		name    string
		paths   []string
		reasons []string
		errs    []string
	}{
		{
			name:    "main file loads its includes once each, cycles and repeats included",
			paths:   []string{"testdata/includes/main.yaml"},
			reasons: []string{"A", "B", "C"},
		},
		{
			name:    "naming a part as well changes nothing",
			paths:   []string{"testdata/includes/main.yaml", "testdata/includes/part.yaml"},
			reasons: []string{"A", "B", "C"},
		},
		{
			name:    "a missing include is an error at the include",
			paths:   []string{"testdata/includes/broken.yaml"},
			reasons: []string{"A"},
			errs:    []string{"testdata/includes/broken.yaml:5:3: read catalogue: stat testdata/includes/missing.yaml: no such file or directory"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, errs := Load(tc.paths...)
			var got []string
			for _, e := range errs.Errors() {
				got = append(got, e.Head())
			}
			assert.Equal(t, tc.errs, got)
			var names []string
			for _, r := range c.Reasons {
				names = append(names, r.Name)
			}
			assert.ElementsMatch(t, tc.reasons, names)
		})
	}
}

func TestIncludesThroughFS(t *testing.T) {
	c, errs := LoadFS(os.DirFS("testdata/includes"), "main.yaml")
	require.NoError(t, errs.Err())
	require.Len(t, c.Reasons, 3)
}
