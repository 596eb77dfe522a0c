package loadgen

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// Scrape fetches a Prometheus text page and parses it.
func Scrape(url string) (map[string]float64, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("get %s: %s", url, resp.Status)
	}
	return ParseMetrics(string(body)), nil
}

// ParseMetrics maps each sample's series (name and labels as written) to its
// value. Comments and unparsable lines are skipped: the page is only read
// for the handful of series the report needs.
func ParseMetrics(text string) map[string]float64 {
	out := map[string]float64{}
	for line := range strings.SplitSeq(text, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		out[line[:i]] += v
	}
	return out
}

// SeriesName splits a series into its metric name and its labels.
func SeriesName(series string) (string, map[string]string) {
	i := strings.IndexByte(series, '{')
	if i < 0 {
		return series, nil
	}
	labels := map[string]string{}
	rest := strings.TrimSuffix(series[i+1:], "}")
	for rest != "" {
		eq := strings.IndexByte(rest, '=')
		if eq < 0 || eq+1 >= len(rest) || rest[eq+1] != '"' {
			break
		}
		key := rest[:eq]
		end := strings.Index(rest[eq+2:], `"`)
		if end < 0 {
			break
		}
		labels[key] = rest[eq+2 : eq+2+end]
		rest = strings.TrimPrefix(rest[eq+2+end+1:], ",")
	}
	return series[:i], labels
}

// DeltaByLabel sums after-before of metric name grouped by one label.
func DeltaByLabel(before, after map[string]float64, name, label string) map[string]float64 {
	out := map[string]float64{}
	for series, v := range after {
		n, labels := SeriesName(series)
		if n != name {
			continue
		}
		if d := v - before[series]; d > 0 {
			out[labels[label]] += d
		}
	}
	return out
}

// Histogram is the change of a Prometheus histogram over a window.
type Histogram struct {
	Bounds []float64 // upper bounds, ascending, +Inf last
	Counts []float64 // cumulative
	Sum    float64
	Count  float64
}

// HistogramDelta is the change of histogram name between two pages.
func HistogramDelta(before, after map[string]float64, name string) Histogram {
	var h Histogram
	type bucket struct{ le, n float64 }
	var bs []bucket
	for series, v := range after {
		n, labels := SeriesName(series)
		switch n {
		case name + "_bucket":
			le, err := strconv.ParseFloat(labels["le"], 64)
			if err != nil {
				continue
			}
			bs = append(bs, bucket{le, v - before[series]})
		case name + "_sum":
			h.Sum += v - before[series]
		case name + "_count":
			h.Count += v - before[series]
		}
	}
	sort.Slice(bs, func(i, j int) bool { return bs[i].le < bs[j].le })
	for _, b := range bs {
		h.Bounds = append(h.Bounds, b.le)
		h.Counts = append(h.Counts, b.n)
	}
	return h
}

// Quantile interpolates linearly within the bucket holding q, as
// Prometheus's histogram_quantile does; the buckets double, so the answer
// is good to within a factor of two at worst.
func (h Histogram) Quantile(q float64) float64 {
	if len(h.Counts) == 0 || h.Counts[len(h.Counts)-1] == 0 {
		return 0
	}
	total := h.Counts[len(h.Counts)-1]
	rank := q * total
	lower, prev := 0.0, 0.0
	for i, c := range h.Counts {
		if c >= rank {
			upper := h.Bounds[i]
			if math.IsInf(upper, 1) {
				return lower
			}
			if c == prev {
				return upper
			}
			return lower + (upper-lower)*(rank-prev)/(c-prev)
		}
		lower, prev = h.Bounds[i], c
	}
	return lower
}

// Quantile of samples by nearest rank; 0 for none.
func Quantile(samples []float64, q float64) float64 {
	if len(samples) == 0 {
		return 0
	}
	s := append([]float64(nil), samples...)
	sort.Float64s(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}
