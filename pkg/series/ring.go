package series

import "sort"

// ring holds timestamped values in time order in two parallel circular
// slices, so a series costs 16 bytes a sample and no pointer a sample. It
// grows by doubling up to the cap its owner passes to push and then
// overwrites its oldest entry, which bounds memory whatever the retention.
type ring[V any] struct {
	t    []int64
	v    []V
	head int // physical index of the oldest entry
	n    int
}

func (r *ring[V]) len() int { return r.n }

// at returns the i-th oldest entry.
func (r *ring[V]) at(i int) (int64, V) {
	j := r.phys(i)
	return r.t[j], r.v[j]
}

func (r *ring[V]) phys(i int) int {
	j := r.head + i
	if j >= len(r.t) {
		j -= len(r.t)
	}
	return j
}

// last returns the newest entry; ok is false when the ring is empty.
func (r *ring[V]) last() (t int64, v V, ok bool) {
	if r.n == 0 {
		return 0, v, false
	}
	t, v = r.at(r.n - 1)
	return t, v, true
}

// push appends an entry, which the caller guarantees is newer than the
// last one.
func (r *ring[V]) push(t int64, v V, maxLen int) {
	if r.n == len(r.t) {
		if r.n >= maxLen {
			// Full at its cap: the newest entry replaces the oldest.
			r.t[r.head], r.v[r.head] = t, v
			r.head = r.phys(1)
			return
		}
		r.grow(min(max(2*r.n, 4), maxLen))
	}
	j := r.phys(r.n)
	r.t[j], r.v[j] = t, v
	r.n++
}

// grow moves a full ring into slices of the given size.
func (r *ring[V]) grow(size int) {
	t := make([]int64, size)
	v := make([]V, size)
	// Unroll the ring so that the oldest entry lands at index 0.
	k := copy(t, r.t[r.head:])
	copy(t[k:], r.t[:r.head])
	k = copy(v, r.v[r.head:])
	copy(v[k:], r.v[:r.head])
	r.t, r.v, r.head = t, v, 0
}

// dropBefore forgets the entries older than minT.
func (r *ring[V]) dropBefore(minT int64) {
	k := r.search(minT - 1)
	if k == 0 {
		return
	}
	var zero V
	for i := range k {
		// Clear dropped values so that a ring of errors does not keep
		// them alive.
		r.v[r.phys(i)] = zero
	}
	r.head = r.phys(k)
	r.n -= k
	if r.n == 0 {
		r.head = 0
	}
}

// search returns the index of the oldest entry newer than t, or len() when
// there is none: the start of the left-open window (t, ...].
func (r *ring[V]) search(t int64) int {
	return sort.Search(r.n, func(i int) bool {
		return r.t[r.phys(i)] > t
	})
}
