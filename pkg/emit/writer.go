package emit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/flowcontrol"
	"k8s.io/client-go/util/workqueue"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/engine"
)

// Annotation keys on statusd's Events, so that `kubectl get events -o yaml`
// explains each one.
const (
	// AnnotationCatalog and AnnotationCatalogVersion name the catalogue
	// that decided.
	AnnotationCatalog        = "statusd.io/catalog"
	AnnotationCatalogVersion = "statusd.io/catalog-version"
	// AnnotationLayer and AnnotationPriority are the reason's layer and
	// priority.
	AnnotationLayer    = "statusd.io/layer"
	AnnotationPriority = "statusd.io/priority"
	// AnnotationRoot is "true" on the subject's root cause, "false" on a
	// secondary finding published because the catalogue asks for them.
	AnnotationRoot = "statusd.io/root"
	// AnnotationSuppresses lists the findings this one hides: reasons on
	// the same subject by name, others as "Reason on Kind/namespace/name".
	AnnotationSuppresses = "statusd.io/suppresses"
	// AnnotationFiringSince is when the episode started (RFC 3339 with
	// nanoseconds), exact where eventTime keeps only microseconds; on a
	// Resolved Event, the start of the episode it resolves.
	AnnotationFiringSince = "statusd.io/firing-since"
	// AnnotationResolves marks a Resolved Event with the reason it
	// resolves; Restore never takes such an Event for a firing one.
	AnnotationResolves = "statusd.io/resolves"
	// AnnotationDuration is how long the resolved episode fired.
	AnnotationDuration = "statusd.io/duration"
	// AnnotationResolvedBecause explains an unusual resolution (subject
	// deleted, reason removed from the catalogue).
	AnnotationResolvedBecause = "statusd.io/resolved-because"
	// AnnotationSubject names the finding's subject as "<apiVersion>
	// <Kind>/<namespace>/<name>" when the Event's involvedObject is another
	// object: an expected object that does not exist, whose Event is about
	// its Namespace (engine.Finding.Target). Restore reads the subject from
	// it.
	AnnotationSubject = "statusd.io/subject"
)

// managedAnnotations are the keys a patch sets or clears, so that a value
// that no longer applies (nothing suppressed any more) disappears.
var managedAnnotations = []string{
	AnnotationCatalog, AnnotationCatalogVersion, AnnotationLayer, AnnotationPriority, AnnotationRoot,
	AnnotationSuppresses, AnnotationFiringSince, AnnotationResolves, AnnotationDuration, AnnotationResolvedBecause,
	AnnotationSubject,
}

// LabelManagedBy and ManagedBy label every Event statusd writes, for
// Restore and for `kubectl get events -l app.kubernetes.io/managed-by=statusd`.
const (
	LabelManagedBy = "app.kubernetes.io/managed-by"
	ManagedBy      = "statusd"
)

// Event actions.
const (
	// ActionDetected is the action of a firing Event.
	ActionDetected = "Detected"
	// ActionResolved is the action of a <Reason>Resolved Event.
	ActionResolved = "Resolved"
)

// ResolvedSuffix ends the reason of the Normal Event announcing a recovery.
const ResolvedSuffix = "Resolved"

// maxSuppressed caps the AnnotationSuppresses list; a Node outage can hide
// hundreds of Pod findings, and the annotation is an explanation, not an
// inventory.
const maxSuppressed = 20

// ErrNotLeader is the error of a write Options.MayWrite refused.
var ErrNotLeader = errors.New("not holding the leader Lease")

// ErrRunning is returned by Run when the Writer is already running.
var ErrRunning = errors.New("writer is already running")

// key identifies a record: a reason on a subject (Subject.ID, the UID).
type key struct {
	subject string
	reason  string
}

func keyOf(f *engine.Finding) key { return key{subject: f.Subject.ID(), reason: f.Reason} }

// item is a unit of work in the queue: the firing Event of a key, or its
// Resolved Event.
type item struct {
	k        key
	resolved bool
}

// content is an Event as statusd wants it to be.
type content struct {
	namespace, name string
	subject         engine.Subject
	reason          string
	typ             string
	action          string
	message         string
	// material is Material(message), kept beside it so that a tick whose
	// message did not change costs no rescan.
	material    string
	annotations map[string]string
	// first is the episode start: firstTimestamp and eventTime. Zero in a
	// patch leaves them as they are.
	first time.Time
	// last is the latest observation: lastTimestamp.
	last  time.Time
	count int32
}

