package snapshot_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/snapshot"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/objects")

// TestObjectsBad decodes every testdata/objects/*.bad.yaml and compares the
// whole error, every problem of the file at once, with its .golden file.
func TestObjectsBad(t *testing.T) {
	tests := []struct {
		file string
		// want are fragments every run must show, whatever the golden file
		// says, so that -update cannot bless a regression.
		want []string
	}{
		{file: "timestamps.bad.yaml", want: []string{
			`timestamps.bad.yaml:13:24: "Pod/shop/web-1": creationTimestamp "yesterday" is not an RFC 3339 timestamp`,
			`timestamps.bad.yaml:18:27: "Pod/shop/web-1": lastTransitionTime "12" is not an RFC 3339 timestamp`,
			`timestamps.bad.yaml:21:27: "Pod/shop/web-1": lastTransitionTime a mapping is not an RFC 3339 timestamp`,
			`finishedAt "2026-03-01 11:00" is not an RFC 3339 timestamp`,
		}},
		{file: "metadata.bad.yaml", want: []string{
			`metadata.bad.yaml:6:3: object has no metadata`,
			`metadata.bad.yaml:11:13: metadata.name must be a non-empty string`,
			`metadata.name "Web_1" is not a valid Pod name`,
			`metadata.namespace "Shop.Prod" is not a valid namespace name`,
			`metadata.name "shop.prod" is not a valid Namespace name`,
			`metadata.name "1web" is not a valid Service name`,
			`"ConfigMap/shop/settings": apiVersion must be a non-empty string`,
			`kind must be a non-empty string`,
			`apiVersion "a/b/c" is not group/version`,
			`metadata.name "web\x1b[31m" is not a valid Pod name`,
			`metadata.namespace must be a string`,
			`metadata.uid must be a non-empty string`,
			`metadata.bad.yaml:45:15: metadata is an integer, not a mapping with a name`,
			`metadata.bad.yaml:46:5: item 2 of List is a string, not an object`,
		}},
		{file: "duplicates.bad.yaml", want: []string{
			`duplicates.bad.yaml:11:49: "Pod/shop/web-2": uid "u-1" is also the uid of the object at duplicates.bad.yaml:6:3`,
			`duplicates.bad.yaml:15:5: "Pod/shop/web-1": the same object as at duplicates.bad.yaml:6:3`,
			`duplicates.bad.yaml:21:3: "Deployment/shop/web": the same object as at duplicates.bad.yaml:18:3`,
		}},
	}
	matches, err := filepath.Glob("testdata/objects/*.bad.yaml")
	require.NoError(t, err)
	require.Len(t, matches, len(tests), "every bad file has a case")
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := snapshot.Decode(readTestdata(t, filepath.Join("objects", tt.file)))
			require.Error(t, err)
			assert.Nil(t, f)
			require.ErrorIs(t, err, snapshot.ErrInvalid)
			got := strings.ReplaceAll(err.Error(), "objects/", "")
			for _, w := range tt.want {
				assert.Contains(t, got, w)
			}
			assert.NotContains(t, got, "\x1b", "an escape sequence from a name is quoted, never written raw")
			golden := filepath.Join("testdata", "objects", strings.TrimSuffix(tt.file, ".bad.yaml")+".golden")
			if *update {
				require.NoError(t, os.WriteFile(golden, []byte(got+"\n"), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "missing golden file; run go test ./pkg/snapshot -update")
			assert.Equal(t, string(want), got+"\n", "stale golden file %s; run go test ./pkg/snapshot -update", golden)
		})
	}
}

func TestObjectsGood(t *testing.T) {
	f, err := snapshot.Decode(readTestdata(t, filepath.Join("objects", "names.good.yaml")))
	require.NoError(t, err)
	require.Len(t, f.Objects, 6)
	uids := map[string]string{}
	for _, o := range f.Objects {
		obj := snapshot.NewObject(o)
		uids[obj.Ref()] = obj.UID
	}
	assert.Equal(t, "c-1", uids["ClusterRole/system:controller:job-controller"], "a uid given is kept")
	gen := snapshot.GeneratedUID("", "Pod", "shop", "web-1")
	assert.Equal(t, gen, uids["Pod/shop/web-1"], "a missing uid is generated from the identity")
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, gen, "a UUID")
	assert.NotEqual(t, gen, uids["Pod/batch/web-1"], "objects of one name in two namespaces get two uids")
	assert.Equal(t, gen, snapshot.GeneratedUID("", "Pod", "shop", "web-1"), "deterministic")

	// The generated uids are said, once per file, at the first object.
	require.Len(t, f.Notes, 1)
	note := f.Notes[0]
	assert.True(t, note.Note)
	assert.Equal(t, "objects/names.good.yaml:16:3: note: 3 objects have no metadata.uid; each is given one derived from its group, kind, namespace and name (the first: \"Pod/shop/web-1\" gets uid "+gen+")", note.Head())
}

func TestCheckerAcrossFiles(t *testing.T) {
	// One step of a rule test reads objects from several files: an object
	// in two of them is an error naming both places.
	c := snapshot.NewChecker()
	_, err := c.Decode(catalog.NewFile("a.yaml", []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: x, namespace: n}\n")))
	require.NoError(t, err)
	require.NoError(t, c.Err())
	_, err = c.Decode(catalog.NewFile("b.yaml", []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: y, namespace: n}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: x, namespace: n}\n")))
	require.NoError(t, err)
	require.Error(t, c.Err())
	assert.Equal(t, `b.yaml:5:1: "Pod/n/x": the same object as at a.yaml:1:1: one snapshot holds each object once`, strings.SplitN(c.Err().Error(), "\n", 2)[0])
}
