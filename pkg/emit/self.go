package emit

import (
	"fmt"
	"reflect"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	krecord "k8s.io/client-go/tools/record"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/snapshot"
)

// Reasons of the Events statusd writes about itself.
const (
	ReasonCatalogRejected = "CatalogRejected"
	ReasonSourceProblem   = "SourceUnavailable"
)

// maxSelfMessage keeps self-Events under the API server's message limit,
// with the room client-go's aggregation adds.
const maxSelfMessage = 1000

// Notifier writes the Events statusd writes about itself: a rejected
// catalogue (on the ConfigMap it came from, or on statusd's own pod) and a
// source that cannot be read. They are rare, so client-go's recorder, with
// its own aggregation and rate limiting, is enough.
type Notifier struct {
	recorder krecord.EventRecorder
	stop     func()
	// Self is statusd's own pod, when known (downward API); Events about a
	// source or a file catalogue land on it.
	Self *corev1.ObjectReference
}

// NewNotifier starts an Event recorder for component.
func NewNotifier(client kubernetes.Interface, component string, self *corev1.ObjectReference) *Notifier {
	b := krecord.NewBroadcaster()
	b.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	return &Notifier{
		recorder: b.NewRecorder(scheme.Scheme, corev1.EventSource{Component: component}),
		stop:     b.Shutdown,
		Self:     self,
	}
}

// Stop flushes and stops the recorder.
func (n *Notifier) Stop() { n.stop() }

// CatalogRejected writes a Warning carrying the lint errors on obj (the
// catalogue's ConfigMap, which the update carried), or on statusd's pod when
// obj is nil.
func (n *Notifier) CatalogRejected(origin string, problems catalog.ErrorList, obj runtime.Object) {
	msg := fmt.Sprintf("catalogue from %s rejected; the previous catalogue stays in force: %s", origin, problems.Errors().Error())
	msg = truncate(msg, maxSelfMessage)
	switch {
	case obj != nil && !reflect.ValueOf(obj).IsNil():
		n.recorder.Event(obj, corev1.EventTypeWarning, ReasonCatalogRejected, msg)
	case n.Self != nil:
		n.recorder.Event(n.Self, corev1.EventTypeWarning, ReasonCatalogRejected, msg)
	}
}

// SourceProblem writes a Warning on statusd's pod saying a source cannot be
// read, once per transition (the sources call it only on a change).
func (n *Notifier) SourceProblem(source string, st snapshot.Status, err error) {
	if n.Self == nil {
		return
	}
	msg := fmt.Sprintf("source %s is %s: %v; reasons that read it are Unknown until it recovers", source, st, err)
	n.recorder.Event(n.Self, corev1.EventTypeWarning, ReasonSourceProblem, truncate(msg, maxSelfMessage))
}
