// Package rules embeds the shipped catalogue, so that statusd evaluates,
// lints and explains with it when no --catalog is given.
package rules

import "embed"

// FS holds the shipped catalogue files (catalog*.yaml at this directory's
// top level); rule tests under tests/ are not embedded.
//
//go:embed catalog*.yaml
var FS embed.FS

// Files lists the catalogue files in FS.
func Files() []string {
	entries, err := FS.ReadDir(".")
	if err != nil {
		panic("rules: embedded catalogue unreadable: " + err.Error())
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}
