package catalog

import (
	"errors"

	"statusd.io/statusd/pkg/yamlpos"
)

// ErrInvalid is matched (errors.Is) by every catalogue error: it separates a
// user's broken catalogue from statusd's own failures, and from a broken
// rule test or snapshot, which have their own kinds.
var ErrInvalid = errors.New("invalid catalogue")

// The catalogue's positions, files and errors are the positioned-YAML
// toolkit's; the aliases keep the catalogue's vocabulary (catalog.Pos on
// every type, catalog.ErrorList from Parse and Compile) without a second
// implementation.
type (
	// Pos is a position in a catalogue file.
	Pos = yamlpos.Pos
	// File is one catalogue file.
	File = yamlpos.File
	// Error is one problem in a catalogue, at a position.
	Error = yamlpos.Error
	// ErrorList is every problem found in one load.
	ErrorList = yamlpos.ErrorList
)

// NewFile wraps data read from name.
func NewFile(name string, data []byte) *File { return yamlpos.NewFile(name, data) }
