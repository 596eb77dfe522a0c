// Package compact holds decoded Kubernetes objects in a fraction of the
// memory Go maps take.
//
// A decoded object is a tree of map[string]any, and a Go map costs a
// header and a group of eight slots however few keys it has: a pod trimmed
// to the fields a catalogue reads is some thirty such maps, two thirds of
// its memory. A Map is its values in one slice, in the order of its sorted
// keys, which it shares with every map of the same keys (objects of a kind
// repeat them); short values such as "True" or "Running" are shared too,
// each boxed once for every object. The watch caches hold objects in this
// form; they are never modified once built.
package compact

import (
	"slices"
	"sync"
	"unique"
)

// Map is a JSON object: its values in the order of its sorted keys, and
// the keys themselves in a slice shared by every map with the same keys
// (every condition of every pod, every pod's metadata), so that a map
// costs one word per key rather than a string header.
type Map struct {
	keys   *shape
	values []any
}

// shape is the sorted keys of maps; it is never modified.
type shape struct{ keys []string }

// Entry is one key and its value: a string, bool, int64, float64, nil, a
// *Map or a []any of such values.
type Entry struct {
	Key   string
	Value any
}

// internMax is the longest value interned. Enumerations (condition types,
// statuses, phases, kinds) repeat across objects; longer strings (names,
// UIDs, timestamps, messages) mostly do not, and interning a string that
// is not shared costs a table entry on top of it.
const internMax = 16

func intern(s string) string { return unique.Make(s).Value() }

// tableMax bounds each of the tables of shared values and shapes. A table
// that reaches it is emptied rather than grown: what objects hold stays
// valid, and what still repeats is shared again from the next object on,
// so a cluster whose keys or short values never repeat (resource
// versions, generated label values) costs at most this many entries.
const tableMax = 1 << 14

// tables holds the values and shapes shared between objects. Informers
// convert objects on several goroutines at once.
var tables struct {
	mu     sync.Mutex
	values map[string]any
	shapes map[string]*shape
}

// value returns s as a value: for a short string, one boxed copy shared by
// every map holding it, which spares each of them the 16-byte box a string
// in an interface costs.
func value(s string) any {
	if len(s) > internMax {
		return s
	}
	tables.mu.Lock()
	defer tables.mu.Unlock()
	if v, ok := tables.values[s]; ok {
		return v
	}
	if tables.values == nil || len(tables.values) >= tableMax {
		tables.values = make(map[string]any, 256)
	}
	s = intern(s)
	var v any = s
	tables.values[s] = v
	return v
}

// shapeOf returns the shared shape of sorted keys.
func shapeOf(keys []string) *shape {
	n := 0
	for _, k := range keys {
		n += len(k) + 1
	}
	id := make([]byte, 0, n)
	for _, k := range keys {
		id = append(id, k...)
		id = append(id, 0)
	}
	tables.mu.Lock()
	defer tables.mu.Unlock()
	if sh, ok := tables.shapes[string(id)]; ok {
		return sh
	}
	if tables.shapes == nil || len(tables.shapes) >= tableMax {
		tables.shapes = make(map[string]*shape, 256)
	}
	sh := &shape{keys: make([]string, len(keys))}
	for i, k := range keys {
		sh.keys[i] = intern(k)
	}
	tables.shapes[string(id)] = sh
	return sh
}

// unshared are keys whose short values are unique to an object and to
// each of its versions, so sharing them would only cost a table entry:
// metadata.resourceVersion (its decoded string is shared with client-go's
// copy instead).
var unshared = map[string]bool{"resourceVersion": true}

// From converts decoded JSON (map[string]any, []any and scalars, as
// encoding/json and apimachinery decode it) to compact form: maps become
// *Map, lists []any of compact values, and other values are kept, short
// strings shared.
func From(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return FromMap(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = From(e)
		}
		return out
	case string:
		return value(v)
	}
	return v
}

// FromMap converts a decoded JSON object.
func FromMap(m map[string]any) *Map {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := &Map{keys: shapeOf(keys), values: make([]any, len(keys))}
	for i, k := range keys {
		v := m[k]
		if s, ok := v.(string); ok && unshared[k] {
			out.values[i] = s
			continue
		}
		out.values[i] = From(v)
	}
	return out
}

// Native converts a compact value back to decoded JSON, for code that
// reads map[string]any (snapshot files, the scraper). It copies.
func Native(v any) any {
	switch v := v.(type) {
	case *Map:
		return v.Native()
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = Native(e)
		}
		return out
	}
	return v
}

// Native returns the object as a map[string]any.
func (m *Map) Native() map[string]any {
	out := make(map[string]any, len(m.values))
	for i, k := range m.keys.keys {
		out[k] = Native(m.values[i])
	}
	return out
}

// Len is the number of keys.
func (m *Map) Len() int { return len(m.values) }

// Keys returns the keys, sorted. The slice is shared: callers must not
// modify it.
func (m *Map) Keys() []string { return m.keys.keys }

// Entries returns the entries sorted by key, in a new slice; Keys and Get
// read a map without one.
func (m *Map) Entries() []Entry {
	out := make([]Entry, len(m.values))
	for i, k := range m.keys.keys {
		out[i] = Entry{Key: k, Value: m.values[i]}
	}
	return out
}

// linearMax is the size up to which a scan beats a binary search.
const linearMax = 8

// Get returns the value at key k.
func (m *Map) Get(k string) (any, bool) {
	keys := m.keys.keys
	if len(keys) <= linearMax {
		for i, key := range keys {
			if key == k {
				return m.values[i], true
			}
		}
		return nil, false
	}
	i, found := slices.BinarySearch(keys, k)
	if !found {
		return nil, false
	}
	return m.values[i], true
}

// Lookup returns the value at a path of keys in v, a *Map or a decoded
// map[string]any, so that code reading a few fields serves both forms
// without converting. It returns false when a key is missing or a value on
// the way is not an object.
func Lookup(v any, keys ...string) (any, bool) {
	for _, k := range keys {
		var ok bool
		switch m := v.(type) {
		case *Map:
			v, ok = m.Get(k)
		case map[string]any:
			v, ok = m[k]
		}
		if !ok {
			return nil, false
		}
	}
	return v, true
}
