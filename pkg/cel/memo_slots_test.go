package cel

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMemoSlots checks the packed memo: every slot keeps its own outcome
// whatever its neighbours in the word hold, including when goroutines set
// the slots of one word at once.
func TestMemoSlots(t *testing.T) {
	for _, gates := range []int{1, 15, 16, 17, 40} {
		t.Run(fmt.Sprint(gates), func(t *testing.T) {
			m := newMemo(nil, gates)
			require.Len(t, m.words, (gates+memoPerWord-1)/memoPerWord)
			want := func(slot int) uint32 { return []uint32{memoFalse, memoTrue}[slot%2] }
			var wg sync.WaitGroup
			for slot := range gates {
				wg.Go(func() { m.store(slot, want(slot)) })
			}
			wg.Wait()
			for slot := range gates {
				assert.Equal(t, want(slot), m.load(slot), "slot %d", slot)
			}
			m.store(0, memoTrue)
			assert.Equal(t, memoTrue, m.load(0))
			if gates > 1 {
				assert.Equal(t, want(1), m.load(1), "a neighbour is left alone")
			}
		})
	}
}
