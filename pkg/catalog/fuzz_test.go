package catalog_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"statusd.io/statusd/pkg/catalog"
)

// parseTimeout bounds one Parse in the fuzz target. Parse of a fuzz input
// takes milliseconds; only a runaway (an alias expansion past the decoder's
// node limit, a quadratic check) comes near it.
const parseTimeout = 10 * time.Second

// slowSeed reports the testdata files left out of the fuzz corpora: the
// alias-expansion files exist to reach the decoder's node limits (their
// own tests check those), so one Parse of them, or of any mutation of
// them, takes up to seconds, and seeded with them the fuzzer spends its
// time there and makes no progress on two cores.
func slowSeed(name string) bool {
	base := filepath.Base(name)
	return strings.HasPrefix(base, "aliases") || strings.HasPrefix(base, "billion-laughs")
}

// FuzzLoad feeds arbitrary bytes to the decoder and validator. No input may
// panic, hang or blow up: aliases can make a few bytes expand without
// bound, which the decoder's node limit must stop. Every finding must be
// printable and point into the file.
func FuzzLoad(f *testing.F) {
	for _, pattern := range []string{"testdata/*.yaml", "testdata/*/*.yaml"} {
		seeds, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, s := range seeds {
			if slowSeed(s) {
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
		type result struct {
			c    *catalog.Catalog
			errs catalog.ErrorList
		}
		done := make(chan result, 1)
		go func() {
			c, errs := catalog.Parse(catalog.NewFile("fuzz.yaml", data))
			done <- result{c, errs}
		}()
		var r result
		select {
		case r = <-done:
		case <-time.After(parseTimeout):
			t.Fatalf("Parse did not return within %s", parseTimeout)
		}
		if r.c == nil {
			t.Fatal("Parse returned a nil catalogue")
		}
		// yaml.v3 also breaks lines at CR, NEL, LS and PS; \r\n counts
		// twice here, which only loosens the bound.
		lines := 1
		for _, brk := range []string{"\n", "\r", "\u0085", "\u2028", "\u2029"} {
			lines += bytes.Count(data, []byte(brk))
		}
		for _, e := range r.errs {
			if e.Pos.File != "fuzz.yaml" {
				t.Errorf("finding outside the file: %q", e.Head())
			}
			if e.Pos.Line < 0 || e.Pos.Line > lines {
				t.Errorf("finding at line %d of %d: %q", e.Pos.Line, lines, e.Head())
			}
			if e.Msg == "" {
				t.Errorf("finding without a message at %s", e.Pos)
			}
			_ = e.Error()
		}
		if len(r.errs.Errors()) > 0 && r.errs.Err() == nil {
			t.Error("errors present but Err() is nil")
		}
	})
}

// FuzzParseDuration feeds durations in both syntaxes: no input panics, and
// what parses is never negative.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"0", "30s", "5m", "1h30m", "2d", "1w", "1.5h", "-5m", "", "5", "1y", "9999999999999h", "1e3s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := catalog.ParseDuration(s)
		if err == nil && d < 0 {
			t.Fatalf("%q parsed to a negative duration %s", s, d)
		}
	})
}
