package reload

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"statusd.io/statusd/pkg/loader"
)

// ConfigMapWatcher reloads a catalogue from a ConfigMap through the API, so
// that an edit applies within about a second instead of waiting for the
// kubelet to refresh a mounted volume. Every data key ending in .yaml or
// .yml is one catalogue file (loader.ConfigMapFiles).
type ConfigMapWatcher struct {
	client          kubernetes.Interface
	namespace, name string
	t               *tracker
}

// NewConfigMapWatcher returns a watcher of namespace/name. Its first update
// is the ConfigMap as the watch first finds it.
func NewConfigMapWatcher(client kubernetes.Interface, namespace, name string, opts Options) *ConfigMapWatcher {
	return &ConfigMapWatcher{client: client, namespace: namespace, name: name, t: newTracker(opts)}
}

// Updates delivers the outcome of each change, the latest first.
func (w *ConfigMapWatcher) Updates() <-chan *Update { return w.t.out }

// Run watches until ctx ends. The first version of the ConfigMap is
// offered as soon as the watch syncs.
func (w *ConfigMapWatcher) Run(ctx context.Context) error {
	origin := "configmap/" + w.namespace + "/" + w.name
	factory := informers.NewSharedInformerFactoryWithOptions(w.client, 10*time.Minute,
		informers.WithNamespace(w.namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", w.name).String()
		}))
	inf := factory.Core().V1().ConfigMaps().Informer()
	// The latest version wins: a burst of edits compiles once.
	latest := make(chan *corev1.ConfigMap, 1)
	push := func(obj any) {
		cm, ok := obj.(*corev1.ConfigMap)
		if !ok {
			return
		}
		select {
		case <-latest:
		default:
		}
		latest <- cm
	}
	_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    push,
		UpdateFunc: func(_, obj any) { push(obj) },
		DeleteFunc: func(any) {
			w.t.log.Warn("Catalogue ConfigMap deleted; keeping the catalogue in force", "origin", origin)
		},
	})
	if err != nil {
		return fmt.Errorf("watch catalogue configmap %s: %w", origin, err)
	}
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	for {
		select {
		case <-ctx.Done():
			return nil
		case cm := <-latest:
			w.t.offer(ctx, loader.ConfigMapFiles(cm), nil, origin, cm)
		}
	}
}
