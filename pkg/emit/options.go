package emit

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/clock"
)

// Defaults for Options.
const (
	// DefaultController is the reportingController of statusd's Events.
	DefaultController = "statusd"
	// DefaultHeartbeat is how often a steady firing Event is refreshed. It
	// must stay below the API server's --event-ttl (default 1h), or Events
	// of long faults would expire and be recreated.
	DefaultHeartbeat = 10 * time.Minute
	// DefaultQPS and DefaultBurst bound statusd's Event writes: a cluster
	// wide outage with hundreds of findings drains at 5 writes a second
	// rather than hammering the API server.
	DefaultQPS   = 5
	DefaultBurst = 20
	// DefaultRetryBase and DefaultRetryMax bound the per-Event backoff of
	// failed writes.
	DefaultRetryBase = time.Second
	DefaultRetryMax  = 5 * time.Minute
	// DefaultTimeout bounds one API request.
	DefaultTimeout = 15 * time.Second
	// DefaultWorkers is how many writes may be in flight at once.
	DefaultWorkers = 2
)

// Limits the API server enforces on Events with eventTime set.
const (
	// MaxMessageBytes caps an Event's message.
	MaxMessageBytes = 1024
	// maxField caps reason, action and reportingInstance.
	maxField = 128
)

// Options configure a Writer. The zero value is usable: Events in the
// subject's namespace, reported by "statusd" from this host's name.
type Options struct {
	// Controller is the Events' reportingController and source component,
	// a qualified name; default "statusd". Restore only adopts Events with
	// the same controller, so two differently named instances never take
	// over each other's Events.
	Controller string
	// Instance is the reportingInstance, at most 128 characters: the pod
	// name (downward API metadata.name); default the host name, which is
	// the pod name unless the pod uses the host network.
	Instance string
	// Namespace, when set, holds every Event, whatever the subject's
	// namespace (for example kube-system). kubectl describe then no longer
	// shows them on the subject, but one namespace holds the whole story.
	// If it is neither "default" nor "kube-system", cluster-scoped subjects'
	// Events still go to ClusterNamespace: the API server accepts them
	// nowhere else.
	Namespace string
	// ClusterNamespace holds Events about cluster-scoped subjects (Nodes,
	// Namespaces) when Namespace does not; "default" (the default) or
	// "kube-system", the only two the API server accepts.
	ClusterNamespace string
	// Heartbeat is the longest a firing Event goes without a write; default
	// 10 minutes. Between heartbeats only a new episode or a material change
	// (the type, or the message beyond its live figures: see Material) is
	// written.
	Heartbeat time.Duration
	// QPS and Burst configure the token bucket every request passes; default
	// 5 and 20.
	QPS   float32
	Burst int
	// RetryBase and RetryMax bound the exponential backoff of a failed
	// write, per Event; default 1s and 5m.
	RetryBase time.Duration
	RetryMax  time.Duration
	// Timeout bounds each API request; default 15s.
	Timeout time.Duration
	// Workers is how many writes may be in flight; default 2.
	Workers int
	// Clock decides heartbeats and retry delays; default the real clock.
	// Tests pass a fake clock and step it. The token bucket always uses real
	// time: it protects a real API server.
	Clock clock.WithTicker
	// MayWrite reports whether this replica may write Events now: with
	// leader election, whether it still holds the Lease by its own clock
	// (daemon.LeaderElection.Held). It is asked right before every create
	// and patch, so that a leader frozen past its Lease writes nothing when
	// it wakes; a refused write fails with ErrNotLeader and is retried.
	// Nil always may.
	MayWrite func() bool
	// Logger receives state changes (Event created, write failed, retried,
	// dropped); discarded when nil.
	Logger *slog.Logger
}

// withDefaults fills zero values and validates the rest, returning every
// problem at once.
func (o Options) withDefaults() (Options, error) {
	if o.Controller == "" {
		o.Controller = DefaultController
	}
	if o.Instance == "" {
		host, err := os.Hostname()
		if err != nil || host == "" {
			host = o.Controller
		}
		o.Instance = host
	}
	if o.ClusterNamespace == "" {
		o.ClusterNamespace = metav1.NamespaceDefault
	}
	if o.Heartbeat == 0 {
		o.Heartbeat = DefaultHeartbeat
	}
	if o.QPS == 0 {
		o.QPS = DefaultQPS
	}
	if o.Burst == 0 {
		o.Burst = DefaultBurst
	}
	if o.RetryBase == 0 {
		o.RetryBase = DefaultRetryBase
	}
	if o.RetryMax == 0 {
		o.RetryMax = DefaultRetryMax
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Workers == 0 {
		o.Workers = DefaultWorkers
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}

	var errs []error
	for _, msg := range validation.IsQualifiedName(o.Controller) {
		errs = append(errs, fmt.Errorf("controller %q: %s", o.Controller, msg))
	}
	if len(o.Instance) > maxField {
		errs = append(errs, fmt.Errorf("instance %q: longer than %d characters", o.Instance, maxField))
	}
	if o.Namespace != "" {
		for _, msg := range validation.IsDNS1123Label(o.Namespace) {
			errs = append(errs, fmt.Errorf("namespace %q: %s", o.Namespace, msg))
		}
	}
	if o.ClusterNamespace != metav1.NamespaceDefault && o.ClusterNamespace != metav1.NamespaceSystem {
		errs = append(errs, fmt.Errorf("cluster namespace %q: must be %q or %q, where the API server accepts Events about cluster-scoped objects",
			o.ClusterNamespace, metav1.NamespaceDefault, metav1.NamespaceSystem))
	}
	for name, d := range map[string]time.Duration{"heartbeat": o.Heartbeat, "retry base": o.RetryBase, "retry max": o.RetryMax, "timeout": o.Timeout} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, got %v", name, d))
		}
	}
	if o.RetryMax < o.RetryBase {
		errs = append(errs, fmt.Errorf("retry max %v is below retry base %v", o.RetryMax, o.RetryBase))
	}
	if o.QPS < 0 {
		errs = append(errs, fmt.Errorf("qps must be positive, got %v", o.QPS))
	}
	if o.Burst < 0 {
		errs = append(errs, fmt.Errorf("burst must be positive, got %d", o.Burst))
	}
	if o.Workers < 0 {
		errs = append(errs, fmt.Errorf("workers must be positive, got %d", o.Workers))
	}
	return o, errors.Join(errs...)
}

// namespaceFor returns the namespace an Event about a subject in subjectNS
// lives in.
func (o Options) namespaceFor(subjectNS string) string {
	switch {
	case subjectNS == "" && o.Namespace != metav1.NamespaceDefault && o.Namespace != metav1.NamespaceSystem:
		return o.ClusterNamespace
	case o.Namespace != "":
		return o.Namespace
	default:
		return subjectNS
	}
}
