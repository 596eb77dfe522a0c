package chart_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/kubernetes/fake"

	"statusd.io/statusd/internal/chart"
	"statusd.io/statusd/pkg/alertmanager"
	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/daemon"
	"statusd.io/statusd/pkg/emit"
	"statusd.io/statusd/pkg/promquery"
	"statusd.io/statusd/pkg/prune"
	"statusd.io/statusd/pkg/reload"
	"statusd.io/statusd/pkg/snapshot"
	"statusd.io/statusd/pkg/sources"
)

// dashboard is the part of Grafana's dashboard model (schemaVersion 36 and
// later) that Grafana needs to load a dashboard from a provisioned file and
// that the chart's dashboards must get right.
type dashboard struct {
	UID           string         `json:"uid"`
	Title         string         `json:"title"`
	SchemaVersion int            `json:"schemaVersion"`
	Panels        []panel        `json:"panels"`
	Templating    templating     `json:"templating"`
	Time          map[string]any `json:"time"`
}

type templating struct {
	List []variable `json:"list"`
}

type variable struct {
	Name       string `json:"name"`
	Type       string `json:"type"`
	Query      any    `json:"query"`
	Datasource *ref   `json:"datasource"`
	IncludeAll bool   `json:"includeAll"`
	AllValue   string `json:"allValue"`
}

type ref struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type panel struct {
	ID         int      `json:"id"`
	Type       string   `json:"type"`
	Title      string   `json:"title"`
	GridPos    *gridPos `json:"gridPos"`
	Datasource *ref     `json:"datasource"`
	Targets    []target `json:"targets"`
	Panels     []panel  `json:"panels"`
}

type gridPos struct {
	H, W, X, Y int
}

func (g *gridPos) UnmarshalJSON(b []byte) error {
	var m map[string]*int
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	for _, k := range []string{"h", "w", "x", "y"} {
		if m[k] == nil {
			return fmt.Errorf("gridPos lacks %s", k)
		}
	}
	g.H, g.W, g.X, g.Y = *m["h"], *m["w"], *m["x"], *m["y"]
	return nil
}

type target struct {
	RefID      string `json:"refId"`
	Expr       string `json:"expr"`
	Datasource *ref   `json:"datasource"`
}

// panelTypes are the Grafana core panels a shipped dashboard may use: no
// plugin the operator's Grafana might lack.
var panelTypes = []string{"row", "timeseries", "stat", "table", "gauge", "bargauge", "text"}

// builtinVariables are Grafana's own template variables.
var builtinVariables = []string{"__rate_interval", "__interval", "__range", "__range_s", "__interval_ms", "__from", "__to", "__dashboard"}

// TestDashboards checks every dashboard the chart ships: it loads in
// Grafana (the model's required fields, unique ids, panels inside the
// 24-column grid without overlapping, every target with an expression and
// the data source variable), it can be filtered by cluster and namespace,
// and every metric its queries read is one statusd exports.
func TestDashboards(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(chart.Dir(), "files", "dashboards", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "the chart ships a dashboard")
	exported := statusdMetrics(t)
	uids, titles := map[string]string{}, map[string]string{}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			b, err := os.ReadFile(file)
			require.NoError(t, err)
			var d dashboard
			dec := json.NewDecoder(strings.NewReader(string(b)))
			require.NoError(t, dec.Decode(&d), "the dashboard must be JSON of Grafana's model")

			assert.Regexp(t, `^[a-zA-Z0-9_-]{1,40}$`, d.UID, "Grafana uids are at most 40 characters of letters, digits, - and _")
			assert.NotEmpty(t, d.Title)
			assert.Empty(t, uids[d.UID], "uid %q is also %s's", d.UID, uids[d.UID])
			assert.Empty(t, titles[d.Title], "title %q is also %s's", d.Title, titles[d.Title])
			uids[d.UID], titles[d.Title] = file, file
			assert.GreaterOrEqual(t, d.SchemaVersion, 36, "schemaVersion 36 (Grafana 9) or later: data sources referenced by uid")
			assert.NotEmpty(t, d.Time["from"])

			vars := checkVariables(t, d.Templating.List)
			checkPanels(t, d.Panels, vars, exported)
			for _, v := range d.Templating.List {
				if v.Type != "query" {
					continue
				}
				q := variableQuery(t, v)
				checkReferences(t, "variable "+v.Name, q, vars)
				m := regexp.MustCompile(`^label_values\((.*),\s*[^,]+\)$`).FindStringSubmatch(q)
				require.NotNil(t, m, "variable %s: a label_values(metric{...}, label) query", v.Name)
				for _, name := range metricNames(m[1]) {
					assert.True(t, exported.has(name), "variable %s reads %s, which statusd does not export", v.Name, name)
				}
			}
		})
	}
}

