package compact

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"unique"
	"unsafe"
)

// The encoding of a value starts with a tag byte. Small integers, short
// strings and the first shared values are the tag alone or the tag and the
// string's bytes; other scalars follow the tag with a varint or eight
// bytes; maps and lists follow it with the length of their body, so that a
// reader skips them without decoding them.
const (
	tagNull byte = iota
	tagFalse
	tagTrue
	tagInt    // zigzag uvarint
	tagFloat  // 8 bytes: the IEEE 754 bits, little-endian
	tagString // uvarint length, bytes
	tagShared // uvarint index into values
	// tagMap is a map whose keys are a shape: uvarint body length; body:
	// uvarint shape index, skip table, values in the order of the keys.
	tagMap
	// tagMapKeys is a map whose keys are not a shape: uvarint body
	// length; body: uvarint number of keys, each key (uvarint length,
	// bytes) in sorted order, skip table, values.
	tagMapKeys
	// tagList is a list: uvarint body length; body: uvarint number of
	// elements, skip table, elements.
	tagList
	tagEmptyMap
	tagEmptyList

	smallInt    byte = 0x10 // 0x10-0x1f: the integers 0 to 15
	smallString byte = 0x20 // 0x20-0x5f: strings of 0 to 63 bytes, which follow
	smallShared byte = 0x60 // 0x60-0xff: shared values 0 to 159
)

// group is the number of values between two entries of a skip table. A map
// or list of more than group values carries the offset, from its first
// value, of its group-th, 2*group-th, ... value as 4 little-endian bytes
// each, so that reading one value skips at most group-1 others.
const group = 8

// internMax is the longest value shared. Enumerations (condition types,
// statuses, phases, kinds) repeat across objects; longer strings (names,
// UIDs, timestamps, messages) mostly do not.
const internMax = 16

// Bounds of the shared tables (see table). A shared value is one index
// instead of its bytes and, read, one boxed copy for every object; a shape
// is one index instead of every key. Shapes of more than shapeKeysMax keys
// or shapeIDMax bytes of keys (a map of generated keys) are not shared.
const (
	valuesMax     = 1 << 14
	valuesBytes   = valuesMax * internMax
	shapesMax     = 1 << 14
	shapesBytes   = 4 << 20
	shapeKeysMax  = 64
	shapeIDMax    = 2 << 10
	objectMaxSize = math.MaxUint32
)

// values are the shared short values, each boxed once. shapes are the
// shared sorted keys of maps.
var (
	values = &table[any]{maxEntries: valuesMax, maxBytes: valuesBytes}
	shapes = &table[*shape]{maxEntries: shapesMax, maxBytes: shapesBytes}
)

// unshared are keys whose short values are unique to an object and to
// each of its versions, so sharing them would only take a table's places:
// metadata.resourceVersion.
var unshared = map[string]bool{"resourceVersion": true}

// encoders are scratch buffers: an object is encoded into one and copied
// out at its exact length, so no object keeps a buffer's spare capacity.
var encoders = sync.Pool{New: func() any { return &encoder{} }}

// encoder appends the encoding of values to b.
type encoder struct {
	b    []byte
	keys []string // scratch for sorting a map's keys
}

// encode returns the encoding of the map m.
func encode(m map[string]any) string {
	e := encoders.Get().(*encoder)
	e.b = e.b[:0]
	e.mapValue(m)
	if len(e.b) > objectMaxSize {
		panic(fmt.Sprintf("compact: an object of %d bytes encoded; at most %d can be read", len(e.b), objectMaxSize))
	}
	s := string(e.b)
	if cap(e.b) <= 64<<10 {
		encoders.Put(e)
	}
	return s
}

func (e *encoder) uvarint(x uint64) { e.b = binary.AppendUvarint(e.b, x) }

// value appends v; share says whether a short string may be shared.
func (e *encoder) value(v any, share bool) {
	switch v := v.(type) {
	case nil:
		e.b = append(e.b, tagNull)
	case bool:
		if v {
			e.b = append(e.b, tagTrue)
		} else {
			e.b = append(e.b, tagFalse)
		}
	case string:
		e.string(v, share)
	case int64:
		e.int(v)
	case float64:
		e.b = append(e.b, tagFloat)
		e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(v))
	case map[string]any:
		e.mapValue(v)
	case []any:
		e.list(v)
	case *Map:
		e.mapValue(v.Native())
	case int:
		e.int(int64(v))
	case int32:
		e.int(int64(v))
	case json.Number:
		// As apimachinery decodes numbers: an integer if it is one.
		if i, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			e.int(i)
		} else if f, err := strconv.ParseFloat(string(v), 64); err == nil {
			e.value(f, share)
		} else {
			e.string(string(v), false)
		}
	default:
		// Decoded JSON and YAML hold nothing else; a caller that builds
		// a map by hand with other types has a bug to fix.
		panic(fmt.Sprintf("compact: a %T is not a decoded JSON value", v))
	}
}

