package snapshot_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/series"
	"statusd.io/statusd/pkg/snapshot"
)

func readTestdata(t testing.TB, name string) *catalog.File {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return catalog.NewFile(name, data)
}

func TestDecodeGood(t *testing.T) {
	f, err := snapshot.Decode(readTestdata(t, "basic.good.yaml"))
	require.NoError(t, err)

	assert.Equal(t, snapshot.FileKind, f.Kind)
	assert.Equal(t, "2026-03-01T12:00:00Z", f.Time)
	assert.Equal(t, "v1.36.3", f.Cluster.Version)
	assert.Equal(t, map[string]snapshot.SourceState{"configmaps": {Status: snapshot.StatusForbidden, Error: "configmaps is forbidden"}}, f.Sources)
	require.Len(t, f.Objects, 3)
	require.Len(t, f.Metrics, 3)
	assert.Equal(t, snapshot.Scrape{Pod: "shop/web-1", Source: "webmetrics", At: "2026-03-01T11:59:30Z", Text: "requests_total 10\n"}, f.Metrics[0])
	assert.Equal(t, "connection refused", f.Metrics[2].Error)

	// Objects are normalized: int64 numbers, timestamps as RFC 3339 strings.
	items := snapshot.Flatten(f.Objects)
	require.Len(t, items, 4)
	web := snapshot.NewObject(items[1])
	assert.Equal(t, "shop/web-1", web.Key())
	ports := web.Content["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)["ports"].([]any)
	assert.Equal(t, int64(8080), ports[0].(map[string]any)["containerPort"])
	assert.Equal(t, "2026-03-01T11:00:05Z", web.Content["status"].(map[string]any)["startTime"])
}

func TestDecodeBad(t *testing.T) {
	tests := []struct {
		file string
		want string // the error's first line
	}{
		{file: "unknown-field.bad.yaml", want: `unknown-field.bad.yaml:5:1: unknown field "metric"; did you mean "metrics"?`},
		{file: "wrong-kind.bad.yaml", want: `wrong-kind.bad.yaml:1:1: kind is "Catalog", want Snapshot`},
		{file: "bad-time.bad.yaml", want: `bad-time.bad.yaml:3:7: time "yesterday at noon" is not RFC 3339`},
		{file: "two-documents.bad.yaml", want: `two-documents.bad.yaml:1: a snapshot file holds one document, found 2`},
		{file: "empty.bad.yaml", want: `empty.bad.yaml:1: a snapshot file holds one document, found 0`},
		{file: "syntax.bad.yaml", want: `syntax.bad.yaml:4:1: invalid YAML: did not find expected ',' or '}'`},
	}
	matches, err := filepath.Glob("testdata/*.bad.yaml")
	require.NoError(t, err)
	require.Len(t, matches, len(tests), "every bad file has a case")
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := snapshot.Decode(readTestdata(t, tt.file))
			require.Error(t, err)
			assert.Nil(t, f)
			require.ErrorIs(t, err, snapshot.ErrInvalid)
			require.NotErrorIs(t, err, catalog.ErrInvalid, "a broken snapshot is not a broken catalogue")
			first, _, _ := strings.Cut(err.Error(), "\n")
			assert.Equal(t, tt.want, first)
		})
	}
}

func TestReadFile(t *testing.T) {
	tests := []struct {
		name    string
		path    string
		wantErr string
	}{
		{name: "good", path: filepath.Join("testdata", "basic.good.yaml")},
		{name: "missing", path: filepath.Join("testdata", "missing.yaml"), wantErr: "read snapshot: "},
		{name: "bad", path: filepath.Join("testdata", "wrong-kind.bad.yaml"), wantErr: "kind is \"Catalog\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := snapshot.ReadFile(tt.path)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Len(t, f.Objects, 3)
		})
	}
}

