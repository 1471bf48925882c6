package inventory

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/diag"
)

// maxExpand bounds what one host line's ranges may expand to, so a typo like
// web[0:99999999] fails clearly instead of eating memory.
const maxExpand = 10000

var nameRe = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)

func validName(s string) bool { return nameRe.MatchString(s) && !strings.Contains(s, "..") }

// iniLine is one line of an INI file with what is needed for ranges.
type iniLine struct {
	file   string
	num    int // 1-based
	offset int // byte offset of the line in the file
	text   string
}

// rng is the range of text[from:to] on the line.
func (l iniLine) rng(from, to int) hcl.Range {
	return hcl.Range{
		Filename: l.file,
		Start:    hcl.Pos{Line: l.num, Column: from + 1, Byte: l.offset + from},
		End:      hcl.Pos{Line: l.num, Column: to + 1, Byte: l.offset + to},
	}
}

// loadINI reads an Ansible INI inventory with Ansible's typing: unquoted
// numbers and booleans on host lines are literals, values in [group:vars]
// are strings; connection settings are converted to their own types later.
func (b *builder) loadINI(path string, src []byte) {
	section, kind := "", "hosts"
	offset := 0
	for i, text := range strings.Split(string(src), "\n") {
		l := iniLine{file: path, num: i + 1, offset: offset, text: strings.TrimRight(text, "\r")}
		offset += len(text) + 1
		lead := len(l.text) - len(strings.TrimLeft(l.text, " \t"))
		t := strings.TrimSpace(l.text)
		if t == "" || t[0] == '#' || t[0] == ';' {
			continue
		}
		if t[0] == '[' {
			section, kind = b.iniSection(l, lead, t)
			continue
		}
		switch kind {
		case "hosts":
			b.iniHostLine(l, lead, section)
		case "children":
			name := stripComment(t)
			if !validName(name) {
				b.diags = append(b.diags, diag.Errorf(diag.Ptr(l.rng(lead, lead+len(t))), "Invalid child group",
					"A [%s:children] section lists one group name per line; %q is not a group name.", section, name))
				continue
			}
			g := b.group(section, l.rng(lead, lead+len(t)), false)
			g.children[name] = l.rng(lead, lead+len(name))
		case "vars":
			b.iniVar(l, lead, section)
		case "skip":
		}
	}
}

// iniSection parses "[name]", "[name:children]" or "[name:vars]".
func (b *builder) iniSection(l iniLine, lead int, t string) (string, string) {
	end := strings.IndexByte(t, ']')
	if end < 0 {
		b.diags = append(b.diags, diag.Errorf(diag.Ptr(l.rng(lead, lead+len(t))), "Invalid section header",
			"A section header must end with ']', as in [web] or [web:vars]."))
		return "", "skip"
	}
	if rest := strings.TrimSpace(t[end+1:]); rest != "" && rest[0] != '#' && rest[0] != ';' {
		b.diags = append(b.diags, diag.Errorf(diag.Ptr(l.rng(lead+end+1, lead+len(t))), "Invalid section header",
			"Nothing may follow the section header on its line; move %q to the next line.", rest))
	}
	inner := t[1:end]
	name, suffix, hasSuffix := strings.Cut(inner, ":")
	r := l.rng(lead, lead+end+1)
	if !validName(name) {
		b.diags = append(b.diags, diag.Errorf(diag.Ptr(r), "Invalid group name",
			"Group name %q may hold only letters, digits, '_', '.' and '-'; rename it.", name))
		return "", "skip"
	}
	if !hasSuffix {
		b.group(name, r, true)
		return name, "hosts"
	}
	switch suffix {
	case "children":
		b.group(name, r, true)
		return name, "children"
	case "vars":
		// [x:vars] alone does not declare x: a typo there must not pass silently.
		b.group(name, r, name == "all")
		return name, "vars"
	}
	b.diags = append(b.diags, diag.Errorf(diag.Ptr(r), "Invalid section header",
		"Unknown section kind %q; use [%s], [%s:children] or [%s:vars].", suffix, name, name, name))
	return "", "skip"
}

func (b *builder) iniVar(l iniLine, lead int, section string) {
	t := stripComment(l.text[lead:])
	k, v, ok := strings.Cut(t, "=")
	k = strings.TrimSpace(k)
	if !ok || k == "" || strings.ContainsAny(k, " \t") {
		b.diags = append(b.diags, diag.Errorf(diag.Ptr(l.rng(lead, lead+len(t))), "Invalid variable line",
			"Lines in [%s:vars] must be name=value.", section))
		return
	}
	vstart := lead + strings.Index(t, "=") + 1
	v = unquote(strings.TrimSpace(v))
	g := b.group(section, l.rng(lead, lead+len(t)), section == "all")
	g.vars[k] = setting{val: cty.StringVal(v), rng: l.rng(vstart, lead+len(t))}
}