// record is the Writer's memory of one firing (subject, reason): the Event
// it wants (written by Publish and Restore) and what it last wrote (written
// by the worker), both under Writer.mu.
type record struct {
	want content

	exists        bool   // the Event is known to exist
	wroteMaterial string // Material of the message of the last successful write
	// said holds the material forms written in this episode, oldest
	// first, at most maxSaid: a return to one of them is not news.
	said []string

	wroteType   string    // type of the last successful write
	wroteSince  time.Time // episode start of the last successful write
	wroteAt     time.Time // clock time of the last successful write
	blockedTill time.Time // after a permanent failure, no write before this
	pending     bool      // queued, waiting for a retry, or in flight
	seenAt      time.Time // clock time of the last observation (or restore)
}

// maxSaid bounds record.said: a finding that keeps saying new things is
// written each time anyway, so only the latest few forms need remembering
// to damp one that flaps between them.
const maxSaid = 8

// remember adds a written material form to said, dropping the oldest past
// maxSaid.
func (rec *record) remember(material string) {
	if slices.Contains(rec.said, material) {
		return
	}
	if len(rec.said) == maxSaid {
		rec.said = append(rec.said[:0], rec.said[1:]...)
	}
	rec.said = append(rec.said, material)
}

// staleHeartbeats is how many heartbeats a record survives without being
// published (its finding suppressed or demoted, or restored for a reason the
// catalogue no longer has). By then the Event has aged out of the API server
// (--event-ttl, default 1h, is six default heartbeats), and a finding that is
// published again simply takes its Event over.
const staleHeartbeats = 6

// Writer publishes engine results as Events. Publish and Restore may be
// called from any goroutine; Run runs the workers that write.
type Writer struct {
	client  kubernetes.Interface
	opts    Options
	log     *slog.Logger
	limiter flowcontrol.RateLimiter
	stats   counters

	mu          sync.Mutex
	records     map[key]*record
	resolutions map[key]*content // Resolved Events waiting to be written
	queue       workqueue.TypedRateLimitingInterface[item]
	// workersDone is closed when Run's workers have stopped; nil when Run
	// is not running.
	workersDone chan struct{}
}

// NewWriter returns a Writer that writes through client. Options are
// validated at once; every problem is reported. Nothing is written until
// Run.
func NewWriter(client kubernetes.Interface, opts Options) (*Writer, error) {
	if client == nil {
		return nil, errors.New("emit: nil client")
	}
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("emit options: %w", err)
	}
	return &Writer{
		client:      client,
		opts:        opts,
		log:         opts.Logger.With("component", "emit"),
		limiter:     flowcontrol.NewTokenBucketRateLimiter(opts.QPS, opts.Burst),
		records:     map[key]*record{},
		resolutions: map[key]*content{},
	}, nil
}

// Publish takes one tick's result: each published finding refreshes its
// record and, when a write is due, queues it; each resolved finding that
// was published queues its <Reason>Resolved Event and forgets the record.
// It never waits for the API server: the cost is a lock and a few map
// operations per finding.
func (w *Writer) Publish(res *engine.Result) {
	if res == nil {
		return
	}
	now := w.opts.Clock.Now()
	seen := res.Time
	if seen.IsZero() {
		seen = now
	}
	sup := suppressions(res)
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, f := range res.Resolved {
		if f.WasPublished {
			w.resolveLocked(res, f, seen)
		}
	}
	for _, f := range res.Findings {
		if f.Published {
			w.observeLocked(res, f, sup, seen, now)
		}
	}
	w.pruneLocked(now)
}

// pruneLocked forgets records not published for staleHeartbeats, so that
// memory follows what fires rather than what ever fired.
func (w *Writer) pruneLocked(now time.Time) {
	for k, rec := range w.records {
		if !rec.pending && now.Sub(rec.seenAt) > staleHeartbeats*w.opts.Heartbeat {
			delete(w.records, k)
			w.log.Debug("Event record forgotten", "reason", k.reason, "subject", rec.want.subject.String())
		}
	}
}

