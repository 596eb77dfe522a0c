package snapshot_test

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/labels"

	"statusd.io/statusd/pkg/snapshot"
)

// reference is how Build indexed a set before indexes were lazy and sorted
// input was merged: a stable sort of everything added, the last of
// duplicates kept, and every index built at once. Build must answer every
// look-up as it did.
type reference struct {
	objects     []*snapshot.Object
	byNamespace map[string][]*snapshot.Object
	byNode      map[string][]*snapshot.Object
	byOwner     map[string][]*snapshot.Object
	byName      map[string]*snapshot.Object
	byUID       map[string]*snapshot.Object
}

func newReference(added []*snapshot.Object) *reference {
	objs := slices.Clone(added)
	slices.SortStableFunc(objs, func(a, b *snapshot.Object) int {
		return cmp.Or(strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name))
	})
	r := &reference{
		byNamespace: map[string][]*snapshot.Object{}, byNode: map[string][]*snapshot.Object{},
		byOwner: map[string][]*snapshot.Object{}, byName: map[string]*snapshot.Object{}, byUID: map[string]*snapshot.Object{},
	}
	for i, o := range objs {
		if next := i + 1; next < len(objs) && o.Namespace == objs[next].Namespace && o.Name == objs[next].Name && o.Kind == objs[next].Kind {
			continue
		}
		r.objects = append(r.objects, o)
		r.byNamespace[o.Namespace] = append(r.byNamespace[o.Namespace], o)
		if o.Node != "" {
			r.byNode[o.Node] = append(r.byNode[o.Node], o)
		}
		for _, uid := range o.Owners {
			r.byOwner[uid] = append(r.byOwner[uid], o)
		}
		r.byName[o.Namespace+"/"+o.Name] = o
		if o.UID != "" {
			r.byUID[o.UID] = o
		}
	}
	return r
}

func (r *reference) selectObjects(ns string, sel labels.Selector) []*snapshot.Object {
	var out []*snapshot.Object
	for _, o := range r.objects {
		if (ns == "" || o.Namespace == ns) && sel.Matches(o.Labels()) {
			out = append(out, o)
		}
	}
	return out
}

// randomObject draws from few namespaces, names, kinds and labels, so that
// duplicates, shared nodes, owners and labels are common.
func randomObject(rng *rand.Rand, serial int) *snapshot.Object {
	kind := []string{"Pod", "Pod", "Pod", "Other"}[rng.IntN(4)]
	md := map[string]any{
		"namespace": []string{"", "a", "b", "c"}[rng.IntN(4)],
		"name":      fmt.Sprintf("o-%d", rng.IntN(40)),
		"labels":    map[string]any{"app": fmt.Sprintf("app-%d", rng.IntN(3)), "tier": []string{"web", "db"}[rng.IntN(2)]},
		"ownerReferences": []any{
			map[string]any{"uid": fmt.Sprintf("rs-%d", rng.IntN(5)), "controller": true},
			map[string]any{"uid": fmt.Sprintf("x-%d", rng.IntN(5))},
		},
	}
	if rng.IntN(5) > 0 {
		md["uid"] = fmt.Sprintf("uid-%d", serial)
	}
	return snapshot.NewObject(map[string]any{
		"apiVersion": "v1", "kind": kind, "metadata": md,
		"spec": map[string]any{"nodeName": fmt.Sprintf("node-%d", rng.IntN(4))},
	})
}

// strictlySorted is what AddSorted accepts: objs in Compare order, each
// namespace/name once (the last of each kept).
func strictlySorted(objs []*snapshot.Object) []*snapshot.Object {
	objs = slices.Clone(objs)
	slices.SortStableFunc(objs, snapshot.Compare)
	var out []*snapshot.Object
	for i, o := range objs {
		if i+1 < len(objs) && snapshot.Compare(o, objs[i+1]) == 0 {
			continue
		}
		out = append(out, o)
	}
	return out
}

