package omsconfig

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// The typed readers of Parse: each reports a value of the wrong shape at its
// own line and returns the zero value, so parsing goes on to the next key.

func (p *parser) decodeKey(c *Config, k Key, v *yaml.Node) {
	switch f := k.field(c).(type) {
	case *int:
		*f = p.intValue(k.Name, v)
	case *bool:
		*f = p.boolValue(k.Name, v, *f)
	case *[]string:
		*f = p.listValue(k.Name, v)
	default:
		k.setText(c, p.stringValue(k.Name, v))
	}
}

var placeholder = regexp.MustCompile(`\$\{[A-Za-z0-9_]+\}`)

func (p *parser) stringValue(key string, v *yaml.Node) string {
	if v.Kind != yaml.ScalarNode {
		p.errorAt(v.Line, v.Column, key+" must be a single value", "Write `"+key+": value` on one line.")
		return ""
	}
	if v.Tag == "!!null" {
		if v.Value != "" {
			p.errorAt(v.Line, v.Column, fmt.Sprintf("The value of %s, %s, reads as null in YAML", key, v.Value),
				"Put it in quotes if it is the real value.")
		}
		return ""
	}
	if m := placeholder.FindString(v.Value); m != "" {
		p.errorAt(v.Line, v.Column, fmt.Sprintf("%s still holds the template placeholder %s", key, m),
			"Replace it with the real value.")
	}
	if v.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0 && v.LineComment != "" {
		p.warnAt(v.Line, v.Column, fmt.Sprintf("Text after %q on the %s line is a YAML comment, not part of the value", " #", key),
			"If "+strings.TrimSpace(v.LineComment)+" belongs to the value, put the whole value in quotes.")
	}
	return v.Value
}

func (p *parser) intValue(key string, v *yaml.Node) int {
	if v.Kind == yaml.ScalarNode && (v.Tag == "!!int" || v.Tag == "!!str") {
		if n, err := strconv.Atoi(strings.TrimSpace(v.Value)); err == nil {
			return n
		}
		var n int
		if v.Tag == "!!int" && v.Decode(&n) == nil {
			return n
		}
	}
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		p.errorAt(v.Line, v.Column, key+" has no value", "Give an integer.")
		return 0
	}
	p.errorAt(v.Line, v.Column, fmt.Sprintf("%s must be an integer, not %s", key, describe(v)), "Write digits only, e.g. "+key+": 100.")
	return 0
}

func (p *parser) boolValue(key string, v *yaml.Node, def bool) bool {
	if v.Kind == yaml.ScalarNode {
		if v.Tag == "!!null" && v.Value == "" {
			return def
		}
		if b, err := strconv.ParseBool(strings.TrimSpace(v.Value)); err == nil {
			return b
		}
		var b bool
		if v.Tag == "!!bool" && v.Decode(&b) == nil {
			return b
		}
	}
	p.errorAt(v.Line, v.Column, fmt.Sprintf("%s must be true or false, not %s", key, describe(v)), "")
	return def
}

func (p *parser) listValue(key string, v *yaml.Node) []string {
	switch {
	case v.Kind == yaml.ScalarNode && v.Tag == "!!null":
		return nil
	case v.Kind == yaml.ScalarNode:
		// The wizard takes the nodes comma-separated; accept that form too.
		var out []string
		for _, s := range strings.Split(v.Value, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out
	case v.Kind == yaml.SequenceNode:
		var out []string
		for _, item := range v.Content {
			if item.Kind != yaml.ScalarNode || item.Tag == "!!null" {
				p.errorAt(item.Line, item.Column, key+" entries must be IP addresses", "Write one `- address` per line.")
				continue
			}
			if m := placeholder.FindString(item.Value); m != "" {
				p.errorAt(item.Line, item.Column, fmt.Sprintf("%s still holds the template placeholder %s", key, m),
					"Replace it with the node's IP address.")
			}
			out = append(out, item.Value)
		}
		return out
	}
	p.errorAt(v.Line, v.Column, key+" must be a list of IP addresses", "Write one `- address` line per node under "+key+":.")
	return nil
}

func (p *parser) unknownKey(c *Config, k, v *yaml.Node) {
	u := UnknownKey{Key: k.Value, Suggestion: suggest(k.Value)}
	p.warnAt(k.Line, k.Column, "Unknown key "+k.Value, u.Detail("omsrun keeps it in the config.yaml it writes, but does not check it."))
	p.diags[len(p.diags)-1].Extra = u
	// Comments above and below belong to the file's layout, not to the key;
	// Render writes its own.
	kc, vc := *k, *v
	kc.HeadComment, kc.FootComment, vc.HeadComment, vc.FootComment = "", "", "", ""
	entry := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{&kc, &vc}}
	text, err := yaml.Marshal(entry)
	if err != nil {
		p.errorAt(k.Line, k.Column, "Cannot keep unknown key "+k.Value+": "+err.Error(), "")
		return
	}
	c.Extra = append(c.Extra, Extra{Key: k.Value, YAML: string(text)})
}

func describe(v *yaml.Node) string {
	switch v.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.AliasNode:
		return "an alias"
	}
	return strconv.Quote(v.Value)
}

// UnknownKey is the Extra of Parse's warning about a key not in the table,
// so a caller that says more about it finds the warning by type.
type UnknownKey struct {
	Key, Suggestion string
}

// Detail is the warning's detail: the did-you-mean, then what happens to the key.
func (u UnknownKey) Detail(fate string) string {
	if u.Suggestion != "" {
		return fmt.Sprintf("Did you mean %s? ", u.Suggestion) + fate
	}
	return fate
}
