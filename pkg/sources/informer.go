package sources

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"statusd.io/statusd/pkg/snapshot"
)

// informerKey identifies one shared informer: what it lists and watches.
// Sources that select the same resource, namespace and label selector share
// it.
type informerKey struct {
	gvr       schema.GroupVersionResource
	namespace string // "" for all namespaces or a cluster-scoped resource
	selector  string // label selector, "" for everything
}

func (k informerKey) String() string {
	s := gvrString(k.gvr)
	if k.namespace != "" {
		s += " in " + k.namespace
	}
	if k.selector != "" {
		s += " with " + k.selector
	}
	return s
}

// gvrString formats gvr as catalogue sources and cluster.hasResource do:
// group/version/resource, or version/resource for the core group.
func gvrString(gvr schema.GroupVersionResource) string {
	if gvr.Group == "" {
		return gvr.Version + "/" + gvr.Resource
	}
	return gvr.Group + "/" + gvr.Version + "/" + gvr.Resource
}

// informer is one running watch cache and the parsed form of what it holds.
//
// Its event handlers (one client-go goroutine) own objects; Snapshot reads
// it under mu. The list and watch calls and the reflector's error handler
// (another client-go goroutine) write err and forbidden under mu; Sources
// reads them to compute source states. Neither path takes Sources.mu while
// holding mu, so the lock order is always Sources.mu, then informer.mu.
type informer struct {
	key    informerKey
	cancel context.CancelFunc
	synced func() bool

	mu        sync.RWMutex
	objects   map[nameKey]*snapshot.Object // by namespace and name, the object's own strings
	err       error                        // the last list or watch error since the last success
	forbidden bool                         // err is a 403

	// sorted is objects in snapshot.Compare order as of the last call to
	// sortedObjects, which hands it to snapshots: it is never modified,
	// only replaced. changed holds the keys put or removed since; stale says
	// that so many changed (the first list, a relist) that sorting afresh
	// is cheaper than patching, and changed is no longer kept.
	sorted  []*snapshot.Object
	changed map[nameKey]struct{}
	stale   bool
}

// newInformer returns an informer that is not running, for tests and for
// start.
func newInformer(key informerKey) *informer {
	return &informer{
		key:     key,
		objects: map[nameKey]*snapshot.Object{},
		changed: map[nameKey]struct{}{},
		synced:  func() bool { return false },
	}
}

// start builds and runs the client-go informer for i.key until ctx ends or
// stop is called. It builds the ListWatch itself rather than through
// dynamicinformer.NewFilteredDynamicInformer (which it mirrors, with the
// label selector as tweakListOptions) because it must see each call
// succeed: a 403 is only ever reported through the error handler, and a
// source that was Forbidden is Ready again once a list or watch goes
// through.
func (s *Sources) start(i *informer) {
	res := s.dyn.Resource(i.key.gvr).Namespace(i.key.namespace)
	tweak := func(o *metav1.ListOptions) { o.LabelSelector = i.key.selector }
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			tweak(&o)
			s.lists.Add(1)
			list, err := res.List(ctx, o)
			if err == nil {
				s.succeeded(i)
			}
			return list, err
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			tweak(&o)
			w, err := res.Watch(ctx, o)
			if err == nil {
				s.succeeded(i)
			}
			return w, err
		},
	}
	inf := cache.NewSharedIndexInformerWithOptions(
		cache.ToListWatcherWithWatchListSemantics(lw, s.dyn),
		&unstructured.Unstructured{},
		cache.SharedIndexInformerOptions{ObjectDescription: i.key.String()},
	)
	// These only fail on an informer that has started.
	_ = inf.SetTransform(s.transform(i))
	_ = inf.SetWatchErrorHandlerWithContext(func(_ context.Context, _ *cache.Reflector, err error) { s.failed(i, err) })
	reg, _ := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { s.put(i, obj) },
		UpdateFunc: func(old, obj any) { s.update(i, old, obj) },
		DeleteFunc: func(obj any) { s.remove(i, obj) },
	})
	i.synced = reg.HasSynced

	ctx, cancel := context.WithCancel(s.runCtx)
	// client-go logs through the context's logger: route it into ours.
	ctx = klog.NewContext(ctx, logr.FromSlogHandler(s.log.With("gvr", gvrString(i.key.gvr)).Handler()))
	i.cancel = cancel
	s.wg.Go(func() { inf.RunWithContext(ctx) })
	s.wg.Go(func() {
		select {
		case <-reg.HasSyncedChecker().Done():
			s.refresh()
		case <-ctx.Done():
		}
	})
}

