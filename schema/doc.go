// Package schema generates catalog.schema.json, the JSON Schema that
// editors (yaml-language-server, and through it VS Code, Neovim and Helix)
// use to complete and check catalogues as they are typed.
//
// The schema is generated, never written by hand, so that it cannot drift
// from the format: the property names, nesting and requiredness come from
// the json tags of pkg/catalog's types by reflection (the same tags the
// strict decoder reads), and every description comes from the doc comment
// of the Go field it describes, read from the source with go/doc. Only the
// union and scalar types whose YAML form is not a plain mapping
// (Namespaces, Grace, Join, IntOrString, Duration, Expr, Param, Severity)
// are mapped by hand, next to the generator.
//
// The schema targets JSON Schema draft-07, the draft yaml-language-server
// fully supports. TestSchema fails when the committed file is stale; make
// generate (go test ./schema -run TestSchema -update) rewrites it.
package schema
