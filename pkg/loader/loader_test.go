package loader_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/loader"
)

const header = "apiVersion: statusd.io/v1alpha1\nkind: Catalog\nmetadata: {name: t, version: \"1\"}\n"

const good = header + `sources:
  pods: {version: v1, resource: pods}
reasons:
- name: PodPending
  subject: pods
  when: object.?status.?phase.orValue("") == "Pending"
  summary: pending
`

// bothBroken has a validation error (an unknown subject) and a CEL error:
// one load reports both.
const bothBroken = header + `sources:
  pods: {version: v1, resource: pods}
reasons:
- name: PodPending
  subject: pods
  when: object.status.phase +
  summary: pending
- name: Other
  subject: nodes
  when: "true"
  summary: other
`

func TestPaths(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
		return p
	}
	goodPath := write("good.yaml", good)
	brokenPath := write("broken.yaml", bothBroken)
	syntaxPath := write("syntax.yaml", header+"reasons: [\n")
	tests := []struct {
		name     string
		paths    []string
		loaded   bool
		decoded  bool
		compiled bool
		want     []string
	}{
		{name: "embedded", loaded: true, decoded: true, compiled: true},
		{name: "good file", paths: []string{goodPath}, loaded: true, decoded: true, compiled: true},
		{name: "validation and CEL errors at once", paths: []string{brokenPath}, compiled: true, want: []string{
			"broken.yaml:9:30: reason PodPending: when: Syntax error", `broken.yaml:11:3: reason Other: subject "nodes" is not a declared source`,
		}},
		{name: "syntax error stops before compiling", paths: []string{syntaxPath}, want: []string{"syntax.yaml:"}},
		{name: "missing file", paths: []string{filepath.Join(dir, "missing.yaml")}, want: []string{"missing.yaml: read catalogue"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := loader.Paths(tt.paths, cel.Options{})
			assert.Equal(t, tt.loaded, res.Err() == nil, "%v", res.Problems)
			assert.Equal(t, tt.loaded, res.Catalog != nil)
			assert.Equal(t, tt.decoded, res.Decoded)
			assert.Equal(t, tt.compiled, res.Compiled)
			assert.NotEmpty(t, res.Hash)
			for _, w := range tt.want {
				assert.Contains(t, res.Problems.Error(), w)
			}
			if !tt.loaded {
				assert.ErrorIs(t, res.Err(), catalog.ErrInvalid, "a broken catalogue matches catalog.ErrInvalid")
			}
		})
	}
}

func TestEmbeddedOrigin(t *testing.T) {
	res := loader.Paths(nil, cel.Options{})
	assert.Equal(t, loader.OriginEmbedded, res.Origin)
	assert.NotEmpty(t, res.Files)
}

func TestConfigMap(t *testing.T) {
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "cat"},
		Data:       map[string]string{"b.yaml": good, "README.md": "not a catalogue"},
	}
	res := loader.ConfigMap(cm, cel.Options{})
	require.NoError(t, res.Err())
	assert.Equal(t, "configmap/ns/cat", res.Origin)
	require.Len(t, res.Files, 1)
	assert.Equal(t, "configmap/ns/cat/b.yaml", res.Files[0].Name)

	empty := loader.ConfigMap(&corev1.ConfigMap{ObjectMeta: cm.ObjectMeta}, cel.Options{})
	require.Error(t, empty.Err())
	assert.Contains(t, empty.Problems.Error(), "configmap/ns/cat: no catalogue files found")
}

func TestHashIgnoresOrder(t *testing.T) {
	a, b := catalog.NewFile("a.yaml", []byte("x")), catalog.NewFile("b.yaml", []byte("y"))
	assert.Equal(t, loader.Hash([]*catalog.File{a, b}), loader.Hash([]*catalog.File{b, a}))
	assert.NotEqual(t, loader.Hash([]*catalog.File{a}), loader.Hash([]*catalog.File{catalog.NewFile("a.yaml", []byte("z"))}))
}