func TestNormalize(t *testing.T) {
	at := time.Date(2026, 3, 1, 13, 0, 0, 0, time.FixedZone("CET", 3600))
	tests := []struct {
		name string
		in   any
		want any
	}{
		{name: "int to int64", in: 42, want: int64(42)},
		{name: "int64 kept", in: int64(42), want: int64(42)},
		{name: "uint64 too large for int64", in: uint64(1 << 63), want: float64(1 << 63)},
		{name: "float kept", in: 1.5, want: 1.5},
		{name: "string kept", in: "x", want: "x"},
		{name: "nil kept", in: nil, want: nil},
		{name: "time to RFC 3339 UTC", in: at, want: "2026-03-01T12:00:00Z"},
		{name: "list", in: []any{1, "a", at}, want: []any{int64(1), "a", "2026-03-01T12:00:00Z"}},
		{
			name: "nested string map",
			in:   map[string]any{"a": map[string]any{"b": []any{2}}},
			want: map[string]any{"a": map[string]any{"b": []any{int64(2)}}},
		},
		{
			name: "map with non-string keys",
			in:   map[any]any{1: "one", true: map[any]any{"x": 3}},
			want: map[string]any{"1": "one", "true": map[string]any{"x": int64(3)}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, snapshot.Normalize(tt.in))
		})
	}
}

func TestFlatten(t *testing.T) {
	pod := func(name string) map[string]any {
		return map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": name}}
	}
	tests := []struct {
		name string
		in   []map[string]any
		want []map[string]any
	}{
		{name: "nothing", in: nil, want: nil},
		{name: "plain objects", in: []map[string]any{pod("a"), pod("b")}, want: []map[string]any{pod("a"), pod("b")}},
		{
			name: "List between objects",
			in:   []map[string]any{pod("a"), {"apiVersion": "v1", "kind": "List", "items": []any{pod("b"), pod("c")}}, pod("d")},
			want: []map[string]any{pod("a"), pod("b"), pod("c"), pod("d")},
		},
		{
			name: "typed list",
			in:   []map[string]any{{"apiVersion": "v1", "kind": "PodList", "items": []any{pod("a")}}},
			want: []map[string]any{pod("a")},
		},
		{
			name: "empty List",
			in:   []map[string]any{{"apiVersion": "v1", "kind": "List", "items": []any{}}},
			want: nil,
		},
		{
			name: "non-object items dropped",
			in:   []map[string]any{{"apiVersion": "v1", "kind": "List", "items": []any{"junk", pod("a"), nil}}},
			want: []map[string]any{pod("a")},
		},
		{
			name: "an object that is not a List keeps its items field",
			in:   []map[string]any{{"apiVersion": "example.com/v1", "kind": "Basket", "items": []any{pod("a")}}},
			want: []map[string]any{{"apiVersion": "example.com/v1", "kind": "Basket", "items": []any{pod("a")}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, snapshot.Flatten(tt.in))
		})
	}
}

func TestDecodeObjects(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		names   []string
		wantErr string
	}{
		{name: "documents and a List", data: "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: b}\n", names: []string{"a", "b"}},
		{name: "empty stream", data: "", names: nil},
		{name: "not a mapping", data: "kind: Pod\n---\n- a\n", wantErr: "objects.yaml:3:1: an object must be a mapping, got a list"},
		{name: "a password file quotes nothing", data: "root:x:0:0:TOPSECRET:/root:/bin/bash\n", wantErr: "objects.yaml:1:1: an object must be a mapping, got a string\n | …"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := snapshot.DecodeObjects(catalog.NewFile("objects.yaml", []byte(tt.data)))
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			var names []string
			for _, o := range objs {
				names = append(names, snapshot.NewObject(o).Name)
			}
			assert.Equal(t, tt.names, names)
		})
	}
}

const testCatalog = `apiVersion: statusd.io/v1alpha1
kind: Catalog
metadata: {name: test, version: "1"}
sources:
  pods: {version: v1, resource: pods}
  webpods: {version: v1, resource: pods, selector: app=web}
  teampods: {version: v1, resource: pods, namespaces: {selector: team=web}}
  batchpods: {version: v1, resource: pods, namespaces: "bat*"}
  nodes: {version: v1, resource: nodes}
  configmaps: {version: v1, resource: configmaps}
  ingresses: {group: networking.k8s.io, version: v1, resource: ingresses}
  webmetrics:
    metrics: {selector: app=web, port: 8080}
reasons:
- name: PodFailed
  subject: pods
  when: object.status.phase == "Failed"
  summary: the pod failed
`

func testCatalogue(t testing.TB) *catalog.Catalog {
	t.Helper()
	c, errs := catalog.Parse(catalog.NewFile("catalog.yaml", []byte(testCatalog)))
	require.Empty(t, errs.Errors())
	return c
}

func keys(objs []*snapshot.Object) []string {
	out := []string{}
	for _, o := range objs {
		out = append(out, o.Ref())
	}
	return out
}

