package inventory

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/diag"
)

// maxExpand bounds what one host line's ranges may expand to, so a typo like
// web[0:99999999] fails clearly instead of eating memory.
const maxExpand = 10000

// bracketHostPort is an IPv6 address in brackets with a port: [2001:db8::1]:2222.
var bracketHostPort = regexp.MustCompile(`^\[([^\]]+)\]:([0-9]+)$`)

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

// loadINI reads an Ansible INI inventory as ansible-inventory does (its
// tests compare the two on every host variable); values are typed by
// iniValue and connection settings converted to their own types later.
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
		if t[0] == '[' && !bracketHostPort.MatchString(strings.Fields(t)[0]) {
			section, kind = b.iniSection(l, lead, t)
			continue
		}
		switch kind {
		case "hosts":
			b.iniHostLine(l, lead, section)
		case "children":
			// Ansible reads a group name and then only a '#' comment.
			name, rest, _ := strings.Cut(t, " ")
			if r := strings.TrimSpace(rest); r != "" && r[0] != '#' {
				name = t
			}
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

// iniVar reads "name=value" in [group:vars] as Ansible does: the name is
// what precedes the first '=', the value everything after it, typed by
// iniValue (so a '#' after a quoted value is a comment, after a bare word
// part of the value).
func (b *builder) iniVar(l iniLine, lead int, section string) {
	t := strings.TrimSpace(l.text[lead:])
	k, v, ok := strings.Cut(t, "=")
	k = strings.TrimSpace(k)
	if !ok || k == "" || strings.ContainsAny(k, " \t") {
		b.diags = append(b.diags, diag.Errorf(diag.Ptr(l.rng(lead, lead+len(t))), "Invalid variable line",
			"Lines in [%s:vars] must be name=value.", section))
		return
	}
	vstart := lead + strings.Index(t, "=") + 1
	g := b.group(section, l.rng(lead, lead+len(t)), section == "all")
	g.vars[k] = setting{val: iniValue(strings.TrimSpace(v)), rng: l.rng(vstart, lead+len(t))}
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
		s := setting{val: iniValue(v), rng: l.rng(tok.from, tok.to)}
		if ck, ok := ansibleVars[k]; ok {
			conn[ck] = s
		} else {
			vars[k] = s
		}
	}
	b.addPattern(head.text, hr, section, conn, vars)
}

// addPattern declares the hosts of one pattern: "name:port" and
// "[v6addr]:port" are Ansible's short forms for ansible_port, and ranges
// (web[1:3]) expand.
func (b *builder) addPattern(pattern string, hr hcl.Range, section string, conn, vars map[string]setting) {
	if m := bracketHostPort.FindStringSubmatch(pattern); m != nil {
		conn["port"] = setting{val: cty.StringVal(m[2]), rng: hr}
		pattern = m[1]
	} else if i := strings.LastIndexByte(pattern, ':'); i > 0 && strings.Count(outsideBrackets(pattern), ":") == 1 && !strings.Contains(pattern[i:], "]") {
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
}

// tokenize splits a host line as Python's shlex.split(line, comments=True)
// does, which is what Ansible uses: blanks separate words, quotes group,
// a backslash escapes (inside double quotes only before " and \), and '#'
// starts a comment anywhere outside quotes, even inside a word (a=x#y is a=x).
func tokenize(line string, start int) ([]token, error) {
	var out []token
	var sb strings.Builder
	inWord, from := false, 0
	end := func(i int) {
		if inWord {
			out = append(out, token{text: sb.String(), from: from, to: i})
		}
		sb.Reset()
		inWord = false
	}
	for i := start; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			end(i)
		case c == '#':
			end(i)
			return out, nil
		case c == '\\':
			if i+1 >= len(line) {
				return nil, fmt.Errorf("The backslash at column %d escapes nothing; remove it or quote the value", i+1)
			}
			if !inWord {
				inWord, from = true, i
			}
			i++
			sb.WriteByte(line[i])
		case c == '"' || c == '\'':
			if !inWord {
				inWord, from = true, i
			}
			j := i + 1
			for ; j < len(line) && line[j] != c; j++ {
				if c == '"' && line[j] == '\\' && j+1 < len(line) && (line[j+1] == '"' || line[j+1] == '\\') {
					j++
				}
				sb.WriteByte(line[j])
			}
			if j >= len(line) {
				return nil, fmt.Errorf("The quote at column %d is never closed; close it on the same line", i+1)
			}
			i = j
		default:
			if !inWord {
				inWord, from = true, i
			}
			sb.WriteByte(c)
		}
	}
	end(len(line))
	return out, nil
}
