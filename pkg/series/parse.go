package series

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"sync"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Default limits for one scrape. A vLLM server exposes a few hundred series
// in well under 100 KiB, so these leave room for large exporters while
// keeping one misbehaving target from costing more than a few MiB.
const (
	DefaultMaxBytes  = 10 << 20
	DefaultMaxSeries = 10_000
)

// Limits bounds what one scrape may cost. Zero fields take the defaults.
type Limits struct {
	// MaxBytes is the largest body Parse reads; a larger one is refused
	// whole rather than parsed in part.
	MaxBytes int64
	// MaxSeries is the most samples a page may hold.
	MaxSeries int
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxSeries <= 0 {
		l.MaxSeries = DefaultMaxSeries
	}
	return l
}

// Content types Parse distinguishes; any other text is read as the
// Prometheus text format, as Prometheus itself falls back to it.
const (
	openMetricsType = "application/openmetrics-text"
	protobufType    = "application/vnd.google.protobuf"
)

// bufPool recycles read buffers: the parser copies every string it keeps,
// so a body's bytes are dead once Parse returns. Buffers that grew past
// maxPooledBuf are dropped so that one huge page does not pin memory.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooledBuf = 1 << 20

// Parse reads one scraped page in the Prometheus text format or, when
// contentType says application/openmetrics-text, in OpenMetrics. It reads
// at most lim.MaxBytes and refuses, with ErrTooLarge, a body that is longer
// or that holds more than lim.MaxSeries samples; a malformed page is
// ErrInvalidPage. It never returns part of a page.
//
// Every sample becomes its own series under its exposed name: histogram
// buckets stay name_bucket{le="..."} series, as Prometheus stores them, so
// that queries work the same on text and OpenMetrics pages. Exposed
// timestamps, HELP, TYPE and UNIT lines and OpenMetrics exemplars are
// ignored: a History stamps samples with the scrape time.
func Parse(r io.Reader, contentType string, lim Limits) (*Page, error) {
	lim = lim.withDefaults()
	om, err := isOpenMetrics(contentType)
	if err != nil {
		return nil, err
	}

	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= maxPooledBuf {
			bufPool.Put(buf)
		}
	}()
	// One byte past the limit tells a body of exactly MaxBytes from a longer
	// one without reading the rest of it.
	if _, err := buf.ReadFrom(io.LimitReader(r, lim.MaxBytes+1)); err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if int64(buf.Len()) > lim.MaxBytes {
		return nil, fmt.Errorf("%w: body exceeds %d bytes", ErrTooLarge, lim.MaxBytes)
	}

	body, n, err := prepare(buf.Bytes(), om)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidPage, err)
	}
	if n > lim.MaxSeries {
		return nil, fmt.Errorf("%w: page has %d series, more than %d", ErrTooLarge, n, lim.MaxSeries)
	}
	fams, err := parseText(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidPage, err)
	}
	p, err := flatten(fams, n)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidPage, err)
	}
	return p, nil
}

func isOpenMetrics(contentType string) (bool, error) {
	if contentType == "" {
		return false, nil
	}
	mediaType, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		// A garbled header should not hide a readable body; Prometheus
		// falls back to the text format in the same case.
		return false, nil
	}
	switch mediaType {
	case openMetricsType:
		return true, nil
	case protobufType:
		return false, fmt.Errorf("%w: content type %q is not supported, ask for text/plain or %s", ErrInvalidPage, contentType, openMetricsType)
	}
	return false, nil
}

var parserPool = sync.Pool{New: func() any {
	p := expfmt.NewTextParser(model.UTF8Validation)
	return &p
}}

// parseText runs expfmt's text parser over a prepared body. The parser is
// fuzzed upstream, but a scrape target is untrusted input and a panic here
// would take every other target down with it, so a panic becomes an error.
func parseText(body []byte) (fams map[string]*dto.MetricFamily, err error) {
	p := parserPool.Get().(*expfmt.TextParser)
	defer func() {
		if r := recover(); r != nil {
			fams, err = nil, fmt.Errorf("parser panic: %v", r)
			return // a parser in an unknown state is not pooled
		}
		parserPool.Put(p)
	}()
	return p.TextToMetricFamilies(bytes.NewReader(body))
}

