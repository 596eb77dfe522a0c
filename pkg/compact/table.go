package compact

import (
	"strings"
	"sync"
	"sync/atomic"
)

// table is an append-only list of entries shared by every encoded object,
// which an encoding names by index: the shapes (sorted keys of maps) and
// the short values that repeat across objects.
//
// An index stored in an object's bytes must stay valid for the object's
// life, so a table is never reset or changed, only appended to, and it is
// bounded: once it holds maxEntries entries or maxBytes bytes of them, what
// is not in it is encoded inline in each object, which costs bytes but no
// table memory. So that what never repeats (resource versions, pod IPs,
// generated names) does not take the places of what does, an entry is
// added on its second sighting only: the ids seen once are remembered in a
// set that is emptied when it holds maxEntries of them, which only delays
// what repeats rarely.
//
// Encoders (informers convert objects on several goroutines) look ids up
// under mu; readers index the published entries without a lock.
type table[T any] struct {
	maxEntries int
	maxBytes   int

	mu    sync.Mutex
	index map[string]uint32   // id -> entry index
	seen  map[string]struct{} // ids seen once, not yet entries
	all   []T                 // entries; what is below a published length never changes
	bytes int                 // the size of the entries, as add counted it

	// published is all as of the last entry added: readers take its
	// length as the entries that exist.
	published atomic.Pointer[[]T]
}

// lookup returns the index of id's entry, adding it with build (whose
// result costs size bytes) if id was seen before and the table has room;
// false when id is not an entry.
func (t *table[T]) lookup(id string, size int, build func() T) (uint32, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if i, ok := t.index[id]; ok {
		return i, true
	}
	if len(t.all) >= t.maxEntries || t.bytes+size > t.maxBytes {
		return 0, false
	}
	// id may alias a caller's scratch bytes: what is kept is a copy.
	if _, ok := t.seen[id]; !ok {
		if t.seen == nil || len(t.seen) >= t.maxEntries {
			t.seen = make(map[string]struct{}, min(t.maxEntries, 256))
		}
		t.seen[strings.Clone(id)] = struct{}{}
		return 0, false
	}
	delete(t.seen, id)
	if t.index == nil {
		t.index = map[string]uint32{}
	}
	i := uint32(len(t.all))
	// append may move the entries to a larger array; slices published
	// before keep the old one, whose entries are the same.
	t.all = append(t.all, build())
	t.bytes += size
	t.index[strings.Clone(id)] = i
	all := t.all
	t.published.Store(&all)
	return i, true
}

// at returns entry i, which an encoding holds: it exists.
func (t *table[T]) at(i uint32) T { return (*t.published.Load())[i] }

// stats returns the number of entries, their size and the number of ids
// seen once, for tests of the bounds.
func (t *table[T]) stats() (entries, bytes, seen int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.all), t.bytes, len(t.seen)
}
