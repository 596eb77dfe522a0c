package series

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// MaxSteps bounds the expansion of one notation, so that a typo such as
// 1x1000000000 in a test file is an error and not an out-of-memory crash.
const MaxSteps = 100_000

// Step is one value of an expanded series notation. At most one of Missing
// and Stale is set; Value is meaningful only when neither is.
type Step struct {
	Value float64
	// Missing (written _) means the scrape had no sample for the series,
	// without ending it: History.Value still finds the previous sample
	// within the staleness bound, as PromQL's lookback does.
	Missing bool
	// Stale (written stale) ends the series, as a scrape without it would.
	Stale bool
}

// ParseNotation expands promtool's series-values notation, space separated:
//
//	1 2.5 -3 Inf NaN    one value each
//	_                   one missing value
//	_xN                 N missing values
//	stale               the end of the series
//	axN                 N+1 values, all a
//	a+bxN, a-bxN        N+1 values: a, a+b, a+2b, ... a+Nb
//
// So "0+5x3" is 0 5 10 15 and "1 _x2 stale" is 1 _ _ stale. The sums are
// repeated additions, as promtool computes them, so floating-point steps
// round exactly as there; numbers also follow promtool, where "010" is
// octal. An increment after stale yields NaN values, as it does in
// promtool. Native-histogram values ({{...}}) are not supported. Errors
// are *SyntaxError.
func ParseNotation(s string) ([]Step, error) {
	p := &textParser{in: s, kind: "values"}
	var steps []Step
	for {
		p.skipSpace()
		if p.pos == len(p.in) {
			return steps, nil
		}
		start := p.pos
		for p.pos < len(p.in) && !isSpace(p.in[p.pos]) {
			p.pos++
		}
		item, err := p.item(start, p.in[start:p.pos], MaxSteps-len(steps))
		if err != nil {
			return nil, err
		}
		steps = append(steps, item...)
	}
}

// item expands one space-free item that starts at offset start, refusing
// to produce more than room steps.
func (p *textParser) item(start int, it string, room int) ([]Step, error) {
	sc := itemScanner{p: p, start: start, it: it}
	if strings.HasPrefix(it, "{{") {
		return nil, sc.errorAt(0, "native histogram values are not supported")
	}
	if it[0] == '_' {
		if len(it) == 1 {
			return sc.repeat(Step{Missing: true}, 1, room)
		}
		if it[1] != 'x' {
			return nil, sc.errorAt(1, "expected x after _")
		}
		sc.i = 2
		n, err := sc.count()
		if err != nil {
			return nil, err
		}
		return sc.repeat(Step{Missing: true}, n, room)
	}
	first, err := sc.value(true)
	if err != nil {
		return nil, err
	}
	if sc.i == len(it) {
		if room < 1 {
			return nil, sc.tooMany()
		}
		return []Step{first}, nil
	}
	switch it[sc.i] {
	case 'x':
		sc.i++
		n, err := sc.count()
		if err != nil {
			return nil, err
		}
		return sc.repeat(first, n+1, room)
	case '+', '-':
		inc, err := sc.value(false)
		if err != nil {
			return nil, err
		}
		if sc.i == len(it) || it[sc.i] != 'x' {
			return nil, sc.errorAt(sc.i, "expected x and a count after the increment")
		}
		sc.i++
		n, err := sc.count()
		if err != nil {
			return nil, err
		}
		if n+1 > uint64(room) {
			return nil, sc.tooMany()
		}
		steps := make([]Step, 0, n+1)
		v := first.Value
		if first.Stale {
			v = staleNaN
		}
		for range n + 1 {
			steps = append(steps, stepOf(v))
			v += inc.Value
		}
		return steps, nil
	}
	return nil, sc.errorAt(sc.i, fmt.Sprintf("unexpected %q", it[sc.i:]))
}

func stepOf(v float64) Step {
	if isStale(v) {
		return Step{Stale: true}
	}
	return Step{Value: v}
}

// itemScanner walks one item; offsets in its errors are relative to the
// item and turned into offsets in the whole input.
type itemScanner struct {
	p     *textParser
	start int
	it    string
	i     int
}

func (sc *itemScanner) errorAt(i int, msg string) *SyntaxError {
	return sc.p.errorAt(sc.start+i, msg)
}

func (sc *itemScanner) tooMany() *SyntaxError {
	return sc.errorAt(0, fmt.Sprintf("expands to more than %d values", MaxSteps))
}

func (sc *itemScanner) repeat(s Step, n uint64, room int) ([]Step, error) {
	if n > uint64(room) {
		return nil, sc.tooMany()
	}
	steps := make([]Step, n)
	for i := range steps {
		steps[i] = s
	}
	return steps, nil
}

// value scans a number, or with lead also stale. A sign is required when
// not lead (an increment) and optional otherwise.
func (sc *itemScanner) value(lead bool) (Step, error) {
	at := sc.i
	sign := 1.0
	switch {
	case sc.i < len(sc.it) && (sc.it[sc.i] == '+' || sc.it[sc.i] == '-'):
		if sc.it[sc.i] == '-' {
			sign = -1
		}
		sc.i++
	case !lead:
		return Step{}, sc.errorAt(at, "expected + or -")
	}
	signed := sc.i > at
	if sc.i < len(sc.it) && isLabelStart(sc.it[sc.i]) {
		// promtool reads a word of letters, digits, _ and :, so "stalex3"
		// is one unknown word rather than stale three times.
		j := sc.i
		for j < len(sc.it) && isNameChar(sc.it[j]) {
			j++
		}
		word := sc.it[sc.i:j]
		sc.i = j
		switch lw := strings.ToLower(word); {
		case lw == "inf":
			return Step{Value: sign * math.Inf(1)}, nil
		case lw == "nan":
			return Step{Value: math.NaN()}, nil
		case word == "stale" && lead && !signed:
			return Step{Stale: true}, nil
		}
		return Step{}, sc.errorAt(at, fmt.Sprintf("expected a number or stale, found %q", word))
	}
	tok, err := sc.number()
	if err != nil {
		return Step{}, err
	}
	// promtool parses as an integer first, with Go's base prefixes, then
	// as a float.
	if n, err := strconv.ParseInt(tok, 0, 64); err == nil {
		return Step{Value: sign * float64(n)}, nil
	}
	f, err := strconv.ParseFloat(tok, 64)
	if err != nil {
		return Step{}, sc.errorAt(at, fmt.Sprintf("invalid number %q", tok))
	}
	return Step{Value: sign * f}, nil
}

