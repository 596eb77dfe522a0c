// Package yamlpos reads YAML files strictly and keeps positions: a File
// holds the bytes and a line index for caret snippets, a Decoder decodes
// nodes into Go values reporting unknown fields, duplicate keys and wrong
// types at file:line:col and going on after an error, and Error and
// ErrorList render those problems the way promtool does.
//
// It is the shared toolkit of statusd's file formats (the catalogue, rule
// tests and snapshots); it knows none of them. Each format gives its errors
// its own kind (an errors.Is sentinel), so that a broken snapshot is not
// mistaken for a broken catalogue.
package yamlpos
