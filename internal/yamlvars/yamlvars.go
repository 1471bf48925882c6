// Package yamlvars reads the YAML files Ansible users keep variables in
// (group_vars, host_vars, YAML inventories, -e @vars.yml) into cty values,
// typing plain scalars as Ansible's PyYAML does (YAML 1.1: yes/no/on/off are
// booleans, 0777 is octal, 1e3 is a string), so a value means what it meant
// to Ansible. Every problem is a diagnostic at its line; a value is never
// echoed in a message, as it may be a secret.
package yamlvars

import (
	"bytes"
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"gopkg.in/yaml.v3"

	"github.com/omsrun/omsrun/internal/diag"
)

// Var is one top-level variable with the range of its key.
type Var struct {
	Name  string
	Value cty.Value
	Range hcl.Range // the name
	// ValueRange is where the value starts.
	ValueRange hcl.Range
}

// maxDepth bounds nesting, so that a hostile file cannot exhaust the stack.
const maxDepth = 100

// IsVault says whether src is a whole file encrypted by ansible-vault.
func IsVault(src []byte) bool {
	return bytes.HasPrefix(bytes.TrimLeft(src, " \t\r\n"), []byte("$ANSIBLE_VAULT;"))
}

// Parse reads a file holding a mapping of variables (or nothing). An
// ansible-vault file, or a !vault value, is refused naming the file: omsrun
// cannot decrypt it, and dropping it would lose the variables silently.
func Parse(filename string, src []byte) ([]Var, hcl.Diagnostics) {
	if IsVault(src) {
		return nil, hcl.Diagnostics{diag.Errorf(diag.FileStart(filename), "Encrypted with ansible-vault",
			"%s is encrypted with ansible-vault, which omsrun cannot decrypt. Decrypt it (ansible-vault decrypt) into a file only you can read, or give its secrets with -e NAME=@env:VAR.", filename)}
	}
	root, diags := ParseNode(filename, src)
	if diags.HasErrors() || root == nil {
		return nil, diags
	}
	return Mapping(filename, src, root)
}

// ParseNode parses src into its document node (nil for an empty file).
func ParseNode(filename string, src []byte) (*yaml.Node, hcl.Diagnostics) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, hcl.Diagnostics{diag.Errorf(errRange(filename, src, err), "Invalid YAML",
			"%s. Check the indentation and quoting on this line.", yamlMessage(err))}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

// Mapping reads a mapping node's entries as variables.
func Mapping(filename string, src []byte, n *yaml.Node) ([]Var, hcl.Diagnostics) {
	n = resolveAlias(n)
	if n.Kind == yaml.ScalarNode && Plain(n.Value).IsNull() && n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) == 0 {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, hcl.Diagnostics{diag.Errorf(diag.Ptr(Range(filename, src, n)), "Not a mapping",
			"The variables must be a mapping of names to values (name: value), not a %s.", kindName(n))}
	}
	var out []Var
	var diags hcl.Diagnostics
	c := &converter{budget: maxNodes}
	for _, kv := range pairs(n, 0) {
		k, v := kv[0], kv[1]
		if k.Kind != yaml.ScalarNode {
			diags = append(diags, diag.Errorf(diag.Ptr(Range(filename, src, k)), "Invalid variable name", "A variable name must be a plain word."))
			continue
		}
		val, err := c.value(v, 0)
		if err != nil {
			diags = append(diags, diag.Errorf(diag.Ptr(Range(filename, src, err.node)), "Invalid value",
				"The value of %q %s.", k.Value, err.msg))
			continue
		}
		out = append(out, Var{Name: k.Value, Value: val, Range: Range(filename, src, k), ValueRange: Range(filename, src, v)})
	}
	return out, diags
}