// stop ends the informer; its goroutines finish in the background, and Run
// waits for them before it returns.
func (i *informer) stop() {
	if i.cancel != nil {
		i.cancel()
	}
}

// succeeded clears a previous error once a list or watch goes through.
func (s *Sources) succeeded(i *informer) {
	i.mu.Lock()
	had := i.err != nil
	i.err, i.forbidden = nil, false
	i.mu.Unlock()
	if had {
		s.refresh()
	}
}

// failed records a list or watch error. A 403 makes the informer's sources
// Forbidden at once; other errors matter only until the first sync (a
// synced cache keeps serving while the reflector retries, as after an API
// server restart). A 404 means the resource may have gone: discovery runs
// now rather than at its next period.
func (s *Sources) failed(i *informer, err error) {
	forbidden := apierrors.IsForbidden(err)
	i.mu.Lock()
	changed := forbidden != i.forbidden || (i.err == nil) != (err == nil)
	i.err, i.forbidden = err, forbidden
	i.mu.Unlock()
	if apierrors.IsNotFound(err) {
		select {
		case s.rediscover <- struct{}{}:
		default:
		}
	}
	s.log.Debug("List or watch failed", "gvr", i.key.String(), "err", err)
	if changed {
		s.refresh()
	}
}

// objectKey is the informer's own key of o: its namespace and name. A
// struct of the object's own strings rather than a "namespace/name"
// string, which would cost every cached object a second copy of both
// (client-go's store keeps one already).
func objectKey(o *snapshot.Object) nameKey { return nameKey{o.Namespace, o.Name} }

func (s *Sources) put(i *informer, obj any) {
	c, ok := obj.(*cached)
	if !ok {
		return
	}
	i.set(c.obj)
	s.notify(i)
}

func (s *Sources) update(i *informer, old, obj any) {
	if o, ok := old.(*cached); ok {
		if n, ok := obj.(*cached); ok && o.rv == n.rv {
			return // a relist that found nothing new
		}
	}
	s.put(i, obj)
}

func (s *Sources) remove(i *informer, obj any) {
	var key nameKey
	switch o := obj.(type) {
	case *cached:
		key = objectKey(o.obj)
	case cache.DeletedFinalStateUnknown:
		ns, name, err := cache.SplitMetaNamespaceKey(o.Key)
		if err != nil {
			return
		}
		key = nameKey{ns, name}
	default:
		return
	}
	i.delete(key)
	s.notify(i)
}

// notify signals Changed, and the scraper when pods changed; both are
// coalesced, so a burst of events costs one tick.
func (s *Sources) notify(i *informer) {
	select {
	case s.changed <- struct{}{}:
	default:
	}
	if i.key.gvr == podsGVR {
		s.scraper.poke()
	}
}

// state is what the informer contributes to its sources' status: pending
// until the first sync, failed when it cannot sync, forbidden on a 403.
func (i *informer) state() (st snapshot.Status, err error, pending bool) {
	i.mu.RLock()
	defer i.mu.RUnlock()
	switch {
	case i.forbidden:
		return snapshot.StatusForbidden, i.err, false
	case i.synced():
		return snapshot.StatusReady, nil, false
	case i.err != nil:
		return snapshot.StatusFailed, i.err, false
	}
	return snapshot.StatusFailed, errNotSynced, true
}

// errNotSynced explains a source whose watch cache is still filling: its
// reasons are Unknown rather than evaluated on a partial cache.
var errNotSynced = errors.New("watch cache not synced yet")

