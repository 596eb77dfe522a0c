package snapshot

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/labels"
)

// Status is the health of a source as seen by the snapshot's producer.
type Status string

// The source states. Only Ready and Absent sources can be read: reading a
// Forbidden or Failed source is an error, so the reasons that read it are
// Unknown instead of silently false.
const (
	StatusReady     Status = "ready"
	StatusAbsent    Status = "absent"
	StatusForbidden Status = "forbidden"
	StatusFailed    Status = "failed"
)

// Cluster holds the facts about the cluster itself.
type Cluster struct {
	// Version is the server's git version, such as v1.36.3.
	Version string `json:"version,omitempty"`
	// Resources lists the served resources as group/version/resource (core:
	// version/resource).
	Resources []string `json:"resources,omitempty"`
}

// Snapshot is one consistent view of everything the catalogue reads, at one
// time. It is immutable once built, so one snapshot can be evaluated,
// explained and written to a file concurrently.
type Snapshot struct {
	// Time is the evaluation time: "now" for every expression.
	Time time.Time
	// Cluster holds version and served resources.
	Cluster Cluster

	resources map[string]bool
	sets      map[string]*Set
	metrics   map[string]*PodMetrics // by namespace/name
}

// Set returns the objects of one source, or nil when the snapshot has no
// such source.
func (s *Snapshot) Set(source string) *Set { return s.sets[source] }