// pairs lists a mapping's key/value nodes, with "<<" merge keys expanded
// (the merged entries first, so the mapping's own override them).
func pairs(n *yaml.Node, depth int) [][2]*yaml.Node {
	var merged, own [][2]*yaml.Node
	if depth > maxDepth {
		return nil // a mapping merged into itself: what it adds is already there
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			v = resolveAlias(v)
			srcs := []*yaml.Node{v}
			if v.Kind == yaml.SequenceNode {
				srcs = v.Content
			}
			for _, s := range srcs {
				if s = resolveAlias(s); s.Kind == yaml.MappingNode {
					merged = append(merged, pairs(s, depth+1)...)
				}
			}
			continue
		}
		own = append(own, [2]*yaml.Node{k, v})
	}
	return append(merged, own...)
}

// ValueError is a value omsrun cannot read, at its node.
type ValueError struct {
	node *yaml.Node
	msg  string
}

func (e *ValueError) Error() string { return e.msg }

// maxNodes bounds the values one file may expand to through aliases (a
// "billion laughs" file refers to a list of lists of lists …).
const maxNodes = 100_000

type converter struct{ budget int }

// Value converts a node to cty.
func Value(n *yaml.Node) (cty.Value, *ValueError) {
	return (&converter{budget: maxNodes}).value(n, 0)
}

func (c *converter) value(n *yaml.Node, depth int) (cty.Value, *ValueError) {
	if depth > maxDepth {
		return cty.NilVal, &ValueError{n, fmt.Sprintf("is nested more than %d levels deep", maxDepth)}
	}
	if c.budget--; c.budget < 0 {
		return cty.NilVal, &ValueError{n, fmt.Sprintf("expands, through aliases, to more than %d values", maxNodes)}
	}
	n = resolveAlias(n)
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]cty.Value{}
		for _, kv := range pairs(n, depth) {
			k, err := c.value(kv[0], depth+1)
			if err != nil {
				return cty.NilVal, err
			}
			if k.IsNull() || !k.Type().IsPrimitiveType() {
				return cty.NilVal, &ValueError{kv[0], "has a key that is not a plain value"}
			}
			v, err := c.value(kv[1], depth+1)
			if err != nil {
				return cty.NilVal, err
			}
			m[keyText(k)] = v
		}
		return cty.ObjectVal(m), nil
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			return cty.EmptyTupleVal, nil
		}
		items := make([]cty.Value, len(n.Content))
		for i, e := range n.Content {
			v, err := c.value(e, depth+1)
			if err != nil {
				return cty.NilVal, err
			}
			items[i] = v
		}
		return cty.TupleVal(items), nil
	case yaml.ScalarNode:
		return scalar(n)
	}
	return cty.NilVal, &ValueError{n, "is not a value"}
}

func keyText(k cty.Value) string {
	switch k.Type() {
	case cty.String:
		return k.AsString()
	case cty.Bool:
		if k.True() {
			return "true"
		}
		return "false"
	}
	return k.AsBigFloat().Text('f', -1)
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < maxDepth; i++ {
		n = n.Alias
	}
	return n
}

// scalar types a scalar by its tag; a plain one by PyYAML's implicit rules.
func scalar(n *yaml.Node) (cty.Value, *ValueError) {
	if n.Style&yaml.TaggedStyle != 0 {
		switch n.Tag {
		case "!vault":
			return cty.NilVal, &ValueError{n, "is encrypted with ansible-vault (!vault), which omsrun cannot decrypt; give it with -e NAME=@env:VAR instead"}
		case "!!str", "!unsafe", "!!binary":
			return cty.StringVal(n.Value), nil
		case "!!null":
			return cty.NullVal(cty.DynamicPseudoType), nil
		}
	}
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return cty.StringVal(n.Value), nil
	}
	return Plain(n.Value), nil
}

var (
	yamlNull  = regexp.MustCompile(`^(?:~|null|Null|NULL|)$`)
	yamlTrue  = regexp.MustCompile(`^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$`)
	yamlFalse = regexp.MustCompile(`^(?:no|No|NO|false|False|FALSE|off|Off|OFF)$`)
	yamlInt   = regexp.MustCompile(`^[-+]?(?:0b[0-1_]+|0[0-7_]+|(?:0|[1-9][0-9_]*)|0x[0-9a-fA-F_]+|[1-9][0-9_]*(?::[0-5]?[0-9])+)$`)
	yamlFloat = regexp.MustCompile(`^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$`)
)