// each calls fn for every cached object, under the read lock.
func (i *informer) each(fn func(*snapshot.Object)) {
	i.mu.RLock()
	defer i.mu.RUnlock()
	for _, o := range i.objects {
		fn(o)
	}
}

// len returns the number of cached objects.
func (i *informer) len() int {
	i.mu.RLock()
	defer i.mu.RUnlock()
	return len(i.objects)
}

// set caches o under its namespace and name.
func (i *informer) set(o *snapshot.Object) {
	key := objectKey(o)
	i.mu.Lock()
	defer i.mu.Unlock()
	i.objects[key] = o
	i.touch(key)
}

// delete drops key from the cache.
func (i *informer) delete(key nameKey) {
	i.mu.Lock()
	defer i.mu.Unlock()
	delete(i.objects, key)
	i.touch(key)
}

// touch records that key changed. Once more keys changed than half the
// cache holds, patching the sorted slice would cost about what a sort
// does, so the informer stops counting and sorts afresh. The caller holds
// mu.
func (i *informer) touch(key nameKey) {
	if i.stale {
		return
	}
	i.changed[key] = struct{}{}
	if len(i.changed) > len(i.objects)/2 {
		i.stale = true
		i.changed = map[nameKey]struct{}{}
	}
}

// sortedObjects returns every cached object in snapshot.Compare order,
// each namespace/name once, for Builder.AddSorted. The slice is shared by
// every snapshot taken since the last change and must not be modified.
// Between ticks a cache changes little, so each call costs a copy of the
// pointers and a binary search per changed key, not a sort.
func (i *informer) sortedObjects() []*snapshot.Object {
	i.mu.Lock()
	defer i.mu.Unlock()
	switch {
	case i.stale:
		out := make([]*snapshot.Object, 0, len(i.objects))
		for _, o := range i.objects {
			out = append(out, o)
		}
		slices.SortFunc(out, snapshot.Compare)
		i.sorted, i.stale = out, false
	case len(i.changed) > 0:
		i.sorted = i.patch()
		clear(i.changed)
	}
	return i.sorted
}

// patch returns a new sorted slice: i.sorted with the changed keys'
// objects replaced, removed or inserted. It finds each changed key by
// binary search and copies the pointers between them in bulk, so it reads
// a few objects per change rather than every object. The caller holds mu.
func (i *informer) patch() []*snapshot.Object {
	// An edit replaces (drop and o), removes (drop) or inserts before (o)
	// the object at i.sorted[at].
	type edit struct {
		at   int
		drop bool
		o    *snapshot.Object
	}
	edits := make([]edit, 0, len(i.changed))
	size := len(i.sorted)
	for key := range i.changed {
		at, found := slices.BinarySearchFunc(i.sorted, key, compareKey)
		o := i.objects[key]
		switch {
		case found:
			edits = append(edits, edit{at: at, drop: true, o: o})
			if o == nil {
				size--
			}
		case o != nil:
			edits = append(edits, edit{at: at, o: o})
			size++
		}
	}
	// At one index, inserts come before the object there (their keys are
	// smaller) and in key order among themselves.
	slices.SortFunc(edits, func(a, b edit) int {
		switch {
		case a.at != b.at:
			return a.at - b.at
		case a.drop != b.drop:
			if a.drop {
				return 1
			}
			return -1
		}
		return snapshot.Compare(a.o, b.o)
	})
	out := make([]*snapshot.Object, 0, size)
	from := 0
	for _, e := range edits {
		out = append(out, i.sorted[from:e.at]...)
		from = e.at
		if e.o != nil {
			out = append(out, e.o)
		}
		if e.drop {
			from++
		}
	}
	return append(out, i.sorted[from:]...)
}

// nameKey is a namespace and name to search sorted objects for.
type nameKey struct{ namespace, name string }

func compareKey(o *snapshot.Object, k nameKey) int {
	if c := strings.Compare(o.Namespace, k.namespace); c != 0 {
		return c
	}
	return strings.Compare(o.Name, k.name)
}
