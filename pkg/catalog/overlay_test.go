package catalog_test

import (
	"strings"
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
			`testdata/overlay/bad.yaml:10:5: reason Mine: suppressedBy: no cause reason "NodeDwn"; did you mean "NodeDown"?`,
			`testdata/overlay/bad.yaml:12:3: suppressions: no symptom reason "Myne"; did you mean "Mine"?`,
			`testdata/overlay/bad.yaml:13:11: disable: no reason "PodPendin" to disable; did you mean "PodPending"?`,
		}, heads)
	})
	t.Run("disable-in-a-catalogue", func(t *testing.T) {
		// Wherever the list is, and whether or not the document has a
		// reason to point at, the error names the disabled entry.
		for name, tc := range map[string]struct{ doc, want string }{
			"without reasons": {
				doc:  "apiVersion: statusd.io/v1alpha1\nkind: Catalog\nmetadata: {name: c, version: \"1\"}\ndisable:\n- Foo\n",
				want: "c.yaml:5:3: disable is for kind CatalogOverlay",
			},
			"after a reason": {
				doc:  "apiVersion: statusd.io/v1alpha1\nkind: Catalog\nmetadata: {name: c, version: \"1\"}\nreasons:\n- {name: R, subject: pods, when: 'true', summary: s}\ndisable: [R]\n",
				want: "c.yaml:6:11: disable is for kind CatalogOverlay",
			},
			"second document": {
				doc:  "apiVersion: statusd.io/v1alpha1\nkind: Catalog\nmetadata: {name: c, version: \"1\"}\nreasons: []\n---\ndisable: [0]\n",
				want: "c.yaml:6:11: disable is for kind CatalogOverlay",
			},
		} {
			t.Run(name, func(t *testing.T) {
				_, errs := catalog.Parse(catalog.NewFile("c.yaml", []byte(tc.doc)))
				var heads []string
				for _, e := range errs {
					heads = append(heads, e.Head())
				}
				assert.Condition(t, func() bool {
					for _, h := range heads {
						if strings.HasPrefix(h, tc.want) {
							return true
						}
					}
					return false
				}, "want %q in %q", tc.want, heads)
			})
		}
	})
	t.Run("alone", func(t *testing.T) {
		_, errs := catalog.Load("testdata/overlay/mine.yaml")
		require.Error(t, errs.Err())
		assert.Contains(t, errs.Error(), "a CatalogOverlay extends a catalogue: load it together with the catalogue's files")
	})
}
