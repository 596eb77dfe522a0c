package cel

import (
	"errors"
	"fmt"

	"statusd.io/statusd/pkg/series"
)

// ErrSourceUnreadable is wrapped by the evaluation error of a condition
// that reads a source the cluster did not let statusd read (forbidden, or
// its watch failing).
var ErrSourceUnreadable = errors.New("source cannot be read")

// errOutage is what classify keeps of an outage's error chain, which it
// otherwise flattens to text.
var errOutage = errors.New("outage")

// unreadableError keeps the text operators and rule tests know ("source
// "x" cannot be read: why") while matching ErrSourceUnreadable.
type unreadableError struct{ name, why string }

func (e *unreadableError) Error() string {
	return fmt.Sprintf("source %q cannot be read: %s", e.name, e.why)
}

func (e *unreadableError) Is(target error) bool { return target == ErrSourceUnreadable }

// Outage reports whether an evaluation error is the cluster's data failing
// rather than the expression: a source that cannot be read, a Prometheus
// query that failed, a scrape that failed or returned garbage, history not
// yet long enough for a window. Such an Unknown says nothing about the
// catalogue, so it never makes a reason a suspect (engine.UnknownReason):
// otherwise an outage of Prometheus would raise a catalogue Warning for
// every reason that queries it. An error of the expression itself, or a
// series that is simply absent (a metric or label misspelt), is not one.
func Outage(err error) bool {
	if err == nil {
		return false
	}
	for _, target := range []error{
		errOutage, ErrSourceUnreadable, ErrQueryFailed,
		series.ErrNotCovered, series.ErrStale, series.ErrScrapeFailed,
		series.ErrTooLarge, series.ErrInvalidPage, series.ErrOutOfOrder,
	} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}
