// Package compact holds decoded Kubernetes objects in a fraction of the
// memory Go maps take.
//
// A decoded object is a tree of map[string]any, and a Go map costs a
// header and a group of eight slots however few keys it has; a tree of
// value slices with shared keys still costs a pointer, a slice header and
// a 16-byte slot per key, and a box for each string. The watch caches hold
// tens of thousands of objects for the daemon's life, and with Go's
// default GC every byte they keep costs two of RSS, so FromMap encodes a
// whole object into one immutable string of bytes (encode.go: a tag per
// value, lengths as varints, strings inline), which the garbage collector
// never scans, and a *Map is a small view into it. The sorted keys of a
// map are one index into a table of shapes (objects of a kind repeat
// them), and short values that repeat ("True", "Running", label values)
// one index into a table of values, each boxed once for every object;
// both tables are append-only and bounded (table.go), and what they do not
// hold is encoded inline.
//
// Reading a key is a search of the map's shared keys and a skip over at
// most a few values (maps and lists carry their length, large ones a
// table of offsets); strings read alias the encoding, never copied, so a
// string kept longer than its object (state carried across versions)
// should be copied with strings.Clone, or it keeps the whole encoding
// alive. An encoding is never modified, so any number of goroutines read
// it at once.
package compact

import (
	"math"
	"slices"
)

// Map is a JSON object: a view of a map in an object's encoding, with the
// map's sorted keys, shared with every map of the same keys (every
// condition of every pod, every pod's metadata).
type Map struct {
	// buf is the encoding of the whole object; it is never modified.
	buf  string
	keys *shape
	// vals is where the first value is in buf.
	vals uint32
}

// shape is the sorted keys of maps; it is never modified.
type shape struct{ keys []string }

var emptyShape = &shape{}

// Entry is one key and its value: a string, bool, int64, float64, nil, a
// *Map or a []any of such values.
type Entry struct {
	Key   string
	Value any
}

// From converts decoded JSON (map[string]any, []any and scalars, as
// encoding/json and apimachinery decode it) to compact form: a map becomes
// a *Map, a list a []any of compact values, and scalars are kept. An int
// or int32 is read back as an int64, and a json.Number as the int64 or
// float64 it holds, as apimachinery decodes numbers; any other type panics
// (decoders never produce one).
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
	case *Map, string, bool, int64, float64, nil:
		return v
	}
	return readValue(encodeValue(v), 0)
}

// encodeValue returns the encoding of a scalar.
func encodeValue(v any) string {
	var e encoder
	e.value(v, false)
	return string(e.b)
}

// FromMap encodes a decoded JSON object.
func FromMap(m map[string]any) *Map {
	return mapAt(encode(m), 0)
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
	out := make(map[string]any, len(m.keys.keys))
	p := int(m.vals)
	for _, k := range m.keys.keys {
		out[k] = nativeAt(m.buf, p)
		p = skip(m.buf, p)
	}
	return out
}

// Len is the number of keys.
func (m *Map) Len() int { return len(m.keys.keys) }

// Keys returns the keys, sorted. The slice is shared: callers must not
// modify it.
func (m *Map) Keys() []string { return m.keys.keys }

// Entries returns the entries sorted by key, in a new slice; Keys and Get
// read a map without one.
func (m *Map) Entries() []Entry {
	out := make([]Entry, len(m.keys.keys))
	p := int(m.vals)
	for i, k := range m.keys.keys {
		out[i] = Entry{Key: k, Value: readValue(m.buf, p)}
		p = skip(m.buf, p)
	}
	return out
}

// linearMax is the size up to which a scan beats a binary search.
const linearMax = 8

