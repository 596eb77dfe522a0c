// Package liveheap measures the live heap, for the memory benchmarks and
// the tests that bound what statusd keeps (issue 17).
package liveheap

import "runtime"

// Bytes returns the heap in use after a full collection. It collects
// twice: objects with finalizers, and what a sweep frees only once the
// first cycle ends, would otherwise still count.
func Bytes() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
