package suppress

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/labels"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/compact"
	"statusd.io/statusd/pkg/prune"
	"statusd.io/statusd/pkg/snapshot"
)

// Resource is a resource as the joins know it: its group and plural name,
// in whatever version the catalogue watches it.
type Resource struct {
	Group    string
	Resource string
}

// String is group/resource, or resource for the core group.
func (r Resource) String() string {
	if r.Group == "" {
		return r.Resource
	}
	return r.Resource + "." + r.Group
}

// ResourceOf returns the resource of a catalogue source.
func ResourceOf(s catalog.Source) Resource { return Resource{Group: s.Group, Resource: s.Resource} }

// The resources the snapshot-reading joins know.
var (
	resPods           = Resource{"", "pods"}
	resServices       = Resource{"", "services"}
	resPVCs           = Resource{"", "persistentvolumeclaims"}
	resPVs            = Resource{"", "persistentvolumes"}
	resEndpointSlices = Resource{"discovery.k8s.io", "endpointslices"}
	resReplicaSets    = Resource{"apps", "replicasets"}
	resDeployments    = Resource{"apps", "deployments"}
	resJobs           = Resource{"batch", "jobs"}
	resCronJobs       = Resource{"batch", "cronjobs"}
)

// maxOwnerDepth bounds the walk up controller ownerReferences. Kubernetes'
// deepest built-in chain is CronJob → Job → Pod (and a PVC of a generic
// ephemeral volume below its pod); operators add a level or two above. The
// bound also ends a walk around a cycle of references, which the API server
// does not forbid.
const maxOwnerDepth = 8

// serviceNameLabel is the label the EndpointSlice controller (and any
// other slice manager) sets to the Service a slice belongs to.
const serviceNameLabel = "kubernetes.io/service-name"

// Joiner computes the join keys of one snapshot's subjects. The named joins
// of NamedKeys read only the subject; sameWorkload, sameService and
// sameVolumeClaim read other objects of the snapshot (ReplicaSets and Jobs
// between a workload and its pods, EndpointSlices and Services), through
// indexes built on first use. A Joiner belongs to one tick; its indexes
// are built under sync.Once or a mutex, so concurrent readers (explain)
// are safe.
type Joiner struct {
	snap *snapshot.Snapshot
	// sets are the snapshot's object sets by resource, in source order.
	sets map[Resource][]*snapshot.Set
	all  []*snapshot.Set

	ownersMu sync.Mutex
	// owners maps, by namespace, a UID to the object holding it, for the
	// objects that have a controller: the links of owner chains. An
	// object without a controller is where a chain ends, so it need not
	// be found. A chain never leaves its namespace, so a namespace is
	// indexed only when a join asks about one of its objects: most ticks
	// ask about a few namespaces, and an index of every pod of a large
	// cluster, built on every tick, was a large part of the tick's memory.
	owners map[string]map[string]*snapshot.Object

	servicesOnce sync.Once
	// podServices maps a pod (by UID, and by namespace/name for targetRefs
	// without a UID) to the keys of the Services whose slices target it.
	podServicesByUID  map[string][]string
	podServicesByName map[string][]string
	// unsliced are, by namespace, the Services with a selector and no
	// EndpointSlice in the snapshot.
	unsliced map[string][]selectorService
}

type selectorService struct {
	key string
	sel labels.Selector
}

// NewJoiner returns the joiner of snapshot s, whose object sets are the
// sources of catalogue c.
func NewJoiner(c *catalog.Catalog, s *snapshot.Snapshot) *Joiner {
	j := &Joiner{snap: s, sets: map[Resource][]*snapshot.Set{}}
	for _, name := range c.SourceNames() {
		src := c.Sources[name]
		if !src.IsObjects() {
			continue
		}
		set := s.Set(name)
		if set == nil || !readable(set) {
			continue
		}
		r := ResourceOf(src)
		j.sets[r] = append(j.sets[r], set)
		j.all = append(j.all, set)
	}
	return j
}

// readable reports whether a set's objects can be trusted: a forbidden or
// failed source holds none worth joining on.
func readable(s *snapshot.Set) bool {
	return s.Status != snapshot.StatusForbidden && s.Status != snapshot.StatusFailed
}

// Keys returns the join keys of subject o for a named join, on the cause
// side (asCause) or the symptom side. A pair is joined when the two sides
// share a key; an empty side never joins.
func (j *Joiner) Keys(kind catalog.JoinKind, o *snapshot.Object, asCause bool) []string {
	switch kind {
	case catalog.JoinSameWorkload:
		return j.workloadKeys(o)
	case catalog.JoinSameService:
		return j.serviceKeys(o)
	case catalog.JoinSameVolumeClaim:
		return VolumeClaimKeys(o)
	}
	return NamedKeys(kind, o, asCause)
}

