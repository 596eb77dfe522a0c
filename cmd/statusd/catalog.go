package main

import (
	"fmt"
	"io"
	"strings"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/rules"
)

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// loadCatalog loads and compiles the catalogue at paths, or the embedded
// shipped catalogue when paths is empty. Errors are printed in full; the
// caller only needs to know whether to go on.
func loadCatalog(paths []string, opts cel.Options, stderr io.Writer) (*cel.Catalog, bool) {
	var src *catalog.Catalog
	var errs catalog.ErrorList
	if len(paths) == 0 {
		src, errs = catalog.LoadFS(rules.FS, rules.Files()...)
	} else {
		src, errs = catalog.Load(paths...)
	}
	if errs.Err() != nil {
		fmt.Fprintln(stderr, errs.Errors().Error())
		return nil, false
	}
	c, errs := cel.Compile(src, opts)
	if errs.Err() != nil {
		fmt.Fprintln(stderr, errs.Errors().Error())
		return nil, false
	}
	return c, true
}
