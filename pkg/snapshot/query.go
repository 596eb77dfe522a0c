package snapshot

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/series"
)

// QuerySample is one series of a query's result: its labels (the metric
// name, if the result kept one, under __name__) and its value at the
// evaluation time.
type QuerySample struct {
	Labels map[string]string
	Value  float64
}

// QueryResult is what one Prometheus query source returned at a tick.
// Status is Ready with the samples (none: the query's series are absent,
// which is not zero), Failed with Err (an error, a timeout, a result over
// the size cap: every read of it is Unknown), or Absent when statusd runs
// without a Prometheus endpoint.
type QueryResult struct {
	Source  string
	Status  Status
	Err     string
	At      time.Time
	Samples []QuerySample
}

// AddQuery records a query source's result.
func (b *Builder) AddQuery(r *QueryResult) {
	if b.snap.queries == nil {
		b.snap.queries = map[string]*QueryResult{}
	}
	b.snap.queries[r.Source] = r
}

// Query returns the result of query source name, or nil when the snapshot
// has none (statusd runs without Prometheus, or the source is unknown).
func (s *Snapshot) Query(name string) *QueryResult { return s.queries[name] }

// Queries returns the query sources with results, sorted.
func (s *Snapshot) Queries() []string { return slices.Sorted(maps.Keys(s.queries)) }

// QueryRecord is a query result in a snapshot file or rule test: its
// series in promtool's notation (name{labels} or {labels}, the name being
// optional since most results have none) with their value.
type QueryRecord struct {
	// Source is the query source.
	Source string `json:"source"`
	// Error is the query's failure; every read of the source is Unknown.
	Error string `json:"error,omitempty"`
	// Result maps each series to its value (a number, Inf, -Inf or NaN).
	// An empty result means the query returned no series.
	Result map[string]string `json:"result,omitempty"`
}

// ParseQuerySeries reads a series of a query result written as
// name{labels}, {labels} or name.
func ParseQuerySeries(s string) (map[string]string, error) {
	text := strings.TrimSpace(s)
	placeholder := false
	if strings.HasPrefix(text, "{") {
		// A result series without a name: borrow one to parse the
		// labels with the same parser as scraped series.
		text = "__result__" + text
		placeholder = true
	}
	ser, err := series.ParseSeries(text)
	if err != nil {
		return nil, fmt.Errorf("series %q: %w", s, err)
	}
	out := make(map[string]string, len(ser.Labels)+1)
	for _, l := range ser.Labels {
		out[l.Name] = l.Value
	}
	if !placeholder {
		out["__name__"] = ser.Name
	}
	return out, nil
}

// FormatQuerySeries writes labels as ParseQuerySeries reads them.
func FormatQuerySeries(labels map[string]string) string {
	var ls series.Labels
	name := labels["__name__"]
	for k, v := range labels {
		if k != "__name__" {
			ls = append(ls, series.Label{Name: k, Value: v})
		}
	}
	slices.SortFunc(ls, func(a, b series.Label) int { return cmp.Compare(a.Name, b.Name) })
	if name == "" {
		s := series.Series{Name: "x", Labels: ls}.String()
		if len(ls) == 0 {
			return "{}"
		}
		return s[strings.IndexByte(s, '{'):]
	}
	return series.Series{Name: name, Labels: ls}.String()
}

// ParseQueryValue reads a value as written in a QueryRecord.
func ParseQueryValue(s string) (float64, error) {
	switch strings.TrimSpace(s) {
	case "Inf", "+Inf":
		return math.Inf(1), nil
	case "-Inf":
		return math.Inf(-1), nil
	case "NaN":
		return math.NaN(), nil
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return 0, fmt.Errorf("value %q is not a number", s)
	}
	return v, nil
}

// FormatQueryValue writes v as ParseQueryValue reads it.
func FormatQueryValue(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// ToResult converts a record into a result at time at.
func (r *QueryRecord) ToResult(at time.Time) (*QueryResult, error) {
	out := &QueryResult{Source: r.Source, Status: StatusReady, At: at}
	if r.Error != "" {
		out.Status, out.Err = StatusFailed, r.Error
		return out, nil
	}
	for _, k := range slices.Sorted(maps.Keys(r.Result)) {
		labels, err := ParseQuerySeries(k)
		if err != nil {
			return nil, fmt.Errorf("query %s: %w", r.Source, err)
		}
		v, err := ParseQueryValue(r.Result[k])
		if err != nil {
			return nil, fmt.Errorf("query %s: series %s: %w", r.Source, k, err)
		}
		out.Samples = append(out.Samples, QuerySample{Labels: labels, Value: v})
	}
	return out, nil
}

// Record converts a result into its file form.
func (r *QueryResult) Record() QueryRecord {
	rec := QueryRecord{Source: r.Source}
	if r.Status == StatusFailed {
		rec.Error = r.Err
		if rec.Error == "" {
			rec.Error = "failed"
		}
		return rec
	}
	if len(r.Samples) > 0 {
		rec.Result = make(map[string]string, len(r.Samples))
		for _, s := range r.Samples {
			rec.Result[FormatQuerySeries(s.Labels)] = FormatQueryValue(s.Value)
		}
	}
	return rec
}

// addQueries adds a file's query records; query sources of the catalogue
// without a record are left out (absent), as without Prometheus.
func addQueries(b *Builder, c *catalog.Catalog, recs []QueryRecord, at time.Time) error {
	for i := range recs {
		src, ok := c.Sources[recs[i].Source]
		if !ok || !src.IsQuery() {
			continue // a file may carry results of another catalogue's queries
		}
		r, err := recs[i].ToResult(at)
		if err != nil {
			return err
		}
		b.AddQuery(r)
	}
	return nil
}

// WithQueries returns a copy of s holding results as its query results,
// replacing any it had. The copy shares everything else with s, which
// stays as it was: a snapshot is immutable once built, and the daemon
// adds the tick's Prometheus results to the snapshot its sources built.
func (s *Snapshot) WithQueries(results []*QueryResult) *Snapshot {
	c := *s
	c.queries = make(map[string]*QueryResult, len(results))
	for _, r := range results {
		if r != nil {
			c.queries[r.Source] = r
		}
	}
	return &c
}
