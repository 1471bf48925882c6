package omsconfig

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"gopkg.in/yaml.v3"

	"github.com/omsrun/omsrun/internal/diag"
)

// Parse reads a config.yaml written from the seed's template (or by Render)
// and checks it against the seed's table. Every problem comes back as a
// diagnostic naming filename:line:col: YAML syntax errors, a bare value that
// YAML reads as an alias, anchor or tag (the seed's own example has
// `oms_meta_password: ********`, which is an alias), values of the wrong
// type, duplicate keys, template placeholders left in, and the checks of
// Validate. Unknown keys are warnings with a did-you-mean and are kept in
// Config.Extra. The Config is meaningful only when diags has no errors.
func Parse(data []byte, filename string) (Config, hcl.Diagnostics) {
	p := &parser{file: filename, src: data, lines: lineStarts(data)}
	c := p.parse()
	return c, p.diags
}

type parser struct {
	file  string
	src   []byte
	lines []int // byte offset of the start of each line
	diags hcl.Diagnostics
}

// bareIndicator matches a `key: value` or `- value` line whose plain value
// starts with a character YAML gives a meaning to: * alias, & anchor, ! tag,
// @ and ` reserved, % directive.
var bareIndicator = regexp.MustCompile("^(\\s*(?:[A-Za-z0-9_]+\\s*:|-)[ \\t]+)([*&@`%]|![^!])(.*)$")

var yamlErrLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func (p *parser) parse() Config {
	c := Default()
	c.pos = map[string]hcl.Range{}

	// Bare indicator values are found before YAML parsing because the YAML
	// parser's own message ("unknown anchor '*******' referenced") does not
	// tell an OMS user what to do. The value is quoted in a copy so the rest
	// of the file is still checked and every problem is reported at once.
	patched := p.quoteBareIndicators()

	var doc yaml.Node
	if err := yaml.Unmarshal(patched, &doc); err != nil {
		line, msg := 0, strings.TrimPrefix(err.Error(), "yaml: ")
		if m := yamlErrLine.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
		}
		p.errorAt(line, 1, "Invalid YAML: "+msg,
			"config.yaml must be `key: value` lines with a space after each colon; quote values that contain special characters.")
		return c
	}
	if len(doc.Content) == 0 {
		p.errorAt(1, 1, "Empty config.yaml", "The file has no keys; write it from the template in the OMS deployment guide.")
		return c
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		p.errorAt(root.Line, root.Column, "config.yaml is not a list of keys",
			"The file must be `key: value` lines, as in the OMS template.")
		return c
	}

	present := map[string]bool{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		key := k.Value
		if present[key] {
			p.errorAt(k.Line, k.Column, "Duplicate key "+key, "Each key may appear once; YAML readers disagree on which one wins.")
			continue
		}
		present[key] = true
		if msg, retired := Retired(key); retired {
			p.errorAt(k.Line, k.Column, "Retired key "+key, msg+".")
			continue
		}
		spec, known := Lookup(key)
		if !known {
			p.unknownKey(&c, k, v)
			continue
		}
		at := v
		if v.Tag == "!!null" && v.Value == "" {
			at = k
		}
		c.pos[key] = p.rangeAt(at.Line, at.Column)
		p.decodeKey(&c, spec, v)
	}

	for _, k := range Table {
		if k.Required && !present[k.Name] {
			p.errorAt(1, 1, "Missing required key "+k.Name, "The seed's table requires "+k.Name+"; add `"+k.Name+": …` to the file.")
		}
	}
	if p.diags.HasErrors() {
		// Validate would repeat what was just said about the same keys.
		return c
	}
	for _, pr := range Validate(c, nil) {
		p.diags = append(p.diags, Diagnostics([]Problem{pr}, c, p.rangeAt(1, 1))...)
	}
	return c
}

// quoteBareIndicators reports each bare indicator value and returns the
// source with those values single-quoted.
func (p *parser) quoteBareIndicators() []byte {
	lines := bytes.SplitAfter(p.src, []byte("\n"))
	var out bytes.Buffer
	for i, raw := range lines {
		body := strings.TrimRight(string(raw), "\r\n")
		m := bareIndicator.FindStringSubmatch(body)
		if m == nil || strings.HasPrefix(strings.TrimSpace(body), "#") {
			out.Write(raw)
			continue
		}
		value := strings.TrimRight(m[2]+m[3], " \t")
		key := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(strings.TrimSuffix(m[1], " ")), ":"))
		what := map[byte]string{'*': "an alias (a reference to an anchor)", '&': "an anchor", '!': "a tag",
			'@': "a reserved character", '`': "a reserved character", '%': "a directive"}[value[0]]
		quoted := "'" + strings.ReplaceAll(value, "'", "''") + "'"
		subject := "The value"
		if key != "-" {
			subject = "The value of " + key
		}
		p.errorAt(i+1, len(m[1])+1, fmt.Sprintf("%s starts with %q, which YAML reads as %s", subject, value[:1], what),
			fmt.Sprintf("Put the value in quotes: %s%s. Passwords like ******** must always be quoted.", m[1], quoted))
		out.WriteString(m[1] + quoted)
		out.Write(raw[len(body):])
	}
	return out.Bytes()
}

// suggest returns the known key closest to key, if close enough to be a
// typo: diag.Suggest's rule, which every "did you mean" follows.
func suggest(key string) string { return diag.Suggest(strings.ToLower(key), Keys) }

func lineStarts(src []byte) []int {
	starts := []int{0}
	for i, c := range src {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// rangeAt is the rest of the line from line:col (1-based), for snippets.
func (p *parser) rangeAt(line, col int) hcl.Range {
	if line < 1 {
		line = 1
	}
	if line > len(p.lines) {
		line = len(p.lines)
	}
	start := p.lines[line-1]
	end := len(p.src)
	if line < len(p.lines) {
		end = p.lines[line] - 1
	}
	b := min(start+col-1, end)
	return hcl.Range{
		Filename: p.file,
		Start:    hcl.Pos{Line: line, Column: col, Byte: b},
		End:      hcl.Pos{Line: line, Column: col + (end - b), Byte: end},
	}
}

func (p *parser) errorAt(line, col int, summary, detail string) {
	r := p.rangeAt(line, col)
	p.diags = append(p.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: &r})
}

func (p *parser) warnAt(line, col int, summary, detail string) {
	r := p.rangeAt(line, col)
	p.diags = append(p.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: summary, Detail: detail, Subject: &r})
}
