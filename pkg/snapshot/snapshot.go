package snapshot

import (
	"slices"
	"sort"
	"strings"
	"sync"
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
	queries   map[string]*QueryResult
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

// Set is the objects of one source with the look-ups CEL and the engine
// use, so that an expression finds a namespace's pods without scanning the
// cluster.
//
// Building a Set costs no more than putting its objects in order, and
// nothing when they come in order (AddSorted): a snapshot is built every
// tick over every cached object, while most look-ups are asked of a few
// sets or never. So InNamespace is a binary search over the sorted objects,
// and the other indexes are built on first use, once per Set, safely for
// the concurrent readers a Snapshot has (evaluation, explain, files).
type Set struct {
	// Source is the source's name in the catalogue.
	Source string
	// Status says whether the objects can be trusted.
	Status Status
	// Err explains a Forbidden or Failed status.
	Err string

	objects []*Object // sorted by Compare, one per namespace/name/kind; never modified once built
	runs    []run     // what the Builder was given; nil once built

	nameOnce  sync.Once
	byName    map[nameKey]*Object
	uidOnce   sync.Once
	byUID     map[string]*Object
	nodeOnce  sync.Once
	byNode    map[string][]*Object
	ownerOnce sync.Once
	byOwner   map[string][]*Object
	labelMu   sync.Mutex
	byLabel   map[string]*labelIndex // by label key
}

// nameKey is namespace and name: a map key that costs no string building
// on insert or look-up.
type nameKey struct{ namespace, name string }

// labelIndex is the objects carrying one label key, by value. Sets index
// only the keys that selectors ask about: indexing every key=value of every
// pod would cost more per tick than all the queries it serves.
type labelIndex struct {
	once    sync.Once
	byValue map[string][]*Object
}

// run is one Add or AddSorted call's objects.
type run struct {
	objs   []*Object
	sorted bool // sorted by Compare
	shared bool // the caller's slice: copy before changing it
}

// Compare orders objects as a Set keeps them: by namespace, then name.
// Producers that keep their objects in this order can hand them to
// Builder.AddSorted and spare each snapshot a sort.
func Compare(a, b *Object) int {
	// Not cmp.Or, which would compare the names of objects in different
	// namespaces too: sorting calls this n log n times.
	if c := strings.Compare(a.Namespace, b.Namespace); c != 0 {
		return c
	}
	return strings.Compare(a.Name, b.Name)
}

// Objects returns every object, sorted by namespace and name. The slice is
// shared: callers must not modify it.
func (s *Set) Objects() []*Object { return s.objects }

// Len is the number of objects.
func (s *Set) Len() int { return len(s.objects) }

// InNamespace returns the objects in namespace ns, or nil when there are
// none. The objects are sorted by namespace, so this is a binary search
// rather than an index: free to build, and a few comparisons per query.
func (s *Set) InNamespace(ns string) []*Object {
	lo := sort.Search(len(s.objects), func(i int) bool { return s.objects[i].Namespace >= ns })
	hi := lo + sort.Search(len(s.objects)-lo, func(i int) bool { return s.objects[lo+i].Namespace > ns })
	if lo == hi {
		return nil
	}
	// The capacity is cut so that a caller appending to the result cannot
	// overwrite the next namespace's objects.
	return s.objects[lo:hi:hi]
}

// OnNode returns the objects whose node (spec.nodeName, or the Node itself)
// is node.
func (s *Set) OnNode(node string) []*Object {
	s.nodeOnce.Do(func() {
		s.byNode = map[string][]*Object{}
		for _, o := range s.objects {
			if o.Node != "" {
				s.byNode[o.Node] = append(s.byNode[o.Node], o)
			}
		}
	})
	return s.byNode[node]
}

// OwnedBy returns the objects with an ownerReference to uid.
func (s *Set) OwnedBy(uid string) []*Object {
	s.ownerOnce.Do(func() {
		s.byOwner = map[string][]*Object{}
		for _, o := range s.objects {
			for _, uid := range o.Owners {
				s.byOwner[uid] = append(s.byOwner[uid], o)
			}
		}
	})
	return s.byOwner[uid]
}

// Get returns the object namespace/name (namespace empty for cluster-scoped
// objects), or nil.
func (s *Set) Get(namespace, name string) *Object {
	s.nameOnce.Do(func() {
		s.byName = make(map[nameKey]*Object, len(s.objects))
		for _, o := range s.objects {
			s.byName[nameKey{o.Namespace, o.Name}] = o
		}
	})
	return s.byName[nameKey{namespace, name}]
}

// ByUID returns the object with uid, or nil.
func (s *Set) ByUID(uid string) *Object {
	s.uidOnce.Do(func() {
		s.byUID = make(map[string]*Object, len(s.objects))
		for _, o := range s.objects {
			if o.UID != "" {
				s.byUID[o.UID] = o
			}
		}
	})
	return s.byUID[uid]
}

// withLabel returns the objects labelled key=value, indexing key on first
// use.
func (s *Set) withLabel(key, value string) []*Object {
	s.labelMu.Lock()
	if s.byLabel == nil {
		s.byLabel = map[string]*labelIndex{}
	}
	idx := s.byLabel[key]
	if idx == nil {
		idx = &labelIndex{}
		s.byLabel[key] = idx
	}
	s.labelMu.Unlock()
	idx.once.Do(func() {
		idx.byValue = map[string][]*Object{}
		for _, o := range s.objects {
			if v, ok := o.Labels().Lookup(key); ok {
				idx.byValue[v] = append(idx.byValue[v], o)
			}
		}
	})
	return idx.byValue[value]
}

// scanBelow is the candidate count under which Select scans rather than
// consults a label index: matching a few dozen objects costs less than
// indexing a key over the whole set for one query.
const scanBelow = 64

// Select returns the objects matching sel in namespace ns (every namespace
// when ns is empty). It starts from the smallest candidate list an
// equality requirement or the namespace offers, so a selective query costs
// little even in a large cluster.
func (s *Set) Select(ns string, sel labels.Selector) []*Object {
	candidates := s.objects
	if ns != "" {
		candidates = s.InNamespace(ns)
	}
	if reqs, ok := sel.Requirements(); ok {
		for _, r := range reqs {
			if len(candidates) <= scanBelow {
				break
			}
			if r.Operator() != "=" && r.Operator() != "==" && r.Operator() != "in" || r.Values().Len() != 1 {
				continue
			}
			if idx := s.withLabel(r.Key(), r.Values().UnsortedList()[0]); len(idx) < len(candidates) {
				candidates = idx
			}
		}
	}
	var out []*Object
	for _, o := range candidates {
		if (ns == "" || o.Namespace == ns) && sel.Matches(o.Labels()) {
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

// Add adds objects to a source, in any order.
func (b *Builder) Add(source string, objs ...*Object) {
	set := b.set(source)
	if len(objs) == 0 {
		return
	}
	// Consecutive Adds make one run, to be sorted once: a file adds its
	// objects one at a time.
	if n := len(set.runs); n > 0 && !set.runs[n-1].sorted {
		set.runs[n-1].objs = append(set.runs[n-1].objs, objs...)
		return
	}
	set.runs = append(set.runs, run{objs: slices.Clone(objs)})
}

// AddSorted adds objects that are strictly in Compare order (each
// namespace/name once), as an informer's cache keeps them, so that Build
// takes them as they are instead of sorting. The snapshot keeps objs
// itself rather than a copy: the caller must never modify it afterwards.
// Build trusts the order without reading the objects, which is what makes
// a snapshot of a large cache cheap; objects out of order are a
// programmer's error that would make look-ups miss.
func (b *Builder) AddSorted(source string, objs []*Object) {
	set := b.set(source)
	if len(objs) > 0 {
		set.runs = append(set.runs, run{objs: objs, sorted: true, shared: true})
	}
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

// Build puts every source's objects in order and returns the snapshot; the
// look-up indexes are built when first used. The builder must not be used
// afterwards.
func (b *Builder) Build() *Snapshot {
	for _, set := range b.snap.sets {
		set.build()
	}
	s := b.snap
	b.snap = nil
	return s
}

// build orders the runs into objects. The result is what a stable sort of
// every object, in the order added, gives, less duplicates: of objects with
// the same namespace, name and kind, the last added is kept, since a file
// may list an object twice.
//
// A single AddSorted run is kept as it is, and runs that follow one
// another (one informer per namespace) are concatenated, reading only the
// objects at their ends: a snapshot of sorted caches costs a pointer copy
// at most, not a pass over every object.
func (s *Set) build() {
	runs := s.runs
	s.runs = nil
	unique := true // no two objects may have the same namespace and name
	for i := range runs {
		if !runs[i].sorted {
			// Add's runs are the builder's own copies.
			if !slices.IsSortedFunc(runs[i].objs, Compare) {
				slices.SortStableFunc(runs[i].objs, Compare)
			}
			unique = false
		}
	}
	objs, shared, disjoint := mergeRuns(runs)
	if unique && disjoint {
		s.objects = objs
		return
	}
	dup := firstDuplicate(objs)
	if dup < 0 {
		s.objects = objs
		return
	}
	if shared {
		objs = slices.Clone(objs)
	}
	s.objects = dedupe(objs, dup)
}

// firstDuplicate returns the index of the first of sorted objs followed by
// an object with the same namespace, name and kind, or -1.
func firstDuplicate(objs []*Object) int {
	for i := 1; i < len(objs); i++ {
		a, b := objs[i-1], objs[i]
		if a.Name == b.Name && a.Namespace == b.Namespace && a.Kind == b.Kind {
			return i - 1
		}
	}
	return -1
}

// dedupe drops, from sorted objs that the builder owns, every object
// followed by one with the same namespace, name and kind, starting at
// first.
func dedupe(objs []*Object, first int) []*Object {
	kept := objs[:first]
	for i := first; i < len(objs); i++ {
		o := objs[i]
		if next := i + 1; next < len(objs) && o.Name == objs[next].Name && o.Namespace == objs[next].Namespace && o.Kind == objs[next].Kind {
			continue
		}
		kept = append(kept, o)
	}
	clear(objs[len(kept):])
	return kept
}

// mergeRuns merges sorted runs, pairwise so that n objects in r runs cost
// n log r, keeping objects that compare equal in the order of their runs.
// shared reports that the result is a caller's slice; disjoint, that no
// two runs had an object with the same namespace and name.
func mergeRuns(runs []run) (objs []*Object, shared, disjoint bool) {
	switch len(runs) {
	case 0:
		return nil, false, true
	case 1:
		return runs[0].objs, runs[0].shared, true
	}
	rs := make([][]*Object, len(runs))
	for i, r := range runs {
		rs[i] = r.objs
	}
	disjoint = true
	for len(rs) > 1 {
		next := make([][]*Object, 0, (len(rs)+1)/2)
		for i := 0; i < len(rs); i += 2 {
			if i+1 == len(rs) {
				next = append(next, rs[i])
				continue
			}
			m, d := merge(rs[i], rs[i+1])
			next = append(next, m)
			disjoint = disjoint && d
		}
		rs = next
	}
	return rs[0], false, disjoint
}

// merge merges sorted a and b into a new slice, a's objects first among
// equals, and reports whether no object of a compared equal to one of b.
// Runs that follow one another are concatenated without a comparison per
// object.
func merge(a, b []*Object) (out []*Object, disjoint bool) {
	out = make([]*Object, 0, len(a)+len(b))
	if Compare(a[len(a)-1], b[0]) < 0 {
		return append(append(out, a...), b...), true
	}
	disjoint = true
	for len(a) > 0 && len(b) > 0 {
		switch c := Compare(b[0], a[0]); {
		case c < 0:
			out, b = append(out, b[0]), b[1:]
		default:
			disjoint = disjoint && c != 0
			out, a = append(out, a[0]), a[1:]
		}
	}
	out = append(out, a...)
	return append(out, b...), disjoint
}
