package compact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	kjson "k8s.io/apimachinery/pkg/util/json"
	"statusd.io/statusd/internal/liveheap"
)

const pod = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-1","namespace":"ns","uid":"8c9a3f2e-0000-4000-8000-000000000001",
"labels":{"app":"web","pod-template-hash":"5f8b7798fd"},"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-5f8b7798fd","uid":"u","controller":true}]},
"spec":{"nodeName":"n1","containers":[{"name":"web","resources":{"requests":{"cpu":"100m"}}}],"volumes":[{},{}]},
"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True","lastTransitionTime":"2026-11-21T06:03:47Z"},{"type":"PodScheduled","status":"True"}],
"containerStatuses":[{"name":"web","restartCount":3,"ready":true,"state":{"running":{}}}],"startTime":null,"ratio":0.5}}`

// decode decodes JSON as apimachinery does (integers as int64).
func decode(t testing.TB, s string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, kjson.Unmarshal([]byte(s), &m))
	return m
}

// same reports whether a and b are the same decoded JSON, strictly: the
// same types, floats with the same bits (so -0 is not 0), an empty list
// not nil.
func same(a, b any) bool {
	switch a := a.(type) {
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) || (a == nil) != (b == nil) {
			return false
		}
		for k, v := range a {
			w, ok := b[k]
			if !ok || !same(v, w) {
				return false
			}
		}
		return true
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) || (a == nil) != (b == nil) {
			return false
		}
		for i := range a {
			if !same(a[i], b[i]) {
				return false
			}
		}
		return true
	case float64:
		b, ok := b.(float64)
		return ok && math.Float64bits(a) == math.Float64bits(b)
	}
	return reflect.TypeOf(a) == reflect.TypeOf(b) && a == b
}

// many returns a map of n keys k0000... whose values are of every kind.
func many(n int) map[string]any {
	m := map[string]any{}
	for i := range n {
		var v any
		switch i % 6 {
		case 0:
			v = int64(i)
		case 1:
			v = fmt.Sprintf("value-%d", i)
		case 2:
			v = map[string]any{"nested": int64(i), "s": strings.Repeat("x", i)}
		case 3:
			v = []any{int64(i), "a", nil}
		case 4:
			v = float64(i) + 0.5
		case 5:
			v = i%2 == 0
		}
		m[fmt.Sprintf("k%04d", i)] = v
	}
	return m
}

func list(n int, elem func(int) any) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = elem(i)
	}
	return out
}

// roundTrips are objects of every kind of value, each read back by
// TestRoundTrip and TestGet.
var roundTrips = []struct {
	name string
	in   map[string]any
}{
	{"empty", map[string]any{}},
	{"null", map[string]any{"a": nil}},
	{"bools", map[string]any{"t": true, "f": false}},
	{"small ints", map[string]any{"a": int64(0), "b": int64(15), "c": int64(16), "d": int64(-1), "e": int64(127), "f": int64(128)}},
	{"large ints", map[string]any{"max": int64(math.MaxInt64), "min": int64(math.MinInt64), "big": int64(1) << 53, "odd": int64(1)<<53 + 1}},
	{"floats", map[string]any{
		"zero": 0.0, "neg zero": math.Copysign(0, -1), "half": 0.5, "max": math.MaxFloat64, "tiny": math.SmallestNonzeroFloat64,
		"neg": -1e-300, "int-like": 3.0, "inf": math.Inf(1), "-inf": math.Inf(-1),
	}},
	{"strings", map[string]any{
		"empty": "", "short": "True", "16": strings.Repeat("s", 16), "17": strings.Repeat("t", 17),
		"63": strings.Repeat("u", 63), "64": strings.Repeat("v", 64), "200": strings.Repeat("w", 200),
		"20000": strings.Repeat("long", 5000), "unicode": "héllo, 世界", "nul": "a\x00b", "invalid utf-8": "\xff\xfe",
	}},
	{"empty key", map[string]any{"": "empty key", "a": int64(1)}},
	{"keys with NUL", map[string]any{"a\x00b": int64(1), "a": "\x00b", "a\x00": int64(2)}},
	{"empty map and list", map[string]any{"m": map[string]any{}, "l": []any{}, "ml": []any{map[string]any{}, []any{}}}},
	{"list of lists", map[string]any{"l": []any{[]any{int64(1), int64(2)}, []any{[]any{}, []any{"x"}}, []any{}}}},
	{"list of maps", map[string]any{"l": []any{map[string]any{"type": "Ready", "status": "True"}, map[string]any{"type": "Ready", "status": "False"}, map[string]any{"other": nil}}}},
	{"9 keys", many(9)},
	{"100 keys", many(100)},
	{"1000 keys", many(1000)},
	{"long list", map[string]any{"l": list(300, func(i int) any { return many(i % 12) })}},
	{"long keys", map[string]any{strings.Repeat("k", 3000): int64(1), strings.Repeat("j", 300): "v"}},
	{"deep", map[string]any{"a": map[string]any{"b": map[string]any{"c": []any{map[string]any{"d": []any{[]any{map[string]any{"e": strings.Repeat("z", 500)}}}}}}}}},
}

// TestRoundTrip encodes every kind of value three times (a shape or value
// is shared from its second sighting, so the first is inline) and reads
// each back whole, key by key and entry by entry.
func TestRoundTrip(t *testing.T) {
	cases := append(roundTrips, struct {
		name string
		in   map[string]any
	}{"pod", decode(t, pod)})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for range 3 {
				m := FromMap(tc.in)
				got := m.Native()
				require.True(t, same(tc.in, got), "Native: %v", got)
				require.True(t, same(tc.in, Native(m)))
				require.Equal(t, len(tc.in), m.Len())
				keys := m.Keys()
				assert.IsIncreasing(t, keys)
				entries := m.Entries()
				require.Len(t, entries, len(tc.in))
				for i, e := range entries {
					require.Equal(t, keys[i], e.Key)
					require.True(t, same(tc.in[e.Key], Native(e.Value)), "entry %q", e.Key)
					v, ok := m.Get(e.Key)
					require.True(t, ok, "Get %q", e.Key)
					require.True(t, same(tc.in[e.Key], Native(v)), "Get %q", e.Key)
				}
				_, ok := m.Get("\xffnot a key")
				assert.False(t, ok)
			}
		})
	}
}

// TestFrom converts values other than maps, and the numbers decoders may
// hold in other types.
func TestFrom(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in, out any
	}{
		{"string", "s", "s"},
		{"nil", nil, nil},
		{"int", 3, int64(3)},
		{"int32", int32(-3), int64(-3)},
		{"json int", json.Number("-12"), int64(-12)},
		{"json float", json.Number("1e3"), 1000.0},
		{"list", []any{map[string]any{"a": json.Number("1")}, "x"}, []any{map[string]any{"a": int64(1)}, "x"}},
		{"map in a map", map[string]any{"a": FromMap(map[string]any{"b": true})}, map[string]any{"a": map[string]any{"b": true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.True(t, same(tc.out, Native(From(tc.in))), "%#v", Native(From(tc.in)))
		})
	}
	assert.PanicsWithValue(t, "compact: a struct {} is not a decoded JSON value", func() { From(map[string]any{"a": struct{}{}}) })
}

func TestGet(t *testing.T) {
	m := FromMap(decode(t, pod))
	v, ok := Lookup(m, "status", "phase")
	require.True(t, ok)
	assert.Equal(t, "Running", v)
	v, ok = Lookup(m, "metadata", "labels", "pod-template-hash")
	require.True(t, ok)
	assert.Equal(t, "5f8b7798fd", v)
	_, ok = Lookup(m, "status", "phase", "deeper")
	assert.False(t, ok, "a string has no keys")
	_, ok = Lookup(m, "spec", "missing")
	assert.False(t, ok)
	v, ok = Lookup(decode(t, pod), "status", "phase")
	require.True(t, ok, "Lookup reads decoded maps too")
	assert.Equal(t, "Running", v)
	v, ok = Lookup(m, "status", "startTime")
	assert.True(t, ok, "a null is present")
	assert.Nil(t, v)
	v, ok = Lookup(m, "status", "conditions")
	require.True(t, ok)
	require.IsType(t, []any{}, v, "a list is a []any")
	require.IsType(t, &Map{}, v.([]any)[0], "of views")
	v, ok = Lookup(v.([]any)[1], "type")
	require.True(t, ok)
	assert.Equal(t, "PodScheduled", v)
	v, ok = Lookup(m, "status", "containerStatuses")
	require.True(t, ok)
	v, ok = Lookup(v.([]any)[0], "restartCount")
	require.True(t, ok)
	assert.Equal(t, int64(3), v)
}

// boxData is where an interface's value is: two interfaces holding one
// boxed copy of a string point to the same place.
func boxData(v any) unsafe.Pointer {
	return (*[2]unsafe.Pointer)(unsafe.Pointer(&v))[1]
}

// TestShared checks that maps with the same keys share them from the
// second such map on, that short values are shared (read as one boxed
// copy) and long ones are not, that a resource version is never shared,
// and that strings read alias the encoding.
func TestShared(t *testing.T) {
	withTables(t, 64, 64)
	obj := func(status, message string) *Map {
		return FromMap(map[string]any{"type": "Ready", "status": status, "message": message, "resourceVersion": "42"})
	}
	first := obj("True", "a long message no other map has")
	a := obj("True", "a long message no other map has")
	b := obj("False", "another long message")
	assert.NotSame(t, first.keys, a.keys, "keys seen once are inline")
	assert.Same(t, a.keys, b.keys, "the same keys are one shape from their second sighting")
	assert.Same(t, &a.Keys()[0], &b.Keys()[0])
	assert.Equal(t, []string{"message", "resourceVersion", "status", "type"}, a.Keys())
	get := func(m *Map, k string) any {
		v, ok := m.Get(k)
		require.True(t, ok)
		return v
	}
	assert.Equal(t, boxData(get(a, "type")), boxData(get(b, "type")), "a short value is one boxed copy")
	again := get(a, "type")
	assert.Equal(t, boxData(get(a, "type")), boxData(again), "read twice, the same box")
	assert.Equal(t, "42", get(a, "resourceVersion"))
	rvs, _, _ := values.stats()
	assert.Equal(t, 2, rvs, `"Ready" and "True" are shared; "False" was seen once and "42" is a resource version`)
	c := FromMap(map[string]any{"type": "Ready"})
	assert.NotSame(t, a.keys, c.keys, "other keys, another shape")

	msg := get(a, "message").(string)
	assert.True(t, within(a.buf, msg), "a string read aliases the encoding")
}

// within reports whether s is inside buf's bytes.
func within(buf, s string) bool {
	b, p := uintptr(unsafe.Pointer(unsafe.StringData(buf))), uintptr(unsafe.Pointer(unsafe.StringData(s)))
	return p >= b && p+uintptr(len(s)) <= b+uintptr(len(buf))
}

// withTables replaces the shared tables by empty ones of the bounds given
// for the test: objects encoded before or after it must not be read during
// it, nor its objects after it.
func withTables(t *testing.T, maxValues, maxShapes int) {
	t.Helper()
	oldValues, oldShapes := values, shapes
	values = &table[any]{maxEntries: maxValues, maxBytes: maxValues * internMax}
	shapes = &table[*shape]{maxEntries: maxShapes, maxBytes: maxShapes * 64}
	t.Cleanup(func() { values, shapes = oldValues, oldShapes })
}

// TestTableBounds fills the tables with keys and values that each repeat
// once and checks that they stop at their bounds, that what is encoded
// after reads back right (inline), and that what they held stays valid.
func TestTableBounds(t *testing.T) {
	withTables(t, 50, 40)
	FromMap(map[string]any{"type": "Ready"}) // seen once
	early := FromMap(map[string]any{"type": "Ready"})
	require.Same(t, early.keys, FromMap(map[string]any{"type": "Ready"}).keys)
	var objs []*Map
	var ins []map[string]any
	for i := range 500 {
		in := map[string]any{fmt.Sprintf("key-%d", i): fmt.Sprintf("v%d", i), "list": []any{fmt.Sprintf("w%d", i)}}
		for range 2 {
			objs = append(objs, FromMap(in))
			ins = append(ins, in)
		}
		n, size, seen := values.stats()
		require.LessOrEqual(t, n, 50)
		require.LessOrEqual(t, size, 50*internMax)
		require.LessOrEqual(t, seen, 50)
		n, size, seen = shapes.stats()
		require.LessOrEqual(t, n, 40)
		require.LessOrEqual(t, size, 40*64)
		require.LessOrEqual(t, seen, 40)
	}
	n, _, _ := values.stats()
	assert.Equal(t, 50, n, "the values table fills up")
	n, _, _ = shapes.stats()
	assert.Equal(t, 40, n, "the shapes table fills up")
	for i, m := range objs {
		require.True(t, same(ins[i], m.Native()), "object %d", i)
	}
	v, _ := early.Get("type")
	assert.Equal(t, "Ready", v, "an entry stays valid once the table is full")

	// The byte bound: a shape's keys count against it.
	withTables(t, 50, 40)
	big := map[string]any{strings.Repeat("k", 40*64-10): int64(1)}
	FromMap(big)
	assert.True(t, same(big, FromMap(big).Native()))
	_, size, _ := shapes.stats()
	assert.LessOrEqual(t, size, 40*64)
}

// TestTable checks a table's rules on their own: an entry on the second
// sighting, indexes that stay, and the bounds on entries, bytes and ids
// seen once.
func TestTable(t *testing.T) {
	tb := &table[string]{maxEntries: 3, maxBytes: 10}
	build := func(s string) func() string { return func() string { return s } }
	_, ok := tb.lookup("a", 1, build("a"))
	assert.False(t, ok, "seen once")
	i, ok := tb.lookup("a", 1, build("a"))
	require.True(t, ok, "seen twice")
	assert.Equal(t, uint32(0), i)
	assert.Equal(t, "a", tb.at(i))
	_, _, seen := tb.stats()
	assert.Equal(t, 0, seen, "an entry is no longer a candidate")
	tb.lookup("toolong", 10, build("toolong"))
	_, ok = tb.lookup("toolong", 10, build("toolong"))
	assert.False(t, ok, "over the byte bound")
	for _, s := range []string{"b", "c", "d", "e"} {
		tb.lookup(s, 1, build(s))
		tb.lookup(s, 1, build(s))
	}
	n, size, _ := tb.stats()
	assert.Equal(t, 3, n)
	assert.Equal(t, 3, size)
	for i, s := range []string{"a", "b", "c"} {
		j, ok := tb.lookup(s, 1, build(s))
		require.True(t, ok)
		assert.Equal(t, uint32(i), j)
		assert.Equal(t, s, tb.at(j))
	}
	_, ok = tb.lookup("d", 1, build("d"))
	assert.False(t, ok, "full")
	for i := range 10 {
		tb2 := &table[string]{maxEntries: 3, maxBytes: 10}
		for j := range 10 * i {
			tb2.lookup(fmt.Sprint(j), 1, build(""))
		}
		_, _, seen := tb2.stats()
		assert.LessOrEqual(t, seen, 3, "ids seen once are bounded")
	}
}

// TestConcurrent reads objects from many goroutines while others encode
// new ones, which adds to the tables: run with -race.
func TestConcurrent(t *testing.T) {
	objs := make([]*Map, 0, len(roundTrips)+1)
	objs = append(objs, FromMap(decode(t, pod)))
	for _, tc := range roundTrips {
		objs = append(objs, FromMap(tc.in))
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				FromMap(map[string]any{fmt.Sprintf("g%d-%d", g, i%20): fmt.Sprintf("%d", i%30), "type": "Ready"})
			}
		})
		wg.Go(func() {
			for range 20 {
				for i, m := range objs {
					for _, k := range m.Keys() {
						v, ok := m.Get(k)
						require.True(t, ok)
						Native(v)
					}
					if i == 0 {
						require.True(t, same(decode(t, pod), m.Native()))
					}
				}
			}
		})
	}
	wg.Wait()
}

// TestSavesMemory holds the compact form of a pod to a quarter of the heap
// of the decoded one.
func TestSavesMemory(t *testing.T) {
	const n = 2000
	measure := func(convert func(map[string]any) any) uint64 {
		objs := make([]any, n)
		base := liveheap.Bytes()
		for i := range objs {
			objs[i] = convert(decode(t, pod))
		}
		used := liveheap.Bytes() - base
		runtime.KeepAlive(objs)
		return used / n
	}
	decoded := measure(func(m map[string]any) any { return m })
	compacted := measure(func(m map[string]any) any { return FromMap(m) })
	t.Logf("heap bytes per pod: decoded %d, compact %d", decoded, compacted)
	assert.Less(t, compacted, decoded/4)
}

// FuzzRoundTrip decodes JSON as apimachinery does, and with UseNumber, and
// checks that the compact form of either reads back as the first,
// whole and key by key.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte(pod))
	f.Add([]byte(`{"a":{"b":{"c":[1,"x",null,true,{"d":2.5}]}}}`))
	f.Add([]byte(`{"":-0.0,"n":-0,"big":9223372036854775807,"f":1e308,"l":[[],[{}],[[1]]]}`))
	f.Add([]byte(`[{"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"k10":{"x":"y"}}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var want any
		if kjson.Unmarshal(data, &want) != nil {
			return
		}
		check := func(c any) {
			require.True(t, same(want, Native(c)), "the round trip loses nothing: %#v", Native(c))
			if m, ok := c.(*Map); ok {
				for _, e := range m.Entries() {
					got, ok := m.Get(e.Key)
					require.True(t, ok)
					require.True(t, same(Native(e.Value), Native(got)))
				}
			}
		}
		check(From(want))
		d := json.NewDecoder(bytes.NewReader(data))
		d.UseNumber()
		var raw any
		if d.Decode(&raw) == nil {
			check(From(raw))
		}
	})
}

