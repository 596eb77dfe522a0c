// Package catalog is the catalogue format: the YAML that operators write to
// declare statusd's reasons, and its strict decoder.
//
// The format lives apart from CEL (pkg/cel compiles the expressions), in the
// manner of Prometheus's rulefmt, so that lint reports YAML and reference
// errors even when an expression is broken, and so that every tool that
// reads a catalogue (lint, test, eval, run) reads it through the same code.
//
// Decoding is strict and positional: an unknown field, a duplicate key or a
// wrong type is an Error naming file, line and column, and decoding carries
// on so that one run reports every problem. Expressions keep their YAML
// position (Expr.Locate) so that CEL errors can be re-based onto the file
// with a caret under the bad token.
//
// A catalogue may be split over several files; Load merges them, and a
// name declared twice is an error at the second place, naming the first.
package catalog
