// Package compact holds decoded Kubernetes objects in a fraction of the
// memory Go maps take.
//
// A decoded object is a tree of map[string]any, and a Go map costs a
// header and a group of eight slots however few keys it has: a pod trimmed
// to the fields a catalogue reads is some thirty such maps, two thirds of
// its memory. A Map is its entries in one sorted slice, and the keys, which
// every object of a kind repeats, are interned, as are short values such as
// "True" or "Running". The watch caches hold objects in this form; they are
// never modified once built.
package compact

import (
	"slices"
	"strings"
	"unique"
)

// Map is a JSON object: its entries sorted by key.
type Map struct {
	entries []Entry
}

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

// From converts decoded JSON (map[string]any, []any and scalars, as
// encoding/json and apimachinery decode it) to compact form: maps become
// *Map, lists []any of compact values, and other values are kept, short
// strings interned.
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
		if len(v) <= internMax {
			return intern(v)
		}
	}
	return v
}

// FromMap converts a decoded JSON object.
func FromMap(m map[string]any) *Map {
	out := &Map{entries: make([]Entry, 0, len(m))}
	for k, v := range m {
		out.entries = append(out.entries, Entry{Key: intern(k), Value: From(v)})
	}
	slices.SortFunc(out.entries, func(a, b Entry) int { return strings.Compare(a.Key, b.Key) })
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
	out := make(map[string]any, len(m.entries))
	for _, e := range m.entries {
		out[e.Key] = Native(e.Value)
	}
	return out
}

// Len is the number of keys.
func (m *Map) Len() int { return len(m.entries) }

// Entries returns the entries sorted by key. The slice is shared: callers
// must not modify it.
func (m *Map) Entries() []Entry { return m.entries }

// linearMax is the size up to which a scan beats a binary search.
const linearMax = 8

// Get returns the value at key k.
func (m *Map) Get(k string) (any, bool) {
	if len(m.entries) <= linearMax {
		for _, e := range m.entries {
			if e.Key == k {
				return e.Value, true
			}
		}
		return nil, false
	}
	i, found := slices.BinarySearchFunc(m.entries, k, func(e Entry, k string) int { return strings.Compare(e.Key, k) })
	if !found {
		return nil, false
	}
	return m.entries[i].Value, true
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
