package omsconfig

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
)

// Problem is one thing wrong with a Config, tied to the key it is about.
type Problem struct {
	Key     string
	Summary string
	// Hint says how to fix it.
	Hint string
}

// Attribute names the HCL attribute the problem is about: render_config's
// arguments and the deploy playbook's variables use the key names, so a
// caller can point its diagnostic at the attribute's source range.
func (p Problem) Attribute() string { return p.Key }

func (p Problem) Error() string {
	if p.Hint == "" {
		return p.Key + ": " + p.Summary
	}
	return p.Key + ": " + p.Summary + " (" + p.Hint + ")"
}

// Validate checks c against the seed's table and returns every problem found,
// in key order. deploymentHosts are the addresses of the hosts the playbook
// deploys to; each must be listed in cm_nodes. It may be nil when unknown.
func Validate(c Config, deploymentHosts []string) []Problem {
	v := &validation{c: c, multi: len(c.CMNodes) > 1 || len(deploymentHosts) > 1}
	for _, kv := range c.strings() {
		if !utf8.ValidString(kv.val) {
			v.add(kv.key, "is not valid UTF-8 text", "config.yaml is YAML, which can only hold text")
		}
	}
	v.metaDB()
	v.dbNames()
	v.cm()
	v.nodes(deploymentHosts)
	v.tsdb()
	v.sls()
	v.ps = append(v.ps, checkPorts(c)...)
	return v.ps
}

// validation collects the problems of one Config, section by section in
// the table's order (each method checks the keys of one section).
type validation struct {
	c     Config
	multi bool // several nodes: a loopback address means a different machine on each
	ps    []Problem
}

func (v *validation) add(key, summary, hint string) {
	v.ps = append(v.ps, Problem{Key: key, Summary: summary, Hint: hint})
}

func (v *validation) metaDB() {
	c, add, multi := v.c, v.add, v.multi
	if c.MetaHost == "" {
		add(KeyMetaHost, "is required", "the address of the MetaDB (MySQL or an OceanBase MySQL tenant)")
	} else if err := checkHost(c.MetaHost); err != nil {
		add(KeyMetaHost, err.Error(), "give an IP address or a host name, without a port (that is oms_meta_port)")
	} else if multi && isLoopback(c.MetaHost) {
		add(KeyMetaHost, fmt.Sprintf("%q is the loopback address, which means a different machine on every node", c.MetaHost),
			"give the MetaDB's address as the OMS nodes see it")
	}
	switch {
	case c.MetaPort == 0:
		add(KeyMetaPort, "is required", "the MetaDB's port, e.g. 2881 for OceanBase or 3306 for MySQL")
	case c.MetaPort < 1 || c.MetaPort > 65535:
		add(KeyMetaPort, fmt.Sprintf("%d is not a TCP port", c.MetaPort), "use a number from 1 to 65535")
	}
	if c.MetaUser == "" {
		add(KeyMetaUser, "is required", "the MetaDB user, e.g. root or user@tenant#cluster for OceanBase")
	} else if err := CheckMetaUser(c.MetaUser); err != nil {
		add(KeyMetaUser, err.Error(), "create a MySQL-mode tenant and a user in it, and give user@tenant#cluster")
	}
	if c.MetaPassword == "" {
		add(KeyMetaPassword, "is required", "the MetaDB user's password")
	}
}

// CheckMetaUser refuses OceanBase's sys tenant as the MetaDB, as obd does
// (docs/oms-facts.md K3): the one rule for render_config, --oms-config, init
// and preflight.
func CheckMetaUser(user string) error {
	if strings.Contains(user, "@sys") {
		return fmt.Errorf("%q is in OceanBase's sys tenant (@sys), where OMS cannot keep its MetaDB", user)
	}
	return nil
}

func (v *validation) dbNames() {
	c, add := v.c, v.add
	seen := map[string]string{}
	for _, d := range []struct{ key, val string }{{KeyRMDB, c.RMDB}, {KeyCMDB, c.CMDB}, {KeyCMHeartbeatDB, c.CMHeartbeatDB}} {
		if d.val == "" {
			add(d.key, "is required", "set it, or leave it unset to derive it from db_prefix")
			continue
		}
		if msg := checkIdent(d.val); msg != "" {
			add(d.key, msg, "use letters, digits and _ only, at most 64 characters")
			continue
		}
		if other, dup := seen[strings.ToLower(d.val)]; dup {
			add(d.key, fmt.Sprintf("%q is also the value of %s", d.val, other), "the three databases must have different names")
		}
		seen[strings.ToLower(d.val)] = d.key
	}
}

