package catalog_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"statusd.io/statusd/pkg/catalog"
)

func TestOverlay(t *testing.T) {
	t.Run("extends-without-editing", func(t *testing.T) {
		// The overlay is given first: overlays apply after catalogue files
		// whatever the order.
		c, errs := catalog.Load("testdata/overlay/mine.yaml", "testdata/overlay/shipped.yaml")
		require.NoError(t, errs.Err())
		assert.Equal(t, "1.0.0+mine.3", c.Metadata.Version)
		assert.Equal(t, "1m", c.Params["pendingGrace"].Value)
		assert.Equal(t, "testdata/overlay/mine.yaml", c.Params["pendingGrace"].Pos.File, "an overridden param names the overlay")
		require.Nil(t, c.Reason("PodPending"), "disabled")
		assert.Equal(t, []string{"PodPending"}, c.Disabled)
		node := c.Reason("NodeDown")
		require.NotNil(t, node)
		require.Len(t, node.Suppresses, 1, "the edge to the disabled reason is dropped; the overlay's edge is added")
		assert.Equal(t, "MyAppDown", node.Suppresses[0].Reason)
		assert.Equal(t, "testdata/overlay/mine.yaml", node.Suppresses[0].Pos.File, "the added edge names the overlay")
		mine := c.Reason("MyAppDown")
		require.NotNil(t, mine)
		assert.Empty(t, mine.Suppresses, "its edge to PodPending went with PodPending")
	})
	t.Run("names-that-do-not-exist", func(t *testing.T) {
		_, errs := catalog.Load("testdata/overlay/shipped.yaml", "testdata/overlay/bad.yaml")
		var heads []string
		for _, e := range errs {
			heads = append(heads, e.Head())
		}
		assert.Equal(t, []string{
			`testdata/overlay/bad.yaml:5:3: disable: no reason "PodPendin" to disable; did you mean "PodPending"?`,
			`testdata/overlay/bad.yaml:10:5: reason Mine: suppressedBy: no cause reason "NodeDwn"; did you mean "NodeDown"?`,
			`testdata/overlay/bad.yaml:12:3: suppressions: no symptom reason "Myne"; did you mean "Mine"?`,
		}, heads)
	})
	t.Run("alone", func(t *testing.T) {
		_, errs := catalog.Load("testdata/overlay/mine.yaml")
		require.Error(t, errs.Err())
		assert.Contains(t, errs.Error(), "a CatalogOverlay extends a catalogue: load it together with the catalogue's files")
	})
}