// checkVariables checks the template variables and returns their names.
func checkVariables(t *testing.T, list []variable) []string {
	t.Helper()
	byName := map[string]variable{}
	var names []string
	for _, v := range list {
		assert.NotContains(t, byName, v.Name, "variable %s is declared twice", v.Name)
		byName[v.Name] = v
		names = append(names, v.Name)
	}
	ds, ok := byName["datasource"]
	require.True(t, ok, "a datasource variable, so that the dashboard works with any Prometheus data source")
	assert.Equal(t, "datasource", ds.Type)
	assert.Equal(t, "prometheus", ds.Query)
	for _, name := range []string{"cluster", "namespace"} {
		v, ok := byName[name]
		if !assert.True(t, ok, "a %s variable", name) {
			continue
		}
		assert.Equal(t, "query", v.Type, name)
		assert.True(t, v.IncludeAll, "%s: All must be offered", name)
		assert.Equal(t, ".*", v.AllValue, "%s: All must also match series without the label", name)
		if assert.NotNil(t, v.Datasource, name) {
			assert.Equal(t, "${datasource}", v.Datasource.UID, name)
		}
	}
	return names
}

func variableQuery(t *testing.T, v variable) string {
	t.Helper()
	switch q := v.Query.(type) {
	case string:
		return q
	case map[string]any:
		s, _ := q["query"].(string)
		return s
	}
	t.Fatalf("variable %s: query is %T", v.Name, v.Query)
	return ""
}

// checkPanels checks panels (and the panels of collapsed rows) on the grid.
func checkPanels(t *testing.T, panels []panel, vars []string, exported metricSet) {
	t.Helper()
	require.NotEmpty(t, panels)
	ids := map[int]bool{}
	var placed []panel
	var all []panel
	for _, p := range panels {
		all = append(all, p)
		all = append(all, p.Panels...)
	}
	read := map[string]bool{}
	for _, p := range all {
		what := fmt.Sprintf("panel %d %q", p.ID, p.Title)
		assert.Positive(t, p.ID, what)
		assert.False(t, ids[p.ID], "%s: id used twice", what)
		ids[p.ID] = true
		assert.Contains(t, panelTypes, p.Type, what)
		assert.NotEmpty(t, p.Title, what)
		if !assert.NotNil(t, p.GridPos, "%s: gridPos", what) {
			continue
		}
		g := p.GridPos
		assert.True(t, g.H > 0 && g.W > 0 && g.X >= 0 && g.Y >= 0 && g.X+g.W <= 24, "%s: gridPos %+v outside the 24-column grid", what, *g)
		for _, q := range placed {
			o := q.GridPos
			overlap := g.X < o.X+o.W && o.X < g.X+g.W && g.Y < o.Y+o.H && o.Y < g.Y+g.H
			assert.False(t, overlap, "%s overlaps panel %d %q", what, q.ID, q.Title)
		}
		placed = append(placed, p)
		if p.Type == "row" || p.Type == "text" {
			assert.Empty(t, p.Targets, what)
			continue
		}
		if assert.NotNil(t, p.Datasource, what) {
			assert.Equal(t, "${datasource}", p.Datasource.UID, what)
		}
		require.NotEmpty(t, p.Targets, "%s: a query", what)
		refs := map[string]bool{}
		for _, tg := range p.Targets {
			assert.NotEmpty(t, tg.RefID, what)
			assert.False(t, refs[tg.RefID], "%s: refId %s twice", what, tg.RefID)
			refs[tg.RefID] = true
			require.NotEmpty(t, strings.TrimSpace(tg.Expr), "%s: target %s has no expr", what, tg.RefID)
			require.NoError(t, catalog.CheckPromQL(tg.Expr), "%s: %s", what, tg.Expr)
			checkReferences(t, what, tg.Expr, vars)
			names := metricNames(tg.Expr)
			assert.NotEmpty(t, names, "%s: %s reads no metric", what, tg.Expr)
			for _, name := range names {
				assert.True(t, exported.has(name), "%s reads %s, which statusd does not export (it exports %v)", what, name, exported.sorted())
				read[exported.family(name)] = true
			}
		}
	}
	// What the issue asks the dashboard to show.
	for _, want := range []string{
		"statusd_root_cause", "statusd_findings", "statusd_tick_duration_seconds",
		"statusd_catalog_last_reload_successful", "statusd_alertmanager_alerts_sent_total",
	} {
		assert.True(t, read[want], "no panel reads %s", want)
	}
}