func (v *validation) cm() {
	c, add, multi := v.c, v.add, v.multi
	if c.CMURL == "" {
		add(KeyCMURL, "is required", "the VIP or domain name in front of every CM node, on port 8088, e.g. http://VIP:8088")
	} else if _, err := NormalizeCMURL(c.CMURL); err != nil {
		add(KeyCMURL, strings.TrimPrefix(err.Error(), "cm_url "), "e.g. http://VIP:8088; the http:// prefix and the port are optional")
	} else if h, _ := CMURLHost(c.CMURL); multi && isLoopback(h) {
		add(KeyCMURL, fmt.Sprintf("%q points at the loopback address, which cannot serve several nodes", c.CMURL),
			"use the VIP or domain name that all CM nodes are mounted behind")
	}
	if c.CMLocation < 0 || c.CMLocation > 127 {
		add(KeyCMLocation, fmt.Sprintf("%d is out of range", c.CMLocation), "the region code is an integer from 0 to 127")
	}
}

func (v *validation) nodes(deploymentHosts []string) {
	c, add, multi := v.c, v.add, v.multi
	if len(c.CMNodes) == 0 {
		add(KeyCMNodes, "is required", "list the IP address of every OMS node")
	}
	listed := map[string]bool{}
	for i, n := range c.CMNodes {
		switch {
		case n == "":
			add(KeyCMNodes, fmt.Sprintf("entry %d is empty", i+1), "list IP addresses")
		case checkHost(n) != nil:
			add(KeyCMNodes, fmt.Sprintf("entry %d: %v", i+1, checkHost(n)), "list IP addresses, without ports")
		case listed[n]:
			add(KeyCMNodes, fmt.Sprintf("%s is listed twice", n), "list each node once")
		case multi && isLoopback(n):
			add(KeyCMNodes, fmt.Sprintf("%s is the loopback address", n), "list the address each node is reached at by the others")
		}
		listed[n] = true
	}
	for _, h := range deploymentHosts {
		if !listed[h] {
			add(KeyCMNodes, fmt.Sprintf("does not list %s, a host of this deployment", h),
				"cm_nodes must list every host OMS is deployed to; leave it unset to use the inventory's addresses")
		}
	}
}

func (v *validation) tsdb() {
	c, add := v.c, v.add
	switch c.TSDBService {
	case "", TSDBInfluxDB, TSDBCeresDB:
	default:
		hint := "valid values are INFLUXDB and CERESDB"
		if up := strings.ToUpper(c.TSDBService); up == TSDBInfluxDB || up == TSDBCeresDB {
			hint = "write it in capitals: " + up
		}
		add(KeyTSDBService, fmt.Sprintf("%q is not a time-series database type", c.TSDBService), hint)
	}
	if c.TSDBEnabled {
		if c.TSDBURL == "" {
			add(KeyTSDBURL, "is required when tsdb_enabled is true", "the InfluxDB address, e.g. 10.0.0.5:8086")
		} else if msg := checkTSDBURL(c.TSDBURL); msg != "" {
			add(KeyTSDBURL, msg, "give host:port, e.g. 10.0.0.5:8086")
		}
		if c.TSDBUsername == "" {
			add(KeyTSDBUsername, "is required when tsdb_enabled is true", "the user created in the time-series database for OMS")
		}
		if c.TSDBPassword == "" {
			add(KeyTSDBPassword, "is required when tsdb_enabled is true", "that user's password")
		}
	}
}

