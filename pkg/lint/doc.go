// Package lint checks catalogues before they reach a cluster, through the
// same decoder (pkg/catalog) and compiler (pkg/cel) the daemon loads them
// with, so a file lint accepts is exactly a file statusd runs.
//
// Like promtool check rules, lint reports every problem of every file in
// one run, sorted by position, as file:line:col: message with a caret under
// the offending token, or as JSON for CI annotations. YAML problems and CEL
// problems come out together: the compiler still runs when the only problems
// are field-level decoding or validation errors (an unknown field, a missing
// summary), because the expressions it checks were decoded regardless. It is
// skipped only when a file could not be read or parsed as YAML, since then
// whole declarations are missing and every reference to them would be
// reported as a second, misleading error.
package lint
