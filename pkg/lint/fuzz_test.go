package lint

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/loader"
)

// FuzzCheck feeds arbitrary files through the decoder and, since lint
// compiles catalogues that failed to decode, through the compiler on
// catalogues it was not written for. Neither may panic or hang; lint turns
// a compiler panic into an "internal error" finding, which fails here.
func FuzzCheck(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	more, _ := filepath.Glob(filepath.Join("testdata", "*", "*.yaml"))
	for _, s := range append(seeds, more...) {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	opts := Options{CEL: cel.Options{CostLimit: 1_000_000, SourceSizeHint: 1_000}}
	f.Fuzz(func(t *testing.T, data []byte) {
		res := loader.Files([]*catalog.File{catalog.NewFile("fuzz.yaml", data)}, nil, "fuzz.yaml", opts.CEL)
		r := check([]string{"fuzz.yaml"}, res, opts)
		for _, e := range r.Findings {
			if strings.HasPrefix(e.Msg, "internal error") {
				t.Fatalf("%s", e.Msg)
			}
		}
		var out bytes.Buffer
		for _, format := range Formats {
			if err := r.Write(&out, format); err != nil {
				t.Fatal(err)
			}
		}
	})
}
