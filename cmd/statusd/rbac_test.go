package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRBACCommand(t *testing.T) {
	const cat = "testdata/rbac/catalog.yaml"
	tests := []struct {
		name string
		args []string
		exit int
	}{
		{name: "defaults", args: []string{"--catalog", cat}},
		{name: "rules", args: []string{"--catalog", cat, "-o", "rules"}},
		{name: "names", args: []string{"--catalog", cat, "--name", "diag", "--namespace", "monitoring", "--lease", "diag-leader", "--catalog-configmap", "diag-rules"}},
		{name: "no-configmap", args: []string{"--catalog", cat, "--catalog-configmap="}},
		{name: "secrets-refused", args: []string{"--catalog", "testdata/rbac/secrets.yaml"}, exit: 1},
		{name: "missing-catalogue", args: []string{"--catalog", "testdata/rbac/missing.yaml"}, exit: 1},
		{name: "bad-output", args: []string{"-o", "xml"}, exit: 2},
		{name: "json", args: []string{"--catalog", cat, "-o", "json"}},
		{name: "stray-argument", args: []string{cat}, exit: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"rbac"}, tt.args...), &stdout, &stderr)
			assert.Equal(t, tt.exit, code, "exit code; stderr:\n%s", stderr.String())
			got := fmt.Sprintf("$ statusd rbac %s\n-- stdout --\n%s-- stderr --\n%s-- exit %d --\n",
				strings.Join(tt.args, " "), stdout.String(), stderr.String(), code)
			rbacGolden(t, filepath.Join("testdata", "rbac", "golden", tt.name+".txt"), got)
		})
	}
}

// TestRBACRulesMatchChart checks the Helm chart's ClusterRole rules are
// exactly what `statusd rbac -o rules` prints for the shipped catalogue.
func TestRBACRulesMatchChart(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run([]string{"rbac", "-o", "rules"}, &stdout, &stderr), stderr.String())
	chartRules, err := os.ReadFile(filepath.Join("..", "..", "charts", "statusd", "files", "clusterrole-rules.yaml"))
	require.NoError(t, err)
	assert.Equal(t, stdout.String(), string(chartRules), "charts/statusd/files/clusterrole-rules.yaml is stale: run make generate")
}

func rbacGolden(t *testing.T, path, got string) {
	t.Helper()
	if flag.Lookup("update").Value.String() == "true" {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file: run go test ./cmd/statusd -run TestRBACCommand -update")
	assert.Equal(t, string(want), got, "stale golden file %s: run go test ./cmd/statusd -run TestRBACCommand -update and review the diff", path)
}
