package main

import (
	"flag"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/loader"
	"statusd.io/statusd/pkg/ruletest"
	"statusd.io/statusd/pkg/snapshot"
)

// addInputCaps registers the flags that raise the size caps of input
// files, and the compile budget of a catalogue, on every command that
// reads them, so that the flag an error names is accepted wherever the
// error can appear.
func addInputCaps(fs *flag.FlagSet) {
	fs.Int64Var(&catalog.MaxBytes, catalog.MaxBytesFlag[2:], catalog.DefaultMaxBytes,
		"most bytes a catalogue may hold, all its files and includes together")
	fs.Int64Var(&snapshot.MaxBytes, snapshot.MaxBytesFlag[2:], snapshot.DefaultMaxBytes,
		"most bytes a snapshot file may hold")
	fs.Int64Var(&ruletest.MaxBytes, ruletest.MaxBytesFlag[2:], ruletest.DefaultMaxBytes,
		"most bytes a rule-test file, or an objects file it names, may hold")
	fs.DurationVar(&loader.CompileBudget, loader.CompileBudgetFlag[2:], cel.DefaultCompileBudget,
		"most CPU time compiling a catalogue may take before it is refused (0 or less: no limit)")
}
