package series

import (
	"errors"
	"fmt"
)

// Why a query has no value. Each one means Unknown to a rule, never zero;
// they are told apart only so that a message can say what to fix.
var (
	// ErrNoData reports that no series matches, that the matching series
	// have too few samples in the window, or that the result is NaN.
	ErrNoData = errors.New("no data")
	// ErrStale reports that the target's last successful scrape, or a
	// series' last sample, is older than the staleness bound.
	ErrStale = errors.New("stale data")
	// ErrScrapeFailed reports that the target's latest scrape failed; the
	// error also wraps the scrape's own error.
	ErrScrapeFailed = errors.New("scrape failed")
)

var (
	// ErrTooLarge reports a scrape over one of its Limits.
	ErrTooLarge = errors.New("scrape too large")
	// ErrInvalidPage reports a body that is not a valid metrics page in
	// the format its content type names.
	ErrInvalidPage = errors.New("invalid metrics page")
	// ErrInvalidArgument reports a query argument outside its domain, such
	// as a quantile above 1 or a window longer than the retention: a
	// mistake in the rule rather than in the data.
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrOutOfOrder reports a scrape recorded at or before the previous
	// one; a History only moves forward.
	ErrOutOfOrder = errors.New("scrape out of order")
)

// SyntaxError reports malformed selector, series or notation text. It
// carries the byte offset so that a caller can point into the file the text
// came from, as CEL errors are re-based onto their YAML position.
type SyntaxError struct {
	// Kind names what was being parsed: "selector", "series" or "values".
	Kind   string
	Input  string
	Offset int
	Msg    string
}

// Error formats e as: selector "foo{a=}": offset 6: expected a quoted label value.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s %q: offset %d: %s", e.Kind, e.Input, e.Offset, e.Msg)
}
