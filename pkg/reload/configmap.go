package reload

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/loader"
)

// ConfigMapRef names a ConfigMap.
type ConfigMapRef struct {
	Namespace, Name string
}

// String is namespace/name.
func (r ConfigMapRef) String() string { return r.Namespace + "/" + r.Name }

// origin is how files and logs name the ConfigMap.
func (r ConfigMapRef) origin() string { return "configmap/" + r.String() }

// ParseConfigMapRef reads NAMESPACE/NAME.
func ParseConfigMapRef(s string) (ConfigMapRef, error) {
	ns, name, ok := strings.Cut(s, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return ConfigMapRef{}, fmt.Errorf("configmap %q: want NAMESPACE/NAME", s)
	}
	return ConfigMapRef{Namespace: ns, Name: name}, nil
}

// ConfigMapWatcher reloads a catalogue from one or more ConfigMaps through
// the API, so that an edit applies within about a second instead of
// waiting for the kubelet to refresh a mounted volume. Every data key
// ending in .yaml or .yml is one catalogue file (loader.ConfigMapFiles),
// and the files of every ConfigMap make one catalogue, in a defined order:
// the ConfigMaps in the order given, each one's keys in name order. That
// is how the Helm chart keeps the shipped catalogue and an operator's
// overlay in two ConfigMaps: the overlay (kind CatalogOverlay) applies
// after every catalogue file whatever the order, and catalogue files merge
// in that order.
//
// An edit of any of them reloads the whole; a catalogue that does not load
// is refused whole and the previous one stays in force. A ConfigMap that
// does not exist makes the catalogue incomplete, so it is refused (naming
// the missing ConfigMap) until the ConfigMap is created; one deleted later
// leaves the catalogue in force, as a deleted single ConfigMap always did.
type ConfigMapWatcher struct {
	client kubernetes.Interface
	refs   []ConfigMapRef
	t      *tracker

	// mu guards synced, which Run sets once every watch has synced and
	// Pending reads from the daemon's goroutine.
	mu     sync.Mutex
	synced bool
}

// NewConfigMapWatcher returns a watcher of the ConfigMaps refs, merged in
// that order. Its first update is the ConfigMaps as the watches first find
// them, once every watch has synced.
func NewConfigMapWatcher(client kubernetes.Interface, refs []ConfigMapRef, opts Options) *ConfigMapWatcher {
	return &ConfigMapWatcher{client: client, refs: refs, t: newTracker(opts)}
}

// Updates delivers the outcome of each change, the latest first.
func (w *ConfigMapWatcher) Updates() <-chan *Update { return w.t.out }

// Pending says why the first update has not come yet, by reading each
// ConfigMap once: the API server's refusal (forbidden, unauthorized), a
// connection that failed (the API server down), or, when every read
// succeeds, that the watches have yet to sync. It is for the daemon, which
// waits for an API server that is down and gives up on access it lacks;
// the watches themselves retry a refused connection without saying so.
func (w *ConfigMapWatcher) Pending(ctx context.Context) error {
	w.mu.Lock()
	synced := w.synced
	w.mu.Unlock()
	if synced {
		return nil
	}
	for _, ref := range w.refs {
		_, err := w.client.CoreV1().ConfigMaps(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("read catalogue configmap %s: %w", ref, err)
		}
	}
	return errors.New("catalogue configmaps readable, their watches not yet synced")
}

// cmEvent is one ConfigMap's new state: nil after a deletion.
type cmEvent struct {
	i  int
	cm *corev1.ConfigMap
}

// Run watches until ctx ends. The ConfigMaps' content is offered as soon as
// every watch has synced, and again after each change.
func (w *ConfigMapWatcher) Run(ctx context.Context) error {
	if len(w.refs) == 0 {
		return fmt.Errorf("watch catalogue configmaps: none named")
	}
	origins := make([]string, len(w.refs))
	for i, r := range w.refs {
		origins[i] = r.origin()
	}
	origin := strings.Join(origins, ",")
	// Events are handed over, never shared: the handlers run on the
	// informers' goroutines, the state below is this goroutine's.
	events := make(chan cmEvent, 16*len(w.refs))
	synced := make([]cache.InformerSynced, len(w.refs))
	for i, ref := range w.refs {
		factory := informers.NewSharedInformerFactoryWithOptions(w.client, 10*time.Minute,
			informers.WithNamespace(ref.Namespace),
			informers.WithTweakListOptions(func(o *metav1.ListOptions) {
				o.FieldSelector = fields.OneTermEqualSelector("metadata.name", ref.Name).String()
			}))
		inf := factory.Core().V1().ConfigMaps().Informer()
		send := func(cm *corev1.ConfigMap) {
			select {
			case events <- cmEvent{i: i, cm: cm}:
			case <-ctx.Done():
			}
		}
		_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc: func(obj any) {
				if cm, ok := obj.(*corev1.ConfigMap); ok {
					send(cm)
				}
			},
			UpdateFunc: func(_, obj any) {
				if cm, ok := obj.(*corev1.ConfigMap); ok {
					send(cm)
				}
			},
			DeleteFunc: func(any) {
				w.t.log.Warn("Catalogue ConfigMap deleted; keeping the catalogue in force", "origin", ref.origin())
			},
		})
		if err != nil {
			return fmt.Errorf("watch catalogue configmap %s: %w", ref.origin(), err)
		}
		synced[i] = inf.HasSynced
		factory.Start(ctx.Done())
		defer factory.Shutdown()
	}
	if !cache.WaitForCacheSync(ctx.Done(), synced...) {
		return nil
	}
	w.mu.Lock()
	w.synced = true
	w.mu.Unlock()
	latest := make([]*corev1.ConfigMap, len(w.refs))
	for {
		// Drain what is queued: a burst of edits compiles once.
		drained := false
		for !drained {
			select {
			case ev := <-events:
				latest[ev.i] = ev.cm
			default:
				drained = true
			}
		}
		files, errs, obj := w.files(latest)
		w.t.offer(ctx, files, errs, origin, obj)
		select {
		case <-ctx.Done():
			return nil
		case ev := <-events:
			latest[ev.i] = ev.cm
		}
	}
}

// files returns the catalogue files of the ConfigMaps in order, an error
// for each ConfigMap not found, and the object Events about a rejection
// go to: the last ConfigMap found (with the chart, the overlay, which is
// what operators edit).
func (w *ConfigMapWatcher) files(latest []*corev1.ConfigMap) ([]*catalog.File, catalog.ErrorList, runtime.Object) {
	var files []*catalog.File
	var errs catalog.ErrorList
	var obj runtime.Object
	for i, cm := range latest {
		if cm == nil {
			errs.Errorf(catalog.Pos{File: w.refs[i].origin()}, "", "catalogue ConfigMap %s not found", w.refs[i])
			continue
		}
		files = append(files, loader.ConfigMapFiles(cm)...)
		obj = cm
	}
	errs = append(errs, catalog.CheckIncludes(files)...)
	return files, errs, obj
}
