package snapshot_test

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/snapshot"
)

// FuzzDecodeObjects feeds object streams (what a rule test's objectFiles
// name) to the decoder and the object checks: no input may panic, every
// problem is a snapshot.ErrInvalid inside the file, and an object that
// passes has a kind, a name and a uid, given or generated.
func FuzzDecodeObjects(f *testing.F) {
	for _, pattern := range []string{"testdata/objects/*.yaml", "../../rules/tests/testdata/nodes*.yaml"} {
		matches, err := filepath.Glob(pattern)
		require.NoError(f, err)
		for _, m := range matches {
			data, err := os.ReadFile(m)
			require.NoError(f, err)
			f.Add(data)
		}
	}
	f.Add([]byte("apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: n, creationTimestamp: 12}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: n}\n"))
	f.Add([]byte("kind: List\nitems: [{apiVersion: v1, kind: Pod, metadata: {name: a}}, 3]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		objs, err := snapshot.DecodeObjects(catalog.NewFile("fuzz.yaml", data))
		if err != nil {
			if !errors.Is(err, snapshot.ErrInvalid) {
				t.Fatalf("unclassified error: %v", err)
			}
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Fatalf("error outside the file: %v", err)
			}
			return
		}
		for _, m := range objs {
			o := snapshot.NewObject(m)
			if o.Kind == "" || o.Name == "" || o.UID == "" {
				t.Fatalf("an object passed the checks without kind, name or uid: %v", m)
			}
		}
	})
}

// FuzzQuerySeries feeds the series and values of a snapshot's query
// results to their parsers: what parses formats back to what parses the
// same.
func FuzzQuerySeries(f *testing.F) {
	for _, s := range []string{`up{job="a"}`, `{pod="x",namespace="y"}`, `kube_pod_info`, `{}`, `a{b="\"c\n"}`, `{`, `x{a=}`} {
		f.Add(s, "1.5")
	}
	f.Add("m", "NaN")
	f.Add("m", "-Inf")
	f.Add("m", "1e400")
	f.Fuzz(func(t *testing.T, s, value string) {
		if labels, err := snapshot.ParseQuerySeries(s); err == nil {
			again, err := snapshot.ParseQuerySeries(snapshot.FormatQuerySeries(labels))
			require.NoError(t, err, "formatted %q from %q", snapshot.FormatQuerySeries(labels), s)
			require.Equal(t, labels, again)
		}
		if v, err := snapshot.ParseQueryValue(value); err == nil {
			back, err := snapshot.ParseQueryValue(snapshot.FormatQueryValue(v))
			require.NoError(t, err)
			if !(math.IsNaN(v) && math.IsNaN(back)) {
				require.Equal(t, v, back) //nolint:testifylint // an exact round trip is wanted
			}
		}
	})
}
