// Package alertmanager publishes statusd's root causes to Alertmanager's
// v2 API, so that statusd is the root-cause stage in front of the
// notification stack operators already run: Alertmanager routes, groups,
// silences and pages; statusd decides which finding is the cause and never
// sends a suppressed symptom or a pending finding.
//
// # Alerts
//
// Each published finding (a subject's root cause, and secondaries when the
// catalogue publishes them) is one alert: alertname is the reason; labels
// severity, layer, namespace, kind, name, cluster and catalog identify it
// (empty ones are left out, as Prometheus treats an empty label as
// absent); annotations carry the message, the reason's summary, the
// symptoms it suppresses, a link to statusd's /explain and the
// catalogue's version. The version is not a label because a label is
// identity: every catalogue edit would otherwise page again for every
// firing root cause. startsAt is when the finding started firing, so re-sending an
// alert (after a restart, from another replica, to a restarted
// Alertmanager) is the same alert, never a new page.
//
// The labels of an alert are fixed for its episode, so nothing a reload
// changes can turn a firing alert into a new one.
//
// # Delivery
//
// The Sender keeps the alerts it wants Alertmanager to hold, and for every
// Alertmanager URL (every member of an HA cluster gets every alert, as
// Prometheus sends them) what it delivered last. A firing alert is sent
// when it starts and re-sent every ResendInterval with endsAt four
// intervals ahead, so Alertmanager resolves it by itself only if statusd
// stops sending; a finding that resolves is sent once more with endsAt
// set, and forgotten once every member has it. A paged finding that stops
// being published while it still holds (suppressed by a new cause,
// demoted below another reason on its subject) keeps being sent until it
// clears, as an alert Alertmanager inhibits stays active: "resolved" would
// tell whoever was paged that the problem went away. A finding held firing
// by an Unknown tick keeps being sent too: absence of evidence is not
// recovery.
//
// A failed POST is retried with exponential backoff (RetryBase up to
// RetryMax) per Alertmanager; meanwhile the alerts stay in the Sender's
// state, so an Alertmanager down for minutes misses nothing when it comes
// back. State is bounded by MaxAlerts: past it, resolved alerts still
// waiting for delivery are dropped oldest first, then new alerts are
// refused, each counted in statusd_alertmanager_dropped_total.
//
// Nothing is persisted: after a restart the engine's firing state comes
// back from statusd's Events, the first tick re-sends the same alerts
// (same labels, same startsAt) and resolves those that ended meanwhile.
package alertmanager
