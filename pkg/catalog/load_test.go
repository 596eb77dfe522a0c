package catalog_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"statusd.io/statusd/pkg/catalog"
)

var update = flag.Bool("update", false, "rewrite the golden files of the bad catalogues in testdata")

// catalogues lists the testdata catalogues ending in suffix: single files
// (name.suffix.yaml) and directories (name.suffix/), each loaded as one
// catalogue.
func catalogues(t *testing.T, suffix string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	files, err := filepath.Glob(filepath.Join("testdata", "*"+suffix+".yaml"))
	require.NoError(t, err)
	for _, f := range files {
		out[strings.TrimSuffix(filepath.Base(f), ".yaml")] = []string{f}
	}
	dirs, err := filepath.Glob(filepath.Join("testdata", "*"+suffix))
	require.NoError(t, err)
	for _, d := range dirs {
		out[filepath.Base(d)] = []string{d}
	}
	require.NotEmpty(t, out, "no testdata/*%s catalogues", suffix)
	return out
}

func TestLoadGood(t *testing.T) {
	for name, paths := range catalogues(t, ".good") {
		t.Run(name, func(t *testing.T) {
			c, errs := catalog.Load(paths...)
			require.Empty(t, errs, "unexpected findings:\n%v", errs)
			require.NoError(t, errs.Err())
			assert.NotEmpty(t, c.Reasons)
			assert.Equal(t, catalog.Kind, c.Kind)
		})
	}
}

// TestLoadBad loads every bad catalogue and compares the full report, with
// snippets and carets, to testdata/<name>.golden. Review a golden file as
// carefully as code: it is the expectation.
func TestLoadBad(t *testing.T) {
	bad := catalogues(t, ".bad")
	for name, paths := range bad {
		t.Run(name, func(t *testing.T) {
			_, errs := catalog.Load(paths...)
			require.Error(t, errs.Err(), "a bad catalogue must not load clean")
			require.ErrorIs(t, errs.Err(), catalog.ErrInvalid)
			for _, e := range errs {
				assert.NotZero(t, e.Pos.Line, "every finding has a line: %s", e.Head())
			}
			golden(t, filepath.Join("testdata", name+".golden"), errs.Error()+"\n")
		})
	}
	t.Run("no-orphan-goldens", func(t *testing.T) {
		goldens, err := filepath.Glob(filepath.Join("testdata", "*.golden"))
		require.NoError(t, err)
		for _, g := range goldens {
			_, ok := bad[strings.TrimSuffix(filepath.Base(g), ".golden")]
			assert.True(t, ok, "stale golden file %s has no bad catalogue: delete it", g)
		}
	})
}

// golden compares got with the file at path, or rewrites it under -update.
func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file %s: run go test ./pkg/catalog -update and review it", path)
	require.Equal(t, string(want), got, "stale golden file %s: run go test ./pkg/catalog -update and review the diff", path)
}

