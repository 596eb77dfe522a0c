package main

import (
	"fmt"
	"io"

	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/loader"
)

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
