// Package chart keeps the Helm chart in charts/statusd honest: it
// generates the chart's derived files from their sources of truth, and
// renders the chart with the helm binary for tests.
//
// These files of the chart are generated, never edited (make generate
// writes them, make verify and this package's tests fail when they drift):
//
//   - files/catalog/*.yaml, copies of the shipped catalogue (rules/), which
//     the chart's ConfigMap serves to statusd;
//   - files/clusterrole-rules.yaml, the ClusterRole's rules as `statusd rbac
//     -o rules` prints them for the shipped catalogue (pkg/rbac), so that the
//     chart grants exactly what the catalogue it ships watches;
//   - values.schema.json, from values.yaml and its `# --` comments, so that
//     helm refuses a misspelt or mistyped value instead of ignoring it;
//   - README.md, whose values table comes from the same comments.
//
// Render runs helm template with the pinned helm in bin/ and Applier
// server-side applies the result, so that the chart's tests on the local
// control plane and the demo install the chart the same way.
//
// It lives in internal/ because only statusd's own build and tests use it.
package chart

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/loader"
	"statusd.io/statusd/pkg/rbac"
)

// Paths of the generated files, relative to the chart directory.
const (
	// CatalogDir holds the shipped catalogue's files.
	CatalogDir = "files/catalog"
	// RulesFile holds the ClusterRole's rules.
	RulesFile = "files/clusterrole-rules.yaml"
	// SchemaFile is the values schema.
	SchemaFile = "values.schema.json"
	// ValuesFile is the documented values the schema is generated from.
	ValuesFile = "values.yaml"
)

// Dir returns charts/statusd in the source tree this package was compiled
// from (tests and make generate run there), or relative to the working
// directory of a test in this package when the build trimmed paths.
func Dir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok || !filepath.IsAbs(file) {
		return filepath.Join("..", "..", "charts", "statusd")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "charts", "statusd")
}

// RepoRoot returns the repository root above Dir.
func RepoRoot() string { return filepath.Clean(filepath.Join(Dir(), "..", "..")) }

// Generated computes every generated file of the chart in dir (path
// relative to dir → content) from the shipped catalogue and dir's
// values.yaml.
func Generated(dir string) (map[string][]byte, error) {
	out := map[string][]byte{}
	res := loader.Embedded(cel.Options{})
	if err := res.Err(); err != nil {
		return nil, fmt.Errorf("load shipped catalogue: %w", res.Problems.Errors())
	}
	for _, f := range res.Files {
		out[CatalogDir+"/"+f.Name] = f.Data
	}
	rulesYAML, err := rbac.RulesYAML(res.Source)
	if err != nil {
		return nil, fmt.Errorf("rbac for the shipped catalogue: %w", err)
	}
	out[RulesFile] = rulesYAML
	values, err := os.ReadFile(filepath.Join(dir, ValuesFile))
	if err != nil {
		return nil, fmt.Errorf("read chart values: %w", err)
	}
	schema, err := ValuesSchema(values)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ValuesFile, err)
	}
	out[SchemaFile] = schema
	readme, err := Readme(values)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ValuesFile, err)
	}
	out[ReadmeFile] = readme
	return out, nil
}

// Stale compares the generated files with those in dir and describes each
// difference: a file that differs, is missing, or (in CatalogDir) is no
// longer generated. Empty means up to date.
func Stale(dir string, want map[string][]byte) ([]string, error) {
	var stale []string
	for _, path := range sortedKeys(want) {
		got, err := os.ReadFile(filepath.Join(dir, path))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			stale = append(stale, path+": missing")
		case err != nil:
			return nil, fmt.Errorf("read %s: %w", path, err)
		case !bytes.Equal(got, want[path]):
			stale = append(stale, path+": differs"+firstDiff(got, want[path]))
		}
	}
	extra, err := extraCatalogFiles(dir, want)
	if err != nil {
		return nil, err
	}
	for _, path := range extra {
		stale = append(stale, path+": not in rules/ any more")
	}
	return stale, nil
}

// Write writes the generated files into dir and removes catalogue files
// that are no longer generated.
func Write(dir string, files map[string][]byte) error {
	extra, err := extraCatalogFiles(dir, files)
	if err != nil {
		return err
	}
	for _, path := range extra {
		if err := os.Remove(filepath.Join(dir, path)); err != nil {
			return fmt.Errorf("remove stale %s: %w", path, err)
		}
	}
	for _, path := range sortedKeys(files) {
		full := filepath.Join(dir, path)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		if err := os.WriteFile(full, files[path], 0o644); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	return nil
}

// extraCatalogFiles lists the YAML files in dir's CatalogDir that files
// does not hold.
func extraCatalogFiles(dir string, files map[string][]byte) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(dir, CatalogDir))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("list %s: %w", CatalogDir, err)
	}
	var extra []string
	for _, e := range entries {
		path := CatalogDir + "/" + e.Name()
		if _, ok := files[path]; !ok && strings.HasSuffix(e.Name(), ".yaml") {
			extra = append(extra, path)
		}
	}
	return extra, nil
}

// firstDiff names the first line where got and want differ.
func firstDiff(got, want []byte) string {
	gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range max(len(gl), len(wl)) {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			return fmt.Sprintf(" at line %d:\n  committed: %s\n  generated: %s", i+1, g, w)
		}
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
