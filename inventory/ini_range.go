package inventory

import (
	"fmt"
	"strconv"
	"strings"
)

// expandRanges expands every [a:b] or [a:b:step] in a host pattern: numeric
// (keeping leading zeros, web[01:03]) or alphabetic ([a:c]).
func expandRanges(p string) ([]string, error) {
	open := strings.IndexByte(p, '[')
	if open < 0 {
		if strings.ContainsRune(p, ']') {
			return nil, fmt.Errorf("%q has ']' without '['", p)
		}
		return []string{p}, nil
	}
	end := strings.IndexByte(p[open:], ']')
	if end < 0 {
		return nil, fmt.Errorf("the range in %q is not closed with ']'", p)
	}
	end += open
	items, err := rangeItems(p[open+1 : end])
	if err != nil {
		return nil, fmt.Errorf("%q: %w; write ranges as [01:10] or [a:f]", p, err)
	}
	rest, err := expandRanges(p[end+1:])
	if err != nil {
		return nil, err
	}
	if len(items)*len(rest) > maxExpand {
		return nil, fmt.Errorf("%q expands to more than %d hosts", p, maxExpand)
	}
	var out []string
	for _, it := range items {
		for _, r := range rest {
			out = append(out, p[:open]+it+r)
		}
	}
	return out, nil
}

func rangeItems(spec string) ([]string, error) {
	parts := strings.Split(spec, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return nil, fmt.Errorf("a range needs a start and an end separated by ':'")
	}
	lo, hi := parts[0], parts[1]
	step := 1
	if len(parts) == 3 {
		n, err := strconv.Atoi(parts[2])
		if err != nil || n < 1 {
			return nil, fmt.Errorf("the step %q must be a positive number", parts[2])
		}
		step = n
	}
	if a, errA := strconv.Atoi(lo); errA == nil {
		z, errB := strconv.Atoi(hi)
		if errB != nil || a < 0 || z < a {
			return nil, fmt.Errorf("the range [%s:%s] must go from a number up to a larger one", lo, hi)
		}
		if (z-a)/step+1 > maxExpand {
			return nil, fmt.Errorf("the range [%s:%s] holds more than %d hosts", lo, hi, maxExpand)
		}
		width := 0
		if len(lo) > 1 && lo[0] == '0' {
			width = len(lo)
		}
		var out []string
		for i := a; i <= z; i += step {
			out = append(out, fmt.Sprintf("%0*d", width, i))
		}
		return out, nil
	}
	if len(lo) == 1 && len(hi) == 1 && isLetter(lo[0]) && isLetter(hi[0]) && lo[0] <= hi[0] {
		var out []string
		for c := int(lo[0]); c <= int(hi[0]); c += step {
			out = append(out, string(rune(c)))
		}
		return out, nil
	}
	return nil, fmt.Errorf("[%s:%s] is neither a number range nor a letter range", lo, hi)
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// outsideBrackets drops the [..] ranges of a pattern, whose ':' are not a port.
func outsideBrackets(p string) string {
	var sb strings.Builder
	depth := 0
	for _, c := range p {
		switch {
		case c == '[':
			depth++
		case c == ']' && depth > 0:
			depth--
		case depth == 0:
			sb.WriteRune(c)
		}
	}
	return sb.String()
}