// prepare turns a body into input for expfmt's text parser, in place, and
// counts its sample lines. It blanks every comment line: with no TYPE line
// the parser reads every sample as an untyped series under its own name,
// which is the flat model a History stores, and OpenMetrics-only types and
// keywords cannot trip it. Blanking rather than removing keeps the
// parser's line numbers right. For OpenMetrics it also cuts each sample
// after its value, dropping timestamps (seconds there, milliseconds in
// the text format) and exemplars, and requires the closing # EOF.
func prepare(body []byte, om bool) ([]byte, int, error) {
	var (
		w, line, samples int
		eof, unended     bool
	)
	for r := 0; r < len(body); {
		end := bytes.IndexByte(body[r:], '\n')
		next := r + end + 1
		if end < 0 {
			end = len(body) - r
			next = len(body)
		}
		ln := body[r : r+end]
		r = next
		line++
		trimmed := bytes.TrimLeft(ln, " \t")
		if eof {
			if len(bytes.TrimSpace(ln)) > 0 {
				return nil, 0, fmt.Errorf("line %d: content after # EOF", line)
			}
			continue
		}
		switch {
		case len(trimmed) == 0:
			ln = ln[:0]
		case trimmed[0] == '#':
			eof = om && string(ln) == "# EOF"
			ln = ln[:0]
		default:
			samples++
			if om {
				ln = ln[:valueEnd(ln)]
			}
		}
		w += copy(body[w:], ln)
		// The text parser wants every line ended, the last one too; only
		// an unended last line with nothing blanked before it leaves no
		// room for its newline in place.
		if w < r {
			body[w] = '\n'
			w++
		} else {
			unended = true
		}
	}
	if om && !eof {
		return nil, 0, errors.New("openmetrics page does not end with # EOF, it may be truncated")
	}
	if unended {
		return append(body[:w], '\n'), samples, nil
	}
	return body[:w], samples, nil
}

// valueEnd returns the offset just past the value of an OpenMetrics sample
// line, or len(ln) when the line does not look like a sample, so that the
// parser reports the problem in its own words.
func valueEnd(ln []byte) int {
	i := 0
	for i < len(ln) && (ln[i] == ' ' || ln[i] == '\t') {
		i++
	}
	for i < len(ln) && ln[i] != ' ' && ln[i] != '\t' && ln[i] != '{' {
		i++
	}
	if i < len(ln) && ln[i] == '{' {
		if i = labelsEnd(ln, i); i < 0 {
			return len(ln)
		}
	}
	for i < len(ln) && (ln[i] == ' ' || ln[i] == '\t') {
		i++
	}
	for i < len(ln) && ln[i] != ' ' && ln[i] != '\t' {
		i++
	}
	return i
}

// labelsEnd returns the offset just past the '}' that closes the label set
// opened at ln[open], skipping quoted strings, or -1 when it is not closed.
func labelsEnd(ln []byte, open int) int {
	quoted := false
	for i := open + 1; i < len(ln); i++ {
		switch c := ln[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && c == '}':
			return i + 1
		}
	}
	return -1
}

// flatten turns the parser's families, all untyped since prepare removed
// every TYPE line, into a Page.
func flatten(fams map[string]*dto.MetricFamily, n int) (*Page, error) {
	p := &Page{samples: make([]Sample, 0, n)}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			var v float64
			switch {
			case m.Untyped != nil:
				v = m.GetUntyped().GetValue()
			case m.Gauge != nil:
				v = m.GetGauge().GetValue()
			case m.Counter != nil:
				v = m.GetCounter().GetValue()
			default:
				return nil, fmt.Errorf("metric %q: unexpected %s sample", f.GetName(), f.GetType())
			}
			s, err := canonical(Series{Name: f.GetName(), Labels: labelsOf(m.GetLabel())})
			if err != nil {
				return nil, err
			}
			p.samples = append(p.samples, Sample{Series: s, Value: v})
		}
	}
	if err := p.index(); err != nil {
		return nil, err
	}
	return p, nil
}

func labelsOf(pairs []*dto.LabelPair) Labels {
	if len(pairs) == 0 {
		return nil
	}
	ls := make(Labels, 0, len(pairs))
	for _, lp := range pairs {
		ls = append(ls, Label{Name: lp.GetName(), Value: lp.GetValue()})
	}
	return ls
}