// TestBuildMatchesReference builds random sets from a random mix of Add and
// AddSorted calls, and checks every look-up against the reference.
func TestBuildMatchesReference(t *testing.T) {
	selectors := []string{"", "app=app-1", "app=app-1,tier=web", "app in (app-2)", "app in (app-0,app-2)", "tier!=web", "!tier", "app=nope"}
	for seed := range 200 {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(seed), 1))
			b := snapshot.NewBuilder(time.Time{}, snapshot.Cluster{})
			var added []*snapshot.Object
			var given, copies [][]*snapshot.Object // AddSorted's slices, and copies
			serial := 0
			for range rng.IntN(5) {
				var objs []*snapshot.Object
				for range rng.IntN(30 + seed) {
					serial++
					objs = append(objs, randomObject(rng, serial))
				}
				if rng.IntN(2) == 0 {
					b.Add("s", objs...)
				} else {
					objs = strictlySorted(objs)
					b.AddSorted("s", objs)
					given, copies = append(given, objs), append(copies, slices.Clone(objs))
				}
				added = append(added, objs...)
			}
			b.SetStatus("s", snapshot.StatusReady, "") // a set even when nothing was added
			set := b.Build().Set("s")
			ref := newReference(added)

			require.Equal(t, keys(ref.objects), keys(set.Objects()))
			require.Equal(t, ref.objects, nilIfEmpty(set.Objects()), "the same objects, not just the same names")
			for _, ns := range []string{"", "a", "b", "c", "nope"} {
				assert.Equal(t, ref.byNamespace[ns], set.InNamespace(ns), "InNamespace(%q)", ns)
				for _, sel := range selectors {
					s, err := labels.Parse(sel)
					require.NoError(t, err)
					assert.Equal(t, ref.selectObjects(ns, s), set.Select(ns, s), "Select(%q, %q)", ns, sel)
				}
			}
			for n := range 5 {
				node := fmt.Sprintf("node-%d", n)
				assert.Equal(t, ref.byNode[node], set.OnNode(node), "OnNode(%q)", node)
				for _, uid := range []string{fmt.Sprintf("rs-%d", n), fmt.Sprintf("x-%d", n)} {
					assert.Equal(t, ref.byOwner[uid], set.OwnedBy(uid), "OwnedBy(%q)", uid)
				}
			}
			for _, ns := range []string{"", "a", "b", "c"} {
				for n := range 41 {
					name := fmt.Sprintf("o-%d", n)
					assert.Same(t, ref.byName[ns+"/"+name], set.Get(ns, name), "Get(%q, %q)", ns, name)
				}
			}
			for uid := range serial + 2 {
				id := fmt.Sprintf("uid-%d", uid)
				assert.Same(t, ref.byUID[id], set.ByUID(id), "ByUID(%q)", id)
			}
			assert.Nil(t, set.ByUID(""))
			assert.Equal(t, copies, given, "Build never modifies what AddSorted was given")
		})
	}
}

func nilIfEmpty(objs []*snapshot.Object) []*snapshot.Object {
	if len(objs) == 0 {
		return nil
	}
	return objs
}

// TestSetConcurrentLookups asks every look-up of a fresh set from many
// goroutines at once, as evaluation, explain and file writing do: the
// indexes built on first use must be built once and safely (go test
// -race).
func TestSetConcurrentLookups(t *testing.T) {
	b := snapshot.NewBuilder(time.Time{}, snapshot.Cluster{})
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 500 {
		b.Add("s", randomObject(rng, i))
	}
	set := b.Build().Set("s")
	sel, err := labels.Parse("app=app-1")
	require.NoError(t, err)
	type answers struct {
		get, uid *snapshot.Object
		node     []*snapshot.Object
		owned    []*snapshot.Object
		ns       []*snapshot.Object
		selected []*snapshot.Object
	}
	got := make([]answers, 8)
	var wg sync.WaitGroup
	for g := range got {
		wg.Go(func() {
			got[g] = answers{
				get: set.Get("a", "o-1"), uid: set.ByUID("uid-7"), node: set.OnNode("node-1"),
				owned: set.OwnedBy("rs-1"), ns: set.InNamespace("b"), selected: set.Select("", sel),
			}
		})
	}
	wg.Wait()
	for g := range got {
		assert.Equal(t, got[0], got[g])
	}
	assert.NotEmpty(t, got[0].selected)
}

// TestAddSorted checks what AddSorted promises its callers: a single run is
// kept without a copy, and a result is never appended into.
func TestAddSorted(t *testing.T) {
	objs := []*snapshot.Object{
		newPod("a", "p1", "1", "", nil), newPod("a", "p2", "2", "", nil),
		newPod("b", "p1", "3", "", nil), newPod("c", "p1", "4", "", nil),
	}
	b := snapshot.NewBuilder(time.Time{}, snapshot.Cluster{})
	b.AddSorted("s", objs)
	set := b.Build().Set("s")
	require.Equal(t, objs, set.Objects())
	assert.Same(t, &objs[0], &set.Objects()[0], "one sorted run is the snapshot's, uncopied")

	inA := set.InNamespace("a")
	_ = append(inA, newPod("a", "p3", "5", "", nil))
	assert.Equal(t, "b", set.Objects()[2].Namespace, "appending to a look-up's result leaves the set alone")

	// Runs that follow one another (one informer per namespace) and runs
	// that overlap (duplicates: the last added wins).
	later := newPod("a", "p2", "6", "", nil)
	before := slices.Clone(objs)
	b = snapshot.NewBuilder(time.Time{}, snapshot.Cluster{})
	b.AddSorted("s", objs[2:])
	b.AddSorted("s", objs[:2])
	b.AddSorted("s", []*snapshot.Object{later})
	set = b.Build().Set("s")
	assert.Equal(t, []*snapshot.Object{objs[0], later, objs[2], objs[3]}, set.Objects())
	assert.Same(t, later, set.Get("a", "p2"))
	assert.Equal(t, before, objs, "the caller's slices are untouched")
}