// observeLocked folds one tick's observation of a published finding into
// its record.
func (w *Writer) observeLocked(res *engine.Result, f *engine.Finding, sup map[string]string, seen, now time.Time) {
	k := keyOf(f)
	since := f.FiringSince
	if since.IsZero() {
		since = seen
	}
	rec := w.records[k]
	if rec == nil {
		rec = &record{}
		w.records[k] = rec
	}
	episode := !rec.want.first.Equal(since)
	if episode {
		// A new episode: the Event restarts its count and first timestamp,
		// so that a recurrence is not counted on the old one.
		rec.want.first, rec.want.count = since, 0
	}
	if rec.want.name == "" {
		// Fixed by the key (UID and reason) and the Options: computed once.
		// The Event lives where its involvedObject allows (a Namespace
		// target is cluster-scoped); its name is the subject's.
		rec.want.namespace, rec.want.name = w.opts.namespaceFor(involved(f).Namespace), EventName(f.Subject, f.Reason)
	}
	rec.want.subject, rec.want.reason = involved(f), f.Reason
	rec.want.typ, rec.want.action = eventType(f.Severity), ActionDetected
	if msg := truncate(messageOf(f), MaxMessageBytes); episode || (msg != rec.want.message && holds(f)) {
		rec.want.message, rec.want.material = msg, Material(msg)
	}
	rec.want.annotations = firingAnnotations(res, f, since, sup[causeKey(f.Reason, f.Subject)])
	if f.Target != nil {
		rec.want.annotations[AnnotationSubject] = subjectAnnotation(f.Subject)
	}
	rec.want.last = seen
	rec.want.count++
	rec.seenAt = now
	if !rec.pending && w.dueLocked(rec, now) {
		rec.pending = true
		w.addLocked(item{k: k})
	}
}

// holds says whether f's message describes the fault as it is: its
// condition held this tick and the message rendered. A firing finding whose
// condition turned false (clearing), or could not be decided (held firing
// on Unknown), renders a message about a state that is not the fault's
// (a crash-looping container caught running between restarts, a metric
// missing from a failed scrape, the summary in place of a failed message);
// such a tick keeps the message last rendered while the condition held, so
// that a fault flickering towards its clear window neither patches its
// Event nor loses its evidence.
func holds(f *engine.Finding) bool {
	return f.ClearingSince.IsZero() && !f.Held && f.MessageErr == ""
}

// dueLocked says whether rec needs a write now, by the write rule of the
// package doc: the Event is unknown to exist, its episode, material content
// or type changed, or a heartbeat has passed. A message whose only change is live figures, and
// count, lastTimestamp and annotations, wait for the heartbeat.
func (w *Writer) dueLocked(rec *record, now time.Time) bool {
	switch {
	case now.Before(rec.blockedTill):
		return false
	case causeOf(rec) != causeHeartbeat:
		return true
	default:
		return now.Sub(rec.wroteAt) >= w.opts.Heartbeat
	}
}

// causeOf is why rec's next write is made: a new episode, a material change
// or, failing both, the heartbeat. A change back to a material form already
// written in this episode is not news: a finding flapping between two forms
// (a crash-looping container seen waiting and then running, an image pull
// seen failing and then backing off) costs one write per form and then
// waits for the heartbeat.
func causeOf(rec *record) cause {
	switch {
	case !rec.exists, !rec.wroteSince.Equal(rec.want.first):
		return causeCreate
	case rec.wroteType != rec.want.typ:
		return causeChange
	case rec.wroteMaterial != rec.want.material && !slices.Contains(rec.said, rec.want.material):
		return causeChange
	default:
		return causeHeartbeat
	}
}

