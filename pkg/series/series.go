package series

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/common/model"
)

// Label is one name/value pair of a series.
type Label struct {
	Name, Value string
}

// Labels is a series' label set, sorted by name, without the metric name and
// without empty values. Keeping it canonical lets two equal sets compare
// equal element by element and gives every series one identity.
type Labels []Label

// Get returns the value of the label name, or "" when it is absent: as in
// PromQL, an absent label and an empty one are the same thing.
func (ls Labels) Get(name string) string {
	for _, l := range ls {
		if l.Name == name {
			return l.Value
		}
	}
	return ""
}

// Series identifies one time series: a metric name and its labels.
type Series struct {
	Name   string
	Labels Labels
}

// String formats s as PromQL writes a series, for messages:
// vllm:num_requests_running{model_name="llama"}. Names outside the legacy
// character set are quoted the way PromQL 3 quotes them.
func (s Series) String() string {
	var b strings.Builder
	legacyName := model.LegacyValidation.IsValidMetricName(s.Name)
	if legacyName {
		b.WriteString(s.Name)
		if len(s.Labels) == 0 {
			return b.String()
		}
	}
	b.WriteByte('{')
	if !legacyName {
		b.WriteString(strconv.Quote(s.Name))
	}
	for i, l := range s.Labels {
		if i > 0 || !legacyName {
			b.WriteString(", ")
		}
		if model.LegacyValidation.IsValidLabelName(l.Name) {
			b.WriteString(l.Name)
		} else {
			b.WriteString(strconv.Quote(l.Name))
		}
		b.WriteByte('=')
		b.WriteString(strconv.Quote(l.Value))
	}
	b.WriteByte('}')
	return b.String()
}

// keySep cannot occur in valid UTF-8, so joining names and values with it
// gives every canonical series a distinct key without escaping.
const keySep = "\xff"

// key is the identity a History files samples under. It assumes s is
// canonical (see canonical); a Page holds keys only for canonical series.
func (s Series) key() string {
	n := len(s.Name)
	for _, l := range s.Labels {
		n += 2*len(keySep) + len(l.Name) + len(l.Value)
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(s.Name)
	for _, l := range s.Labels {
		b.WriteString(keySep)
		b.WriteString(l.Name)
		b.WriteString(keySep)
		b.WriteString(l.Value)
	}
	return b.String()
}

// canonical validates s and returns it with its labels sorted and empty
// values dropped. It copies the labels only when it must change them, so
// that already canonical input, the common case for parsed pages, costs no
// allocation.
func canonical(s Series) (Series, error) {
	if s.Name == "" {
		return s, fmt.Errorf("series %s: empty metric name", s)
	}
	if !utf8.ValidString(s.Name) {
		return s, fmt.Errorf("series %q: metric name is not valid UTF-8", s.Name)
	}
	sorted, clean := true, true
	for i, l := range s.Labels {
		if l.Name == "" || l.Name == model.MetricNameLabel {
			return s, fmt.Errorf("series %s: invalid label name %q", s, l.Name)
		}
		if !utf8.ValidString(l.Name) || !utf8.ValidString(l.Value) {
			return s, fmt.Errorf("series %s: label %q is not valid UTF-8", s, l.Name)
		}
		if l.Value == "" {
			clean = false
		}
		if i > 0 && s.Labels[i-1].Name >= l.Name {
			sorted = false
		}
	}
	if sorted && clean {
		return s, nil
	}
	ls := slices.Clone(s.Labels)
	slices.SortFunc(ls, func(a, b Label) int { return cmp.Compare(a.Name, b.Name) })
	for i := 1; i < len(ls); i++ {
		// A name given twice is a mistake even when one value is empty.
		if ls[i-1].Name == ls[i].Name {
			return s, fmt.Errorf("series %s: duplicate label name %q", s, ls[i].Name)
		}
	}
	ls = slices.DeleteFunc(ls, func(l Label) bool { return l.Value == "" })
	if len(ls) == 0 {
		ls = nil
	}
	return Series{Name: s.Name, Labels: ls}, nil
}

// compareSeries orders series by name, then label by label, so that pages
// list their samples in a stable, readable order.
func compareSeries(a, b Series) int {
	if c := cmp.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	for i := 0; i < len(a.Labels) && i < len(b.Labels); i++ {
		if c := cmp.Compare(a.Labels[i].Name, b.Labels[i].Name); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Labels[i].Value, b.Labels[i].Value); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a.Labels), len(b.Labels))
}