func TestAssemble(t *testing.T) {
	c := testCatalogue(t)
	f, err := snapshot.Decode(readTestdata(t, "basic.good.yaml"))
	require.NoError(t, err)
	snap, err := snapshot.Assemble(c, f, time.Time{})
	require.NoError(t, err)

	assert.Equal(t, time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), snap.Time)
	assert.Equal(t, []string{"batchpods", "configmaps", "ingresses", "nodes", "pods", "teampods", "webpods"}, snap.Sets(), "metrics sources are not object sources")
	assert.True(t, snap.HasResource("networking.k8s.io/v1/ingresses"), "an empty resource list serves every catalogue resource")
	assert.False(t, snap.HasResource("v1/secrets"))

	tests := []struct {
		source string
		status snapshot.Status
		err    string
		want   []string
	}{
		{source: "pods", status: snapshot.StatusReady, want: []string{"Pod/batch/job-1", "Pod/shop/web-1"}},
		{source: "webpods", status: snapshot.StatusReady, want: []string{"Pod/shop/web-1"}},
		{source: "teampods", status: snapshot.StatusReady, want: []string{"Pod/shop/web-1"}},
		{source: "batchpods", status: snapshot.StatusReady, want: []string{"Pod/batch/job-1"}},
		{source: "nodes", status: snapshot.StatusReady, want: []string{"Node/node-a"}},
		{source: "configmaps", status: snapshot.StatusForbidden, err: "configmaps is forbidden", want: []string{}},
		{source: "ingresses", status: snapshot.StatusReady, want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.source, func(t *testing.T) {
			set := snap.Set(tt.source)
			require.NotNil(t, set)
			assert.Equal(t, tt.source, set.Source)
			assert.Equal(t, tt.status, set.Status)
			assert.Equal(t, tt.err, set.Err)
			assert.Equal(t, tt.want, keys(set.Objects()))
		})
	}
}

func TestAssembleAbsentAndTime(t *testing.T) {
	c := testCatalogue(t)
	at := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		file     *snapshot.File
		at       time.Time
		wantTime time.Time
		absent   []string
		wantErr  string
	}{
		{
			name:     "resources listed: the rest are absent",
			file:     &snapshot.File{Time: "2026-03-01T12:00:00Z", Cluster: snapshot.Cluster{Resources: []string{"v1/pods", "v1/nodes"}}},
			wantTime: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
			absent:   []string{"configmaps", "ingresses"},
		},
		{
			name:     "a recorded state wins over absence",
			file:     &snapshot.File{Time: "2026-03-01T12:00:00Z", Cluster: snapshot.Cluster{Resources: []string{"v1/pods", "v1/nodes"}}, Sources: map[string]snapshot.SourceState{"configmaps": {Status: snapshot.StatusFailed, Error: "boom"}}},
			wantTime: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
			absent:   []string{"ingresses"},
		},
		{
			name:     "the time argument overrides the file",
			file:     &snapshot.File{Time: "2026-03-01T12:00:00Z"},
			at:       at,
			wantTime: at,
		},
		{
			name:     "time from the argument alone",
			file:     &snapshot.File{},
			at:       at,
			wantTime: at,
		},
		{
			name:    "no time at all",
			file:    &snapshot.File{},
			wantErr: "snapshot has no time",
		},
		{
			name:    "a scrape with a bad pod",
			file:    &snapshot.File{Time: "2026-03-01T12:00:00Z", Metrics: []snapshot.Scrape{{Pod: "web-1", Text: "x 1\n"}}},
			wantErr: `metrics[0]: pod "web-1" must be namespace/name`,
		},
		{
			name:    "a scrape with a bad time",
			file:    &snapshot.File{Time: "2026-03-01T12:00:00Z", Metrics: []snapshot.Scrape{{Pod: "a/b", At: "noon", Text: "x 1\n"}}},
			wantErr: `metrics[0]: at "noon" is not RFC 3339`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap, err := snapshot.Assemble(c, tt.file, tt.at)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantTime, snap.Time)
			var absent []string
			for _, name := range snap.Sets() {
				if snap.Set(name).Status == snapshot.StatusAbsent {
					absent = append(absent, name)
				}
			}
			assert.Equal(t, tt.absent, absent)
		})
	}
}

