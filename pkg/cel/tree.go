package cel

import (
	"maps"
	"reflect"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"

	"statusd.io/statusd/pkg/compact"
)

// toVal converts decoded JSON or YAML (maps, lists, scalars) to a CEL
// value that remembers the maps and lists it converted. cel-go's own map
// wrapper converts on every read: a field read allocated a new wrapper for
// each map or list it passed through, and a condition scan re-converted
// every condition on every evaluation (refQualify and nativeToValue were
// 70% of a tick). Here a map or list is wrapped once, when first read, and
// kept on its parent; scalars are converted as they are read. What no
// expression reads (most of a pod) is never wrapped, and the wrappers add
// little to the decoded object the informer holds anyway.
func toVal(v any) ref.Val {
	switch v := v.(type) {
	case map[string]any:
		return &objMap{native: v}
	case *compact.Map:
		return &cmpMap{m: v}
	case []any:
		return &objArr{native: v}
	}
	return types.DefaultTypeAdapter.NativeToValue(v)
}

// objMap is a JSON object read through its Go map, with the wrappers of
// the maps and lists read from it remembered.
type objMap struct {
	// native is the decoded map; it is never modified.
	native map[string]any
	kids   kids
}

// kids are the wrapped children of a map, replaced (never changed) when
// one is added: a snapshot is read by a tick and by explain requests at
// once.
type kids struct{ p atomic.Pointer[[]kid] }

// kid is one wrapped child: objects have few keys, and fewer are read, so
// a scan of a short slice beats a map.
type kid struct {
	key string
	val ref.Val
}

var (
	_ traits.Mapper = (*objMap)(nil)
	_ traits.Lister = (*objArr)(nil)
)

// find returns the wrapper kept for key k, if any.
func (ks *kids) find(k string) (ref.Val, bool) {
	if kids := ks.p.Load(); kids != nil {
		for _, c := range *kids {
			if c.key == k {
				return c.val, true
			}
		}
	}
	return nil, false
}

// child returns the wrapper of the map or list v at key k, wrapping it on
// first read. Two readers may wrap the same child at once; the first
// stored wins, and the other's wrapper is only garbage.
func (ks *kids) child(k string, v any) ref.Val {
	for {
		old := ks.p.Load()
		if old != nil {
			for _, c := range *old {
				if c.key == k {
					return c.val
				}
			}
		}
		var kids []kid
		if old != nil {
			kids = make([]kid, len(*old), len(*old)+1)
			copy(kids, *old)
		}
		val := toVal(v)
		kids = append(kids, kid{k, val})
		if ks.p.CompareAndSwap(old, &kids) {
			return val
		}
	}
}

// Find implements traits.Mapper. Only string keys can be present, as in
// cel-go's map[string]any wrapper.
func (m *objMap) Find(key ref.Val) (ref.Val, bool) {
	k, ok := key.(types.String)
	if !ok {
		return nil, false
	}
	v, found := m.native[string(k)]
	if !found {
		return nil, false
	}
	switch v.(type) {
	case map[string]any, []any:
		return m.kids.child(string(k), v), true
	}
	return types.DefaultTypeAdapter.NativeToValue(v), true
}

func (m *objMap) Get(key ref.Val) ref.Val      { return getKey(m, key) }
func (m *objMap) Contains(key ref.Val) ref.Val { return containsKey(m, key) }

// finder is a map's look-up, from which Get and Contains follow alike for
// both kinds of object wrapper.
type finder interface {
	Find(key ref.Val) (ref.Val, bool)
}

func getKey(f finder, key ref.Val) ref.Val {
	v, found := f.Find(key)
	if !found {
		return types.ValOrErr(v, "no such key: %v", key)
	}
	return v
}

func containsKey(f finder, key ref.Val) ref.Val {
	_, found := f.Find(key)
	return types.Bool(found)
}

// mapEqual is CEL map equality of m, whose keys are keys, with other.
func mapEqual(m traits.Mapper, keys func(yield func(string) bool), other ref.Val) ref.Val {
	o, ok := other.(traits.Mapper)
	if !ok || o.Size() != m.Size() {
		return types.False
	}
	for k := range keys {
		mine, _ := m.Find(types.String(k))
		theirs, found := o.Find(types.String(k))
		if !found || types.Equal(mine, theirs) == types.False {
			return types.False
		}
	}
	return types.True
}

func (m *objMap) Size() ref.Val { return types.Int(len(m.native)) }

