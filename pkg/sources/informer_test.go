package sources

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"statusd.io/statusd/pkg/snapshot"
)

// TestInformerSortedObjects puts and removes random objects, namespaced and
// cluster-scoped, and after every few events checks that sortedObjects is
// the cache in snapshot.Compare order, whether it patched or sorted afresh,
// and that no slice it handed out earlier (to a snapshot still in use)
// changed.
func TestInformerSortedObjects(t *testing.T) {
	for seed := range 50 {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(seed), 7))
			i := newInformer(informerKey{})
			type handed struct{ got, want []*snapshot.Object }
			var out []handed
			for range 40 {
				// Bursts of every size: a first list, a relist, a quiet tick.
				for range rng.IntN([]int{2, 10, 200}[rng.IntN(3)]) {
					ns := []string{"", "a", "b", "c"}[rng.IntN(4)]
					name := fmt.Sprintf("o-%d", rng.IntN(60))
					if rng.IntN(4) == 0 {
						i.delete(nameKey{ns, name})
						continue
					}
					i.set(snapshot.NewObject(map[string]any{"metadata": map[string]any{"namespace": ns, "name": name}}))
				}
				want := slices.SortedFunc(maps.Values(i.objects), snapshot.Compare)
				got := i.sortedObjects()
				require.Equal(t, want, nilIfEmpty(got))
				assert.Empty(t, i.changed)
				assert.False(t, i.stale)
				out = append(out, handed{got, slices.Clone(got)})
			}
			for _, h := range out {
				require.Equal(t, h.want, h.got, "a slice handed to a snapshot changed")
			}
		})
	}
}

func nilIfEmpty(objs []*snapshot.Object) []*snapshot.Object {
	if len(objs) == 0 {
		return nil
	}
	return objs
}

// TestInformerSortedObjectsShared checks that a cache that did not change
// hands every snapshot the same slice, and one that did a new slice.
func TestInformerSortedObjectsShared(t *testing.T) {
	i := newInformer(informerKey{})
	for n := range 10 {
		i.set(snapshot.NewObject(map[string]any{"metadata": map[string]any{"namespace": "ns", "name": fmt.Sprintf("o-%d", n)}}))
	}
	first := i.sortedObjects()
	require.Len(t, first, 10)
	assert.Same(t, &first[0], &i.sortedObjects()[0], "unchanged: the same slice")
	i.set(snapshot.NewObject(map[string]any{"metadata": map[string]any{"namespace": "ns", "name": "o-3"}}))
	assert.False(t, i.stale, "one change among ten is patched")
	second := i.sortedObjects()
	assert.NotSame(t, &first[0], &second[0], "changed: a new slice")
	assert.NotSame(t, first[3], second[3])
	assert.Same(t, first[4], second[4])
}

func TestSelectNamespaces(t *testing.T) {
	var objs []*snapshot.Object
	for _, ns := range []string{"a", "a", "b", "c", "c", "c", "d"} {
		objs = append(objs, snapshot.NewObject(map[string]any{"metadata": map[string]any{"namespace": ns, "name": fmt.Sprint(len(objs))}}))
	}
	namespaces := func(objs []*snapshot.Object) string {
		s := ""
		for _, o := range objs {
			s += o.Namespace
		}
		return s
	}
	tests := []struct {
		name     string
		selected string
		want     string
	}{
		{name: "all", selected: "abcd", want: "aabcccd"},
		{name: "none", selected: "", want: ""},
		{name: "first", selected: "a", want: "aa"},
		{name: "last", selected: "d", want: "d"},
		{name: "middle", selected: "bc", want: "bccc"},
		{name: "gaps", selected: "ac", want: "aaccc"},
		{name: "all but the first", selected: "bcd", want: "bcccd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			asked := map[string]int{}
			got := selectNamespaces(objs, func(ns string) bool {
				asked[ns]++
				return strings.Contains(tt.selected, ns)
			})
			assert.Equal(t, tt.want, namespaces(got))
			assert.Equal(t, map[string]int{"a": 1, "b": 1, "c": 1, "d": 1}, asked, "once per namespace")
			if tt.want == "aabcccd" {
				assert.Same(t, &objs[0], &got[0], "all selected: no copy")
			}
		})
	}
	assert.Empty(t, selectNamespaces(nil, func(string) bool { return true }))
}
