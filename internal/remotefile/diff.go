package remotefile

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"
)

// diffContext is the number of unchanged lines shown around each change.
const diffContext = 3

// maxDiffCells bounds the line-diff table (old lines × new lines); larger
// files get a one-line summary instead of a slow diff.
const maxDiffCells = 4_000_000

// Diff returns a unified diff from old to new ("" when equal). redact, when
// not nil, is applied to every line shown, so passwords never reach a diff.
// Binary content gets a one-line summary.
func Diff(old, new []byte, redact func(string) string) string {
	if bytes.Equal(old, new) {
		return ""
	}
	if redact == nil {
		redact = func(s string) string { return s }
	}
	if isBinary(old) || isBinary(new) {
		return fmt.Sprintf("binary content differs (%d bytes → %d bytes)\n", len(old), len(new))
	}
	a, b := splitLines(old), splitLines(new)
	if len(a)*len(b) > maxDiffCells {
		return fmt.Sprintf("content differs (%d lines → %d lines; too large to diff)\n", len(a), len(b))
	}
	ops := lineOps(a, b)

	var out strings.Builder
	out.WriteString("--- before\n+++ after\n")
	// Walk the edit script and cut it into hunks of changes with context.
	for i := 0; i < len(ops); {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		start := max(i-diffContext, 0)
		end := i
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			run := end
			for run < len(ops) && ops[run].kind == ' ' {
				run++
			}
			if run == len(ops) || run-end > 2*diffContext {
				end = min(end+diffContext, len(ops))
				break
			}
			end = run
		}
		hunk := ops[start:end]
		oldStart, newStart := hunk[0].a+1, hunk[0].b+1
		var oldN, newN int
		for _, o := range hunk {
			if o.kind != '+' {
				oldN++
			}
			if o.kind != '-' {
				newN++
			}
		}
		if oldN == 0 {
			oldStart--
		}
		if newN == 0 {
			newStart--
		}
		fmt.Fprintf(&out, "@@ -%d,%d +%d,%d @@\n", oldStart, oldN, newStart, newN)
		for _, o := range hunk {
			out.WriteByte(o.kind)
			out.WriteString(redact(o.text))
			out.WriteByte('\n')
			if o.noEOL {
				out.WriteString("\\ No newline at end of file\n")
			}
		}
		i = end
	}
	return out.String()
}

type line struct {
	text  string
	noEOL bool // the last line of a file without a trailing newline
}

type op struct {
	kind  byte // ' ', '-', '+'
	text  string
	noEOL bool
	a, b  int // line index in old and new at this point
}

func splitLines(b []byte) []line {
	if len(b) == 0 {
		return nil
	}
	parts := strings.Split(string(b), "\n")
	noEOL := parts[len(parts)-1] != ""
	if !noEOL {
		parts = parts[:len(parts)-1]
	}
	out := make([]line, len(parts))
	for i, p := range parts {
		out[i] = line{text: p}
	}
	out[len(out)-1].noEOL = noEOL
	return out
}

// lineOps computes an edit script from a to b by longest common subsequence.
func lineOps(a, b []line) []op {
	n, m := len(a), len(b)
	// lcs[i][j] is the LCS length of a[i:] and b[j:].
	lcs := make([][]int32, n+1)
	for i := range lcs {
		lcs[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var ops []op
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			ops = append(ops, op{kind: ' ', text: a[i].text, noEOL: a[i].noEOL, a: i, b: j})
			i++
			j++
		// Removals first on ties, so a changed line shows as - then +.
		case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
			ops = append(ops, op{kind: '-', text: a[i].text, noEOL: a[i].noEOL, a: i, b: j})
			i++
		default:
			ops = append(ops, op{kind: '+', text: b[j].text, noEOL: b[j].noEOL, a: i, b: j})
			j++
		}
	}
	return ops
}

func isBinary(b []byte) bool {
	return bytes.IndexByte(b, 0) >= 0 || !utf8.Valid(b)
}
