package main

import (
	"fmt"
	"io"
	"strings"

	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/loader"
)

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// loadCatalog loads and compiles the catalogue at paths, or the embedded
// shipped catalogue when paths is empty (pkg/loader). Errors are printed in
// full; the caller only needs to know whether to go on.
func loadCatalog(paths []string, opts cel.Options, stderr io.Writer) (*cel.Catalog, bool) {
	res := loader.Paths(paths, opts)
	if res.Err() != nil {
		fmt.Fprintln(stderr, res.Problems.Errors().Error())
		return nil, false
	}
	return res.Catalog, true
}
