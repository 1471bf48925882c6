package omsconfig

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Render writes c as config.yaml text in the seed template's order, with its
// comments. Every string is double-quoted with escapes, so a password such as
// `********` (an alias when bare), values holding `: #'"`, a leading `*&!@`,
// newlines, or an OceanBase user `user@tenant#cluster` read back exactly.
// Optional keys that are empty are written as comments, as in the template;
// the SLS and port sections only when one of their keys is set.
// Render writes values as they are; call Normalized first to write cm_url in
// its canonical form.
func Render(c Config) []byte {
	var b bytes.Buffer
	line := func(s string) { b.WriteString(s + "\n") }
	comments := func(lines []string) {
		for _, l := range lines {
			line("# " + l)
		}
	}

	line("# OMS Community Edition configuration, written by omsrun from the playbook's")
	line("# variables. Change the variables and re-run rather than editing this file.")
	for _, sec := range Sections {
		if sec.OnlyWhenSet && !anySet(&c, sec.Keys) {
			continue
		}
		line("")
		comments(sec.Heading)
		for _, k := range sec.Keys {
			if k.Kind == Int && !k.isSet(&c) {
				// An unset port: OMS's default applies.
				continue
			}
			comments(k.Comment)
			switch f := k.field(&c).(type) {
			case *int:
				line(k.Name + ": " + strconv.Itoa(*f))
			case *bool:
				line(k.Name + ": " + strconv.FormatBool(*f))
			case *[]string:
				if len(*f) == 0 {
					line(k.Name + ": []")
					continue
				}
				line(k.Name + ":")
				for _, n := range *f {
					line(" - " + Quote(n))
				}
			default:
				if v := k.text(&c); v != "" || k.Required {
					line(k.Name + ": " + Quote(v))
				} else {
					line("# " + k.Name + ":")
				}
			}
		}
	}
	if len(c.Extra) > 0 {
		line("")
		line("# Keys omsrun does not know, kept as they were given.")
		for _, e := range c.Extra {
			b.WriteString(e.YAML)
			if !strings.HasSuffix(e.YAML, "\n") {
				b.WriteString("\n")
			}
		}
	}
	return b.Bytes()
}

// Normalized returns c with cm_url in canonical form (scheme://host:8088)
// and sls_endpoint in its (NormalizeSLSEndpoint) when they are valid;
// invalid values are left for Validate to report.
func (c Config) Normalized() Config {
	if u, err := NormalizeCMURL(c.CMURL); err == nil {
		c.CMURL = u
	}
	if c.SLSEndpoint != "" {
		if e, err := NormalizeSLSEndpoint(c.SLSEndpoint); err == nil {
			c.SLSEndpoint = e
		}
	}
	return c
}

// Quote returns s as a YAML double-quoted scalar that parses back to exactly
// s. Double quotes are the one YAML style where every character can be
// escaped, so nothing in the value can start an alias, anchor, tag, comment
// or mapping. s must be valid UTF-8 (Validate checks it); invalid bytes are
// written as U+FFFD.
func Quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if yamlPrintable(r) {
				b.WriteRune(r)
			} else if r <= 0xFFFF {
				fmt.Fprintf(&b, `\u%04X`, r)
			} else {
				fmt.Fprintf(&b, `\U%08X`, r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// yamlPrintable is YAML 1.2's c-printable set minus the byte-order mark and
// the line/paragraph separators, which some readers treat as line breaks.
func yamlPrintable(r rune) bool {
	switch {
	case r == utf8.RuneError:
		return false
	case r >= 0x20 && r <= 0x7E:
		return true
	case r == 0x85, r == 0x2028, r == 0x2029, r == 0xFEFF:
		return false
	case r >= 0xA0 && r <= 0xD7FF, r >= 0xE000 && r <= 0xFFFD, r >= 0x10000 && r <= 0x10FFFF:
		return true
	}
	return false
}

func anySet(c *Config, keys []Key) bool {
	for _, k := range keys {
		if k.isSet(c) {
			return true
		}
	}
	return false
}
