// Package series keeps the recent metrics of scraped pods and answers the
// PromQL-like questions statusd's rules ask of them: the latest value, a
// rate, an average over a window, a histogram quantile.
//
// It knows nothing of Kubernetes or CEL. The scraper feeds it: Parse turns
// a page in the Prometheus text format or OpenMetrics into a Page, and
// History.Append stores it under the scrape time (History.Fail records a
// scrape that failed). The CEL function library reads it: it parses each
// selector once with ParseSelector and calls the query methods of the
// target's History at the tick's time. Tests build histories without
// scraping, with History.Load and promtool's series notation.
//
// # Unknown, never zero
//
// Every query returns (float64, error), and the error is never swallowed
// into a value: a missing metric must read as Unknown, not as healthy. A
// query fails, with an error naming the query, the target and the cause,
// when
//   - the target was never scraped, no series matches, a series has too few
//     samples in the window, a histogram saw no observation, or the result
//     is NaN (ErrNoData);
//   - the target's latest scrape at or before the query time failed
//     (ErrScrapeFailed, which also wraps the scrape's own error);
//   - the latest successful scrape is older than Options.StaleAfter
//     (ErrStale). The scraper sets StaleAfter to about twice its interval.
//
// The target-level checks come first, so once a scrape fails every query
// of that target is Unknown until a scrape succeeds, however fresh the
// samples before it.
//
// # Series, staleness and sums
//
// A series is a metric name and its labels; histogram buckets are the
// separate series name_bucket{le="..."}, as Prometheus stores them. When a
// successful scrape omits a series that the previous one had, the series
// ends there, as Prometheus writes a staleness marker: Value no longer
// counts it, while range queries still use its samples in the window. Value
// also ignores a series whose latest sample is older than StaleAfter.
//
// A selector may pick several series. Every query computes its function
// per series and returns the sum over the series that produced a value, as
// sum(rate(x[5m])) does in PromQL; series with too few samples are left
// out, and only when none is left is the answer an error. This holds for
// MaxOverTime and MinOverTime too: narrow the selector to one series to
// read a single maximum.
//
// # Windows and rates under irregular scrapes
//
// Every time is in milliseconds, and range queries read the left-open
// window (now-window, now], as Prometheus 3 does. Nothing assumes a fixed
// scrape interval: each computation uses the samples' own timestamps.
//
// Rate does not copy PromQL's extrapolation, which is a documented
// heuristic for regular scrapes: it stretches the change seen inside the
// window to the window's edges when the gap to an edge is under 1.1 times
// the average interval, and by only half an interval otherwise. Under
// jitter a sample crossing an edge flips that choice: a steady 2/s counter
// scraped every 10s with ±3s of jitter reads as low as 1.4/s over 1m at
// some instants. statusd's rules fire on thresholds, so a rate must not
// jump as the tick moves. Rate is therefore the slope of the
// counter across the span of scrapes that covers the window:
//
//   - the span runs from the base, the newest sample at or before the
//     window's start, to the newest sample in the window; a base that is a
//     staleness marker, or older than StaleAfter before the window's first
//     sample, is not used, and the span starts at the window's first sample;
//   - the change across the span is last - first plus, for counters, every
//     value seen just before a decrease (a reset to zero);
//   - Rate is that change divided by the span's length in seconds, so a
//     steady counter reads exactly its rate however its scrapes fall;
//   - Increase and Delta are that slope times the window: what the window
//     holds at the current rate. They are estimates, not whole numbers.
//
// A series needs a sample in the window and two samples in its span. On
// regular scrapes with full history the results agree with PromQL (loading
// 0+10x10 every 5m, increase over 50m at 50m is 100 in both). They differ
// where PromQL's heuristic kicks in: for a series that starts or ends
// inside the window, PromQL estimates the part of the window it covered,
// while statusd reports the rate it had while present. Quantile sums the
// Increase of every _bucket series by le and interpolates linearly inside
// the bucket the rank falls in, as histogram_quantile does; since a
// histogram's buckets are scraped together the scale cancels out.
//
// AvgOverTime, MaxOverTime and MinOverTime skip NaN samples, which carry no
// information (a summary with no observations exposes NaN quantiles).
//
// # Memory
//
// A History holds, per series, two parallel ring buffers of int64
// milliseconds and float64 values: 16 bytes a sample and no pointer a
// sample, bounded by Options.MaxSamples and Options.Retention. A target of
// 300 series scraped every 15s for 15 minutes holds about 300 KiB of
// samples.
package series
