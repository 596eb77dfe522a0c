package catalog

import (
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIncludes(t *testing.T) {
	tests := []struct {
		name    string
		paths   []string
		reasons []string
		errs    []string
	}{
		{
			name:    "main file loads its includes once each, cycles and repeats included",
			paths:   []string{"testdata/includes/main.yaml"},
			reasons: []string{"A", "B", "C"},
		},
		{
			name:    "naming a part as well changes nothing",
			paths:   []string{"testdata/includes/main.yaml", "testdata/includes/part.yaml"},
			reasons: []string{"A", "B", "C"},
		},
		{
			name:    "a missing include is an error at the include",
			paths:   []string{"testdata/includes/broken.yaml"},
			reasons: []string{"A"},
			errs:    []string{"testdata/includes/broken.yaml:5:3: read catalogue: open testdata/includes/missing.yaml: no such file or directory"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, errs := Load(tc.paths...)
			var got []string
			for _, e := range errs.Errors() {
				got = append(got, e.Head())
			}
			assert.Equal(t, tc.errs, got)
			var names []string
			for _, r := range c.Reasons {
				names = append(names, r.Name)
			}
			assert.ElementsMatch(t, tc.reasons, names)
		})
	}
}

func TestIncludesThroughFS(t *testing.T) {
	c, errs := LoadFS(os.DirFS("testdata/includes"), "main.yaml")
	require.NoError(t, errs.Err())
	require.Len(t, c.Reasons, 3)
}

// hostileTree builds a catalogue directory beside files it must not reach:
// a secret outside it, a FIFO and links out of it.
func hostileTree(t *testing.T) (dir string) {
	t.Helper()
	base := t.TempDir()
	dir = filepath.Join(base, "catalog")
	require.NoError(t, os.Mkdir(dir, 0o700))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "sub"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(base, "secret.txt"), []byte("root:x:0:0:TOPSECRET:/root:/bin/bash\n"), 0o600))
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "fifo.yaml"), 0o600))
	require.NoError(t, os.Symlink(filepath.Join(base, "secret.txt"), filepath.Join(dir, "out.yaml")))
	require.NoError(t, os.Symlink("/dev/zero", filepath.Join(dir, "zero.yaml")))
	require.NoError(t, os.Symlink("..", filepath.Join(dir, "up")))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "sub", "part.yaml"), []byte(partWith("B")), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notcat.yaml"), []byte("root:x:0:0:TOPSECRET:/root:/bin/bash\n"), 0o600))
	return dir
}

func partWith(reason string) string {
	return "apiVersion: statusd.io/v1alpha1\nkind: Catalog\nmetadata: {name: inc, version: \"1\"}\n" +
		"reasons:\n- {name: " + reason + ", subject: pods, when: \"true\", summary: x}\n"
}

func catalogWith(includes, reason string) string {
	return "apiVersion: statusd.io/v1alpha1\nkind: Catalog\nmetadata: {name: inc, version: \"1\"}\n" +
		includes +
		"sources:\n  pods: {version: v1, resource: pods}\n" +
		"reasons:\n- {name: " + reason + ", subject: pods, when: \"true\", summary: x}\n"
}

func TestIncludesStayInside(t *testing.T) {
	tests := []struct {
		name    string
		include string
		errs    []string // substrings of the one error expected; none: loads
	}{
		{name: "a file below the including file", include: "sub/part.yaml"},
		{name: "dot segments that stay inside are still refused", include: "sub/../sub/part.yaml", errs: []string{`include "sub/../sub/part.yaml" uses ".."`}},
		{name: "escape with ..", include: "../secret.txt", errs: []string{`main.yaml:5:3: include outside the catalogue: include "../secret.txt" uses ".."`}},
		{name: "deep escape with ..", include: "../../../../../../etc/passwd", errs: []string{`uses ".."`}},
		{name: "absolute path refused, not made relative", include: "/etc/passwd", errs: []string{`include "/etc/passwd" is absolute`}},
		{name: "absolute /dev/zero", include: "/dev/zero", errs: []string{"is absolute"}},
		{name: "symbolic link out of the directory", include: "out.yaml", errs: []string{"leads out of", "through a symbolic link"}},
		{name: "symbolic link to a device", include: "zero.yaml", errs: []string{"leads out of"}},
		{name: "directory link out", include: "up/secret.txt", errs: []string{"leads out of"}},
		{name: "a FIFO is refused without blocking", include: "fifo.yaml", errs: []string{"not a regular file (a named pipe)"}},
		{name: "a directory is refused", include: "sub", errs: []string{"not a regular file (a directory)"}},
		{name: "a file that is not a catalogue shows only a token", include: "notcat.yaml", errs: []string{"a catalogue must be a mapping"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := hostileTree(t)
			main := filepath.Join(dir, "main.yaml")
			require.NoError(t, os.WriteFile(main, []byte(catalogWith("includes:\n- "+strconv.Quote(tc.include)+"\n", "A")), 0o600))
			done := make(chan ErrorList, 1)
			go func() { _, errs := Load(main); done <- errs }()
			var errs ErrorList
			select {
			case errs = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Load blocked")
			}
			if len(tc.errs) == 0 {
				require.NoError(t, errs.Err())
				return
			}
			require.Len(t, errs, 1, "%v", errs)
			for _, want := range tc.errs {
				assert.Contains(t, errs[0].Error(), want)
			}
			assert.NotContains(t, errs[0].Error(), "TOPSECRET")
			assert.NotContains(t, errs[0].Error(), "/bin/bash")
		})
	}
}

