// Package diag renders HCL diagnostics for people and builds the small
// pieces (positions, "did you mean") that every loader's messages share.
package diag

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	hcljson "github.com/hashicorp/hcl/v2/json"

	"github.com/omsrun/omsrun/internal/secret"
)

// Render writes every diagnostic with its source snippet. Each one starts with
// "Error: file:line:col: summary" so the position is greppable even when the
// snippet cannot be shown (a file that is not in files, say).
//
// Files missing from files are read from disk, so a loader that failed (and
// returned no parsed files) still gets snippets.
func Render(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics, color bool) error {
	all := map[string]*hcl.File{}
	for k, f := range files {
		all[k] = f
	}
	for _, d := range diags {
		if d.Subject == nil || all[d.Subject.Filename] != nil {
			continue
		}
		name := d.Subject.Filename
		all[name] = nil
		if st, err := os.Stat(name); err == nil && st.Mode().IsRegular() && st.Size() <= MaxFileSize {
			if src, err := os.ReadFile(name); err == nil && CheckSource(name, src) == nil {
				all[name] = parseForContext(name, src)
			}
		}
	}
	for k, f := range all {
		if f == nil {
			delete(all, k)
			continue
		}
		masked := *f
		masked.Bytes = MaskSecrets(f.Bytes)
		all[k] = &masked
	}
	tw := hcl.NewDiagnosticTextWriter(w, all, 0, color)
	for _, d := range diags {
		c := *d
		if d.Subject != nil {
			c.Summary = Pos(*d.Subject) + ": " + d.Summary
		}
		if err := tw.WriteDiagnostic(&c); err != nil {
			return err
		}
	}
	return nil
}

// Pos formats the start of r as file:line:col.
func Pos(r hcl.Range) string {
	return fmt.Sprintf("%s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
}

// Suggest returns the option closest to given, or "" when none is close enough
// to be a plausible typo.
func Suggest(given string, options []string) string {
	best, bestDist := "", 3
	for _, o := range options {
		if d := levenshtein.Distance(given, o, nil); d < bestDist {
			best, bestDist = o, d
		}
	}
	return best
}

// Hint turns Suggest's answer into a sentence for a diagnostic's detail: a
// "did you mean" when a name is close, else the list of valid names.
func Hint(given string, options []string, what string) string {
	if s := Suggest(given, options); s != "" {
		return fmt.Sprintf("Did you mean %q?", s)
	}
	return List(options, what)
}

// List names the valid options, for a hint when nothing is close to a typo.
func List(options []string, what string) string {
	if len(options) == 0 {
		return ""
	}
	sorted := append([]string(nil), options...)
	sort.Strings(sorted)
	const max = 12
	more := ""
	if len(sorted) > max {
		more = fmt.Sprintf(", … (%d more)", len(sorted)-max)
		sorted = sorted[:max]
	}
	return fmt.Sprintf("Valid %s: %s%s.", what, strings.Join(sorted, ", "), more)
}

// FileStart is the range of a file's first character, for problems that
// concern the whole file (empty, unreadable, binary).
func FileStart(filename string) *hcl.Range {
	return &hcl.Range{
		Filename: filename,
		Start:    hcl.Pos{Line: 1, Column: 1, Byte: 0},
		End:      hcl.Pos{Line: 1, Column: 1, Byte: 0},
	}
}

// Errorf builds one error diagnostic at subject.
func Errorf(subject *hcl.Range, summary, detailFormat string, args ...any) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(detailFormat, args...),
		Subject:  subject,
	}
}

// Ptr returns a pointer to a copy of r, for Diagnostic.Subject.
func Ptr(r hcl.Range) *hcl.Range { return &r }

// parseForContext parses an HCL or JSON source so that snippets name their
// enclosing block ("in step \"x\"") exactly as when the loader's own
// parsed files are given; other sources (INI) are shown as plain text.
func parseForContext(name string, src []byte) *hcl.File {
	var f *hcl.File
	switch strings.ToLower(filepath.Ext(name)) {
	case ".hcl", ".tfvars":
		f, _ = hclsyntax.ParseConfig(src, name, hcl.InitialPos)
	case ".json":
		f, _ = hcljson.Parse(src, name)
	}
	if f == nil || f.Bytes == nil {
		return &hcl.File{Bytes: src}
	}
	return f
}

// secretQuoted finds quoted values assigned to a name (become_password =
// "…", "api_token": "…"); secretBare finds INI style ones (ansible_password=…).
// A bare value after " = " is an HCL expression, such as var.metadb_password,
// and is not a secret itself. Whether the name is a secret's is decided by
// secret.IsSecretName, the one rule every output uses.
var (
	secretQuoted = regexp.MustCompile(`([A-Za-z0-9_.-]+)"?[ \t]*[=:][ \t]*("(?:[^"\\\n]|\\.)*"|'[^'\n]*')`)
	secretBare   = regexp.MustCompile(`([A-Za-z0-9_.-]+)=([^\s"'][^\s]*)`)
)

// MaskSecrets hides, in a source shown as a snippet, the values assigned to
// secret-looking names. Each byte becomes '*' so that diagnostic ranges
// still point at the same bytes. It is a safety net for snippets only:
// values are redacted properly, by value, where they are printed.
func MaskSecrets(src []byte) []byte {
	var idx [][]int
	for _, re := range []*regexp.Regexp{secretQuoted, secretBare} {
		for _, m := range re.FindAllSubmatchIndex(src, -1) {
			if secret.IsSecretName(string(src[m[2]:m[3]])) {
				idx = append(idx, m)
			}
		}
	}
	if idx == nil {
		return src
	}
	out := append([]byte(nil), src...)
	for _, m := range idx {
		from, to := m[4], m[5]
		if to-from >= 2 && (out[from] == '"' || out[from] == '\'') {
			from, to = from+1, to-1
		}
		// Byte for byte, so that every range's byte offsets stay right.
		for i := from; i < to; i++ {
			out[i] = '*'
		}
	}
	return out
}

// ExplainUnsupported adds to each of HCL's "unsupported argument" or
// "unsupported block type" errors about body the list of valid names, when
// HCL had no "did you mean" to offer (its rule is Suggest's). The errors are
// found by where they point — at the name of an attribute or block of body
// that names lists not — never by their wording, which an HCL upgrade may
// change.
func ExplainUnsupported(diags hcl.Diagnostics, body hcl.Body, names []string, what string) {
	sb, ok := body.(*hclsyntax.Body)
	if !ok {
		return
	}
	known := map[string]bool{}
	for _, n := range names {
		known[n] = true
	}
	unexpected := map[hcl.Range]string{}
	for n, a := range sb.Attributes {
		if !known[n] {
			unexpected[a.NameRange] = n
		}
	}
	for _, b := range sb.Blocks {
		if !known[b.Type] {
			unexpected[b.TypeRange] = b.Type
		}
	}
	for _, d := range diags {
		if d.Subject == nil || d.Severity != hcl.DiagError {
			continue
		}
		if n, ok := unexpected[*d.Subject]; ok && Suggest(n, names) == "" {
			d.Detail += " " + List(names, what)
		}
	}
}