// resolveLocked forgets the firing record of f and queues its Resolved
// Event.
func (w *Writer) resolveLocked(res *engine.Result, f *engine.Finding, seen time.Time) {
	k := keyOf(f)
	since := f.FiringSince
	if rec := w.records[k]; rec != nil && since.IsZero() {
		since = rec.want.first
	}
	delete(w.records, k)
	dur := f.Duration
	if dur == 0 && !since.IsZero() {
		dur = seen.Sub(since)
	}
	msg := f.Reason + " on " + f.Subject.String() + " resolved"
	if !since.IsZero() {
		msg += " after " + catalog.FormatDuration(dur)
	}
	if f.ResolvedBecause != "" {
		msg += " (" + f.ResolvedBecause + ")"
	}
	a := map[string]string{
		AnnotationCatalog:         res.Catalog,
		AnnotationCatalogVersion:  res.Version,
		AnnotationLayer:           f.Layer,
		AnnotationPriority:        strconv.Itoa(f.Priority),
		AnnotationResolves:        f.Reason,
		AnnotationResolvedBecause: f.ResolvedBecause,
	}
	if !since.IsZero() {
		a[AnnotationFiringSince] = since.UTC().Format(time.RFC3339Nano)
		a[AnnotationDuration] = dur.Round(time.Second).String()
	}
	if f.Target != nil {
		a[AnnotationSubject] = subjectAnnotation(f.Subject)
	}
	dropEmpty(a)
	w.resolutions[k] = &content{
		namespace:   w.opts.namespaceFor(involved(f).Namespace),
		name:        ResolvedEventName(f.Subject, f.Reason),
		subject:     involved(f),
		reason:      resolvedReason(f.Reason),
		typ:         corev1.EventTypeNormal,
		action:      ActionResolved,
		message:     truncate(msg, MaxMessageBytes),
		annotations: a,
		first:       seen,
		last:        seen,
		count:       1,
	}
	w.addLocked(item{k: k, resolved: true})
}

// Forget drops every record and every Resolved Event not yet written, as a
// new Writer would start: queued writes become no-ops and a write in flight
// is not recorded. A replica calls it the moment it loses leadership, so
// that it writes nothing more, and starts its next term from Restore.
func (w *Writer) Forget() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.records = map[key]*record{}
	w.resolutions = map[key]*content{}
}

// addLocked queues it when the workers run; otherwise Run queues every
// pending record and resolution when it starts.
func (w *Writer) addLocked(it item) {
	if w.queue != nil {
		w.queue.Add(it)
	}
}

// Run writes queued Events until ctx is done, on Options.Workers
// goroutines, and returns once they have stopped. Writes still queued are
// not waited for (call Drain first for that): the next Run, or the next
// leader's Restore, continues them. It returns ErrRunning if the Writer is already running.
//
// A replica that loses leadership calls Forget: the new leader has written
// since, and Restore starts its next term from what the API server holds.
func (w *Writer) Run(ctx context.Context) error {
	q := workqueue.NewTypedRateLimitingQueueWithConfig(
		workqueue.NewTypedItemExponentialFailureRateLimiter[item](w.opts.RetryBase, w.opts.RetryMax),
		workqueue.TypedRateLimitingQueueConfig[item]{Clock: w.opts.Clock},
	)
	w.mu.Lock()
	if w.queue != nil {
		w.mu.Unlock()
		q.ShutDown()
		return ErrRunning
	}
	w.queue = q
	for k, rec := range w.records {
		if rec.pending {
			q.Add(item{k: k})
		}
	}
	for k := range w.resolutions {
		q.Add(item{k: k, resolved: true})
	}
	w.mu.Unlock()
	w.log.Info("Event writer started", "workers", w.opts.Workers, "heartbeat", w.opts.Heartbeat)

	var wg sync.WaitGroup
	for range w.opts.Workers {
		wg.Go(func() {
			for w.processNext(ctx, q) {
			}
		})
	}
	// The workers stop once the queue is shut down and empty: at the end
	// of ctx, or earlier when Drain shuts it down to wait for them.
	workersDone := make(chan struct{})
	go func() {
		wg.Wait()
		close(workersDone)
	}()
	w.mu.Lock()
	w.workersDone = workersDone
	w.mu.Unlock()
	<-ctx.Done()
	q.ShutDown()
	<-workersDone
	w.mu.Lock()
	w.queue, w.workersDone = nil, nil
	w.mu.Unlock()
	w.log.Info("Event writer stopped")
	return nil
}

// Drain stops taking new writes and waits until every write queued so far
// has been attempted, or ctx ends: on shutdown, the last tick's Events
// (Resolved ones above all) go out before the process exits. A write that
// fails is not retried once draining began. It returns at once when the
// Writer is not running; Run must still be stopped through its context.
func (w *Writer) Drain(ctx context.Context) error {
	w.mu.Lock()
	q, done := w.queue, w.workersDone
	w.mu.Unlock()
	if q == nil || done == nil {
		return nil
	}
	// A shut-down queue still hands out what it holds; the workers stop
	// when it is empty, which is what Drain waits for.
	q.ShutDown()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("drain event writer: %w", ctx.Err())
	}
}

