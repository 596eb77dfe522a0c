package lint

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"statusd.io/statusd/pkg/catalog"
)

// Format is how a report is written.
type Format string

// The formats. Text is for people (with the offending line and a caret),
// JSON for CI systems that turn findings into annotations.
const (
	FormatText Format = "text"
	FormatJSON Format = "json"
)

// Formats lists the accepted formats, for flag help and validation.
var Formats = []Format{FormatText, FormatJSON}

// ParseFormat checks a format named on the command line.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = string(f)
	}
	return "", fmt.Errorf("unknown format %q: want %s", s, strings.Join(names, " or "))
}

// Finding is one entry of the JSON output. Its field names are a contract
// with CI scripts: add fields, never rename them.
type Finding struct {
	// File is the path as given on the command line, or as found in a
	// directory given on it.
	File string `json:"file"`
	// Line is 1-based; 0 when the problem concerns a whole file.
	Line int `json:"line"`
	// Column is 1-based; 0 when unknown.
	Column int `json:"column"`
	// Severity is "error" or "warning".
	Severity string `json:"severity"`
	// Reason is the catalogue reason the finding is in, or "".
	Reason string `json:"reason"`
	// Message says what is wrong, without the position.
	Message string `json:"message"`
}

// Severities used in Finding.Severity.
const (
	SeverityError   = "error"
	SeverityWarning = "warning"
	// SeverityNote is information that never fails a run, such as a
	// source whose objects stay untyped.
	SeverityNote = "note"
)

// NewFinding converts a catalogue error to its JSON form.
func NewFinding(e *catalog.Error) Finding {
	sev := SeverityError
	switch {
	case e.Note:
		sev = SeverityNote
	case e.Warning:
		sev = SeverityWarning
	}
	return Finding{File: e.Pos.File, Line: e.Pos.Line, Column: e.Pos.Col, Severity: sev, Reason: e.Reason, Message: e.Msg}
}

// Write prints the findings in format f: text gives each finding as
// file:line:col: message followed by the source line and a caret; JSON
// gives one array, empty when the catalogue is clean, so that a CI step can
// always parse it.
func (r *Report) Write(w io.Writer, f Format) error {
	switch f {
	case FormatJSON:
		out := make([]Finding, len(r.Findings))
		for i, e := range r.Findings {
			out[i] = NewFinding(e)
		}
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return fmt.Errorf("write lint report: %w", err)
		}
		return nil
	case FormatText, "":
		for _, e := range r.Findings {
			if _, err := fmt.Fprintln(w, e.Error()); err != nil {
				return fmt.Errorf("write lint report: %w", err)
			}
		}
		return nil
	}
	return fmt.Errorf("write lint report: unknown format %q", f)
}
