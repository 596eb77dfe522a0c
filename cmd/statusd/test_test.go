package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestTestRules covers the ways a rule-test run must not pass vacuously.
func TestTestRules(t *testing.T) {
	const dir = "testdata/test/"
	tests := []struct {
		name string
		args []string
		exit int
	}{
		{name: "passes-with-one-line-coverage", args: []string{dir + "quiet.yaml"}, exit: 0},
		{name: "verbose-lists-gaps", args: []string{"-v", dir + "quiet.yaml"}, exit: 0},
		{name: "require-coverage-lists-gaps", args: []string{"--require-coverage", dir + "quiet.yaml"}, exit: 1},
		{name: "vacuous-expectations", args: []string{dir + "vacuous.yaml"}, exit: 1},
		{name: "file-without-cases", args: []string{dir + "empty.yaml"}, exit: 1},
		{name: "run-matches-nothing", args: []string{"--run", "no such case", dir + "quiet.yaml"}, exit: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"test", "rules"}, tt.args...), &stdout, &stderr)
			assert.Equal(t, tt.exit, code, "exit code; stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
			got := fmt.Sprintf("$ statusd test rules %s\n-- stdout --\n%s-- stderr --\n%s-- exit %d --\n",
				strings.Join(tt.args, " "), stdout.String(), stderr.String(), code)
			lintGolden(t, filepath.Join("testdata", "test", "golden", tt.name+".txt"), got)
		})
	}
}
