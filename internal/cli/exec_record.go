package cli

import (
	"fmt"
	"strings"

	"github.com/mattn/go-shellwords"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/omsrun/omsrun/internal/secret"
	"github.com/omsrun/omsrun/internal/transport"
)

// execCommand is what exec records of its command, in its audit line on
// the hosts and in its history, since its playbook is only "exec": the
// words as given, each secret masked (secret.MaskArgs) and quoted as the
// shell would need them. attrs are the -a words parsed (parseModuleArgs).
func execCommand(module, moduleArgs string, attrs map[string]cty.Value, rest []string) string {
	if len(rest) > 0 {
		return "-- " + shellJoin(secret.MaskArgs(rest))
	}
	s := "-m " + module
	if moduleArgs == "" {
		return s
	}
	words, err := shellwords.Parse(moduleArgs)
	if err != nil {
		// Not reached: the arguments parsed before the run.
		words = strings.Fields(moduleArgs)
	}
	for i, w := range words {
		k, v, _ := strings.Cut(w, "=")
		val, ok := attrs[k]
		switch {
		case secret.IsSecretName(k):
			words[i] = k + "=" + secret.Mask
		case ok && (strings.HasPrefix(v, "[") || strings.HasPrefix(v, "{")):
			// A list such as argv=["mysql","--password","…"]: its strings
			// are a command's words too.
			words[i] = k + "=" + maskedHCL(val)
		default:
			words[i] = secret.MaskArgs([]string{w})[0]
		}
	}
	return s + fmt.Sprintf(" -a %q", shellJoin(words))
}

// maskedHCL is an -a list or object as JSON (which HCL reads too) with its
// secrets masked: a list of strings as a command's words, then every
// string as a host's output is (secret keys, key=value pairs).
func maskedHCL(v cty.Value) string {
	if t := v.Type(); (t.IsListType() || t.IsTupleType()) && v.IsWhollyKnown() && v.LengthInt() > 0 {
		var words []string
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			if e.Type() != cty.String || e.IsNull() {
				words = nil
				break
			}
			words = append(words, e.AsString())
		}
		if words != nil {
			l := make([]cty.Value, len(words))
			for i, w := range secret.MaskArgs(words) {
				l[i] = cty.StringVal(w)
			}
			v = cty.TupleVal(l)
		}
	}
	v = secret.NewRedactor().ScrubOutputValue(v)
	b, err := ctyjson.Marshal(v, v.Type())
	if err != nil {
		return secret.Mask
	}
	return string(b)
}

// shellJoin joins words into one shell line. A mask is not a reason to
// quote a word (TOKEN=******** stays as it reads): the line is a record,
// never run.
func shellJoin(words []string) string {
	const stand = "MASKED"
	q := make([]string, len(words))
	for i, w := range words {
		if strings.Contains(w, stand) {
			q[i] = transport.Quote(w)
			continue
		}
		q[i] = strings.ReplaceAll(transport.Quote(strings.ReplaceAll(w, secret.Mask, stand)), stand, secret.Mask)
	}
	return strings.Join(q, " ")
}