func (e *encoder) int(i int64) {
	if i >= 0 && i < 16 {
		e.b = append(e.b, smallInt+byte(i))
		return
	}
	e.b = append(e.b, tagInt)
	e.b = binary.AppendVarint(e.b, i)
}

func (e *encoder) string(s string, share bool) {
	if share && len(s) <= internMax {
		if i, ok := values.lookup(s, len(s), func() any { return unique.Make(s).Value() }); ok {
			if i < 0x100-uint32(smallShared) {
				e.b = append(e.b, smallShared+byte(i))
			} else {
				e.b = append(e.b, tagShared)
				e.uvarint(uint64(i))
			}
			return
		}
	}
	if len(s) < int(smallShared-smallString) {
		e.b = append(e.b, smallString+byte(len(s)))
	} else {
		e.b = append(e.b, tagString)
		e.uvarint(uint64(len(s)))
	}
	e.b = append(e.b, s...)
}

// open appends tag and a one-byte body length to fix with close.
func (e *encoder) open(tag byte) int {
	e.b = append(e.b, tag, 0)
	return len(e.b)
}

// close writes the length of the body that started at start, moving it to
// make room when the length takes more than the byte open left.
func (e *encoder) close(start int) {
	n := len(e.b) - start
	if n < 0x80 {
		e.b[start-1] = byte(n)
		return
	}
	var lb [binary.MaxVarintLen64]byte
	l := binary.PutUvarint(lb[:], uint64(n))
	e.b = append(e.b, lb[:l-1]...)
	copy(e.b[start+l-1:], e.b[start:start+n])
	copy(e.b[start-1:], lb[:l])
}

// skips reserves the skip table of n values, returning where it is.
func (e *encoder) skips(n int) int {
	at := len(e.b)
	if n > group {
		e.b = append(e.b, make([]byte, 4*((n-1)/group))...)
	}
	return at
}

// mark records in the skip table at table, whose values start at first,
// that value i starts here.
func (e *encoder) mark(table, first, i int) {
	if i > 0 && i%group == 0 {
		binary.LittleEndian.PutUint32(e.b[table+4*(i/group-1):], uint32(len(e.b)-first))
	}
}

func (e *encoder) mapValue(m map[string]any) {
	if len(m) == 0 {
		e.b = append(e.b, tagEmptyMap)
		return
	}
	// e.keys is a stack: the maps inside this one sort theirs above
	// its keys, which stay where they are even if the stack moves.
	base := len(e.keys)
	for k := range m {
		e.keys = append(e.keys, k)
	}
	keys := e.keys[base:]
	slices.Sort(keys)
	defer func() { e.keys = e.keys[:base] }()
	var start int
	if i, ok := shapeIndex(keys); ok {
		start = e.open(tagMap)
		e.uvarint(uint64(i))
	} else {
		start = e.open(tagMapKeys)
		e.uvarint(uint64(len(keys)))
		for _, k := range keys {
			e.uvarint(uint64(len(k)))
			e.b = append(e.b, k...)
		}
	}
	table := e.skips(len(keys))
	first := len(e.b)
	for i, k := range keys {
		e.mark(table, first, i)
		e.value(m[k], !unshared[k])
	}
	e.close(start)
}

func (e *encoder) list(l []any) {
	if len(l) == 0 {
		e.b = append(e.b, tagEmptyList)
		return
	}
	start := e.open(tagList)
	e.uvarint(uint64(len(l)))
	table := e.skips(len(l))
	first := len(e.b)
	for i, v := range l {
		e.mark(table, first, i)
		e.value(v, true)
	}
	e.close(start)
}

// shapeIndex returns the index of the shape of sorted keys; false when it
// is not shared.
func shapeIndex(keys []string) (uint32, bool) {
	if len(keys) > shapeKeysMax {
		return 0, false
	}
	// The id is each key with its length, so that no two lists of keys
	// have the same.
	var buf [256]byte
	id := buf[:0]
	size := 0
	for _, k := range keys {
		id = binary.AppendUvarint(id, uint64(len(k)))
		id = append(id, k...)
		size += len(k)
		if len(id) > shapeIDMax {
			return 0, false
		}
	}
	return shapes.lookup(unsafe.String(unsafe.SliceData(id), len(id)), size, func() *shape {
		sh := &shape{keys: make([]string, len(keys))}
		for i, k := range keys {
			sh.keys[i] = unique.Make(k).Value()
		}
		return sh
	})
}
