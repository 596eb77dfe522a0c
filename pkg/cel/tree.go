package cel

import (
	"reflect"
	"sort"
	"sync"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
)

// toVal converts decoded JSON or YAML (maps, lists, scalars) to a CEL
// value that remembers its conversion. cel-go's own map wrapper converts on
// every read: a field read allocated a new wrapper for each map or list it
// passed through, and a condition scan re-converted every condition on
// every evaluation (refQualify and nativeToValue were 70% of a tick).
// Here each map or list is converted once, on its first read, one level at
// a time: what no expression reads (most of a pod's spec) is never
// converted, and a second read allocates nothing.
func toVal(v any) ref.Val {
	switch v := v.(type) {
	case map[string]any:
		return &objMap{native: v}
	case []any:
		return &objArr{native: v}
	}
	return types.DefaultTypeAdapter.NativeToValue(v)
}

// objMap is a JSON object converted on first read: its keys sorted, with
// their values beside them. Objects are small (a pod's largest map has a
// dozen keys), so a scan or binary search over a slice beats hashing and
// costs less memory than a Go map.
type objMap struct {
	// native is the map it was converted from, also for conversions back
	// to Go (ConvertToNative, Value), which are rare and need not be fast.
	native map[string]any
	// once guards the conversion: a snapshot is read by a tick and by
	// explain requests at the same time.
	once sync.Once
	keys []string
	vals []ref.Val
}

var (
	_ traits.Mapper = (*objMap)(nil)
	_ traits.Lister = (*objArr)(nil)
)

func (m *objMap) load() {
	m.once.Do(func() {
		m.keys = make([]string, 0, len(m.native))
		for k := range m.native {
			m.keys = append(m.keys, k)
		}
		sort.Strings(m.keys)
		m.vals = make([]ref.Val, len(m.keys))
		for i, k := range m.keys {
			m.vals[i] = toVal(m.native[k])
		}
	})
}

// linearMax is the size up to which a scan beats a binary search.
const linearMax = 8

func (m *objMap) index(k string) int {
	m.load()
	if len(m.keys) <= linearMax {
		for i, key := range m.keys {
			if key == k {
				return i
			}
		}
		return -1
	}
	i := sort.SearchStrings(m.keys, k)
	if i < len(m.keys) && m.keys[i] == k {
		return i
	}
	return -1
}

// Find implements traits.Mapper. Only string keys can be present, as in
// cel-go's map[string]any wrapper.
func (m *objMap) Find(key ref.Val) (ref.Val, bool) {
	k, ok := key.(types.String)
	if !ok {
		return nil, false
	}
	if i := m.index(string(k)); i >= 0 {
		return m.vals[i], true
	}
	return nil, false
}

func (m *objMap) Get(key ref.Val) ref.Val {
	v, found := m.Find(key)
	if !found {
		return types.ValOrErr(v, "no such key: %v", key)
	}
	return v
}

func (m *objMap) Contains(key ref.Val) ref.Val {
	_, found := m.Find(key)
	return types.Bool(found)
}

func (m *objMap) Size() ref.Val { return types.Int(len(m.native)) }

func (m *objMap) Iterator() traits.Iterator {
	m.load()
	return &keyIter{keys: m.keys}
}

func (m *objMap) Equal(other ref.Val) ref.Val {
	o, ok := other.(traits.Mapper)
	if !ok {
		return types.False
	}
	if o.Size() != m.Size() {
		return types.False
	}
	m.load()
	for i, k := range m.keys {
		ov, found := o.Find(types.String(k))
		if !found {
			return types.False
		}
		if types.Equal(m.vals[i], ov) == types.False {
			return types.False
		}
	}
	return types.True
}

func (m *objMap) ConvertToNative(t reflect.Type) (any, error) {
	return types.NewStringInterfaceMap(types.DefaultTypeAdapter, m.native).ConvertToNative(t)
}

func (m *objMap) ConvertToType(t ref.Type) ref.Val {
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
	keys []string
	i    int
}

func (it *keyIter) ConvertToNative(reflect.Type) (any, error) {
	return nil, errIterConvert
}
func (it *keyIter) ConvertToType(ref.Type) ref.Val {
	return types.NewErr("iterator cannot be converted")
}
func (it *keyIter) Equal(ref.Val) ref.Val { return types.False }
func (it *keyIter) Type() ref.Type        { return types.IteratorType }
func (it *keyIter) Value() any            { return nil }
func (it *keyIter) HasNext() ref.Val      { return types.Bool(it.i < len(it.keys)) }
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
