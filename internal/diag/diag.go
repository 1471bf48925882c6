// Package diag renders HCL diagnostics for people and builds the small
// pieces (positions, "did you mean") that every loader's messages share.
package diag

import (
	"bytes"
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
	all, hidden := maskedSources(files, diags)
	tw := hcl.NewDiagnosticTextWriter(w, all, 0, color)
	for _, d := range diags {
		c := *d
		// A message may quote a piece of a line that did not parse (a word
		// of an unquoted password); what the snippet hides, it hides too.
		c.Summary, c.Detail = hideWords(c.Summary, hidden), hideWords(c.Detail, hidden)
		if d.Subject != nil {
			c.Summary = Pos(*d.Subject) + ": " + c.Summary
		}
		if err := tw.WriteDiagnostic(&c); err != nil {
			return err
		}
	}
	return nil
}

// maskedSources are the sources diagnostics point into, from files or else
// from disk, with secret values masked, and the words that masking hid (a
// message quoting one must hide it too).
func maskedSources(files map[string]*hcl.File, diags hcl.Diagnostics) (map[string]*hcl.File, []string) {
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
	var hidden []string
	for k, f := range all {
		if f == nil {
			delete(all, k)
			continue
		}
		masked := *f
		masked.Bytes = MaskSecrets(f.Bytes)
		all[k] = &masked
		hidden = append(hidden, maskedWords(f.Bytes, masked.Bytes)...)
	}
	return all, hidden
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

// assignment finds "name = …", "name: …", "name=…" and JSON's "name": …
// anywhere on a line; MaskSecrets then decides where the value ends.
var assignment = regexp.MustCompile(`([A-Za-z0-9_.-]+)("?)([ \t]*)([=:])([ \t]*)`)

// reference is an HCL value that only names another (var.metadb_password):
// no secret itself, and the context a reader needs.
var reference = regexp.MustCompile(`^(var|local|host|hosts|steps)\.[A-Za-z0-9_.\[\]"-]*\s*$`)

// MaskSecrets hides, in a source shown as a snippet, the value of every
// assignment to a name secret.IsSecretName calls secret, in HCL, INI, YAML,
// JSON or -e text alike, and whether or not the line parses: a quoted value
// up to its closing quote (or the end of the line when it is never
// closed); an unquoted one after "name = " or "name: ", or at the start of
// a line (INI [group:vars], -e), to the end of the line; an unquoted
// name=value among others (an INI host line) up to the next name=value. Each byte
// becomes '*' so that diagnostic ranges still point at the same bytes. It is
// a safety net for snippets: values are redacted by value where printed.
func MaskSecrets(src []byte) []byte {
	var out []byte
	for _, m := range assignment.FindAllSubmatchIndex(src, -1) {
		if !secret.IsSecretName(string(src[m[2]:m[3]])) {
			continue
		}
		from, to := valueSpan(src, m)
		if to <= from {
			continue
		}
		if out == nil {
			out = append([]byte(nil), src...)
		}
		for k := from; k < to; k++ {
			if out[k] != '\n' {
				out[k] = '*'
			}
		}
		// A YAML block scalar (password: |) or an HCL heredoc
		// (password = <<EOT) carries its value on the lines below.
		for k := blockEnd(src, m); to < k; to++ {
			if out[to] != '\n' && out[to] != ' ' && out[to] != '\t' {
				out[to] = '*'
			}
		}
	}
	if out == nil {
		return src
	}
	return out
}

var (
	// yamlBlock is the header of a YAML literal or folded block scalar.
	yamlBlock = regexp.MustCompile(`^[|>][0-9+-]*[ \t]*(#.*)?$`)
	// heredoc is the opening of an HCL heredoc; group 1 is its end marker.
	heredoc = regexp.MustCompile(`^<<-?([A-Za-z_][A-Za-z0-9_]*)[ \t]*$`)
)

// blockEnd is where the value assigned by match m ends when it continues
// on the lines after the assignment: the end of the last line indented
// deeper than the key (YAML block scalar), or the end of the line before an
// HCL heredoc's end marker. It is 0 when the value fits on its line.
func blockEnd(src []byte, m []int) int {
	from := m[1]
	eol := from
	for eol < len(src) && src[eol] != '\n' {
		eol++
	}
	value := bytes.TrimRight(src[from:eol], "\r")
	lineStart := m[2]
	for lineStart > 0 && src[lineStart-1] != '\n' {
		lineStart--
	}
	indent := m[2] - lineStart
	end := eol
	isYAML, hd := yamlBlock.Match(value), heredoc.FindSubmatch(value)
	if !isYAML && hd == nil {
		return 0
	}
	for k := eol; k < len(src); {
		next := k + 1
		for next < len(src) && src[next] != '\n' {
			next++
		}
		line := bytes.TrimRight(src[min(k+1, len(src)):next], "\r")
		text := bytes.TrimLeft(line, " \t")
		switch {
		case hd != nil && string(text) == string(hd[1]):
			return end
		case hd != nil:
			end = next
		case len(text) == 0:
			// a blank line inside a block scalar
		case len(line)-len(text) > indent:
			end = next
		default:
			return end
		}
		k = next
	}
	return end
}

// valueSpan finds the value assigned by match m (inside its quotes).
func valueSpan(src []byte, m []int) (int, int) {
	from := m[1]
	return from + quoteSkip(src, from), valueEnd(src, m, from) - quoteSkip(src, from)
}

// quoteSkip is 1 when the value at from is a closed quoted string.
func quoteSkip(src []byte, from int) int {
	if from < len(src) && (src[from] == '"' || src[from] == '\'') && quotedEnd(src, from) > 0 {
		return 1
	}
	return 0
}

// quotedEnd is the offset after the closing quote of the string at from, or 0.
func quotedEnd(src []byte, from int) int {
	q := src[from]
	for k := from + 1; k < len(src) && src[k] != '\n'; k++ {
		if q == '"' && src[k] == '\\' {
			k++
			continue
		}
		if src[k] == q {
			return k + 1
		}
	}
	return 0
}

// valueEnd finds where the value assigned by match m, starting at from, ends.
func valueEnd(src []byte, m []int, from int) int {
	eol := from
	for eol < len(src) && src[eol] != '\n' && src[eol] != '\r' {
		eol++
	}
	if from >= eol {
		return from
	}
	if q := src[from]; q == '"' || q == '\'' {
		if end := quotedEnd(src, from); end > 0 {
			return end
		}
		return eol // never closed: everything up to the end of the line
	}
	if reference.Match(src[from:eol]) || src[from] == '=' {
		return from // var.x, or "==" in a comparison
	}
	spaced := m[6] != m[7] || m[10] != m[11]
	lineStart := m[2]
	for lineStart > 0 && src[lineStart-1] != '\n' {
		lineStart--
	}
	atStart := len(bytes.TrimSpace(src[lineStart:m[2]])) == 0 || string(bytes.TrimSpace(src[lineStart:m[2]])) == "-"
	if spaced || atStart || src[m[8]] == ':' {
		return eol
	}
	// name=value among other pairs (an INI host line): the value ends at a
	// blank, but the words after it up to the next name=value are taken to
	// be the rest of an unquoted value with blanks.
	end := from
	for end < eol {
		k := end
		for k < eol && src[k] != ' ' && src[k] != '\t' {
			k++
		}
		if end > from && (bytes.IndexByte(src[end:k], '=') >= 0 || src[end] == '#') {
			break
		}
		end = k
		for end < eol && (src[end] == ' ' || src[end] == '\t') {
			end++
		}
	}
	for end > from && (src[end-1] == ' ' || src[end-1] == '\t') {
		end--
	}
	return end
}

// maskedWords lists the text MaskSecrets hid in src: each hidden run and
// each of its words of four characters or more.
func maskedWords(src, masked []byte) []string {
	var out []string
	for k := 0; k < len(src); {
		if masked[k] != '*' || src[k] == '*' {
			k++
			continue
		}
		e := k
		for e < len(src) && masked[e] == '*' && src[e] != '*' {
			e++
		}
		run := string(src[k:e])
		out = append(out, run)
		for _, w := range strings.FieldsFunc(run, func(r rune) bool { return r == ' ' || r == '\t' || r == '"' || r == '\'' }) {
			if len(w) >= 4 && w != run {
				out = append(out, w)
			}
		}
		k = e
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

func hideWords(s string, words []string) string {
	for _, w := range words {
		if len(w) >= 3 && strings.Contains(s, w) {
			s = strings.ReplaceAll(s, w, secret.Mask)
		}
	}
	return s
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

// UnsupportedArgument is the one message for a module argument that did not
// come from a block's own attributes — exec's -a, a with object — so both
// read alike: which name, where it came from, and a "did you mean" or the
// module's arguments.
func UnsupportedArgument(name, from string, known []string, subject *hcl.Range) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unsupported argument",
		Detail:  fmt.Sprintf("%s has %q, which this module does not take. %s", from, name, Hint(name, known, "arguments")),
		Subject: subject}
}
