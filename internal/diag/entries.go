package diag

import (
	"github.com/hashicorp/hcl/v2"
)

// Entry is one diagnostic as a script reads it (omsrun --json): where, and
// what is wrong, without the source snippet.
type Entry struct {
	Severity string `json:"severity"`
	File     string `json:"file,omitempty"`
	Line     int    `json:"line,omitempty"`
	Column   int    `json:"column,omitempty"`
	Summary  string `json:"summary"`
	Detail   string `json:"detail,omitempty"`
}

// Entries are diags for a machine reader. A message that quotes a piece of
// an input that did not parse is masked exactly as Render masks it, so the
// JSON form shows no secret the text form hides.
func Entries(files map[string]*hcl.File, diags hcl.Diagnostics) []Entry {
	_, hidden := maskedSources(files, diags)
	out := make([]Entry, 0, len(diags))
	for _, d := range diags {
		e := Entry{Severity: "error", Summary: hideWords(d.Summary, hidden), Detail: hideWords(d.Detail, hidden)}
		if d.Severity == hcl.DiagWarning {
			e.Severity = "warning"
		}
		if d.Subject != nil {
			e.File, e.Line, e.Column = d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column
		}
		out = append(out, e)
	}
	return out
}