// Get returns the value at key k: a string (aliasing the encoding), bool,
// int64, float64, nil, a new view *Map or a new []any.
func (m *Map) Get(k string) (any, bool) {
	keys := m.keys.keys
	i := -1
	if len(keys) <= linearMax {
		for j, key := range keys {
			if key == k {
				i = j
				break
			}
		}
	} else if j, found := slices.BinarySearch(keys, k); found {
		i = j
	}
	if i < 0 {
		return nil, false
	}
	return readValue(m.buf, nth(m.buf, int(m.vals), len(keys), i)), true
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

// uvarint reads a uvarint at p in an encoding, which holds only well-formed
// ones.
func uvarint(buf string, p int) (uint64, int) {
	var x uint64
	for s := uint(0); ; s += 7 {
		b := buf[p]
		p++
		if b < 0x80 {
			return x | uint64(b)<<s, p
		}
		x |= uint64(b&0x7f) << s
	}
}

// nth returns where value i of the n values starting at first is: the
// skip table before first (when n > group) leads to the nearest group,
// from which at most group-1 values are skipped.
func nth(buf string, first, n, i int) int {
	p := first
	if g := i / group; g > 0 {
		table := first - 4*((n-1)/group)
		at := table + 4*(g-1)
		p += int(uint32(buf[at]) | uint32(buf[at+1])<<8 | uint32(buf[at+2])<<16 | uint32(buf[at+3])<<24)
	}
	for range i % group {
		p = skip(buf, p)
	}
	return p
}

// skip returns where the value after the one at p starts.
func skip(buf string, p int) int {
	t := buf[p]
	p++
	switch {
	case t >= smallShared:
		return p
	case t >= smallString:
		return p + int(t-smallString)
	case t >= smallInt:
		return p
	}
	switch t {
	case tagInt, tagShared:
		for buf[p] >= 0x80 {
			p++
		}
		return p + 1
	case tagFloat:
		return p + 8
	case tagString, tagMap, tagMapKeys, tagList:
		n, p := uvarint(buf, p)
		return p + int(n)
	}
	return p // null, false, true, empty map or list
}

// readValue decodes the value at p: maps as views, lists as []any.
func readValue(buf string, p int) any {
	t := buf[p]
	switch {
	case t >= smallShared:
		return values.at(uint32(t - smallShared))
	case t >= smallString:
		return buf[p+1 : p+1+int(t-smallString)]
	case t >= smallInt:
		return int64(t - smallInt)
	}
	switch t {
	case tagNull:
		return nil
	case tagFalse:
		return false
	case tagTrue:
		return true
	case tagInt:
		u, _ := uvarint(buf, p+1)
		return int64(u>>1) ^ -int64(u&1) // zigzag, as binary.AppendVarint
	case tagFloat:
		var bits uint64
		for i := range 8 {
			bits |= uint64(buf[p+1+i]) << (8 * i)
		}
		return math.Float64frombits(bits)
	case tagString:
		n, q := uvarint(buf, p+1)
		return buf[q : q+int(n)]
	case tagShared:
		i, _ := uvarint(buf, p+1)
		return values.at(uint32(i))
	case tagMap, tagMapKeys, tagEmptyMap:
		return mapAt(buf, p)
	case tagList, tagEmptyList:
		return listAt(buf, p, readValue)
	}
	panic("compact: corrupt encoding")
}

// nativeAt decodes the value at p as decoded JSON.
func nativeAt(buf string, p int) any {
	switch buf[p] {
	case tagMap, tagMapKeys, tagEmptyMap:
		return mapAt(buf, p).Native()
	case tagList, tagEmptyList:
		return listAt(buf, p, nativeAt)
	}
	return readValue(buf, p)
}

// mapAt returns a view of the map at p.
func mapAt(buf string, p int) *Map {
	t := buf[p]
	if t == tagEmptyMap {
		return &Map{buf: buf, keys: emptyShape, vals: uint32(p + 1)}
	}
	_, p = uvarint(buf, p+1) // the body's length
	var sh *shape
	if t == tagMap {
		i, q := uvarint(buf, p)
		sh, p = shapes.at(uint32(i)), q
	} else {
		n, q := uvarint(buf, p)
		p = q
		sh = &shape{keys: make([]string, n)}
		for i := range sh.keys {
			l, q := uvarint(buf, p)
			sh.keys[i] = buf[q : q+int(l)]
			p = q + int(l)
		}
	}
	if n := len(sh.keys); n > group {
		p += 4 * ((n - 1) / group)
	}
	return &Map{buf: buf, keys: sh, vals: uint32(p)}
}

// listAt decodes the list at p, each element with read.
func listAt(buf string, p int, read func(string, int) any) []any {
	if buf[p] == tagEmptyList {
		return []any{}
	}
	_, p = uvarint(buf, p+1)
	n, p := uvarint(buf, p)
	if n > group {
		p += 4 * int((n-1)/group)
	}
	out := make([]any, n)
	for i := range out {
		out[i] = read(buf, p)
		p = skip(buf, p)
	}
	return out
}
