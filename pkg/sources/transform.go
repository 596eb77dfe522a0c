package sources

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"

	"statusd.io/statusd/pkg/compact"
	"statusd.io/statusd/pkg/prune"
	"statusd.io/statusd/pkg/snapshot"
)

// trimmedAnnotations are annotations no reason reads that can be large:
// kubectl's last-applied-configuration is a second copy of the whole object
// as applied.
var trimmedAnnotations = []string{
	"kubectl.kubernetes.io/last-applied-configuration",
}

// trim is the informers' cache transform when whole objects are kept (see
// transform). It drops what no expression reads and what costs the most
// memory: metadata.managedFields (on a pod managed by a controller and a
// kubelet, a third or more of the decoded object) and trimmedAnnotations.
// Everything else is kept, since expressions may read any field.
//
// client-go calls it on every object before caching it, possibly on one it
// already trimmed, so it is idempotent; it edits the object in place, which
// client-go allows because nothing else holds the freshly decoded object.
func trim(obj any) (any, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return obj, nil
	}
	md, ok := u.Object["metadata"].(map[string]any)
	if !ok {
		return obj, nil
	}
	delete(md, "managedFields")
	if ann, ok := md["annotations"].(map[string]any); ok {
		for _, a := range trimmedAnnotations {
			delete(ann, a)
		}
		if len(ann) == 0 {
			delete(md, "annotations")
		}
	}
	return obj, nil
}

// scrapeFields is what the scraper reads of a metrics source's pods
// (podTarget and resolvePort): the phase, the pod IP and the container
// ports a named metrics port resolves through.
var scrapeFields = prune.MustParse(`{spec{containers{ports*},initContainers{ports*}},status{phase*,podIP*}}`)

// transform returns informer i's cache transform: it trims each object
// (trim, when i keeps whole objects, else to the fields reconcile chose for
// i with prune.Tree.Apply, which drops managedFields and the last-applied
// annotation too) and replaces it by a cached object, the snapshot object
// in compact form. The tree is fixed for the informer's life: a different
// one means a new informer. The caller holds s.mu.
//
// client-go calls the transform on every object before caching it, possibly
// on one it already transformed, which it returns as it is.
func (s *Sources) transform(i *informer) cache.TransformFunc {
	tree := s.trees[i.key]
	return func(obj any) (any, error) {
		u, ok := obj.(*unstructured.Unstructured)
		if !ok {
			return obj, nil
		}
		if tree == nil {
			_, _ = trim(u)
		} else {
			u.Object = tree.Apply(u.Object)
		}
		o := snapshot.NewCompactObject(u.Object)
		// The resource version read from the compact form aliases its
		// encoding: the decoded one is garbage with the rest of u.
		rv, _ := compact.Lookup(o.Tree(), "metadata", "resourceVersion")
		s, _ := rv.(string)
		return &cached{obj: o, rv: s}, nil
	}
}

// cached is what an informer's store holds for one object: the snapshot
// object in compact form and what client-go reads of the object, its keys
// and resource version. The decoded object, maps of maps that take twice
// the memory, is garbage once the transform returns.
type cached struct {
	obj *snapshot.Object
	rv  string
}

var (
	_ runtime.Object            = (*cached)(nil)
	_ metav1.ObjectMetaAccessor = (*cached)(nil)
)

// GetObjectKind implements runtime.Object; no client-go code reads a
// cached object's kind.
func (c *cached) GetObjectKind() schema.ObjectKind { return schema.EmptyObjectKind }

// DeepCopyObject implements runtime.Object. A cached object is never
// modified, so a copy may share the snapshot object.
func (c *cached) DeepCopyObject() runtime.Object {
	cp := *c
	return &cp
}

// GetObjectMeta gives client-go's key functions (meta.Accessor) the
// object's namespace and name, and its UID and resource version.
func (c *cached) GetObjectMeta() metav1.Object {
	return &metav1.ObjectMeta{Namespace: c.obj.Namespace, Name: c.obj.Name, UID: types.UID(c.obj.UID), ResourceVersion: c.rv}
}