// TestLoadFull checks what the full catalogue decodes to, field by field:
// the goldens only show that bad input is refused.
func TestLoadFull(t *testing.T) {
	c, errs := catalog.Load("testdata/full.good.yaml")
	require.Empty(t, errs)
	file := "testdata/full.good.yaml"

	t.Run("header", func(t *testing.T) {
		assert.Equal(t, catalog.Metadata{Name: "cluster-addons", Version: "2026.11.0"}, c.Metadata)
		assert.True(t, c.Settings.PublishSecondary)
		require.Len(t, c.Files, 1)
		assert.Equal(t, file, c.Files[0].Name)
		assert.Same(t, c.Files[0], c.File(file))
		assert.Nil(t, c.File("other.yaml"))
	})
	t.Run("params", func(t *testing.T) {
		assert.Equal(t, []string{"addonPattern", "maxRestarts", "minVersion", "pendingGrace", "ratio", "reasonsSeen", "stuck"}, c.ParamNames())
		assert.Equal(t, int64(5), c.Params["maxRestarts"].Value)
		assert.InDelta(t, 0.75, c.Params["ratio"].Value, 0)
		assert.Equal(t, "5m", c.Params["pendingGrace"].Value)
		assert.Equal(t, []any{"InstallFailed", "UpgradeFailed"}, c.Params["reasonsSeen"].Value)
		assert.Equal(t, catalog.Pos{File: file, Line: 8, Col: 17}, c.Params["pendingGrace"].Pos)
	})
	t.Run("sources", func(t *testing.T) {
		assert.Equal(t, []string{"deployments", "exporters", "helmreleases", "nodes", "pods", "vllm"}, c.SourceNames())
		hr := c.Sources["helmreleases"]
		assert.Equal(t, "helm.toolkit.fluxcd.io/v2/helmreleases", hr.GVR())
		assert.True(t, hr.Optional)
		assert.Equal(t, []string{"iaas-addon-*"}, hr.Namespaces.Names)
		pods := c.Sources["pods"]
		assert.Equal(t, "v1/pods", pods.GVR())
		assert.Equal(t, []string{"kube-system", "iaas-addon-*"}, pods.Namespaces.Names)
		assert.Equal(t, "app.kubernetes.io/managed-by=Helm", pods.Selector)
		assert.False(t, pods.IsMetrics())
		assert.True(t, c.Sources["nodes"].Namespaces.IsZero())
		assert.Equal(t, catalog.Namespaces{Selector: "team in (platform, infra)"}, c.Sources["deployments"].Namespaces)

		vllm := c.Sources["vllm"]
		require.True(t, vllm.IsMetrics())
		assert.Equal(t, "metrics", vllm.Metrics.Port.String())
		assert.Equal(t, 30*time.Second, vllm.Metrics.Interval.D)
		assert.Equal(t, 10*time.Second, vllm.Metrics.Timeout.D)
		exp := c.Sources["exporters"].Metrics
		assert.Equal(t, catalog.IntOrString{Int: 9100}, exp.Port)
		assert.Equal(t, "9100", exp.Port.String())
		assert.Equal(t, catalog.DefaultScrapePath, exp.Path, "default path")
		assert.Equal(t, catalog.DefaultScrapeInterval, exp.Interval.D, "default interval")
		assert.Equal(t, catalog.DefaultScrapeTimeout, exp.Timeout.D, "default timeout")
	})
	t.Run("variables", func(t *testing.T) {
		require.Len(t, c.Variables, 2)
		assert.Equal(t, "ready", c.Variables[0].Name)
		assert.Equal(t, "now - timestamp(object.metadata.creationTimestamp)", c.Variables[1].Expression.Text)
	})
	t.Run("reasons", func(t *testing.T) {
		names := make([]string, len(c.Reasons))
		for i, r := range c.Reasons {
			names[i] = r.Name
		}
		assert.Equal(t, []string{"AddonInstallFailed", "AddonPodsUnschedulable", "AddonPodCrashLooping", "NodeNotReady", "DeploymentUnavailable"}, names)

		r := c.Reason("AddonInstallFailed")
		require.NotNil(t, r)
		assert.Equal(t, catalog.Pos{File: file, Line: 48, Col: 3}, r.Pos)
		assert.Equal(t, 90, r.Priority)
		assert.Equal(t, catalog.SeverityWarning, r.Level(), "warning by default")
		assert.Equal(t, "Warning", r.Severity.EventType())
		assert.Equal(t, `conditions(object).exists(c, c.type == "Ready" && c.status == "False" && c.reason in params.reasonsSeen)`, r.When.Text, "folded, stripped")
		assert.Equal(t, 5*time.Minute, r.Grace.For.D)
		assert.Equal(t, "pendingGrace", r.Grace.For.Param)
		assert.Equal(t, 2*time.Minute, r.Clear.D)
		require.Len(t, r.Suppresses, 2)
		assert.Equal(t, catalog.JoinSameNamespace, r.Suppresses[0].Join.Kind)
		assert.Equal(t, catalog.JoinKey, r.Suppresses[1].Join.Kind)
		assert.Equal(t, "object.metadata.namespace", r.Suppresses[1].Join.Key.Text)

		r = c.Reason("AddonPodsUnschedulable")
		require.NotNil(t, r)
		assert.Equal(t, catalog.SeverityInfo, r.Level(), "Normal, as older catalogues wrote it, is info")
		assert.Equal(t, "Normal", r.Severity.EventType())
		assert.Equal(t, "object.status.phase == \"Pending\" &&\n!variables.ready\n", r.When.Text, "literal, clipped")
		assert.Equal(t, 10*time.Minute, r.Grace.For.D)
		assert.Empty(t, r.Grace.For.Param)
		assert.Equal(t, "object.metadata.creationTimestamp", r.Grace.Since.Text)

		r = c.Reason("AddonPodCrashLooping")
		require.NotNil(t, r)
		assert.Equal(t, 90*time.Minute, r.Grace.For.D, "grace: {for: stuck}")
		assert.Equal(t, "0", r.Clear.Raw)
		assert.Zero(t, r.Clear.D)

		r = c.Reason("NodeNotReady")
		require.NotNil(t, r)
		assert.False(t, r.Grace.For.IsZero(), "grace: 0 is written")
		assert.Zero(t, r.Grace.For.D)
		assert.Equal(t, []catalog.JoinKind{catalog.JoinSameNode, catalog.JoinCluster}, []catalog.JoinKind{r.Suppresses[0].Join.Kind, r.Suppresses[1].Join.Kind})

		r = c.Reason("DeploymentUnavailable")
		require.NotNil(t, r)
		assert.Equal(t, []catalog.JoinKind{catalog.JoinSameOwner, catalog.JoinSameSubject}, []catalog.JoinKind{r.Suppresses[0].Join.Kind, r.Suppresses[1].Join.Kind})
		assert.Nil(t, c.Reason("NoSuchReason"))
	})
}

