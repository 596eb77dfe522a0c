package sources

import (
	"cmp"
	"maps"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/labels"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/snapshot"
)

// Snapshot builds a snapshot at now from the watch caches and the metrics
// histories. It makes no API call, and it neither sorts nor indexes: each
// informer keeps its objects in order and hands the same slice to every
// snapshot until they change, and a Set builds its indexes when first
// asked. A source that is not Ready (waiting, absent, forbidden, failed) is
// in the snapshot with its status and no objects.
func (s *Sources) Snapshot(now time.Time) *snapshot.Snapshot {
	states := s.refresh()
	s.mu.Lock()
	b := snapshot.NewBuilder(now, snapshot.Cluster{Version: s.disc.version, Resources: s.disc.resources})
	s.selected(states, func(name string, st sourceState, runs [][]*snapshot.Object) {
		b.SetStatus(name, st.Status, st.Error)
		for _, r := range runs {
			b.AddSorted(name, r)
		}
	})
	s.mu.Unlock()
	for _, pm := range s.scraper.histories() {
		b.AddMetrics(pm)
	}
	return b.Build()
}

// selected calls fn for every object source, in name order, with its state
// and, when Ready, the objects it selects: one run per informer, each in
// snapshot.Compare order, never to be modified. The caller holds s.mu.
func (s *Sources) selected(states map[string]sourceState, fn func(name string, st sourceState, runs [][]*snapshot.Object)) {
	var nsLabels map[string]labels.Labels
	for _, name := range slices.Sorted(maps.Keys(s.sources)) {
		src := s.sources[name]
		if src.metrics != nil {
			continue
		}
		st := states[name]
		if st.Status != snapshot.StatusReady {
			fn(name, st, nil)
			continue
		}
		_, namespaced := s.served(src)
		check := src.clientSide && namespaced
		if check && src.needsNamespaces(namespaced) && nsLabels == nil {
			nsLabels = s.namespaceLabels()
		}
		var runs [][]*snapshot.Object
		for _, k := range src.keys(namespaced) {
			i := s.informers[k]
			if i == nil {
				continue
			}
			objs := i.sortedObjects()
			if check {
				objs = selectNamespaces(objs, func(ns string) bool { return src.sel.NamespaceMatches(ns, nsLabels[ns]) })
			}
			if len(objs) > 0 {
				runs = append(runs, objs)
			}
		}
		fn(name, st, runs)
	}
}

// selectNamespaces returns the objects of sorted objs in the namespaces match
// selects, asking once per namespace rather than once per object. When
// every namespace matches it returns objs itself; otherwise a new slice,
// still sorted.
func selectNamespaces(objs []*snapshot.Object, match func(ns string) bool) []*snapshot.Object {
	var out []*snapshot.Object
	kept := 0 // objs[:kept] all matched, and out is nil
	for lo := 0; lo < len(objs); {
		ns := objs[lo].Namespace
		hi := lo + 1
		for hi < len(objs) && objs[hi].Namespace == ns {
			hi++
		}
		switch ok := match(ns); {
		case ok && out == nil && kept == lo:
			kept = hi
		case ok:
			out = append(out, objs[lo:hi]...)
		case out == nil:
			out = append(make([]*snapshot.Object, 0, len(objs)), objs[:kept]...)
		}
		lo = hi
	}
	if out == nil && kept == len(objs) {
		return objs
	}
	return out
}

// namespaceLabels returns each namespace's labels from the namespaces
// informer, read from the cached objects; a namespace without labels has
// empty ones, so that it is known. The caller holds s.mu.
func (s *Sources) namespaceLabels() map[string]labels.Labels {
	out := map[string]labels.Labels{}
	if i := s.informers[namespacesKey]; i != nil {
		i.each(func(o *snapshot.Object) { out[o.Name] = o.Labels() })
	}
	return out
}

// File returns what `statusd snapshot` writes: the objects every Ready
// source selects (each once, trimmed as cached), the states of sources that
// could not be read, the cluster's version and served resources, and the
// last scrape of every metrics target (kept only with Options.KeepPages).
// snapshot.Assemble selects the same objects from it as Snapshot does live;
// for that the Namespace objects that namespace label selectors need are
// included too. The file's time, which files keep in whole seconds, is now
// rounded up, so that it is never before a scrape it holds.
func (s *Sources) File(now time.Time) *snapshot.File {
	states := s.refresh()
	f := &snapshot.File{
		APIVersion: catalog.APIVersion,
		Kind:       snapshot.FileKind,
		Time:       ceilSecond(now).UTC().Format(time.RFC3339),
		Sources:    map[string]snapshot.SourceState{},
	}
	seen := map[string]bool{}
	var objs []*snapshot.Object
	add := func(o *snapshot.Object) {
		id := o.APIVersion + "/" + o.Kind + "/" + o.Key()
		if !seen[id] {
			seen[id] = true
			objs = append(objs, o)
		}
	}
	needNamespaces := false
	s.mu.Lock()
	f.Cluster = snapshot.Cluster{Version: s.disc.version, Resources: s.disc.resources}
	s.selected(states, func(name string, st sourceState, runs [][]*snapshot.Object) {
		switch st.Status {
		case snapshot.StatusForbidden, snapshot.StatusFailed:
			f.Sources[name] = st.SourceState
		}
		_, namespaced := s.served(s.sources[name])
		needNamespaces = needNamespaces || s.sources[name].needsNamespaces(namespaced)
		for _, r := range runs {
			for _, o := range r {
				add(o)
			}
		}
	})
	if needNamespaces {
		inNamespace := map[string]bool{}
		for _, o := range objs {
			inNamespace[o.Namespace] = true
		}
		if i := s.informers[namespacesKey]; i != nil {
			i.each(func(o *snapshot.Object) {
				if inNamespace[o.Name] {
					add(o)
				}
			})
		}
	}
	s.mu.Unlock()
	slices.SortFunc(objs, func(a, b *snapshot.Object) int {
		return cmp.Or(strings.Compare(a.APIVersion, b.APIVersion), strings.Compare(a.Kind, b.Kind),
			strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name))
	})
	for _, o := range objs {
		f.Objects = append(f.Objects, o.Map())
	}
	f.Metrics = s.scraper.pages()
	return f
}

// ceilSecond rounds t up to a whole second.
func ceilSecond(t time.Time) time.Time {
	if s := t.Truncate(time.Second); s.Before(t) {
		return s.Add(time.Second)
	}
	return t
}
