package inventory

import (
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// iniValue types an INI value the way Ansible's INI plugin does, on host
// lines and in [group:vars] alike: it tries Python's ast.literal_eval, and
// when that fails keeps the text as a string. So x=1 is a number, x=True a
// bool, x="a # b" the string a # b, x='1' the string 1, and x=bar # c the
// string "bar # c" (a comment is Python's only after a literal).
func iniValue(s string) cty.Value {
	p := &pyParser{s: strings.TrimLeft(s, " \t")}
	v, ok := p.expr(0)
	if ok {
		p.space()
		if p.i == len(p.s) {
			return v
		}
	}
	return cty.StringVal(s)
}

// pyParser reads the subset of Python literals literal_eval accepts that an
// inventory can hold: strings (with prefixes and adjacent concatenation),
// integers, floats, True/False/None, lists, tuples and dicts with string keys.
// What it does not read (complex numbers, sets) stays a string, as anything
// unreadable does in Ansible.
type pyParser struct {
	s string
	i int
}

// maxLiteralDepth bounds nesting so that [[[[… cannot exhaust the stack.
const maxLiteralDepth = 100

// space skips blanks and a trailing # comment.
func (p *pyParser) space() {
	for p.i < len(p.s) {
		switch c := p.s[p.i]; {
		case c == ' ' || c == '\t' || c == '\f':
			p.i++
		case c == '#':
			p.i = len(p.s)
		default:
			return
		}
	}
}

func (p *pyParser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *pyParser) expr(depth int) (cty.Value, bool) {
	if depth > maxLiteralDepth {
		return cty.NilVal, false
	}
	p.space()
	c := p.peek()
	switch {
	case c == '[':
		return p.seq(']', depth)
	case c == '(':
		return p.seq(')', depth)
	case c == '{':
		return p.dict(depth)
	case c == '-' || c == '+':
		p.i++
		p.space()
		n, ok := p.number()
		if !ok {
			return cty.NilVal, false
		}
		if c == '-' {
			n = cty.NumberVal(new(big.Float).Neg(n.AsBigFloat()))
		}
		return n, true
	case c >= '0' && c <= '9' || c == '.':
		return p.number()
	}
	word := p.ident()
	switch word {
	case "True":
		return cty.True, true
	case "False":
		return cty.False, true
	case "None":
		return cty.NullVal(cty.DynamicPseudoType), true
	}
	if q := p.peek(); (q == '"' || q == '\'') && isStringPrefix(word) {
		return p.strings(word)
	}
	return cty.NilVal, false
}

func (p *pyParser) ident() string {
	from := p.i
	for p.i < len(p.s) && (isLetter(p.s[p.i]) || p.s[p.i] == '_' || p.s[p.i] >= '0' && p.s[p.i] <= '9' && p.i > from) {
		p.i++
	}
	return p.s[from:p.i]
}

func isStringPrefix(w string) bool {
	switch strings.ToLower(w) {
	case "", "r", "u", "b", "br", "rb":
		return true
	}
	return false // f-strings are not literals
}

// strings reads one or more adjacent string literals ("a" 'b' is "ab").
func (p *pyParser) strings(prefix string) (cty.Value, bool) {
	var sb strings.Builder
	isBytes := -1
	for {
		b := strings.ContainsAny(prefix, "bB")
		if isBytes >= 0 && (isBytes == 1) != b {
			return cty.NilVal, false // Python refuses to mix bytes and str
		}
		isBytes = map[bool]int{false: 0, true: 1}[b]
		s, ok := p.str(strings.ContainsAny(prefix, "rR"), b)
		if !ok {
			return cty.NilVal, false
		}
		sb.WriteString(s)
		p.space()
		save := p.i
		prefix = p.ident()
		if q := p.peek(); (q != '"' && q != '\'') || !isStringPrefix(prefix) {
			p.i = save
			return cty.StringVal(sb.String()), true
		}
	}
}

// str reads one quoted literal, triple-quoted or not, with Python's escapes.
func (p *pyParser) str(raw, isBytes bool) (string, bool) {
	q := p.s[p.i : p.i+1]
	if strings.HasPrefix(p.s[p.i:], q+q+q) {
		q = q + q + q
	}
	p.i += len(q)
	var sb strings.Builder
	for p.i < len(p.s) {
		if strings.HasPrefix(p.s[p.i:], q) {
			p.i += len(q)
			return sb.String(), true
		}
		c := p.s[p.i]
		if isBytes && c >= 0x80 {
			return "", false
		}
		if c != '\\' {
			sb.WriteByte(c)
			p.i++
			continue
		}
		if p.i+1 >= len(p.s) {
			return "", false
		}
		if raw {
			sb.WriteString(p.s[p.i : p.i+2])
			p.i += 2
			continue
		}
		if !p.escape(&sb, isBytes) {
			return "", false
		}
	}
	return "", false
}

// escape decodes the escape at p.i (a backslash) into sb.
func (p *pyParser) escape(sb *strings.Builder, isBytes bool) bool {
	e := p.s[p.i+1]
	p.i += 2
	simple := map[byte]string{'\\': "\\", '\'': "'", '"': "\"", 'a': "\a", 'b': "\b", 'f': "\f", 'n': "\n", 'r': "\r", 't': "\t", 'v': "\v"}
	if r, ok := simple[e]; ok {
		sb.WriteString(r)
		return true
	}
	hex := func(n int) (int64, bool) {
		if p.i+n > len(p.s) {
			return 0, false
		}
		v, err := strconv.ParseInt(p.s[p.i:p.i+n], 16, 64)
		p.i += n
		return v, err == nil
	}
	switch {
	case e >= '0' && e <= '7':
		n := int64(e - '0')
		for k := 0; k < 2 && p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '7'; k++ {
			n = n*8 + int64(p.s[p.i]-'0')
			p.i++
		}
		writeCode(sb, n, isBytes)
	case e == 'x':
		n, ok := hex(2)
		if !ok {
			return false
		}
		writeCode(sb, n, isBytes)
	case (e == 'u' || e == 'U') && !isBytes:
		n, ok := hex(map[byte]int{'u': 4, 'U': 8}[e])
		if !ok || n > utf8.MaxRune {
			return false
		}
		sb.WriteRune(rune(n))
	default:
		// Python keeps an unknown escape as it is (\d stays \d).
		sb.WriteByte('\\')
		sb.WriteByte(e)
	}
	return true
}

// writeCode writes a code point; in bytes it is a byte, which Ansible then
// decodes as UTF-8 (so only ASCII survives unchanged).
func writeCode(sb *strings.Builder, n int64, isBytes bool) {
	if isBytes && n >= 0x80 {
		sb.WriteRune(utf8.RuneError)
		return
	}
	sb.WriteRune(rune(n))
}

// number reads a Python int or float literal (0x10, 1_000, 1.5e3).
func (p *pyParser) number() (cty.Value, bool) {
	from := p.i
	for p.i < len(p.s) && (isLetter(p.s[p.i]) || p.s[p.i] >= '0' && p.s[p.i] <= '9' || p.s[p.i] == '_' || p.s[p.i] == '.' ||
		(p.s[p.i] == '+' || p.s[p.i] == '-') && p.i > from && (p.s[p.i-1] == 'e' || p.s[p.i-1] == 'E')) {
		p.i++
	}
	lit := p.s[from:p.i]
	if strings.HasPrefix(lit, "_") || strings.HasSuffix(lit, "_") || strings.Contains(lit, "__") {
		return cty.NilVal, false
	}
	if n, ok := pyInt(lit); ok {
		return cty.NumberVal(new(big.Float).SetInt(n)), true
	}
	if strings.ContainsAny(lit, "xXoObBjJ") || !strings.ContainsAny(lit, ".eE") {
		return cty.NilVal, false
	}
	clean := strings.ReplaceAll(lit, "_", "")
	if strings.Contains(lit, "_.") || strings.Contains(lit, "._") || strings.Contains(strings.ToLower(lit), "_e") || strings.Contains(strings.ToLower(lit), "e_") {
		return cty.NilVal, false
	}
	f, err := strconv.ParseFloat(clean, 64)
	if err != nil || strings.ContainsAny(clean, "iInN") {
		return cty.NilVal, false
	}
	return cty.NumberFloatVal(f), true
}

// pyInt parses Python 3's integer literals; a decimal other than 0 may not
// start with 0 (010 is a syntax error, so Ansible keeps it as a string).
func pyInt(lit string) (*big.Int, bool) {
	l := strings.ToLower(strings.ReplaceAll(lit, "_", ""))
	base, digits := 10, l
	if len(l) > 2 && l[0] == '0' {
		switch l[1] {
		case 'x':
			base, digits = 16, l[2:]
		case 'o':
			base, digits = 8, l[2:]
		case 'b':
			base, digits = 2, l[2:]
		}
	}
	if base == 10 {
		if digits == "" || strings.Trim(digits, "0123456789") != "" {
			return nil, false
		}
		if digits[0] == '0' && strings.Trim(digits, "0") != "" {
			return nil, false
		}
	}
	if base != 10 && lit[1] == '_' {
		return nil, false // 0_x10 is not a literal; 0x_10 is
	}
	n, ok := new(big.Int).SetString(digits, base)
	return n, ok
}

// seq reads a list or a tuple; both become a tuple (Ansible shows both as lists).
func (p *pyParser) seq(closer byte, depth int) (cty.Value, bool) {
	p.i++
	var items []cty.Value
	comma := false
	for {
		p.space()
		if p.peek() == closer {
			p.i++
			break
		}
		v, ok := p.expr(depth + 1)
		if !ok {
			return cty.NilVal, false
		}
		items = append(items, v)
		p.space()
		if p.peek() == ',' {
			p.i++
			comma = true
			continue
		}
		if p.peek() != closer {
			return cty.NilVal, false
		}
		p.i++
		// (x) without a comma is x itself, not a tuple.
		if closer == ')' && len(items) == 1 && !comma {
			return items[0], true
		}
		break
	}
	if len(items) == 0 {
		return cty.EmptyTupleVal, true
	}
	return cty.TupleVal(items), true
}

// dict reads {key: value, …} with string, number or bool keys (a set stays
// unread).
func (p *pyParser) dict(depth int) (cty.Value, bool) {
	p.i++
	m := map[string]cty.Value{}
	for {
		p.space()
		if p.peek() == '}' {
			p.i++
			return cty.ObjectVal(m), true
		}
		k, ok := p.expr(depth + 1)
		if !ok || k.IsNull() || !k.Type().IsPrimitiveType() {
			return cty.NilVal, false
		}
		// Other keys become text as Ansible's JSON shows them ({1: x} is {"1": x}).
		k, _ = convert.Convert(k, cty.String)
		p.space()
		if p.peek() != ':' {
			return cty.NilVal, false
		}
		p.i++
		v, ok := p.expr(depth + 1)
		if !ok {
			return cty.NilVal, false
		}
		m[k.AsString()] = v
		p.space()
		switch p.peek() {
		case ',':
			p.i++
		case '}':
		default:
			return cty.NilVal, false
		}
	}
}