// checkReferences checks that every $var and ${var} is declared or
// Grafana's own.
func checkReferences(t *testing.T, what, expr string, vars []string) {
	t.Helper()
	for _, m := range regexp.MustCompile(`\$\{?([a-zA-Z_][a-zA-Z0-9_]*)`).FindAllStringSubmatch(expr, -1) {
		assert.True(t, slices.Contains(vars, m[1]) || slices.Contains(builtinVariables, m[1]),
			"%s: %s uses undeclared variable $%s", what, expr, m[1])
	}
}

// promqlWords are PromQL's keywords and aggregation modifiers, which look
// like metric names to a tokenizer.
var promqlWords = []string{
	"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset",
	"inf", "nan", "atan2", "start", "end",
}

var (
	stringLit   = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + "`[^`]*`")
	matchers    = regexp.MustCompile(`\{[^{}]*\}`)
	ranges      = regexp.MustCompile(`\[[^\]]*\]`)
	grouping    = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	identifier  = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?`)
	grafanaVars = regexp.MustCompile(`\$\{[^}]*\}|\$[a-zA-Z_][a-zA-Z0-9_]*`)
)

// metricNames lists the metric names a PromQL expression reads: the
// identifiers left once strings, label matchers, ranges, grouping labels,
// function calls, keywords and numbers are taken out.
func metricNames(expr string) []string {
	s := stringLit.ReplaceAllString(expr, `""`)
	s = grafanaVars.ReplaceAllString(s, "1m")
	s = matchers.ReplaceAllString(s, " ")
	s = ranges.ReplaceAllString(s, " ")
	s = grouping.ReplaceAllString(s, " ")
	var out []string
	for _, m := range identifier.FindAllStringSubmatchIndex(s, -1) {
		word := s[m[0]:m[1]]
		if m[2] >= 0 || slices.Contains(promqlWords, strings.ToLower(word)) {
			continue // a function call or a keyword
		}
		// A duration or number suffix (5m, 1e3) starts with a digit and is
		// never matched; a word right after a digit is part of one.
		if m[0] > 0 && (s[m[0]-1] >= '0' && s[m[0]-1] <= '9' || s[m[0]-1] == '.') {
			continue
		}
		if !slices.Contains(out, word) {
			out = append(out, word)
		}
	}
	return out
}

func TestMetricNames(t *testing.T) {
	tests := []struct {
		expr string
		want []string
	}{
		{expr: `sum(statusd_root_cause{cluster=~"$cluster"}) or vector(0)`, want: []string{"statusd_root_cause"}},
		{expr: `histogram_quantile(0.99, sum by (cluster, le) (rate(statusd_tick_duration_seconds_bucket{job="x"}[$__rate_interval])))`, want: []string{"statusd_tick_duration_seconds_bucket"}},
		{expr: `sum by (subject_namespace) (label_replace(statusd_root_cause{a="b"}, "subject_namespace", "$1", "${namespace_label}", "(.*)"))`, want: []string{"statusd_root_cause"}},
		{expr: `a_total / on (pod) group_left (node) b_info > bool 0.5e3`, want: []string{"a_total", "b_info"}},
		{expr: `rate(x[5m] offset 1h) unless y`, want: []string{"x", "y"}},
		{expr: `max without (instance) (vllm:e2e_request_latency_seconds_count)`, want: []string{"vllm:e2e_request_latency_seconds_count"}},
		{expr: `statusd_nothing_like_it`, want: []string{"statusd_nothing_like_it"}},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			assert.Equal(t, tt.want, metricNames(tt.expr))
		})
	}
}

// metricSet is what statusd's registry describes, by family, with each
// family's type for the suffixes a histogram or summary adds.
type metricSet map[string]bool

func (m metricSet) family(name string) string {
	if m[name] {
		return name
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && m[base] {
			return base
		}
	}
	return ""
}

func (m metricSet) has(name string) bool { return m.family(name) != "" }

func (m metricSet) sorted() []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// statusdMetrics builds a registry as statusd run does, from each
// package's own constructor (the daemon's metrics, the Event writer and its
// root-cause gauge, the sources' collector, the Alertmanager sender and the
// Prometheus query runner), and returns every metric family it describes.
// Described, not gathered: a vector without children is gathered as
// nothing, yet is a series a dashboard may read.
func statusdMetrics(t *testing.T) metricSet {
	t.Helper()
	reg := prometheus.NewRegistry()
	register := func(cs ...prometheus.Collector) {
		for _, c := range cs {
			if err := reg.Register(c); err != nil {
				var already prometheus.AlreadyRegisteredError
				require.ErrorAs(t, err, &already)
			}
		}
	}
	writer, err := emit.NewWriter(fake.NewClientset(), emit.Options{})
	require.NoError(t, err)
	_, err = daemon.New(daemon.Options{Catalogs: nopCatalogs{}, Sources: nopSources{}, Publisher: writer, Registry: reg})
	require.NoError(t, err)
	register(writer, emit.NewRootCauses("c", 0), daemon.SourcesCollector(func() sources.Stats { return sources.Stats{} }))
	_, err = alertmanager.New(alertmanager.Options{URLs: []string{"http://127.0.0.1:9093"}, Registry: reg})
	require.NoError(t, err)
	_, err = promquery.New(promquery.Options{URL: "http://127.0.0.1:9090", Registry: reg})
	require.NoError(t, err)

	ch := make(chan *prometheus.Desc)
	go func() {
		reg.Describe(ch)
		close(ch)
	}()
	fq := regexp.MustCompile(`fqName: "([^"]+)"`)
	out := metricSet{}
	for d := range ch {
		m := fq.FindStringSubmatch(d.String())
		require.NotNil(t, m, "desc %s", d)
		out[m[1]] = true
	}
	require.True(t, out["statusd_root_cause"] && out["statusd_tick_duration_seconds"], "the registry must hold statusd's metrics: %v", out.sorted())
	return out
}

type nopCatalogs struct{}

func (nopCatalogs) Run(context.Context) error      { return nil }
func (nopCatalogs) Updates() <-chan *reload.Update { return nil }

type nopSources struct{}

func (nopSources) Run(context.Context) error                            { return nil }
func (nopSources) Apply(*catalog.Catalog, map[string]*prune.Tree) error { return nil }
func (nopSources) Snapshot(time.Time) *snapshot.Snapshot                { return nil }
func (nopSources) Changed() <-chan struct{}                             { return nil }