// Plain types an unquoted scalar as PyYAML's resolver does.
func Plain(s string) cty.Value {
	switch {
	case yamlNull.MatchString(s):
		return cty.NullVal(cty.DynamicPseudoType)
	case yamlTrue.MatchString(s):
		return cty.True
	case yamlFalse.MatchString(s):
		return cty.False
	case yamlInt.MatchString(s):
		if n, ok := yamlIntValue(s); ok {
			return cty.NumberVal(new(big.Float).SetInt(n))
		}
	case yamlFloat.MatchString(s) && !strings.ContainsAny(s, "inINaA:"):
		if f, _, err := big.ParseFloat(strings.ReplaceAll(s, "_", ""), 10, 64, big.ToNearestEven); err == nil {
			return cty.NumberVal(f)
		}
	}
	return cty.StringVal(s)
}

func yamlIntValue(s string) (*big.Int, bool) {
	s = strings.ReplaceAll(s, "_", "")
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimLeft(s, "+-")
	n := new(big.Int)
	ok := true
	switch {
	case strings.HasPrefix(s, "0b"):
		_, ok = n.SetString(s[2:], 2)
	case strings.HasPrefix(s, "0x"):
		_, ok = n.SetString(s[2:], 16)
	case strings.Contains(s, ":"):
		for _, part := range strings.Split(s, ":") {
			d, good := new(big.Int).SetString(part, 10)
			if !good {
				return nil, false
			}
			n.Mul(n, big.NewInt(60)).Add(n, d)
		}
	case len(s) > 1 && s[0] == '0':
		_, ok = n.SetString(s[1:], 8)
	default:
		_, ok = n.SetString(s, 10)
	}
	if neg {
		n.Neg(n)
	}
	return n, ok
}

// Range is the range of a node's start (a plain scalar's whole text) in
// src, with byte offsets so that snippets show the right line.
func Range(filename string, src []byte, n *yaml.Node) hcl.Range {
	start := *diag.At(filename, src, offsetOf(src, n.Line, n.Column))
	width := 1
	if n.Kind == yaml.ScalarNode && n.Style == 0 && !strings.Contains(n.Value, "\n") {
		width = max(1, len(n.Value))
	}
	end := start.Start
	end.Byte += width
	end.Column += width
	if end.Byte > len(src) {
		end = start.End
	}
	return hcl.Range{Filename: filename, Start: start.Start, End: end}
}

// offsetOf turns yaml.v3's line and column (1-based, in characters) into a byte offset.
func offsetOf(src []byte, line, col int) int {
	off := 0
	for l := 1; l < line && off < len(src); l++ {
		i := bytes.IndexByte(src[off:], '\n')
		if i < 0 {
			return len(src)
		}
		off += i + 1
	}
	for c := 1; c < col && off < len(src) && src[off] != '\n'; c++ {
		_, n := utf8.DecodeRune(src[off:])
		off += n
	}
	return off
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		return "single value"
	}
	return "document"
}

var lineRe = regexp.MustCompile(`^yaml: line ([0-9]+): `)

// errRange finds the line yaml.v3 names in its message, else the file start.
func errRange(filename string, src []byte, err error) *hcl.Range {
	m := lineRe.FindStringSubmatch(err.Error())
	if m == nil {
		return diag.FileStart(filename)
	}
	var line int
	fmt.Sscan(m[1], &line)
	off := offsetOf(src, line, 1)
	return diag.At(filename, src, off)
}

// yamlMessage is the parser's message without its prefix and without any
// quoted source text (which could be part of a secret).
func yamlMessage(err error) string {
	s := lineRe.ReplaceAllString(err.Error(), "")
	s = strings.TrimPrefix(s, "yaml: ")
	if i := strings.IndexAny(s, "'\"`"); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	if s == "" {
		s = "the YAML does not parse"
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
