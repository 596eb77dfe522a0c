// Package ruletest runs catalogue rule tests, as promtool test rules runs
// Prometheus rule tests, but end to end: detection, grace, suppression,
// priority and recovery are all exercised by one file format.
//
// A test file (kind RuleTest) names the catalogue files it tests and holds
// cases. A case is a sequence of steps at offsets from its start; each step
// is a snapshot (objects exactly as kubectl get -o yaml prints them, metric
// scrapes, cluster facts, source states) followed by expectations on the
// engine's findings after that step's tick. Steps inherit the previous
// step's objects, cluster and source states unless they give their own, so
// "time passes" is a step with only an offset. Metric series may also be
// given in promtool's notation ('0+5x40'), scraped from the case's start at
// their interval; each step's histories hold only the scrapes due by its
// time, as a live scraper's would.
//
// Expectations match by subset: firing, pending, suppressed (by a cause),
// unknown (with an error substring), resolved, and notFiring. A case with
// exact: true fails on any finding no expectation names.
//
// Coverage accumulates across files: a reason is covered when it was seen
// firing, seen quiet (notFiring) and, if it has a grace window, seen
// pending; an edge when its cause was seen suppressing its symptom.
package ruletest
