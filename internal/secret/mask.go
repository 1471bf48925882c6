package secret

import (
	"regexp"
	"strings"

	"github.com/zclconf/go-cty/cty"
)

// The forms in which text from a host names a secret by its key; for each,
// IsSecretName decides whether the key is a secret's.
var (
	// keyLine: "key: value" and "key=value" lines (config.yaml's
	// oms_meta_password, an env file's TOKEN=…), with an optional diff
	// marker and a YAML list item's "- " in front; the rest of the line is
	// the value.
	keyLine = regexp.MustCompile(`(?m)^([-+ ]?[ \t]*(?:-[ \t]+)?([\w.-]+)[ \t]*[:=][ \t]*)(\S.*)$`)
	// spaceLine: "key value" lines with one word of value (keepalived.conf's
	// `auth_pass …`).
	spaceLine = regexp.MustCompile(`(?m)^([-+ ]?[ \t]*([\w.-]+)[ \t]+)(\S+)[ \t]*$`)
	// inlinePair: key=value anywhere in a line (an inventory's
	// `ansible_ssh_pass=…`, `--password=…`, docker inspect's "TSDB_PASSWORD=…",
	// a URL's ?password=…). The first group is what comes before the key.
	inlinePair = regexp.MustCompile(`(^|[^\w.-])([\w.-]+)=('[^']*'|"[^"]*"|[^\s,;'"&]+)`)
	// jsonKey: "key": in JSON (docker inspect, an API's answer); maskJSON
	// finds where its value ends.
	jsonKey = regexp.MustCompile(`"([\w.-]+)"[ \t]*:[ \t]*`)
	// urlUser: a URL's user:password@ (redis://:pw@host, http://u:pw@host);
	// the first group is kept.
	urlUser = regexp.MustCompile(`([a-zA-Z][\w+.-]*://[^\s:/@]*:)[^\s@/]+@`)
)

// ScrubOutput is Scrub for text that came back from a host: besides the
// known values it masks every value whose key names a secret, because a
// remote file can hold a password this run was never told (`omsrun exec --
// cat config.yaml`).
func (r *Redactor) ScrubOutput(s string) string {
	s = r.Scrub(s)
	return MaskKeyLines(s)
}

// MaskKeyLines replaces the value of every key whose name IsSecretName,
// whatever the value is, in each form a host's text shows keys in: "key:
// value" and "key=value" lines, "key value" lines, key=value pairs inside a
// line and JSON's "key": value.
func MaskKeyLines(s string) string {
	s = keyLine.ReplaceAllStringFunc(s, func(line string) string {
		m := keyLine.FindStringSubmatch(line)
		if !IsSecretName(m[2]) {
			return line
		}
		return m[1] + Mask
	})
	s = spaceLine.ReplaceAllStringFunc(s, func(line string) string {
		m := spaceLine.FindStringSubmatch(line)
		if !IsSecretName(m[2]) {
			return line
		}
		return m[1] + Mask
	})
	s = maskPairs(s)
	s = urlUser.ReplaceAllString(s, "${1}"+Mask+"@")
	return maskJSON(s)
}

// maskJSON replaces the value of every JSON "key": whose key IsSecretName
// with the string Mask, whatever the value is: a string, a number, null,
// or a whole object or array (`"password": {…}` — whatever it holds is
// the secret's), so the JSON stays valid.
func maskJSON(s string) string {
	var b strings.Builder
	done := 0
	for _, m := range jsonKey.FindAllStringSubmatchIndex(s, -1) {
		if m[0] < done || !IsSecretName(s[m[2]:m[3]]) {
			continue
		}
		end := jsonValueEnd(s, m[1])
		if end == m[1] {
			continue
		}
		b.WriteString(s[done:m[1]])
		b.WriteString(`"` + Mask + `"`)
		done = end
	}
	return b.String() + s[done:]
}

// jsonValueEnd is where the JSON value that starts at i ends: after its
// closing quote or bracket, or at the end of s when the text was cut off
// (better to hide the rest than show a part of the secret).
func jsonValueEnd(s string, i int) int {
	if i >= len(s) {
		return i
	}
	if s[i] != '"' && s[i] != '{' && s[i] != '[' {
		j := i
		for j < len(s) && !strings.ContainsRune(" \t\r\n,}]", rune(s[j])) {
			j++
		}
		return j
	}
	depth, inString := 0, false
	for j := i; j < len(s); j++ {
		switch c := s[j]; {
		case inString && c == '\\':
			j++
		case c == '"':
			inString = !inString
			if !inString && depth == 0 {
				return j + 1
			}
		case inString:
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			if depth--; depth == 0 {
				return j + 1
			}
		}
	}
	return len(s)
}

// maskPairs masks the value of every inline key=value pair whose key
// IsSecretName. A value that is not a secret's is searched too: it may hold
// the next pair (`cmd=MYSQL_PWD=…`, `-e 'TOKEN=…'`).
func maskPairs(s string) string {
	return inlinePair.ReplaceAllStringFunc(s, func(pair string) string {
		m := inlinePair.FindStringSubmatch(pair)
		switch {
		case m[3] == Mask:
			return pair
		case IsSecretName(m[2]):
			return m[1] + m[2] + "=" + Mask
		case strings.Contains(m[3], "="):
			return m[1] + m[2] + "=" + maskPairs(m[3])
		}
		return pair
	})
}

// ScrubOutputValue is ScrubOutput for a module's outputs: every string in v,
// at any depth, is scrubbed, and a string held under a key that IsSecretName
// becomes Mask. Marks are kept, so the result is the same value to anything
// but a reader's eyes.
func (r *Redactor) ScrubOutputValue(v cty.Value) cty.Value {
	plain, marks := v.UnmarkDeepWithPaths()
	out, err := cty.Transform(plain, func(p cty.Path, x cty.Value) (cty.Value, error) {
		if x.IsNull() || !x.IsKnown() || x.Type() != cty.String {
			return x, nil
		}
		if len(p) > 0 && IsSecretName(stepName(p[len(p)-1])) {
			return cty.StringVal(Mask), nil
		}
		return cty.StringVal(r.ScrubOutput(x.AsString())), nil
	})
	if err != nil {
		// Transform fails only when the callback does, which it never does;
		// show nothing rather than risk the unscrubbed value.
		return cty.StringVal(Mask)
	}
	return out.MarkWithPaths(marks)
}

// stepName is the attribute or map key a path step names, "" for an index.
func stepName(s cty.PathStep) string {
	switch s := s.(type) {
	case cty.GetAttrStep:
		return s.Name
	case cty.IndexStep:
		if s.Key.Type() == cty.String && s.Key.IsKnown() && !s.Key.IsNull() {
			return s.Key.AsString()
		}
	}
	return ""
}