func TestLoadPaths(t *testing.T) {
	empty := t.TempDir()
	tests := []struct {
		name  string
		paths []string
		// files are the files the catalogue was read from.
		files []string
		want  []string
	}{
		{
			name:  "directory-skips-other-kinds",
			paths: []string{"testdata/two-files.good"},
			files: []string{"testdata/two-files.good/a.yaml", "testdata/two-files.good/b.yaml"},
		},
		{
			name:  "duplicates-across-two-files",
			paths: []string{"testdata/two-files.bad/a.yaml", "testdata/two-files.bad/b.yaml"},
			files: []string{"testdata/two-files.bad/a.yaml", "testdata/two-files.bad/b.yaml"},
			want: []string{
				`testdata/two-files.bad/b.yaml:4:17: param "grace" is declared twice (first at testdata/two-files.bad/a.yaml:4:17)`,
				`testdata/two-files.bad/b.yaml:6:9: source "pods" is declared twice (first at testdata/two-files.bad/a.yaml:6:9)`,
				`testdata/two-files.bad/b.yaml:14:3: reason PodPending: duplicate reason name (first at testdata/two-files.bad/a.yaml:8:3)`,
			},
		},
		{
			name:  "missing-file",
			paths: []string{"testdata/nonexistent.yaml"},
			want:  []string{"testdata/nonexistent.yaml: read catalogue: stat testdata/nonexistent.yaml: no such file or directory"},
		},
		{
			name:  "empty-directory",
			paths: []string{empty},
			want:  []string{empty + ": no catalogue files found"},
		},
		{
			name:  "missing-and-good",
			paths: []string{"testdata/minimal.good.yaml", "testdata/nonexistent.yaml"},
			files: []string{"testdata/minimal.good.yaml"},
			want:  []string{"testdata/nonexistent.yaml: read catalogue: stat testdata/nonexistent.yaml: no such file or directory"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, errs := catalog.Load(tt.paths...)
			assert.Equal(t, tt.want, heads(errs))
			var files []string
			for _, f := range c.Files {
				files = append(files, f.Name)
			}
			assert.Equal(t, tt.files, files)
		})
	}
}

func TestLoadFS(t *testing.T) {
	good, err := os.ReadFile("testdata/minimal.good.yaml")
	require.NoError(t, err)
	fsys := fstest.MapFS{"rules/catalog.yaml": {Data: good}}

	c, errs := catalog.LoadFS(fsys, "rules/catalog.yaml")
	require.Empty(t, errs)
	assert.Equal(t, "minimal", c.Metadata.Name)
	require.NotNil(t, c.Reason("PodFailed"))
	assert.Equal(t, catalog.Pos{File: "rules/catalog.yaml", Line: 9, Col: 3}, c.Reason("PodFailed").Pos)

	_, errs = catalog.LoadFS(fsys, "rules/catalog.yaml", "rules/missing.yaml")
	assert.Equal(t, []string{"rules/missing.yaml: read catalogue: open rules/missing.yaml: file does not exist"}, heads(errs))

	_, errs = catalog.LoadFS(fsys)
	assert.Equal(t, []string{": no catalogue files found"}, heads(errs))
}

