// Package engine turns a compiled catalogue and a stream of snapshots into
// findings: which single root cause each subject has, which symptoms it
// hides, what is still in its grace window and what has recovered.
//
// One tick (Engine.Tick) evaluates every reason on every object of its
// subject source, causes before symptoms (the suppression graph's order),
// and applies, per reason and subject:
//
//  1. Evaluation. The condition is true, false or Unknown. Unknown (an
//     expression error, a cost cut-off, a missing metric, a failed scrape,
//     a forbidden source) neither fires nor clears: a firing finding stays
//     firing (Held), a pending one stays pending, and the rest of the tick
//     goes on.
//
//  2. Grace. A true condition fires once it has held for grace.for,
//     measured from grace.since when the catalogue gives one (the subject's
//     creationTimestamp, a condition's lastTransitionTime) and it is not in
//     the future, otherwise from the first tick that saw it true. A false
//     tick restarts the window. Grace 0 fires at once.
//
//     Window coverage. A Kubernetes timestamp says how long an object has
//     been in a state, but not how long statusd has watched its metrics: a
//     windowed metric function (rate, increase, delta, avgOverTime,
//     maxOverTime, minOverTime, quantile) is Unknown, "window not yet
//     covered: 1m of 5m scraped", until statusd's successful scrapes of the
//     target reach back to the window's start with no gap between two of
//     them longer than the target's staleness bound (twice the scrape
//     interval plus its timeout; see series.History.Coverage). Since
//     Unknown never starts a finding, a condition over a 5m window can fire
//     no earlier than 5m after statusd starts or first scrapes the pod,
//     whatever grace.since says; since Unknown holds a firing finding
//     (restored from Events after a restart, say), coverage never resolves
//     one. Prometheus gets the same effect from "for", whose clock starts
//     at the first evaluation that saw the condition.
//
//     Absence. A source may declare objects it must hold (expect, see
//     catalog.Expectation). While one is missing, its reasons are also
//     evaluated on a stand-in for it (no uid, annotation
//     statusd.io/missing), so "X is missing" has a subject: its grace runs
//     from the first tick that saw it missing, it resolves when the object
//     appears, and its Events name the stand-in's Namespace, which exists
//     (Finding.Target), while the Event's name and restore keep the
//     stand-in as the subject.
//
//  3. Suppression (see package suppress). A firing cause hides joined
//     symptoms (state Suppressed, with suppressedBy). A pending cause holds
//     joined symptoms that have not fired yet in Pending, with heldBy, even
//     past their own grace: a symptom is never published before its cause
//     is known. A symptom already firing when its cause turns pending stays
//     firing until the cause fires.
//
//  4. Priority. Among a subject's unsuppressed firing findings the highest
//     priority (then the earlier in evaluation order) is the root cause and
//     is published; the others are secondary, published only when the
//     catalogue sets publishSecondary.
//
//  5. Clear. A firing finding resolves once its condition has been false
//     for its clear window without interruption; until then it stays
//     firing. A finding whose subject disappears resolves at once; one whose
//     source cannot be read is held.
//
//  6. State (first true, firing since, false since, published) is keyed by
//     reason and subject UID. Reload keeps it for reasons whose definition
//     hash did not change; Restore seeds firing state rebuilt from
//     statusd's own Events after a restart.
//
// Windows compare times, never tick counts, so jittered or late ticks give
// the same answer as punctual ones.
package engine
