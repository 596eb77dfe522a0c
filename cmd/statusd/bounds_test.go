package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"statusd.io/statusd/internal/cpuclock"
	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/loader"
)

// TestCompileBounds runs commands that load a catalogue on catalogues
// written to stall the compiler, and checks that each is refused with a
// positioned error naming the bound, within the compile budget plus the
// most one expression takes (docs/bounds.md).
func TestCompileBounds(t *testing.T) {
	dir := t.TempDir()
	header := "apiVersion: statusd.io/v1alpha1\nkind: Catalog\nmetadata: {name: h, version: \"1\"}\nsources:\n  pods: {version: v1, resource: pods}\nreasons:\n"
	write := func(name string, n int, when string) string {
		var b strings.Builder
		b.WriteString(header)
		for i := range n {
			fmt.Fprintf(&b, "- name: R%d\n  subject: pods\n  when: %q\n  summary: s\n", i, when)
		}
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(b.String()), 0o600))
		return p
	}
	// The case: 30 reasons, list literals 240 deep, 16 KB.
	deep := write("deep.yaml", 30, "size("+strings.Repeat("[", 240)+"1"+strings.Repeat("]", 240)+") == 1")
	nested := write("nested.yaml", 1, "size("+strings.Repeat("[", cel.MaxLiteralNesting+1)+"1"+strings.Repeat("]", cel.MaxLiteralNesting+1)+") == 1")
	long := write("long.yaml", 1, strings.Repeat(`object.metadata.name == "x" || `, cel.MaxExpressionSize/30)+"false")
	// The longest expressions allowed, the ones cel-go's checker is
	// slowest on, enough of them to take well over a second.
	slow := write("slow.yaml", 60, strings.Repeat(`object.spec.containers.exists(c, c.name == "x") || `, (cel.MaxExpressionSize-100)/51)+"false")

	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "lint: the issue's deep lists", args: []string{"lint", "rules", deep}, want: "deep.yaml:9:9: reason R0: when: expression recursion limit exceeded: 100"},
		{name: "lint: literals one level too deep", args: []string{"lint", "rules", nested}, want: "nested.yaml:9:31: reason R0: when: list and map literals nested 17 deep, more than the limit of 16"},
		{name: "lint: an expression too long", args: []string{"lint", "rules", long}, want: "long.yaml:9:9: reason R0: when: expression code point size exceeds limit: size: 8468, limit 8192"},
		{name: "lint: over the compile budget", args: []string{"lint", "rules", "--max-compile-time", "1s", slow}, want: "when: compile budget exhausted: compiling the catalogue took more than 1s of CPU time, so it is refused"},
		{name: "eval: over the compile budget", args: []string{"eval", "--max-compile-time", "1s", "--catalog", slow, "--snapshot", "../../examples/addons-snapshot.yaml"}, want: "raise --max-compile-time"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer func() { loader.CompileBudget = cel.DefaultCompileBudget }()
			var out, errOut bytes.Buffer
			start := cpuclock.Now()
			code := run(tc.args, &out, &errOut)
			spent := cpuclock.Now() - start
			all := out.String() + errOut.String()
			assert.NotEqual(t, 0, code, all)
			assert.Contains(t, all, tc.want)
			assert.Less(t, spent, cel.DefaultCompileBudget, "CPU time to refuse")
		})
	}
}