// workloadKeys is the namespace and UID of the topmost controller the
// snapshot reaches from o. The walk follows controller ownerReferences by
// UID, through objects found in the snapshot in o's own namespace: a pod's
// ReplicaSet leads to its Deployment, a Job to its CronJob. Where a link is
// missing (a ReplicaSet not in the snapshot, or an owner in another
// namespace, which Kubernetes' garbage collector treats as absent too),
// the chain ends at the UID the last found object names, so the pods of a
// ReplicaSet the snapshot lacks still share a key with each other but not
// with their Deployment. The namespace in the key keeps a forged or stale
// UID from joining objects across namespaces. Cluster-scoped objects
// belong to no workload.
func (j *Joiner) workloadKeys(o *snapshot.Object) []string {
	if o.Namespace == "" {
		return nil
	}
	root := o.ID()
	next := o.Controller
	for range maxOwnerDepth {
		if next == "" {
			break
		}
		root = next
		owner := j.owner(o.Namespace, next)
		if owner == nil {
			break
		}
		next = owner.Controller
	}
	return []string{o.Namespace + "/" + root}
}

// owner returns the object with uid in namespace ns that has a controller
// of its own, or nil. An object of another namespace is never found:
// Kubernetes' garbage collector treats an owner there as absent too.
func (j *Joiner) owner(ns, uid string) *snapshot.Object {
	j.ownersMu.Lock()
	defer j.ownersMu.Unlock()
	byUID, ok := j.owners[ns]
	if !ok {
		byUID = map[string]*snapshot.Object{}
		for _, set := range j.all {
			for _, o := range set.InNamespace(ns) {
				if o.UID != "" && o.Controller != "" {
					byUID[o.UID] = o
				}
			}
		}
		if j.owners == nil {
			j.owners = map[string]map[string]*snapshot.Object{}
		}
		j.owners[ns] = byUID
	}
	return byUID[uid]
}

// serviceKeys keys a Service by namespace/name, an EndpointSlice by the
// Service its service-name label names, and a pod by the Services whose
// EndpointSlices target it. A Service with a selector and no EndpointSlice
// in the snapshot (just created, before the EndpointSlice controller
// caught up, or with no slice source readable) is joined to the pods of its
// namespace its selector matches: those the controller would list. Once a
// slice exists the slices decide, so a pod the controller leaves out (one
// without an IP yet) is not joined. Anything else has no key.
func (j *Joiner) serviceKeys(o *snapshot.Object) []string {
	switch {
	case isKind(o, "", "Service"):
		if o.Namespace == "" {
			return nil
		}
		return []string{o.Namespace + "/" + o.Name}
	case isKind(o, "discovery.k8s.io", "EndpointSlice"):
		if svc := o.Labels().Get(serviceNameLabel); svc != "" && o.Namespace != "" {
			return []string{o.Namespace + "/" + svc}
		}
		return nil
	case isKind(o, "", "Pod"):
		return j.podServices(o)
	}
	return nil
}