func TestAssembleMetrics(t *testing.T) {
	sel, err := series.ParseSelector("requests_total")
	require.NoError(t, err)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ok := func(at, text string) snapshot.Scrape {
		return snapshot.Scrape{Pod: "shop/web-1", Source: "webmetrics", At: at, Text: text}
	}
	tests := []struct {
		name    string
		scrapes []snapshot.Scrape
		value   float64
		rate    float64
		wantErr error
	}{
		{
			name:    "one page answers Value",
			scrapes: []snapshot.Scrape{ok("", "requests_total 7\n")},
			value:   7,
		},
		{
			name:    "two scrapes give a rate",
			scrapes: []snapshot.Scrape{ok("2026-03-01T11:59:00Z", "requests_total 10\n"), ok("", "requests_total 70\n")},
			value:   70, rate: 1,
		},
		{
			name:    "scrapes listed out of order are replayed in time order",
			scrapes: []snapshot.Scrape{ok("", "requests_total 70\n"), ok("2026-03-01T11:59:00Z", "requests_total 10\n")},
			value:   70, rate: 1,
		},
		{
			name:    "a failed scrape makes queries error",
			scrapes: []snapshot.Scrape{{Pod: "shop/web-1", Error: "connection refused"}},
			wantErr: series.ErrScrapeFailed,
		},
		{
			name:    "a failed scrape after a good one",
			scrapes: []snapshot.Scrape{ok("2026-03-01T11:59:00Z", "requests_total 10\n"), {Pod: "shop/web-1", Error: "connection refused"}},
			wantErr: series.ErrScrapeFailed,
		},
		{
			name:    "a garbage page is a failed scrape",
			scrapes: []snapshot.Scrape{ok("", "requests_total {{{\n")},
			wantErr: series.ErrScrapeFailed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap, err := snapshot.Assemble(testCatalogue(t), &snapshot.File{Time: now.Format(time.RFC3339), Metrics: tt.scrapes}, time.Time{})
			require.NoError(t, err)
			assert.Equal(t, []string{"shop/web-1"}, snap.MetricsTargets())
			pm := snap.Metrics("shop", "web-1")
			require.NotNil(t, pm)
			assert.Nil(t, snap.Metrics("shop", "web-2"))
			v, err := pm.History.Value(now, sel)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.InDelta(t, tt.value, v, 1e-9)
			if tt.rate != 0 {
				r, err := pm.History.Rate(now, sel, 2*time.Minute)
				require.NoError(t, err)
				assert.InDelta(t, tt.rate, r, 1e-9)
			}
		})
	}
}

func TestAssembleGoodFileMetrics(t *testing.T) {
	f, err := snapshot.Decode(readTestdata(t, "basic.good.yaml"))
	require.NoError(t, err)
	snap, err := snapshot.Assemble(testCatalogue(t), f, time.Time{})
	require.NoError(t, err)
	sel, err := series.ParseSelector("requests_total")
	require.NoError(t, err)

	tests := []struct {
		pod     string
		value   float64
		wantErr error
	}{
		{pod: "shop/web-1", value: 40},
		{pod: "batch/job-1", wantErr: series.ErrScrapeFailed},
	}
	assert.Equal(t, []string{"batch/job-1", "shop/web-1"}, snap.MetricsTargets())
	for _, tt := range tests {
		t.Run(tt.pod, func(t *testing.T) {
			ns, name, _ := strings.Cut(tt.pod, "/")
			pm := snap.Metrics(ns, name)
			require.NotNil(t, pm)
			assert.Equal(t, "webmetrics", pm.Source)
			v, err := pm.History.Value(snap.Time, sel)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.Contains(t, err.Error(), "connection refused")
				return
			}
			require.NoError(t, err)
			assert.InDelta(t, tt.value, v, 1e-9)
		})
	}
}

// FuzzDecode feeds snapshot files to Decode and Assemble: user input must
// never panic the process.
func FuzzDecode(f *testing.F) {
	matches, err := filepath.Glob("testdata/*.yaml")
	require.NoError(f, err)
	more, err := filepath.Glob("testdata/objects/*.yaml")
	require.NoError(f, err)
	matches = append(matches, more...)
	for _, m := range matches {
		data, err := os.ReadFile(m)
		require.NoError(f, err)
		f.Add(data)
	}
	c := testCatalogue(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := snapshot.Decode(catalog.NewFile("fuzz.yaml", data))
		if err != nil {
			require.Nil(t, file)
			return
		}
		require.Equal(t, snapshot.FileKind, file.Kind)
		snap, err := snapshot.Assemble(c, file, time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
		if err == nil {
			require.NotNil(t, snap)
		}
	})
}
