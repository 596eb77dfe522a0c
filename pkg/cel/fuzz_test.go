package cel_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/cel"
)

// compileTimeout bounds one Parse and Compile in the fuzz target.
const compileTimeout = 20 * time.Second

// FuzzCompile decodes arbitrary bytes and compiles whatever decoded, valid
// or not, as lint does: neither may panic or hang, and every finding must
// point into the file.
func FuzzCompile(f *testing.F) {
	for _, pattern := range []string{"testdata/*.yaml", "../catalog/testdata/*.yaml", "../catalog/testdata/*/*.yaml"} {
		seeds, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, s := range seeds {
			// As in pkg/catalog's FuzzLoad: the alias-expansion files take
			// seconds per Parse, and seeded with them the fuzzer makes no
			// progress on two cores; the decoder's limits have their tests.
			if base := filepath.Base(s); strings.HasPrefix(base, "aliases") || strings.HasPrefix(base, "billion-laughs") {
				continue
			}
			data, err := os.ReadFile(s)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		done := make(chan catalog.ErrorList, 1)
		go func() {
			src, _ := catalog.Parse(catalog.NewFile("fuzz.yaml", data))
			_, errs := cel.Compile(src, cel.Options{})
			done <- errs
		}()
		var errs catalog.ErrorList
		select {
		case errs = <-done:
		case <-time.After(compileTimeout):
			t.Fatalf("Parse and Compile did not return within %s", compileTimeout)
		}
		for _, e := range errs {
			if e.Pos.File != "fuzz.yaml" || e.Pos.Line < 1 {
				t.Errorf("finding without a position in the file: %q", e.Head())
			}
			_ = e.Error()
		}
	})
}
