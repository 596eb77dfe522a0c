package series

import (
	"fmt"
	"slices"
)

// Sample is one value of one series in a scrape.
type Sample struct {
	Series Series
	Value  float64
}

// Page is the content of one successful scrape: every sample it exposed,
// in canonical form and in a stable order, with no series twice. A Page is
// built by Parse or NewPage and not changed afterwards, which lets it carry
// each series' identity key from parsing through to History.Append.
type Page struct {
	samples []Sample
	keys    []string
}

// NewPage checks and canonicalises samples into a Page, for tests and for
// sources that do not scrape text. It refuses an empty or non-UTF-8 name,
// an invalid or repeated label name, and a series given twice.
func NewPage(samples []Sample) (*Page, error) {
	p := &Page{samples: make([]Sample, len(samples))}
	for i, s := range samples {
		c, err := canonical(s.Series)
		if err != nil {
			return nil, err
		}
		p.samples[i] = Sample{Series: c, Value: s.Value}
	}
	if err := p.index(); err != nil {
		return nil, err
	}
	return p, nil
}

// index sorts the samples, computes their keys and refuses duplicates; the
// samples must already be canonical.
func (p *Page) index() error {
	slices.SortFunc(p.samples, func(a, b Sample) int { return compareSeries(a.Series, b.Series) })
	p.keys = make([]string, len(p.samples))
	for i := range p.samples {
		p.keys[i] = p.samples[i].Series.key()
		if i > 0 && p.keys[i] == p.keys[i-1] {
			return fmt.Errorf("duplicate series %s", p.samples[i].Series)
		}
	}
	return nil
}

// Samples returns the page's samples, sorted by series. The slice is the
// page's own: callers must not modify it.
func (p *Page) Samples() []Sample {
	return p.samples
}

// Len returns the number of samples, which is also the number of series.
func (p *Page) Len() int {
	return len(p.samples)
}
