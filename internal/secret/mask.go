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
	// marker in front; the rest of the line is the value.
	keyLine = regexp.MustCompile(`(?m)^([-+ ]?[ \t]*([\w.-]+)[ \t]*[:=][ \t]*)(\S.*)$`)
	// spaceLine: "key value" lines with one word of value (keepalived.conf's
	// `auth_pass …`).
	spaceLine = regexp.MustCompile(`(?m)^([-+ ]?[ \t]*([\w.-]+)[ \t]+)(\S+)[ \t]*$`)
	// inlinePair: key=value anywhere in a line (an inventory's
	// `ansible_ssh_pass=…`, `--password=…`, docker inspect's "TSDB_PASSWORD=…",
	// a URL's ?password=…). The first group is what comes before the key.
	inlinePair = regexp.MustCompile(`(^|[^\w.-])([\w.-]+)=('[^']*'|"[^"]*"|[^\s,;'"&]+)`)
	// jsonPair: "key": value in JSON (docker inspect, an API's answer).
	jsonPair = regexp.MustCompile(`"([\w.-]+)"([ \t]*:[ \t]*)("(?:[^"\\]|\\.)*"|[^\s,}\]]+)`)
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
	return jsonPair.ReplaceAllStringFunc(s, func(pair string) string {
		m := jsonPair.FindStringSubmatch(pair)
		if !IsSecretName(m[1]) {
			return pair
		}
		return `"` + m[1] + `"` + m[2] + `"` + Mask + `"`
	})
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

// MaskArgs returns a command line's words with every secret value masked, for
// a record of what ran: key=value and "key: value" words whose key
// IsSecretName (MaskKeyLines), the word after a flag that names a secret
// (`--password X`), and the same inside a word that is itself a command
// (`sh -c 'mysql --password X'`).
func MaskArgs(words []string) []string {
	out := make([]string, len(words))
	secretFlag := false
	for i, w := range words {
		switch {
		case secretFlag:
			out[i] = Mask
		case strings.ContainsAny(w, " \t\n"):
			out[i] = strings.Join(MaskArgs(strings.Fields(w)), " ")
		default:
			out[i] = MaskKeyLines(w)
		}
		secretFlag = strings.HasPrefix(w, "-") && !strings.Contains(w, "=") && IsSecretName(strings.TrimLeft(w, "-"))
	}
	return out
}
