package emit

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

	"statusd.io/statusd/pkg/engine"
)

// restorePageSize bounds one LIST page of Events.
const restorePageSize = 500

// Restore lists statusd's own Events (label LabelManagedBy=ManagedBy and
// reportingComponent Options.Controller) and rebuilds, for every one still
// firing, the engine's firing state (returned, for engine.Engine.Restore)
// and the Writer's record of what it last wrote. Call it before the first
// Publish: the first tick then finds the same episode (same firing since),
// writes nothing until the Event's next heartbeat, and resolves nothing
// falsely.
//
// A firing Event is not restored when a Resolved Event on the same subject
// resolves an episode that started no earlier, nor when it sits where the
// current Options would not put it (the configuration changed: the reason
// is announced afresh in its new place). Records already known are kept.
func (w *Writer) Restore(ctx context.Context) ([]engine.Restored, error) {
	var events []corev1.Event
	for _, ns := range w.restoreNamespaces() {
		evs, err := w.list(ctx, ns)
		if err != nil {
			return nil, err
		}
		events = append(events, evs...)
	}

	resolved := map[key]time.Time{}
	var firing []*corev1.Event
	for i := range events {
		ev := &events[i]
		if ev.ReportingController != w.opts.Controller {
			continue
		}
		if r := ev.Annotations[AnnotationResolves]; r != "" {
			k := key{subject: subjectOf(ev).ID(), reason: r}
			if since, ok := firingSince(ev); ok && since.After(resolved[k]) {
				resolved[k] = since
			}
			continue
		}
		firing = append(firing, ev)
	}

	var out []engine.Restored
	skipped := 0
	now := w.opts.Clock.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, ev := range firing {
		s := subjectOf(ev)
		k := key{subject: s.ID(), reason: ev.Reason}
		since, ok := firingSince(ev)
		if !ok {
			skipped++
			continue
		}
		if r, ok := resolved[k]; ok && !r.Before(since) {
			continue // this episode has been resolved
		}
		inv := involvedOf(ev)
		if ev.Namespace != w.opts.namespaceFor(inv.Namespace) || ev.Name != EventName(s, ev.Reason) {
			skipped++
			continue
		}
		if _, ok := w.records[k]; ok {
			continue
		}
		last := ev.LastTimestamp.Time
		if last.IsZero() {
			last = since
		}
		ann := map[string]string{}
		for _, a := range managedAnnotations {
			if v, ok := ev.Annotations[a]; ok {
				ann[a] = v
			}
		}
		w.records[k] = &record{
			want: content{
				namespace: ev.Namespace, name: ev.Name, subject: inv, reason: ev.Reason,
				typ: ev.Type, action: ActionDetected, message: ev.Message, material: Material(ev.Message), annotations: ann,
				first: since, last: last, count: ev.Count,
			},
			exists:        true,
			wroteMaterial: Material(ev.Message),
			said:          []string{Material(ev.Message)},
			wroteType:     ev.Type,
			wroteSince:    since,
			wroteAt:       last,
			seenAt:        now,
		}
		out = append(out, engine.Restored{Reason: ev.Reason, Subject: s, FiringSince: since})
	}
	slices.SortFunc(out, func(a, b engine.Restored) int {
		return cmp.Or(cmp.Compare(a.Subject.String(), b.Subject.String()), cmp.Compare(a.Reason, b.Reason))
	})
	w.log.Info("Events restored", "firing", len(out), "resolved", len(resolved), "skipped", skipped)
	return out, nil
}

// restoreNamespaces are the namespaces statusd's Events can be in: all of
// them, or the fixed one and, if cluster-scoped subjects cannot go there,
// the cluster namespace.
func (w *Writer) restoreNamespaces() []string {
	if w.opts.Namespace == "" {
		return []string{metav1.NamespaceAll}
	}
	nss := []string{w.opts.Namespace}
	if c := w.opts.namespaceFor(""); c != w.opts.Namespace {
		nss = append(nss, c)
	}
	return nss
}

// list reads statusd's Events in namespace, page by page.
func (w *Writer) list(ctx context.Context, namespace string) ([]corev1.Event, error) {
	opts := metav1.ListOptions{
		LabelSelector: LabelManagedBy + "=" + ManagedBy,
		FieldSelector: fields.OneTermEqualSelector("reportingComponent", w.opts.Controller).String(),
		Limit:         restorePageSize,
	}
	var out []corev1.Event
	for {
		var page *corev1.EventList
		err := w.do(ctx, verbList, func(ctx context.Context) error {
			var err error
			page, err = w.client.CoreV1().Events(namespace).List(ctx, opts)
			if err != nil {
				return fmt.Errorf("list statusd events in namespace %q: %w", namespace, err)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if page.Continue == "" {
			return out, nil
		}
		opts.Continue = page.Continue
	}
}

// subjectOf is the subject an Event is about: AnnotationSubject when the
// involvedObject stands in for it, else the involvedObject.
func subjectOf(ev *corev1.Event) engine.Subject {
	if a := ev.Annotations[AnnotationSubject]; a != "" {
		if apiVersion, ref, ok := strings.Cut(a, " "); ok {
			parts := strings.SplitN(ref, "/", 3)
			switch len(parts) {
			case 3:
				return engine.Subject{APIVersion: apiVersion, Kind: parts[0], Namespace: parts[1], Name: parts[2]}
			case 2:
				return engine.Subject{APIVersion: apiVersion, Kind: parts[0], Name: parts[1]}
			}
		}
	}
	return involvedOf(ev)
}

// involvedOf is the object an Event names.
func involvedOf(ev *corev1.Event) engine.Subject {
	o := ev.InvolvedObject
	return engine.Subject{APIVersion: o.APIVersion, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name, UID: string(o.UID)}
}

// firingSince is the start of the episode an Event describes: the exact
// annotation, else eventTime, else firstTimestamp.
func firingSince(ev *corev1.Event) (time.Time, bool) {
	if s := ev.Annotations[AnnotationFiringSince]; s != "" {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t, true
		}
	}
	if !ev.EventTime.IsZero() {
		return ev.EventTime.Time, true
	}
	if !ev.FirstTimestamp.IsZero() {
		return ev.FirstTimestamp.Time, true
	}
	return time.Time{}, false
}