// iniHostLine parses "pattern [name=value ...]" with shell-like quoting.
func (b *builder) iniHostLine(l iniLine, lead int, section string) {
	toks, err := tokenize(l.text, lead)
	if err != nil {
		b.diags = append(b.diags, diag.Errorf(diag.Ptr(l.rng(lead, len(l.text))), "Invalid host line", "%v.", err))
		return
	}
	if len(toks) == 0 {
		return
	}
	head := toks[0]
	hr := l.rng(head.from, head.to)
	conn, vars := map[string]setting{}, map[string]setting{}
	for _, tok := range toks[1:] {
		k, v, ok := strings.Cut(tok.text, "=")
		if !ok || k == "" {
			b.diags = append(b.diags, diag.Errorf(diag.Ptr(l.rng(tok.from, tok.to)), "Invalid host variable",
				"After the host name come name=value pairs; %q has no '='. Quote values that hold spaces.", tok.text))
			return
		}
		s := setting{val: hostLineValue(v, tok.quoted), rng: l.rng(tok.from, tok.to)}
		if ck, ok := ansibleVars[k]; ok {
			conn[ck] = s
		} else {
			vars[k] = s
		}
	}
	pattern := head.text
	// "name:port" is Ansible's short form for ansible_port.
	if i := strings.LastIndexByte(pattern, ':'); i > 0 && strings.Count(outsideBrackets(pattern), ":") == 1 && !strings.Contains(pattern[i:], "]") {
		conn["port"] = setting{val: cty.StringVal(pattern[i+1:]), rng: hr}
		pattern = pattern[:i]
	}
	names, err := expandRanges(pattern)
	if err != nil {
		b.diags = append(b.diags, diag.Errorf(diag.Ptr(hr), "Invalid host range", "%v.", err))
		return
	}
	for _, n := range names {
		if !validName(n) && !validAddr(n) {
			b.diags = append(b.diags, diag.Errorf(diag.Ptr(hr), "Invalid host name",
				"%q is not a valid host name: use letters, digits, '_', '.' and '-', and put the address in ansible_host=.", n))
			return
		}
		b.addHost(n, hr, section, conn, vars)
	}
}

func validAddr(s string) bool { return checkAddress(s) == nil }

type token struct {
	text     string
	from, to int
	quoted   bool // some part was in quotes: the value is a string whatever it looks like
}

// tokenize splits a line on blanks, honouring quotes and stopping at a
// comment that starts a word.
func tokenize(line string, start int) ([]token, error) {
	var out []token
	i := start
	for i < len(line) {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		if i >= len(line) || line[i] == '#' || line[i] == ';' {
			break
		}
		from := i
		quoted := false
		var sb strings.Builder
		for i < len(line) && line[i] != ' ' && line[i] != '\t' {
			c := line[i]
			if c == '"' || c == '\'' {
				end := strings.IndexByte(line[i+1:], c)
				if end < 0 {
					return nil, fmt.Errorf("The quote at column %d is never closed; close it on the same line", i+1)
				}
				sb.WriteString(line[i+1 : i+1+end])
				i += end + 2
				quoted = true
				continue
			}
			sb.WriteByte(c)
			i++
		}
		out = append(out, token{text: sb.String(), from: from, to: i, quoted: quoted})
	}
	return out, nil
}

func stripComment(s string) string {
	for _, sep := range []string{" #", "\t#", " ;", "\t;"} {
		if i := strings.Index(s, sep); i >= 0 {
			s = s[:i]
		}
	}
	return strings.TrimSpace(s)
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}

// hostLineValue types a value from a host line the way Ansible does there
// (numbers and booleans are literals), so `host.vars.id == 1` holds for
// id=1. Quoted values, and every value in [group:vars], stay strings.
func hostLineValue(v string, quoted bool) cty.Value {
	if quoted {
		return cty.StringVal(v)
	}
	switch v {
	case "True", "true":
		return cty.True
	case "False", "false":
		return cty.False
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && (v == "0" || (v[0] != '0' && v[0] != '+')) {
		return cty.NumberIntVal(n)
	}
	return cty.StringVal(v)
}
