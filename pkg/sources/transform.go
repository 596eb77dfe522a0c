package sources

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/cache"

	"statusd.io/statusd/pkg/prune"
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

// transform returns informer i's cache transform: trim when it keeps whole
// objects, else a transform that trims each object to the fields reconcile
// chose for i (prune.Tree.Apply, which drops managedFields and the
// last-applied annotation too). The tree is fixed for the informer's life:
// a different one means a new informer. The caller holds s.mu.
//
// client-go calls the transform on every object before caching it, possibly
// on one it already transformed; Apply is idempotent, and replacing the
// object's content is allowed since nothing else holds the freshly decoded
// object.
func (s *Sources) transform(i *informer) cache.TransformFunc {
	tree := s.trees[i.key]
	if tree == nil {
		return trim
	}
	return func(obj any) (any, error) {
		u, ok := obj.(*unstructured.Unstructured)
		if !ok {
			return obj, nil
		}
		u.Object = tree.Apply(u.Object)
		return u, nil
	}
}