func (j *Joiner) podServices(pod *snapshot.Object) []string {
	if pod.Namespace == "" {
		return nil
	}
	j.servicesOnce.Do(j.indexServices)
	var keys []string
	if pod.UID != "" {
		keys = append(keys, j.podServicesByUID[pod.UID]...)
	}
	keys = append(keys, j.podServicesByName[pod.Namespace+"/"+pod.Name]...)
	for _, s := range j.unsliced[pod.Namespace] {
		if s.sel.Matches(pod.Labels()) {
			keys = append(keys, s.key)
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// indexServices reads every EndpointSlice's targetRefs once per snapshot.
// A targetRef is trusted only in its slice's namespace: a Service's
// endpoints are pods of its own namespace.
func (j *Joiner) indexServices() {
	j.podServicesByUID = map[string][]string{}
	j.podServicesByName = map[string][]string{}
	j.unsliced = map[string][]selectorService{}
	sliced := map[string]bool{}
	for _, set := range j.sets[resEndpointSlices] {
		for _, sl := range set.Objects() {
			svc := sl.Labels().Get(serviceNameLabel)
			if svc == "" || sl.Namespace == "" {
				continue
			}
			key := sl.Namespace + "/" + svc
			sliced[key] = true
			eps, _ := compact.Lookup(sl.Tree(), "endpoints")
			list, _ := eps.([]any)
			for _, ep := range list {
				kind, _ := lookupString(ep, "targetRef", "kind")
				if kind != "Pod" {
					continue
				}
				if ns, _ := lookupString(ep, "targetRef", "namespace"); ns != "" && ns != sl.Namespace {
					continue
				}
				if uid, _ := lookupString(ep, "targetRef", "uid"); uid != "" {
					// A UID pins the pod: a pod recreated under the same
					// name is not the endpoint until the slice says so.
					j.podServicesByUID[uid] = append(j.podServicesByUID[uid], key)
					continue
				}
				if name, _ := lookupString(ep, "targetRef", "name"); name != "" {
					n := sl.Namespace + "/" + name
					j.podServicesByName[n] = append(j.podServicesByName[n], key)
				}
			}
		}
	}
	for _, set := range j.sets[resServices] {
		for _, svc := range set.Objects() {
			key := svc.Namespace + "/" + svc.Name
			if svc.Namespace == "" || sliced[key] {
				continue
			}
			sel, ok := serviceSelector(svc)
			if !ok {
				continue
			}
			if slices.ContainsFunc(j.unsliced[svc.Namespace], func(s selectorService) bool { return s.key == key }) {
				continue // the same Service in two sources
			}
			j.unsliced[svc.Namespace] = append(j.unsliced[svc.Namespace], selectorService{key: key, sel: sel})
		}
	}
}

// serviceSelector returns a Service's spec.selector; false when it has none
// (its endpoints are managed by hand, so only slices can say).
func serviceSelector(svc *snapshot.Object) (labels.Selector, bool) {
	v, _ := compact.Lookup(svc.Tree(), "spec", "selector")
	set := labels.Set{}
	switch m := v.(type) {
	case map[string]any:
		for k, v := range m {
			if s, ok := v.(string); ok {
				set[k] = s
			}
		}
	case *compact.Map:
		for _, e := range m.Entries() {
			if s, ok := e.Value.(string); ok {
				set[e.Key] = s
			}
		}
	}
	if len(set) == 0 {
		return nil, false
	}
	return labels.SelectorFromSet(set), true
}

// VolumeClaimKeys keys a PersistentVolumeClaim by namespace/name, a pod by
// the claims its volumes name (persistentVolumeClaim.claimName, and the
// <pod>-<volume> claim of a generic ephemeral volume, which Kubernetes
// names so), and a PersistentVolume by the claim its claimRef binds it to.
// It reads only the subject, so it needs no snapshot.
func VolumeClaimKeys(o *snapshot.Object) []string {
	switch {
	case isKind(o, "", "PersistentVolumeClaim"):
		if o.Namespace == "" {
			return nil
		}
		return []string{o.Namespace + "/" + o.Name}
	case isKind(o, "", "PersistentVolume"):
		ns, _ := lookupString(o.Tree(), "spec", "claimRef", "namespace")
		name, _ := lookupString(o.Tree(), "spec", "claimRef", "name")
		if ns == "" || name == "" {
			return nil
		}
		return []string{ns + "/" + name}
	case isKind(o, "", "Pod"):
		if o.Namespace == "" {
			return nil
		}
		vols, _ := compact.Lookup(o.Tree(), "spec", "volumes")
		list, _ := vols.([]any)
		var keys []string
		for _, v := range list {
			if claim, _ := lookupString(v, "persistentVolumeClaim", "claimName"); claim != "" {
				keys = append(keys, o.Namespace+"/"+claim)
				continue
			}
			if _, eph := compact.Lookup(v, "ephemeral"); eph {
				if name, _ := lookupString(v, "name"); name != "" && o.Name != "" {
					keys = append(keys, o.Namespace+"/"+o.Name+"-"+name)
				}
			}
		}
		slices.Sort(keys)
		return slices.Compact(keys)
	}
	return nil
}

func lookupString(v any, keys ...string) (string, bool) {
	x, ok := compact.Lookup(v, keys...)
	if !ok {
		return "", false
	}
	s, ok := x.(string)
	return s, ok
}

// isKind reports whether o is of kind in API group.
func isKind(o *snapshot.Object, group, kind string) bool {
	return o.Kind == kind && o.GroupVersion().Group == group
}

// JoinFields returns, by resource, the fields the join kind reads from
// objects beyond metadata (which the caches always keep), in pkg/prune's
// notation, for the field analysis that trims cached objects: every source
// of such a resource must keep them.
func JoinFields(kind catalog.JoinKind) map[Resource]*prune.Tree {
	switch kind {
	case catalog.JoinSameService:
		return map[Resource]*prune.Tree{
			resEndpointSlices: prune.MustParse("{endpoints{targetRef{kind*,name*,namespace*,uid*}}}"),
			resServices:       prune.MustParse("{spec{selector*}}"),
		}
	case catalog.JoinSameVolumeClaim:
		return map[Resource]*prune.Tree{
			resPods: prune.MustParse("{spec{volumes{ephemeral,name*,persistentVolumeClaim{claimName*}}}}"),
			resPVs:  prune.MustParse("{spec{claimRef{name*,namespace*}}}"),
		}
	}
	return nil
}

// SideProblem says why a subject of resource r cannot produce a key that
// joins it under kind, or "" when it can or cannot be judged (a custom
// resource under sameWorkload: operators' resources own workloads).
// Cluster-scoped subjects under sameWorkload are the caller's to judge.
func SideProblem(kind catalog.JoinKind, r Resource) string {
	switch kind {
	case catalog.JoinSameWorkload:
		if builtinGroups[r.Group] && !workloadResources[r] {
			return fmt.Sprintf("%s are not in a workload's owner chain (Deployment → ReplicaSet → Pod, StatefulSet, DaemonSet or Job → Pod, CronJob → Job → Pod)", r)
		}
	case catalog.JoinSameService:
		if r != resServices && r != resPods && r != resEndpointSlices {
			return fmt.Sprintf("%s have no Service: sameService keys a Service by itself, a pod by the EndpointSlices that target it, an EndpointSlice by its %s label", r, serviceNameLabel)
		}
	case catalog.JoinSameVolumeClaim:
		if r != resPVCs && r != resPods && r != resPVs {
			return fmt.Sprintf("%s mount no claim: sameVolumeClaim keys a PersistentVolumeClaim by itself, a pod by the claims of its volumes, a PersistentVolume by its claimRef", r)
		}
	}
	return ""
}

// Needs returns the resources, beyond the two sides, that a join between
// subjects of resources a and b reads to produce keys, with why: without a
// source of each in the catalogue the edge never matches. A Deployment
// reaches its pods through their ReplicaSets, a CronJob through its Jobs,
// a pod its Service through the Service's EndpointSlices.
func Needs(kind catalog.JoinKind, a, b Resource) map[Resource]string {
	out := map[Resource]string{}
	switch kind {
	case catalog.JoinSameWorkload:
		for _, pair := range [][2]Resource{{a, b}, {b, a}} {
			top, below := pair[0], pair[1]
			if top == resDeployments && below != resDeployments && below != resReplicaSets && builtinGroups[below.Group] {
				out[resReplicaSets] = fmt.Sprintf("a %s reaches its Deployment through its ReplicaSet", singular(below))
			}
			if top == resCronJobs && below != resCronJobs && below != resJobs && builtinGroups[below.Group] {
				out[resJobs] = fmt.Sprintf("a %s reaches its CronJob through its Job", singular(below))
			}
		}
	case catalog.JoinSameService:
		if a == resPods || b == resPods {
			out[resEndpointSlices] = "a pod is joined to its Services through the EndpointSlices that target it"
		}
	}
	return out
}

func singular(r Resource) string {
	switch r {
	case resPods:
		return "pod"
	case resPVCs:
		return "PersistentVolumeClaim"
	}
	return strings.TrimSuffix(r.Resource, "s")
}

// workloadResources are the built-in resources that can sit in a workload's
// owner chain: the workload controllers, their pods, and the claims of
// pods' generic ephemeral volumes, which their pod controls.
var workloadResources = map[Resource]bool{
	resPods: true, resReplicaSets: true, resDeployments: true, resJobs: true, resCronJobs: true, resPVCs: true,
	{"apps", "statefulsets"}: true, {"apps", "daemonsets"}: true, {"", "replicationcontrollers"}: true,
}

// builtinGroups are Kubernetes' own API groups, whose resources' owner
// relations are known; a resource of any other group is a custom one.
var builtinGroups = map[string]bool{
	"": true, "apps": true, "batch": true, "autoscaling": true, "policy": true,
	"networking.k8s.io": true, "discovery.k8s.io": true, "storage.k8s.io": true,
	"rbac.authorization.k8s.io": true, "coordination.k8s.io": true, "scheduling.k8s.io": true,
	"node.k8s.io": true, "certificates.k8s.io": true, "admissionregistration.k8s.io": true,
	"apiextensions.k8s.io": true, "apiregistration.k8s.io": true, "events.k8s.io": true,
	"flowcontrol.apiserver.k8s.io": true, "resource.k8s.io": true, "storagemigration.k8s.io": true,
	"internal.apiserver.k8s.io": true,
}