// Sets returns the source names in sorted order.
func (s *Snapshot) Sets() []string {
	out := make([]string, 0, len(s.sets))
	for k := range s.sets {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// HasResource reports whether the cluster serves gvr (group/version/resource,
// or version/resource for the core group).
func (s *Snapshot) HasResource(gvr string) bool { return s.resources[gvr] }

// Metrics returns the scraped metrics of pod namespace/name, or nil when the
// pod is not a scrape target.
func (s *Snapshot) Metrics(namespace, name string) *PodMetrics {
	return s.metrics[namespace+"/"+name]
}

// MetricsTargets returns the keys (namespace/name) of every scraped pod, in
// sorted order.
func (s *Snapshot) MetricsTargets() []string {
	out := make([]string, 0, len(s.metrics))
	for k := range s.metrics {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Set is the objects of one source with the indexes that CEL look-ups use,
// so that an expression finds a namespace's pods without scanning the
// cluster.
type Set struct {
	// Source is the source's name in the catalogue.
	Source string
	// Status says whether the objects can be trusted.
	Status Status
	// Err explains a Forbidden or Failed status.
	Err string

	objects     []*Object
	byNamespace map[string][]*Object
	byNode      map[string][]*Object
	byOwner     map[string][]*Object
	byLabel     map[string][]*Object // "key=value"
	byName      map[string]*Object   // namespace/name
	byUID       map[string]*Object
}

// Objects returns every object, sorted by namespace and name.
func (s *Set) Objects() []*Object { return s.objects }

// Len is the number of objects.
func (s *Set) Len() int { return len(s.objects) }

// InNamespace returns the objects in namespace ns.
func (s *Set) InNamespace(ns string) []*Object { return s.byNamespace[ns] }

// OnNode returns the objects whose node (spec.nodeName, or the Node itself)
// is node.
func (s *Set) OnNode(node string) []*Object { return s.byNode[node] }

// OwnedBy returns the objects with an ownerReference to uid.
func (s *Set) OwnedBy(uid string) []*Object { return s.byOwner[uid] }

// Get returns the object namespace/name (namespace empty for cluster-scoped
// objects), or nil.
func (s *Set) Get(namespace, name string) *Object { return s.byName[namespace+"/"+name] }

// ByUID returns the object with uid, or nil.
func (s *Set) ByUID(uid string) *Object { return s.byUID[uid] }

// Select returns the objects matching sel in namespace ns (every namespace
// when ns is empty). It starts from the smallest candidate list an
// equality requirement or the namespace offers, so a selective query costs
// little even in a large cluster.
func (s *Set) Select(ns string, sel labels.Selector) []*Object {
	candidates := s.objects
	if ns != "" {
		candidates = s.byNamespace[ns]
	}
	if reqs, ok := sel.Requirements(); ok {
		for _, r := range reqs {
			if r.Operator() != "=" && r.Operator() != "==" && r.Operator() != "in" || r.Values().Len() != 1 {
				continue
			}
			idx := s.byLabel[r.Key()+"="+r.Values().UnsortedList()[0]]
			if len(idx) < len(candidates) {
				candidates = idx
			}
		}
	}
	var out []*Object
	for _, o := range candidates {
		if (ns == "" || o.Namespace == ns) && sel.Matches(labels.Set(o.Labels)) {
			out = append(out, o)
		}
	}
	return out
}

// Builder assembles a Snapshot. It is not safe for concurrent use.
type Builder struct {
	snap *Snapshot
}

// NewBuilder starts a snapshot at time t.
func NewBuilder(t time.Time, cluster Cluster) *Builder {
	s := &Snapshot{
		Time:      t,
		Cluster:   cluster,
		resources: map[string]bool{},
		sets:      map[string]*Set{},
		metrics:   map[string]*PodMetrics{},
	}
	for _, r := range cluster.Resources {
		s.resources[r] = true
	}
	return &Builder{snap: s}
}

// SetStatus records the state of a source; a source never given a status
// is Ready.
func (b *Builder) SetStatus(source string, st Status, err string) {
	set := b.set(source)
	set.Status, set.Err = st, err
}

// Add adds objects to a source.
func (b *Builder) Add(source string, objs ...*Object) {
	set := b.set(source)
	set.objects = append(set.objects, objs...)
}

// AddMetrics records the scrape results of one pod.
func (b *Builder) AddMetrics(m *PodMetrics) { b.snap.metrics[m.Namespace+"/"+m.Name] = m }

func (b *Builder) set(source string) *Set {
	set, ok := b.snap.sets[source]
	if !ok {
		set = &Set{Source: source, Status: StatusReady}
		b.snap.sets[source] = set
	}
	return set
}

// Build indexes every source and returns the snapshot. The builder must not
// be used afterwards.
func (b *Builder) Build() *Snapshot {
	for _, set := range b.snap.sets {
		set.index()
	}
	s := b.snap
	b.snap = nil
	return s
}

func (s *Set) index() {
	// A stable sort keeps duplicates in the order they were added, so that
	// "last" below means the last listed.
	slices.SortStableFunc(s.objects, func(a, b *Object) int {
		return cmp.Or(strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name))
	})
	// Keep the last of duplicate names: a file may list an object twice.
	kept := s.objects[:0]
	for i, o := range s.objects {
		if next := i + 1; next < len(s.objects) && o.Namespace == s.objects[next].Namespace && o.Name == s.objects[next].Name && o.Kind == s.objects[next].Kind {
			continue
		}
		kept = append(kept, o)
	}
	clear(s.objects[len(kept):])
	s.objects = kept
	s.byNamespace = map[string][]*Object{}
	s.byNode = map[string][]*Object{}
	s.byOwner = map[string][]*Object{}
	s.byLabel = map[string][]*Object{}
	s.byName = make(map[string]*Object, len(s.objects))
	s.byUID = make(map[string]*Object, len(s.objects))
	for _, o := range s.objects {
		s.byNamespace[o.Namespace] = append(s.byNamespace[o.Namespace], o)
		if o.Node != "" {
			s.byNode[o.Node] = append(s.byNode[o.Node], o)
		}
		for _, uid := range o.Owners {
			s.byOwner[uid] = append(s.byOwner[uid], o)
		}
		for k, v := range o.Labels {
			s.byLabel[k+"="+v] = append(s.byLabel[k+"="+v], o)
		}
		s.byName[o.Namespace+"/"+o.Name] = o
		if o.UID != "" {
			s.byUID[o.UID] = o
		}
	}
}
