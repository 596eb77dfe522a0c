package sources

import "k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

// trimmedAnnotations are annotations no reason reads that can be large:
// kubectl's last-applied-configuration is a second copy of the whole object
// as applied.
var trimmedAnnotations = []string{
	"kubectl.kubernetes.io/last-applied-configuration",
}

// trim is the informers' cache transform. It drops what no expression reads
// and what costs the most memory: metadata.managedFields (on a pod managed
// by a controller and a kubelet, a third or more of the decoded object) and
// trimmedAnnotations. Everything else is kept, since catalogue expressions
// may read any field.
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
