// Package textx holds small text helpers the modules share: the tail of a
// command's output, multi-part read scripts, byte counts for messages.
package textx

import (
	"fmt"
	"strings"
)

// TailLines returns the last n non-empty lines of s, joined by newlines.
func TailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n\r\t "), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// SplitSections splits the output of a multi-part read script at lines equal
// to marker; one SSH session then answers several questions at once.
func SplitSections(out, marker string) []string {
	var parts []string
	var cur strings.Builder
	for _, line := range strings.SplitAfter(out, "\n") {
		if strings.TrimRight(line, "\r\n") == marker {
			parts = append(parts, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteString(line)
	}
	return append(parts, cur.String())
}

// HumanBytes formats n in binary units for messages.
func HumanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