// heads returns the one-line form of each finding, or nil.
func heads(errs catalog.ErrorList) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Head())
	}
	return out
}

// parse parses one in-memory file called t.yaml.
func parse(src string) (*catalog.Catalog, catalog.ErrorList) {
	return catalog.Parse(catalog.NewFile("t.yaml", []byte(src)))
}

const header = "apiVersion: statusd.io/v1alpha1\nkind: Catalog\nmetadata: {name: t, version: \"1\"}\n"

// TestParseMessages covers small cases inline, where a file per case would
// hide the input from the expectation. Lines count from the first line of
// src; header is three lines.
func TestParseMessages(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{name: "empty-file", src: "", want: []string{"t.yaml: no catalogue document found"}},
		{name: "comments-only", src: "# nothing\n", want: []string{"t.yaml: no catalogue document found"}},
		{name: "trailing-separator", src: header + "reasons: []\n---\n"},
		{name: "leading-separator", src: "---\n" + header + "reasons: []\n"},
		{name: "null-document", src: "~\n", want: []string{"t.yaml: no catalogue document found"}},
		{
			name: "null-reason",
			src:  header + "reasons:\n-\n- ~\n",
			want: []string{
				"t.yaml:5:2: needs a message expression or a static summary",
				"t.yaml:5:2: reason needs a name",
				"t.yaml:5:2: subject is required: name the source whose objects this reason is about",
				"t.yaml:5:2: when is required",
				"t.yaml:6:3: needs a message expression or a static summary",
				"t.yaml:6:3: reason needs a name",
				"t.yaml:6:3: subject is required: name the source whose objects this reason is about",
				"t.yaml:6:3: when is required",
			},
		},
		{
			name: "null-source-and-param",
			src:  header + "params: {a-b: }\nsources:\n  pods:\n",
			want: []string{
				`t.yaml:4:15: param name "a-b" must be an identifier (letters, digits, _)`,
				`t.yaml:6:8: source "pods" needs version and resource (group too, unless it is a core resource), or metrics`,
			},
		},
		{name: "scalar-document", src: "hello\n", want: []string{"t.yaml:1:1: a catalogue must be a mapping, got a string"}},
		{name: "apiversion-v1", src: "apiVersion: statusd.io/v1\nkind: Catalog\nmetadata: {name: t, version: \"1\"}\nreasons: []\n"},
		{name: "apiversion-v1beta1", src: "apiVersion: statusd.io/v1beta1\nkind: Catalog\nmetadata: {name: t, version: \"1\"}\nreasons: []\n"},
		{
			name: "apiversion-v2",
			src:  "apiVersion: statusd.io/v2\nkind: Catalog\nmetadata: {name: t, version: \"1\"}\n",
			want: []string{`t.yaml:1:13: unsupported apiVersion "statusd.io/v2": this statusd reads statusd.io/v1alpha1`},
		},
		{
			name: "apiversion-v10alpha1",
			src:  "apiVersion: statusd.io/v10alpha1\nkind: Catalog\nmetadata: {name: t, version: \"1\"}\n",
			want: []string{`t.yaml:1:13: unsupported apiVersion "statusd.io/v10alpha1": this statusd reads statusd.io/v1alpha1`},
		},
		{
			name: "apiversion-without-group",
			src:  "apiVersion: v1alpha1\nkind: Catalog\nmetadata: {name: t, version: \"1\"}\n",
			want: []string{`t.yaml:1:13: unsupported apiVersion "v1alpha1": this statusd reads statusd.io/v1alpha1`},
		},
		{
			name: "apiversion-not-a-string",
			src:  "apiVersion: [statusd.io/v1alpha1]\nkind: Catalog\nmetadata: {name: t, version: \"1\"}\n",
			want: []string{
				`t.yaml:1:13: expected a string, got a list`,
				`t.yaml:1:13: unsupported apiVersion "": this statusd reads statusd.io/v1alpha1`,
			},
		},
		{
			name: "syntax-bad-indent",
			src:  header + "sources:\n  pods: {version: v1, resource: pods}\n nodes: {}\n",
			want: []string{"t.yaml:6:1: invalid YAML: did not find expected key"},
		},
		{
			name: "syntax-tab",
			src:  header + "sources:\n\tpods: {}\n",
			want: []string{"t.yaml:5:1: invalid YAML: found character that cannot start any token"},
		},
		{
			name: "syntax-first-line",
			src:  "apiVersion: a: b\n",
			want: []string{"t.yaml:1:1: invalid YAML: mapping values are not allowed in this context"},
		},
		{
			name: "syntax-quote-in-quote",
			src:  header + "reasons:\n- name: A\n  when: \"a == \"b\"\"\n  summary: s\n",
			want: []string{"t.yaml:6:1: invalid YAML: did not find expected key"},
		},
		{
			name: "syntax-unclosed-flow",
			src:  header + "params: {a: 1\nsources: {}\n",
			want: []string{"t.yaml:4:1: invalid YAML: did not find expected ',' or '}'"},
		},
		{
			name: "syntax-unclosed-quote",
			src:  header + "params:\n  a: \"abc\n  b: 2\n",
			want: []string{"t.yaml:5:1: invalid YAML: found unexpected end of stream"},
		},
		{
			name: "syntax-unknown-anchor",
			src:  header + "params:\n  a: 1\n  b: *nope\n",
			want: []string{"t.yaml:6:1: invalid YAML: unknown anchor 'nope' referenced"},
		},
		{
			name: "syntax-in-second-document",
			src:  header + "reasons: []\n---\n" + header + "params: {a: [}\n",
			want: []string{"t.yaml:9:1: invalid YAML: did not find expected node content"},
		},
		{
			name: "merge-key",
			src:  header + "params:\n  <<: {a: 1}\n",
			want: []string{"t.yaml:5:3: merge keys (<<) are not supported"},
		},
		{
			name: "non-string-key",
			src:  header + "params:\n  [a]: 1\n",
			want: []string{"t.yaml:5:3: mapping keys must be strings, got a list"},
		},
		{
			// The default timeout (5s) shrinks to a shorter interval.
			name: "metrics-interval-alone",
			src:  header + "sources:\n  m: {metrics: {selector: a=b, port: 80, interval: 2s}}\n",
		},
		{
			name: "metrics-timeout-over-interval",
			src:  header + "sources:\n  m: {metrics: {selector: a=b, port: 80, interval: 2s, timeout: 3s}}\n",
			want: []string{`t.yaml:5:65: source "m": metrics.timeout 3s exceeds metrics.interval 2s`},
		},
		{
			name: "duration-float",
			src:  header + "sources: {pods: {version: v1, resource: pods}}\nreasons:\n- {name: A, subject: pods, when: x, summary: s, clear: 1.5}\n",
			want: []string{`t.yaml:6:56: invalid duration "1.5": want a length such as 30s, 5m, 1h30m or 2d, or a param name`},
		},
		{
			name: "duration-go-syntax",
			src:  header + "sources: {pods: {version: v1, resource: pods}}\nreasons:\n- {name: A, subject: pods, when: x, summary: s, clear: 1.5h, grace: 1w}\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := parse(tt.src)
			assert.Equal(t, tt.want, heads(errs))
		})
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{in: "0", want: 0},
		{in: "30s", want: 30 * time.Second},
		{in: "5m", want: 5 * time.Minute},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "2d", want: 48 * time.Hour},
		{in: "1w", want: 7 * 24 * time.Hour},
		{in: "250ms", want: 250 * time.Millisecond},
		{in: "1.5h", want: 90 * time.Minute},
		{in: "", wantErr: true},
		{in: "5", wantErr: true},
		{in: "-5m", wantErr: true},
		{in: "5 minutes", wantErr: true},
		{in: "m5", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := catalog.ParseDuration(tt.in)
			if tt.wantErr {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "want a length such as 30s")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestHelpers covers the small accessors other packages rely on.
func TestHelpers(t *testing.T) {
	tests := []struct {
		name string
		got  any
		want any
	}{
		{name: "gvr-core", got: (&catalog.Source{Version: "v1", Resource: "pods"}).GVR(), want: "v1/pods"},
		{name: "gvr-group", got: (&catalog.Source{Group: "apps", Version: "v1", Resource: "deployments"}).GVR(), want: "apps/v1/deployments"},
		{name: "port-number", got: catalog.IntOrString{Int: 8080}.String(), want: "8080"},
		{name: "port-name", got: catalog.IntOrString{Str: "http"}.String(), want: "http"},
		{name: "port-zero", got: catalog.IntOrString{}.String(), want: ""},
		{name: "port-zero-is-zero", got: catalog.IntOrString{}.IsZero(), want: true},
		{name: "severity-default", got: (&catalog.Reason{}).Level(), want: catalog.SeverityWarning},
		{name: "severity-normal", got: (&catalog.Reason{Severity: catalog.SeverityEventNormal}).Level(), want: catalog.SeverityInfo},
		{name: "severity-critical", got: (&catalog.Reason{Severity: catalog.SeverityCritical}).Level(), want: catalog.SeverityCritical},
		{name: "severity-critical-event", got: catalog.SeverityCritical.EventType(), want: "Warning"},
		{name: "severity-info-event", got: catalog.SeverityInfo.EventType(), want: "Normal"},
		{name: "severity-bad", got: catalog.Severity("Error").Level(), want: catalog.Severity("")},
		{name: "namespaces-zero", got: catalog.Namespaces{}.IsZero(), want: true},
		{name: "namespaces-selector", got: catalog.Namespaces{Selector: "a=b"}.IsZero(), want: false},
		{name: "expr-zero", got: catalog.Expr{}.IsZero(), want: true},
		{name: "duration-zero", got: catalog.Duration{}.IsZero(), want: true},
		{name: "kind-catalog", got: catalog.KindOf(catalog.NewFile("a.yaml", []byte("kind: Catalog\n"))), want: "Catalog"},
		{name: "kind-other", got: catalog.KindOf(catalog.NewFile("a.yaml", []byte("kind: RuleTest\n"))), want: "RuleTest"},
		{name: "kind-missing", got: catalog.KindOf(catalog.NewFile("a.yaml", []byte("a: 1\n"))), want: ""},
		{name: "kind-broken-yaml-is-parsed", got: catalog.KindOf(catalog.NewFile("a.yaml", []byte("a: [\n"))), want: "Catalog"},
		{name: "line-first", got: catalog.NewFile("a", []byte("one\r\ntwo\n")).Line(1), want: "one"},
		{name: "line-last", got: catalog.NewFile("a", []byte("one\ntwo")).Line(2), want: "two"},
		{name: "line-out-of-range", got: catalog.NewFile("a", []byte("one\n")).Line(3), want: ""},
		{name: "line-nil-file", got: (*catalog.File)(nil).Line(1), want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.got)
		})
	}
}

