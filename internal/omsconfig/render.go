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
// Optional keys that are empty are written as comments, as in the template.
// Render writes values as they are; call Normalized first to write cm_url in
// its canonical form.
func Render(c Config) []byte {
	var b bytes.Buffer
	line := func(s string) { b.WriteString(s + "\n") }
	kv := func(key, val string) { line(key + ": " + Quote(val)) }
	opt := func(key, val string) {
		if val == "" {
			line("# " + key + ":")
			return
		}
		kv(key, val)
	}

	line("# OMS Community Edition configuration, written by omsrun from the playbook's")
	line("# variables. Change the variables and re-run rather than editing this file.")
	line("")
	line("# Information about the OMS Community Edition MetaDB")
	kv(KeyMetaHost, c.MetaHost)
	line(KeyMetaPort + ": " + strconv.Itoa(c.MetaPort))
	kv(KeyMetaUser, c.MetaUser)
	kv(KeyMetaPassword, c.MetaPassword.Reveal())
	line("")
	line("# You can customize the names of the following three databases, which are created in the MetaDB when you deploy OMS Community Edition.")
	kv(KeyRMDB, c.RMDB)
	kv(KeyCMDB, c.CMDB)
	kv(KeyCMHeartbeatDB, c.CMHeartbeatDB)
	line("")
	line("# Configurations of the OMS Community Edition cluster")
	line("# To deploy OMS Community Edition on multiple nodes in a single region, you must set the cm_url parameter to a VIP or domain name to which all CM servers in the region are mounted.")
	kv(KeyCMURL, c.CMURL)
	line(KeyCMLocation + ": " + strconv.Itoa(c.CMLocation))
	line("# The cm_region parameter is not required for single-region deployment.")
	opt(KeyCMRegion, c.CMRegion)
	line("# The cm_region_cn parameter is not required for single-region deployment.")
	opt(KeyCMRegionCN, c.CMRegionCN)
	line(KeyCMIsDefault + ": " + strconv.FormatBool(c.CMIsDefault))
	if len(c.CMNodes) == 0 {
		line(KeyCMNodes + ": []")
	} else {
		line(KeyCMNodes + ":")
		for _, n := range c.CMNodes {
			line(" - " + Quote(n))
		}
	}
	line("")
	line("# Configurations of the time-series database")
	line("# Default value: false. To enable metric reporting, set the parameter to `true`.")
	line(KeyTSDBEnabled + ": " + strconv.FormatBool(c.TSDBEnabled))
	line("# INFLUXDB or CERESDB; OMS uses CERESDB when it is not set.")
	opt(KeyTSDBService, c.TSDBService)
	opt(KeyTSDBURL, c.TSDBURL)
	opt(KeyTSDBUsername, c.TSDBUsername)
	opt(KeyTSDBPassword, c.TSDBPassword.Reveal())
	if c.SLSEnabled {
		// Nothing is written when SLS is off, so such files stay the seed's layout.
		line("")
		line("# Audit logs to Alibaba Cloud Simple Log Service (SLS). These keys are omsrun's:")
		line("# the OMS guide asks for SLS parameters but its template has no keys for them.")
		line(KeySLSEnabled + ": true")
		kv(KeySLSEndpoint, c.SLSEndpoint)
		kv(KeySLSProject, c.SLSProject)
		kv(KeySLSLogstore, c.SLSLogstore)
		kv(KeySLSAccessKeyID, c.SLSAccessKeyID)
		kv(KeySLSAccessKeySecret, c.SLSAccessKeySecret.Reveal())
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
