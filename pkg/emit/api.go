package emit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/net"
)

// verb is an API request kind, a label of the request counters.
type verb int

const (
	verbCreate verb = iota
	verbPatch
	verbGet
	verbList
	numVerbs
)

var verbNames = [numVerbs]string{"create", "patch", "get", "list"}

func (v verb) String() string { return verbNames[v] }

// do sends one request: it waits for a token of the client-side bucket,
// bounds the request by Options.Timeout and counts it. An AlreadyExists
// answer to a create and a NotFound answer to a patch are expected turns of
// upsert, not failures.
func (w *Writer) do(ctx context.Context, v verb, call func(context.Context) error) error {
	if err := w.limiter.Wait(ctx); err != nil {
		return fmt.Errorf("wait for the event rate limiter: %w", err)
	}
	// Asked after the rate limiter, as close to the request as it gets.
	if (v == verbCreate || v == verbPatch) && w.opts.MayWrite != nil && !w.opts.MayWrite() {
		return ErrNotLeader
	}
	ctx, cancel := context.WithTimeout(ctx, w.opts.Timeout)
	defer cancel()
	w.stats.requests[v].Add(1)
	err := call(ctx)
	switch {
	case err == nil:
	case v == verbCreate && apierrors.IsAlreadyExists(err), v == verbPatch && apierrors.IsNotFound(err):
	default:
		w.stats.failures[v].Add(1)
	}
	return err
}

// create writes c as a new Event.
func (w *Writer) create(ctx context.Context, c *content) error {
	ev := w.event(c)
	return w.do(ctx, verbCreate, func(ctx context.Context) error {
		_, err := w.client.CoreV1().Events(c.namespace).Create(ctx, ev, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("create event %s/%s: %w", c.namespace, c.name, err)
		}
		return nil
	})
}

// patch brings an existing Event to c with a JSON merge patch: no read and
// no resourceVersion, and involvedObject, reason and the reporting
// controller are never touched. statusd's annotations that c lacks are
// removed.
func (w *Writer) patch(ctx context.Context, c *content) error {
	ann := make(map[string]any, len(managedAnnotations))
	for _, k := range managedAnnotations {
		if v, ok := c.annotations[k]; ok {
			ann[k] = v
		} else {
			ann[k] = nil
		}
	}
	p := map[string]any{
		"metadata": map[string]any{
			"labels":      map[string]any{LabelManagedBy: ManagedBy},
			"annotations": ann,
		},
		"type":              c.typ,
		"action":            c.action,
		"message":           c.message,
		"count":             c.count,
		"lastTimestamp":     metav1.NewTime(c.last),
		"reportingInstance": w.opts.Instance,
	}
	if !c.first.IsZero() {
		p["firstTimestamp"] = metav1.NewTime(c.first)
		p["eventTime"] = metav1.NewMicroTime(c.first)
	}
	body, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode patch of event %s/%s: %w", c.namespace, c.name, err)
	}
	return w.do(ctx, verbPatch, func(ctx context.Context) error {
		_, err := w.client.CoreV1().Events(c.namespace).Patch(ctx, c.name, types.MergePatchType, body, metav1.PatchOptions{})
		if err != nil {
			return fmt.Errorf("patch event %s/%s: %w", c.namespace, c.name, err)
		}
		return nil
	})
}

// get reads one Event.
func (w *Writer) get(ctx context.Context, namespace, name string) (*corev1.Event, error) {
	var ev *corev1.Event
	err := w.do(ctx, verbGet, func(ctx context.Context) error {
		var err error
		ev, err = w.client.CoreV1().Events(namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("get event %s/%s: %w", namespace, name, err)
		}
		return nil
	})
	return ev, err
}

// event builds the whole Event for a create.
func (w *Writer) event(c *content) *corev1.Event {
	return &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{
			Name:        c.name,
			Namespace:   c.namespace,
			Labels:      map[string]string{LabelManagedBy: ManagedBy},
			Annotations: c.annotations,
		},
		InvolvedObject: corev1.ObjectReference{
			APIVersion: c.subject.APIVersion,
			Kind:       c.subject.Kind,
			Namespace:  c.subject.Namespace,
			Name:       c.subject.Name,
			UID:        types.UID(c.subject.UID),
		},
		Reason:              c.reason,
		Message:             c.message,
		Type:                c.typ,
		Action:              c.action,
		Source:              corev1.EventSource{Component: w.opts.Controller},
		FirstTimestamp:      metav1.NewTime(c.first),
		LastTimestamp:       metav1.NewTime(c.last),
		Count:               c.count,
		EventTime:           metav1.NewMicroTime(c.first),
		ReportingController: w.opts.Controller,
		ReportingInstance:   w.opts.Instance,
	}
}

// permanent says whether retrying err cannot help: the API server found the
// request invalid, or the Event's namespace is gone. Everything else
// (Forbidden, conflicts, timeouts, throttling, a server that is down) may
// pass later and is retried with backoff.
func permanent(err error) bool {
	switch {
	case err == nil, errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded), net.IsConnectionRefused(err):
		return false
	default:
		return apierrors.IsInvalid(err) || apierrors.IsBadRequest(err) || apierrors.IsNotFound(err) ||
			apierrors.IsRequestEntityTooLargeError(err) || apierrors.IsMethodNotSupported(err) ||
			apierrors.IsNotAcceptable(err) || apierrors.IsUnsupportedMediaType(err)
	}
}
