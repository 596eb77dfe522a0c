// Package emit publishes the engine's decisions as Kubernetes Events,
// quietly and exactly once: one Event per (subject, reason), kept alive
// while the reason fires, followed by a Normal <Reason>Resolved Event when
// it stops.
//
// # Identity
//
// An Event's name is derived from what does not change across restarts,
// leaders and catalogue versions: the subject's UID and the reason's name
// (EventName). A restarted statusd, or a new leader, computes the same name
// and updates the Event instead of writing a second one; a create that
// finds the name taken turns into a patch.
//
// # Why core/v1 Events with count and lastTimestamp
//
// events.k8s.io/v1 makes an Event's note (message), reason, count and
// timestamps immutable after creation and would express repetition only
// through series. A changed message ("3 of 5 replicas ready" becoming "0 of
// 5") would then need a new Event under a new name, breaking the one Event
// per (subject, reason) rule. core/v1 lets a merge patch refresh message,
// count, lastTimestamp and annotations in place, and kubectl get/describe
// show count and last-seen from exactly those fields. statusd still sets
// eventTime, reportingController, reportingInstance and action, which the
// API server requires for an Event whose involvedObject lives in another
// namespace (a fixed Options.Namespace, cluster-scoped subjects in
// kube-system) and which in exchange caps message at 1024 bytes; messages
// are therefore always cut to 1024 bytes at a UTF-8 boundary.
//
// # Never flooding the API server
//
// The Writer keeps an in-memory record per firing (subject, reason): what
// it last wrote (the message's material form, the type, the episode start)
// and when. Publish compares the tick's findings with those records and
// queues a write only when one is due, by this write rule:
//
//   - at once, for a new firing episode (cause "create");
//   - at once, for a material change (cause "change"): the Event type
//     (severity) changed, or the message's material form (Material) became
//     one the Event has not said in this episode;
//   - otherwise at the heartbeat (Options.Heartbeat, default 10 minutes)
//     after the last write (cause "heartbeat"), carrying the latest
//     message, count and lastTimestamp.
//
// The material form of a message is the message with its live figures
// masked: every word that is a number, a number with a unit, a duration, a
// timestamp or clock time, a ratio or a percentage. What is left is what
// the finding says: the reason's words, a condition's reason, a waiting
// reason, "above" or "below", and every name (a pod, web-0 apart from
// web-1, a container, an image, a version such as v1.29.3). So "deleting for
// 23s" and "for 24s", or "14 requests waiting (at 12:47:25Z)" and "19
// (at 12:47:55Z)", are drift, written at the next heartbeat; a different
// failing pod, a condition whose reason turned from Progressing to
// ProgressingWithRetry, or an exit that became OOMKilled is written at once.
//
// The rule lives here, not in the catalogue, so that every reason keeps
// the budget without declaring anything: a reason author writes one
// message, with the evidence in it, and the numbers in it never cost a
// write. The price is that a change expressed only in a number (an exit
// code, an HTTP status, a replica count) waits for the heartbeat; a reason
// for which such a number is the news says it in words as well. Messages
// are written to read as true between writes: "since 2026-12-05T12:47:25Z"
// rather than "for 23s", and a live figure with the time it was measured
// (the CEL function humanTime).
//
// A finding that flaps between forms it has already announced in this
// episode (a crash-looping container seen waiting, then running; an image
// pull seen failing, then backing off) therefore costs one write per form,
// and its returns wait for the heartbeat. The Writer remembers the last
// eight forms per Event.
//
// A tick on which a firing finding's condition does not hold (it turned
// false and the finding waits out its clear window, or it is Unknown and
// held firing) or whose message failed to render keeps the message last
// rendered while the condition held: a crash-looping container caught
// running between restarts, or a scrape that failed, is not news about the
// fault, and the Event keeps its evidence. /status and explain show the
// engine's findings, and so always the live message.
//
// Count, lastTimestamp, the catalogue version and the suppressed list
// (annotations) never make a write due; they ride along with the next one.
// A fault held for a duration D, whatever its live figures do, therefore
// costs at most
//
//	1 create + floor(D / Heartbeat) patches
//
// whatever the tick rate (measured: 1 + 10 for ten heartbeats of 30s ticks;
// late ticks only lower it), plus one patch per material change, and one
// Resolved Event when it ends. statusd_event_writes_total{cause} counts the
// writes by cause (create, change, heartbeat, resolve), so an operator can
// see the budget kept: heartbeats about one per firing Event per heartbeat,
// changes rare. count is the number of ticks that observed the episode up
// to the last write, so it grows by heartbeat/tick per write; observations
// not yet written are lost with the process. The heartbeat must stay below
// the API server's --event-ttl (default 1h) so a firing Event never ages
// out; one that did is recreated on its next write.
//
// A recurrence (a new episode after <Reason>Resolved) reuses the same Event
// with count, firstTimestamp and eventTime restarted, so it is not counted
// on the old episode. Records of findings no longer published (suppressed by
// a new cause, or restored for a reason the catalogue dropped) are
// forgotten after six heartbeats, by when their Events have aged out; a
// finding published again takes its Event over.
//
// Writes happen on worker goroutines fed by a keyed, rate-limited work
// queue: Publish only updates records and enqueues keys, so evaluation
// never waits on the API server. A key already queued or waiting for a
// retry is not queued again, so a burst of ticks collapses into one write
// of the latest state. Every request first takes a token from a client-side
// token bucket (Options.QPS, Options.Burst). A failed write is retried with
// per-key exponential backoff (Options.RetryBase up to Options.RetryMax);
// errors that retrying cannot fix (invalid, bad request, namespace gone)
// are dropped, counted and retried at the next heartbeat at the earliest.
//
// # Ownership
//
// The records (and pending resolutions) belong to the Writer and are
// guarded by one mutex. Publish and Restore change the desired side of a
// record (message, count, annotations); workers read a copy of it, write
// without holding the lock, and then record what was written. A record is
// forgotten when its finding resolves; a worker whose record was forgotten
// or replaced while its request was in flight drops the outcome.
//
// # Restarts
//
// Restore lists statusd's own Events (label app.kubernetes.io/managed-by=
// statusd and reportingComponent = Options.Controller) and rebuilds both the
// engine's firing state (engine.Restored) and the Writer's records, so a
// restart neither re-announces a firing reason nor resolves it falsely. A
// firing Event is restored unless a <Reason>Resolved Event on the same
// subject resolves an episode that started no earlier (annotation
// statusd.io/firing-since on both).
package emit