// processNext writes one queued item; false once the queue is shut down.
func (w *Writer) processNext(ctx context.Context, q workqueue.TypedRateLimitingInterface[item]) bool {
	it, shutdown := q.Get()
	if shutdown {
		return false
	}
	defer q.Done(it)
	var err error
	if it.resolved {
		err = w.writeResolved(ctx, it.k)
	} else {
		err = w.writeFiring(ctx, q, it)
	}
	switch {
	case err == nil:
		q.Forget(it)
	case ctx.Err() != nil:
		// Shutting down: the write was cut short, not refused. The record
		// stays pending for the next Run.
	case permanent(err):
		q.Forget(it)
		w.stats.dropped.Add(1)
		w.log.Error("Event write dropped", "reason", it.k.reason, "subject", it.k.subject, "err", err)
	default:
		if q.NumRequeues(it) == 0 {
			w.log.Warn("Event write failed, retrying", "reason", it.k.reason, "subject", it.k.subject, "err", err)
		}
		w.stats.retries.Add(1)
		q.AddRateLimited(it)
	}
	return true
}

// writeFiring brings the firing Event of it.k up to its record.
func (w *Writer) writeFiring(ctx context.Context, q workqueue.TypedRateLimitingInterface[item], it item) error {
	w.mu.Lock()
	rec := w.records[it.k]
	if rec == nil {
		w.mu.Unlock()
		return nil // resolved while queued
	}
	want := rec.want
	want.annotations = maps.Clone(rec.want.annotations)
	existed := rec.exists
	why := causeOf(rec)
	w.mu.Unlock()

	exists, created, err := w.upsert(ctx, &want, existed)

	w.mu.Lock()
	defer w.mu.Unlock()
	if w.records[it.k] != rec {
		return nil // resolved or replaced while in flight; its own item follows
	}
	rec.exists = exists
	now := w.opts.Clock.Now()
	switch {
	case err == nil:
		if !rec.wroteSince.Equal(want.first) {
			rec.said = rec.said[:0]
		}
		rec.wroteMaterial, rec.wroteType, rec.wroteSince, rec.wroteAt = want.material, want.typ, want.first, now
		rec.remember(want.material)
		w.stats.writes[why].Add(1)
		switch {
		case created:
			w.log.Info("Event created", "reason", want.reason, "subject", want.subject.String(), "event", want.namespace+"/"+want.name, "cause", why.String())
		case why == causeHeartbeat:
			w.log.Debug("Event refreshed", "reason", want.reason, "subject", want.subject.String(), "event", want.namespace+"/"+want.name)
		default:
			w.log.Info("Event updated", "reason", want.reason, "subject", want.subject.String(), "event", want.namespace+"/"+want.name, "cause", why.String())
		}
		if w.dueLocked(rec, now) {
			q.Add(it) // the message changed while the write was in flight
		} else {
			rec.pending = false
		}
	case ctx.Err() != nil:
	case permanent(err):
		rec.pending = false
		rec.blockedTill = now.Add(w.opts.Heartbeat)
	}
	return err
}

// upsert creates or patches the Event. It reports whether the Event now
// exists (as far as the answers tell) and whether this call created it.
func (w *Writer) upsert(ctx context.Context, want *content, exists bool) (nowExists, created bool, err error) {
	if !exists {
		err := w.create(ctx, want)
		if err == nil {
			return true, true, nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return false, false, err
		}
		// The name is taken: by this Event from an earlier episode, an
		// earlier process or another leader. Take it over, and remember
		// that it exists should the patch fail.
		exists = true
	}
	err = w.patch(ctx, want)
	if apierrors.IsNotFound(err) {
		// Expired (--event-ttl) or deleted: write it afresh.
		err = w.create(ctx, want)
		return err == nil, err == nil, err
	}
	return exists, false, err
}

