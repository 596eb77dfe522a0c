package compact

import (
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const pod = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-1","namespace":"ns","uid":"8c9a3f2e-0000-4000-8000-000000000001",
"labels":{"app":"web","pod-template-hash":"5f8b7798fd"},"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-5f8b7798fd","uid":"u","controller":true}]},
"spec":{"nodeName":"n1","containers":[{"name":"web","resources":{"requests":{"cpu":"100m"}}}],"volumes":[{},{}]},
"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True","lastTransitionTime":"2026-11-21T06:03:47Z"},{"type":"PodScheduled","status":"True"}],
"containerStatuses":[{"name":"web","restartCount":3,"ready":true,"state":{"running":{}}}],"startTime":null,"ratio":0.5}}`

func decode(t testing.TB, s string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(s), &m))
	return m
}

func TestRoundTrip(t *testing.T) {
	tests := []struct{ name, json string }{
		{"pod", pod},
		{"empty", `{}`},
		{"nested lists", `{"a":[[1,2],[{"b":[]}]],"c":null,"d":false}`},
		{"many keys", `{"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"k10":10,"k11":11}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := decode(t, tc.json)
			assert.Equal(t, in, FromMap(in).Native())
		})
	}
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

	many := FromMap(decode(t, `{"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"k10":10,"k11":11}`))
	for _, k := range []string{"k1", "k10", "k11", "k5", "k9"} {
		_, ok := many.Get(k)
		assert.True(t, ok, k)
	}
	_, ok = many.Get("k0")
	assert.False(t, ok)
	keys := []string{}
	for _, e := range many.Entries() {
		keys = append(keys, e.Key)
	}
	assert.IsIncreasing(t, keys, "entries are sorted")
}

// boxData is where an interface's value is: two interfaces holding one
// boxed copy of a string point to the same place.
func boxData(v any) unsafe.Pointer {
	return (*[2]unsafe.Pointer)(unsafe.Pointer(&v))[1]
}

// TestShared checks that maps with the same keys share them, that short
// values are shared between maps and long ones are not, that a resource
// version is never shared, and that the tables stay within tableMax
// however many distinct keys and values go through them.
func TestShared(t *testing.T) {
	a := FromMap(decode(t, `{"type":"Ready","status":"True","message":"a long message no other map has","resourceVersion":"42"}`))
	b := FromMap(decode(t, `{"type":"Ready","status":"False","message":"another long message","resourceVersion":"42"}`))
	assert.Same(t, a.keys, b.keys, "the same keys are one shape")
	assert.Same(t, &a.Keys()[0], &b.Keys()[0])
	assert.Equal(t, []string{"message", "resourceVersion", "status", "type"}, a.Keys())
	boxOf := func(m *Map, k string) any {
		i, _ := slices.BinarySearch(m.Keys(), k)
		return m.values[i]
	}
	assert.Equal(t, boxData(boxOf(a, "type")), boxData(boxOf(b, "type")), "a short value is one boxed copy")
	assert.NotEqual(t, boxData(boxOf(a, "resourceVersion")), boxData(boxOf(b, "resourceVersion")), "a resource version is not shared")
	c := FromMap(decode(t, `{"type":"Ready"}`))
	assert.NotSame(t, a.keys, c.keys, "other keys, another shape")

	for i := range 3 * tableMax {
		FromMap(map[string]any{fmt.Sprintf("key-%d", i): fmt.Sprintf("v%d", i)})
	}
	tables.mu.Lock()
	values, shapes := len(tables.values), len(tables.shapes)
	tables.mu.Unlock()
	assert.LessOrEqual(t, values, tableMax)
	assert.LessOrEqual(t, shapes, tableMax)
	d := FromMap(decode(t, `{"type":"Ready","status":"True","message":"x","resourceVersion":"42"}`))
	assert.Equal(t, a.Native()["type"], d.Native()["type"], "values stay right across a table reset")
}

// TestSavesMemory holds the compact form of a pod to half the heap of the
// decoded one.
func TestSavesMemory(t *testing.T) {
	const n = 2000
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	measure := func(convert func(map[string]any) any) uint64 {
		objs := make([]any, n)
		base := heap()
		for i := range objs {
			objs[i] = convert(decode(t, pod))
		}
		used := heap() - base
		runtime.KeepAlive(objs)
		return used / n
	}
	decoded := measure(func(m map[string]any) any { return m })
	compacted := measure(func(m map[string]any) any { return FromMap(m) })
	t.Logf("heap bytes per pod: decoded %d, compact %d", decoded, compacted)
	assert.Less(t, compacted, decoded/2)
}

func FuzzFrom(f *testing.F) {
	f.Add([]byte(pod))
	f.Add([]byte(`{"a":{"b":{"c":[1,"x",null,true,{"d":2.5}]}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var v any
		if json.Unmarshal(data, &v) != nil {
			return
		}
		c := From(v)
		require.Equal(t, v, Native(c), "the round trip loses nothing")
		if m, ok := c.(*Map); ok {
			for _, e := range m.Entries() {
				got, ok := m.Get(e.Key)
				require.True(t, ok)
				require.Equal(t, e.Value, got)
			}
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
	m := FromMap(decode(b, pod))
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