func TestHash(t *testing.T) {
	a := catalog.NewFile("a.yaml", []byte("x: 1\n"))
	b := catalog.NewFile("a.yaml", []byte("x: 2\n"))
	assert.Len(t, a.Hash(), 64)
	assert.Equal(t, a.Hash(), catalog.NewFile("other.yaml", []byte("x: 1\n")).Hash(), "a file's hash is its content's")
	assert.NotEqual(t, a.Hash(), b.Hash())

	c1 := &catalog.Catalog{Files: []*catalog.File{a}}
	c2 := &catalog.Catalog{Files: []*catalog.File{b}}
	c3 := &catalog.Catalog{Files: []*catalog.File{catalog.NewFile("b.yaml", []byte("x: 1\n"))}}
	assert.NotEqual(t, c1.Hash(), c2.Hash(), "content changed")
	assert.NotEqual(t, c1.Hash(), c3.Hash(), "file renamed")
	assert.Equal(t, c1.Hash(), (&catalog.Catalog{Files: []*catalog.File{a}}).Hash())
}

func TestErrorListIs(t *testing.T) {
	_, errs := parse(header + "bogus: 1\n")
	require.Len(t, errs, 1)
	err := errs.Err()
	require.ErrorIs(t, err, catalog.ErrInvalid)
	var e *catalog.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, `unknown field "bogus"`, e.Msg)
	assert.ErrorIs(t, e, catalog.ErrInvalid)
}