// writeResolved writes the Resolved Event of k. A Resolved Event left from
// an earlier episode is patched with the new message and one more count.
func (w *Writer) writeResolved(ctx context.Context, k key) error {
	w.mu.Lock()
	want := w.resolutions[k]
	w.mu.Unlock()
	if want == nil {
		return nil
	}
	c := *want
	err := w.create(ctx, &c)
	if apierrors.IsAlreadyExists(err) {
		var old *corev1.Event
		old, err = w.get(ctx, c.namespace, c.name)
		if err == nil {
			c.count = old.Count + 1
			c.first = time.Time{} // keep the first resolution's timestamps
			err = w.patch(ctx, &c)
		}
	}
	if err == nil {
		w.stats.writes[causeResolve].Add(1)
	}
	if err == nil || (permanent(err) && ctx.Err() == nil) {
		w.mu.Lock()
		if w.resolutions[k] == want {
			delete(w.resolutions, k)
		}
		w.mu.Unlock()
	}
	return err
}

// suppressions maps each cause (causeKey) to the AnnotationSuppresses text
// listing the suppressed findings that name it.
func suppressions(res *engine.Result) map[string]string {
	lists := map[string][]string{}
	for _, f := range res.Findings {
		if f.State != engine.Suppressed || f.SuppressedBy == nil {
			continue
		}
		ck := causeKey(f.SuppressedBy.Reason, f.SuppressedBy.Subject)
		entry := f.Reason
		if f.Subject.String() != f.SuppressedBy.Subject.String() {
			entry += " on " + f.Subject.String()
		}
		lists[ck] = append(lists[ck], entry)
	}
	out := make(map[string]string, len(lists))
	for ck, l := range lists {
		// Same-subject reasons (no " on ") first, then the rest, each sorted.
		slices.SortFunc(l, func(a, b string) int {
			ao, bo := strings.Contains(a, " on "), strings.Contains(b, " on ")
			switch {
			case ao == bo:
				return strings.Compare(a, b)
			case ao:
				return 1
			default:
				return -1
			}
		})
		l = slices.Compact(l)
		if n := len(l); n > maxSuppressed {
			l = append(l[:maxSuppressed], fmt.Sprintf("and %d more", n-maxSuppressed))
		}
		out[ck] = strings.Join(l, ", ")
	}
	return out
}

// causeKey joins a reason and a subject as SuppressedBy names them (the
// subject's string form: cause references carry no UID).
func causeKey(reason string, s engine.Subject) string { return reason + "\x00" + s.String() }

// firingAnnotations explains a firing Event.
func firingAnnotations(res *engine.Result, f *engine.Finding, since time.Time, suppresses string) map[string]string {
	a := map[string]string{
		AnnotationCatalog:        res.Catalog,
		AnnotationCatalogVersion: res.Version,
		AnnotationLayer:          f.Layer,
		AnnotationPriority:       strconv.Itoa(f.Priority),
		AnnotationRoot:           strconv.FormatBool(f.Root),
		AnnotationSuppresses:     suppresses,
		AnnotationFiringSince:    since.UTC().Format(time.RFC3339Nano),
	}
	dropEmpty(a)
	return a
}

// involved is the object an Event about f names: its Target when the
// subject cannot be looked at, else its subject.
func involved(f *engine.Finding) engine.Subject {
	if f.Target != nil {
		return *f.Target
	}
	return f.Subject
}

// subjectAnnotation writes s as AnnotationSubject holds it.
func subjectAnnotation(s engine.Subject) string { return s.APIVersion + " " + s.String() }

func dropEmpty(a map[string]string) {
	maps.DeleteFunc(a, func(_, v string) bool { return v == "" })
}

// messageOf is the finding's message, or a plain statement when the
// catalogue rendered none.
func messageOf(f *engine.Finding) string {
	if f.Message != "" {
		return f.Message
	}
	return f.Reason + " on " + f.Subject.String()
}

// eventType maps a severity (critical, warning, info; or an Event type,
// which is what a finding carried before levels) to an Event type: info
// is Normal, anything else warns.
func eventType(severity string) string {
	return catalog.Severity(severity).EventType()
}

// resolvedReason is reason+"Resolved", shortened to the API server's 128
// characters when a long reason name would overflow it.
func resolvedReason(reason string) string {
	if len(reason)+len(ResolvedSuffix) > maxField {
		reason = reason[:maxField-len(ResolvedSuffix)]
	}
	return reason + ResolvedSuffix
}