func (v *validation) sls() {
	c, add := v.c, v.add
	if c.SLSEnabled() {
		const when = "is required when any apsara_audit_sls_* key is set"
		if c.SLSAccessKey == "" {
			add(KeySLSAccessKey, when, "the AccessKey ID of a RAM user that may write the audit logs")
		} else if err := CheckSLSAccessKeyID(c.SLSAccessKey); err != nil {
			add(KeySLSAccessKey, err.Error(), "")
		}
		if c.SLSAccessSecret == "" {
			add(KeySLSAccessSecret, when, "the secret of that AccessKey")
		}
		if c.SLSEndpoint == "" {
			add(KeySLSEndpoint, when, "the SLS endpoint of the region, e.g. cn-hangzhou.log.aliyuncs.com")
		} else if _, err := NormalizeSLSEndpoint(c.SLSEndpoint); err != nil {
			add(KeySLSEndpoint, strings.TrimPrefix(err.Error(), KeySLSEndpoint+" "), "give a host name such as cn-hangzhou.log.aliyuncs.com, or an http(s):// URL of it")
		}
		for _, t := range []struct{ key, val, what string }{
			{KeySLSOpsSiteTopic, c.SLSOpsSiteTopic, "operations site's"}, {KeySLSUserSiteTopic, c.SLSUserSiteTopic, "user site's"}} {
			if t.val == "" {
				add(t.key, when, "the SLS topic of the "+t.what+" audit logs")
			} else if err := CheckSLSTopic(t.val); err != nil {
				add(t.key, err.Error(), "")
			}
		}
	}
}

// checkIdent returns why s cannot be a MetaDB database name, or "".
func checkIdent(s string) string {
	if len(s) > 64 {
		return fmt.Sprintf("%q is longer than 64 characters", s)
	}
	digits := true
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '$') {
			return fmt.Sprintf("%q is not a plain database name", s)
		}
		digits = digits && r >= '0' && r <= '9'
	}
	if digits {
		return fmt.Sprintf("%q is only digits", s)
	}
	return ""
}

// checkTSDBURL accepts host:port with an optional http(s):// prefix.
func checkTSDBURL(s string) string {
	raw := s
	if !strings.Contains(s, "://") {
		raw = "http://" + s
	}
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Sprintf("%q is not an address", s)
	}
	if checkHost(u.Hostname()) != nil {
		return fmt.Sprintf("%q has an invalid host", s)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Sprintf("%q has an invalid port", s)
		}
	}
	return ""
}

// Diagnostics turns problems into HCL diagnostics. A problem whose key Parse
// located points there; the rest point at fallback (e.g. the step or the
// whole file).
func Diagnostics(ps []Problem, c Config, fallback hcl.Range) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, p := range ps {
		rng := fallback
		if r, ok := c.Range(p.Key); ok {
			rng = r
		} else if r, ok := c.Range(KeyTSDBEnabled); ok && strings.HasPrefix(p.Key, "tsdb_") {
			// A TSDB key that is missing is needed because of tsdb_enabled.
			rng = r
		} else if r, ok := c.Range(KeySLSAccessKey); ok && strings.HasPrefix(p.Key, "apsara_audit_sls_") {
			// A missing SLS key is needed because the AccessKey is set.
			rng = r
		}
		detail := p.Hint
		if detail != "" {
			detail = strings.ToUpper(detail[:1]) + detail[1:] + "."
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid " + p.Key + ": " + p.Summary,
			Detail:   detail,
			Subject:  rng.Ptr(),
		})
	}
	return diags
}

// CheckDBName returns why s cannot be a MetaDB database name, or nil.
func CheckDBName(s string) error {
	if s == "" {
		return fmt.Errorf("database name is empty")
	}
	if msg := checkIdent(s); msg != "" {
		return fmt.Errorf("%s", msg)
	}
	return nil
}

// checkPorts checks the ports that are set: each 1025 to 65535 (OMS runs
// them unprivileged, as obd's table says), and no two keys on one port —
// the container uses the host's network, so they would collide.
func checkPorts(c Config) []Problem {
	var ps []Problem
	used := map[int]string{}
	for _, name := range PortKeys {
		k, _ := Lookup(name)
		p := *k.field(&c).(*int)
		switch {
		case p == 0:
			continue
		case p < 1025 || p > 65535:
			ps = append(ps, Problem{Key: name, Summary: fmt.Sprintf("%d is out of range", p), Hint: "use a port from 1025 to 65535, or leave it unset for OMS's " + k.OMSDefault})
			continue
		}
		if other, dup := used[p]; dup {
			ps = append(ps, Problem{Key: name, Summary: fmt.Sprintf("%d is also %s", p, other), Hint: "every OMS port must differ"})
		}
		used[p] = name
	}
	return ps
}