func TestCatalogSizeCap(t *testing.T) {
	dir := t.TempDir()
	part := partWith("B")
	main := catalogWith("includes: [part.yaml]\n", "A")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.yaml"), []byte(main), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "part.yaml"), []byte(part), 0o600))
	tests := []struct {
		name string
		max  int64
		err  string
	}{
		{name: "both files fit", max: int64(len(main) + len(part))},
		{name: "main fits, the include overflows the total", max: int64(len(main) + len(part) - 1), err: "part.yaml (with the files read before it): file too large: larger than the " + strconv.Itoa(len(main)+len(part)-1) + "-byte cap (raise it with --max-catalog-bytes)"},
		{name: "main alone is over", max: int64(len(main) - 1), err: "raise it with --max-catalog-bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer func(old int64) { MaxBytes = old }(MaxBytes)
			MaxBytes = tc.max
			for _, load := range []func() ErrorList{
				func() ErrorList { _, e := Load(filepath.Join(dir, "main.yaml")); return e },
				func() ErrorList { _, e := LoadFS(os.DirFS(dir), "main.yaml"); return e },
			} {
				errs := load()
				if tc.err == "" {
					require.NoError(t, errs.Err())
					continue
				}
				require.Error(t, errs.Err())
				assert.Contains(t, errs.Err().Error(), tc.err)
				assert.ErrorIs(t, errs.Err(), ErrInvalid)
			}
		})
	}
}

func TestIncludesThroughFSStayInside(t *testing.T) {
	dir := hostileTree(t)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.yaml"), []byte(catalogWith("includes: [../secret.txt, /etc/passwd]\n", "A")), 0o600))
	_, errs := LoadFS(os.DirFS(dir), "main.yaml")
	require.Len(t, errs, 2, "%v", errs)
	for _, e := range errs {
		assert.Contains(t, e.Error(), ErrInclude.Error())
	}
}

func TestParseSizeCap(t *testing.T) {
	defer func(old int64) { MaxBytes = old }(MaxBytes)
	a := NewFile("configmap/ns/cm/a.yaml", []byte(catalogWith("", "A")))
	b := NewFile("configmap/ns/cm/b.yaml", []byte(partWith("B")))
	tests := []struct {
		name string
		max  int64
		err  string
	}{
		{name: "keys together fit", max: int64(len(a.Data) + len(b.Data))},
		{name: "keys together over the cap", max: int64(len(a.Data) + len(b.Data) - 1), err: "configmap/ns/cm/a.yaml,configmap/ns/cm/b.yaml: catalogue of " + strconv.Itoa(len(a.Data)+len(b.Data)) + " bytes: catalogue: file too large: larger than the " + strconv.Itoa(len(a.Data)+len(b.Data)-1) + "-byte cap (raise it with --max-catalog-bytes)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			MaxBytes = tc.max
			_, errs := Parse(a, b)
			if tc.err == "" {
				require.NoError(t, errs.Err())
				return
			}
			require.Len(t, errs, 1)
			assert.Equal(t, tc.err, errs[0].Error())
		})
	}
}

// TestCheckIncludes checks the includes of a ConfigMap's keys, which are
// not read through ReadFS: an include must name another key, and never
// with an absolute path or "..".
func TestCheckIncludes(t *testing.T) {
	const dir = "configmap/ns/cm/"
	tests := []struct {
		name    string
		include string
		err     string // the one error expected; none: accepted
	}{
		{name: "another key", include: "part.yaml"},
		{name: "a key that is absent", include: "missing.yaml", err: `configmap/ns/cm/main.yaml:5:3: include "missing.yaml" names no .yaml or .yml key of the ConfigMap`},
		{name: "escaping with ..", include: "../../etc/passwd", err: `include "../../etc/passwd" uses ".."`},
		{name: "dot segments that stay inside", include: "./sub/../part.yaml", err: `uses ".."`},
		{name: "absolute", include: "/proc/self/environ", err: "is absolute"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := []*File{
				NewFile(dir+"main.yaml", []byte(catalogWith("includes:\n- "+strconv.Quote(tc.include)+"\n", "A"))),
				NewFile(dir+"part.yaml", []byte(partWith("B"))),
			}
			errs := CheckIncludes(files)
			if tc.err == "" {
				require.NoError(t, errs.Err())
				return
			}
			require.Len(t, errs, 1, "%v", errs)
			assert.Contains(t, errs[0].Error(), tc.err)
			require.ErrorIs(t, errs.Err(), ErrInvalid)
		})
	}
}