// BenchmarkFromMap converts a decoded pod, what a watch cache does with
// every object it receives.
func BenchmarkFromMap(b *testing.B) {
	m := decode(b, pod)
	b.ReportAllocs()
	for b.Loop() {
		_ = FromMap(m)
	}
}

var sink any

// BenchmarkGet reads fields of a compact pod as CEL reads them: a key of a
// small map, of one with many keys, a path through nested maps, and an
// element of a list.
func BenchmarkGet(b *testing.B) {
	FromMap(decode(b, pod))
	m := FromMap(decode(b, pod)) // the second sighting shares keys and values
	many := FromMap(decode(b, `{"k01":1,"k02":"two","k03":3,"k04":4,"k05":5,"k06":6,"k07":7,"k08":8,"k09":9,"k10":10,"k11":"eleven","k12":12,"k13":13,"k14":{"a":1},"k15":15,"k16":16}`))
	status, _ := m.Get("status")
	meta, _ := m.Get("metadata")
	for _, tc := range []struct {
		name string
		m    *Map
		key  string
	}{
		{"string", status.(*Map), "phase"},
		{"shared", meta.(*Map), "namespace"},
		{"map", m, "status"},
		{"list", status.(*Map), "conditions"},
		{"many/first", many, "k01"},
		{"many/last", many, "k16"},
		{"many/string", many, "k11"},
		{"missing", m, "zzz"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sink, _ = tc.m.Get(tc.key)
			}
		})
	}
	b.Run("path", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sink, _ = Lookup(m, "metadata", "labels", "pod-template-hash")
		}
	})
}