// number scans digits, an optional fraction and an optional exponent, as
// PromQL's lexer does in series values, where hexadecimal is off because
// 0x3 means zero, four times.
func (sc *itemScanner) number() (string, error) {
	start := sc.i
	digits := func() {
		for sc.i < len(sc.it) && '0' <= sc.it[sc.i] && sc.it[sc.i] <= '9' {
			sc.i++
		}
	}
	digits()
	if sc.i < len(sc.it) && sc.it[sc.i] == '.' {
		sc.i++
		digits()
	}
	if sc.i == start || sc.it[start:sc.i] == "." {
		if sc.i < len(sc.it) {
			return "", sc.errorAt(start, fmt.Sprintf("expected a number, found %q", sc.it[start:]))
		}
		return "", sc.errorAt(start, "expected a number")
	}
	if sc.i < len(sc.it) && (sc.it[sc.i] == 'e' || sc.it[sc.i] == 'E') {
		sc.i++
		if sc.i < len(sc.it) && (sc.it[sc.i] == '+' || sc.it[sc.i] == '-') {
			sc.i++
		}
		digits()
	}
	if sc.i < len(sc.it) && sc.it[sc.i] != 'x' && isLabelChar(sc.it[sc.i]) {
		return "", sc.errorAt(start, fmt.Sprintf("invalid number %q", sc.it[start:]))
	}
	return sc.it[start:sc.i], nil
}

// count scans the repetition count after x, which ends the item.
func (sc *itemScanner) count() (uint64, error) {
	at := sc.i
	tok, err := sc.number()
	if err != nil {
		return 0, err
	}
	if sc.i != len(sc.it) {
		return 0, sc.errorAt(sc.i, fmt.Sprintf("unexpected %q after the count", sc.it[sc.i:]))
	}
	n, err := strconv.ParseUint(tok, 10, 64)
	if err != nil {
		return 0, sc.errorAt(at, fmt.Sprintf("invalid repetition count %q", tok))
	}
	return n, nil
}

// Input is one series of a Load, as a promtool test file writes it.
type Input struct {
	// Series is the series with equality matchers only:
	// vllm:num_requests_running{model_name="llama"}.
	Series string
	// Values is the series' values in promtool's notation (ParseNotation).
	Values string
}

// Load records one successful scrape per interval, the first at start, in
// which each input series has its next notation value: a test builds a
// history this way without scraping. Step i of every input lands in the
// same scrape, at start + i*interval, as promtool loads series. A missing
// value (_) leaves the series out of that scrape without ending it; stale
// ends it. Load checks every input before recording anything; start must
// be later than every scrape recorded so far.
func (h *History) Load(start time.Time, interval time.Duration, inputs ...Input) error {
	if interval.Milliseconds() < 1 {
		return fmt.Errorf("load%s: %w: interval %s is shorter than 1ms", h.where, ErrInvalidArgument, interval)
	}
	type loaded struct {
		sample Sample
		key    string
		steps  []Step
	}
	ls := make([]loaded, len(inputs))
	seen := make(map[string]int, len(inputs))
	n := 0
	for i, in := range inputs {
		s, err := ParseSeries(in.Series)
		if err != nil {
			return fmt.Errorf("load%s: %w", h.where, err)
		}
		steps, err := ParseNotation(in.Values)
		if err != nil {
			return fmt.Errorf("load%s: series %s: %w", h.where, s, err)
		}
		key := s.key()
		if j, dup := seen[key]; dup {
			return fmt.Errorf("load%s: %w: series %s given twice, as inputs %d and %d", h.where, ErrInvalidArgument, s, j, i)
		}
		seen[key] = i
		ls[i] = loaded{sample: Sample{Series: s}, key: key, steps: steps}
		n = max(n, len(steps))
	}

	first, step := start.UnixMilli(), interval.Milliseconds()
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.checkOrder(first); err != nil {
		return err
	}
	keys := make([]string, len(ls))
	for i, l := range ls {
		keys[i] = l.key
	}
	if total := len(h.byKey) + h.countNew(keys); total > h.maxSeries {
		return fmt.Errorf("load%s: %w: %d series, more than %d", h.where, ErrTooLarge, total, h.maxSeries)
	}
	samples := make([]Sample, 0, len(ls))
	for i := range n {
		ms := first + int64(i)*step
		h.forget(ms)
		samples, keys = samples[:0], keys[:0]
		for _, l := range ls {
			if i >= len(l.steps) || l.steps[i].Missing {
				continue
			}
			s := l.sample
			s.Value = l.steps[i].Value
			if l.steps[i].Stale {
				s.Value = staleNaN
			}
			samples = append(samples, s)
			keys = append(keys, l.key)
		}
		h.apply(ms, samples, keys, false)
		h.scrapes.push(ms, nil, h.maxSamples)
		h.lastOK, h.hasOK = ms, true
	}
	return nil
}