// Iterator yields the keys in sorted order: a message that joins a map's
// keys must read the same every tick, or its Event would be rewritten.
func (m *objMap) Iterator() traits.Iterator {
	keys := make([]string, 0, len(m.native))
	for k := range m.native {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return &keyIter{keys: keys}
}

func (m *objMap) Equal(other ref.Val) ref.Val { return mapEqual(m, maps.Keys(m.native), other) }

func (m *objMap) ConvertToNative(t reflect.Type) (any, error) {
	return types.NewStringInterfaceMap(types.DefaultTypeAdapter, m.native).ConvertToNative(t)
}

func (m *objMap) ConvertToType(t ref.Type) ref.Val { return mapToType(m, t) }

// mapToType converts an object wrapper to a CEL type: it is a map, and
// nothing else.
func mapToType(m ref.Val, t ref.Type) ref.Val {
	switch t {
	case types.MapType:
		return m
	case types.TypeType:
		return types.MapType
	}
	return types.NewErr("type conversion error from map to '%s'", t.TypeName())
}

func (m *objMap) Type() ref.Type { return types.MapType }

// Value returns the native map: cel-go converts what Value returns back
// with the type adapter (an optional's value reached through a field, for
// one), and the adapter reads map[string]any.
func (m *objMap) Value() any { return m.native }

// keyIter iterates a converted map's keys in sorted order.
type keyIter struct {
	iterBase
	keys []string
	i    int
}

// iterBase is what every iterator answers alike: iterators live inside
// comprehensions and are never values of an expression.
type iterBase struct{}

func (iterBase) ConvertToNative(reflect.Type) (any, error) { return nil, errIterConvert }
func (iterBase) ConvertToType(ref.Type) ref.Val {
	return types.NewErr("iterator cannot be converted")
}
func (iterBase) Equal(ref.Val) ref.Val { return types.False }
func (iterBase) Type() ref.Type        { return types.IteratorType }
func (iterBase) Value() any            { return nil }

func (it *keyIter) HasNext() ref.Val { return types.Bool(it.i < len(it.keys)) }
func (it *keyIter) Next() ref.Val {
	if it.i >= len(it.keys) {
		return nil
	}
	k := it.keys[it.i]
	it.i++
	return types.String(k)
}

// objArr is a JSON array converted on first read.
type objArr struct {
	native []any
	once   sync.Once
	list   traits.Lister
}

func (a *objArr) load() traits.Lister {
	a.once.Do(func() {
		vals := make([]ref.Val, len(a.native))
		for i, e := range a.native {
			vals[i] = toVal(e)
		}
		a.list = types.NewRefValList(types.DefaultTypeAdapter, vals)
	})
	return a.list
}

func (a *objArr) Size() ref.Val               { return types.Int(len(a.native)) }
func (a *objArr) Get(index ref.Val) ref.Val   { return a.load().Get(index) }
func (a *objArr) Iterator() traits.Iterator   { return a.load().Iterator() }
func (a *objArr) Contains(v ref.Val) ref.Val  { return a.load().Contains(v) }
func (a *objArr) Add(other ref.Val) ref.Val   { return a.load().Add(other) }
func (a *objArr) Equal(other ref.Val) ref.Val { return a.load().Equal(other) }
func (a *objArr) Type() ref.Type              { return types.ListType }
func (a *objArr) Value() any                  { return a.load().Value() }
func (a *objArr) ConvertToType(t ref.Type) ref.Val {
	if t == types.ListType {
		return a
	}
	return a.load().ConvertToType(t)
}

func (a *objArr) ConvertToNative(t reflect.Type) (any, error) {
	return a.load().ConvertToNative(t)
}

// cmpMap is a compact object (what the watch caches hold) read through
// its sorted entries, with the wrappers of the maps and lists read from it
// remembered as objMap does.
type cmpMap struct {
	m    *compact.Map
	kids kids
}

var _ traits.Mapper = (*cmpMap)(nil)

func (m *cmpMap) Find(key ref.Val) (ref.Val, bool) {
	k, ok := key.(types.String)
	if !ok {
		return nil, false
	}
	// A map or list read before is a kept wrapper: reading it from the
	// compact form again would decode a new view or list only to drop it.
	if w, ok := m.kids.find(string(k)); ok {
		return w, true
	}
	v, found := m.m.Get(string(k))
	if !found {
		return nil, false
	}
	switch v.(type) {
	case *compact.Map, []any:
		return m.kids.child(string(k), v), true
	}
	return types.DefaultTypeAdapter.NativeToValue(v), true
}

func (m *cmpMap) Get(key ref.Val) ref.Val      { return getKey(m, key) }
func (m *cmpMap) Contains(key ref.Val) ref.Val { return containsKey(m, key) }

func (m *cmpMap) Size() ref.Val { return types.Int(m.m.Len()) }

// Iterator yields the keys in sorted order, the entries' own.
func (m *cmpMap) Iterator() traits.Iterator {
	return &keyIter{keys: m.m.Keys()}
}

func (m *cmpMap) Equal(other ref.Val) ref.Val {
	return mapEqual(m, func(yield func(string) bool) {
		for _, k := range m.m.Keys() {
			if !yield(k) {
				return
			}
		}
	}, other)
}

func (m *cmpMap) ConvertToNative(t reflect.Type) (any, error) {
	return types.NewStringInterfaceMap(types.DefaultTypeAdapter, m.m.Native()).ConvertToNative(t)
}

func (m *cmpMap) ConvertToType(t ref.Type) ref.Val { return mapToType(m, t) }

func (m *cmpMap) Type() ref.Type { return types.MapType }

// Value returns the object as a map[string]any, which the type adapter
// reads (see objMap.Value).
func (m *cmpMap) Value() any { return m.m.Native() }
