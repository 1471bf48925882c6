// Package omsconfig is the model of OMS CE's config.yaml: the keys of the
// seed's table, their validation, the YAML rendering written to every node,
// and the parser for a config.yaml the user already has. render_config,
// `omsrun init` and `--oms-config` all go through this one package so the
// three agree on what a valid configuration is.
package omsconfig

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/secret"
)

// The time-series database types OMS accepts in tsdb_service.
const (
	TSDBInfluxDB = "INFLUXDB"
	TSDBCeresDB  = "CERESDB"
)

// DefaultTSDBService is what OMS uses when tsdb_service is absent (the seed's table).
const DefaultTSDBService = TSDBCeresDB

// CMPort is the port cm_url must name: OMS serves program calls on 8088
// (8089 is the web console), and the seed says "You must specify Port 8088".
const CMPort = 8088

// Config holds every key of config.yaml. Field order follows the seed's template.
type Config struct {
	MetaHost     string        // oms_meta_host
	MetaPort     int           // oms_meta_port
	MetaUser     string        // oms_meta_user; OceanBase form user@tenant#cluster is common
	MetaPassword secret.String // oms_meta_password

	RMDB          string // drc_rm_db
	CMDB          string // drc_cm_db
	CMHeartbeatDB string // drc_cm_heartbeat_db

	CMURL       string   // cm_url
	CMLocation  int      // cm_location, [0,127]
	CMRegion    string   // cm_region, optional
	CMRegionCN  string   // cm_region_cn, optional
	CMIsDefault bool     // cm_is_default, true unless said otherwise
	CMNodes     []string // cm_nodes

	TSDBEnabled  bool          // tsdb_enabled
	TSDBService  string        // tsdb_service; empty means OMS's default (CERESDB)
	TSDBURL      string        // tsdb_url
	TSDBUsername string        // tsdb_username
	TSDBPassword secret.String // tsdb_password

	// Audit logs to Alibaba Cloud Simple Log Service, under the names OMS
	// reads (obd's apsara_audit_sls_*). Render writes them only when set.
	SLSAccessKey     string        // apsara_audit_sls_access_key
	SLSAccessSecret  secret.String // apsara_audit_sls_access_secret
	SLSEndpoint      string        // apsara_audit_sls_endpoint, host name or URL (NormalizeSLSEndpoint)
	SLSOpsSiteTopic  string        // apsara_audit_sls_ops_site_topic
	SLSUserSiteTopic string        // apsara_audit_sls_user_site_topic

	// The ports OMS listens on; 0 leaves OMS's default (written only when set).
	NginxServerPort      int // nginx_server_port, OMS's default 8089
	CMServerPort         int // cm_server_port, 8088
	GhanaServerPort      int // ghana_server_port, 8090
	SupervisorServerPort int // supervisor_server_port, 9000
	SSHDServerPort       int // sshd_server_port, 2023

	// Extra holds keys omsrun does not know, in file order; they are written
	// back as given rather than dropped, since newer OMS releases add keys.
	Extra []Extra

	// pos maps a key to where Parse found it, for diagnostics.
	pos map[string]hcl.Range
}

// Extra is one unknown key of an imported config.yaml.
type Extra struct {
	Key string
	// YAML is the whole entry re-encoded as YAML ("key: value\n", or a block),
	// ready to be appended to a rendered file.
	YAML string
}

// Default returns a Config with the seed's defaults: cm_is_default true,
// tsdb_enabled false, tsdb_service left to OMS (CERESDB).
func Default() Config {
	return Config{CMIsDefault: true}
}

// Key names, exactly as in config.yaml and as the deploy playbook's variables.
const (
	KeyMetaHost      = "oms_meta_host"
	KeyMetaPort      = "oms_meta_port"
	KeyMetaUser      = "oms_meta_user"
	KeyMetaPassword  = "oms_meta_password"
	KeyRMDB          = "drc_rm_db"
	KeyCMDB          = "drc_cm_db"
	KeyCMHeartbeatDB = "drc_cm_heartbeat_db"
	KeyCMURL         = "cm_url"
	KeyCMLocation    = "cm_location"
	KeyCMRegion      = "cm_region"
	KeyCMRegionCN    = "cm_region_cn"
	KeyCMIsDefault   = "cm_is_default"
	KeyCMNodes       = "cm_nodes"
	KeyTSDBEnabled   = "tsdb_enabled"
	KeyTSDBService   = "tsdb_service"
	KeyTSDBURL       = "tsdb_url"
	KeyTSDBUsername  = "tsdb_username"
	KeyTSDBPassword  = "tsdb_password"

	// The SLS audit keys, as OMS (and obd) name them.
	KeySLSAccessKey     = "apsara_audit_sls_access_key"
	KeySLSAccessSecret  = "apsara_audit_sls_access_secret"
	KeySLSEndpoint      = "apsara_audit_sls_endpoint"
	KeySLSOpsSiteTopic  = "apsara_audit_sls_ops_site_topic"
	KeySLSUserSiteTopic = "apsara_audit_sls_user_site_topic"

	// The ports OMS listens on (obd's parameter names).
	KeyNginxServerPort      = "nginx_server_port"
	KeyCMServerPort         = "cm_server_port"
	KeyGhanaServerPort      = "ghana_server_port"
	KeySupervisorServerPort = "supervisor_server_port"
	KeySSHDServerPort       = "sshd_server_port"
)

// SLSEnabled says whether any SLS audit key is set: Validate then requires
// all five, and Render writes them.
func (c Config) SLSEnabled() bool {
	for _, k := range SLSKeys {
		if c.IsSet(k) {
			return true
		}
	}
	return false
}

// EffectiveTSDBService is tsdb_service as OMS will read it: CERESDB when unset.
func (c Config) EffectiveTSDBService() string {
	if c.TSDBService == "" {
		return DefaultTSDBService
	}
	return c.TSDBService
}

// Range returns where Parse found key, if the Config came from Parse.
func (c Config) Range(key string) (hcl.Range, bool) {
	r, ok := c.pos[key]
	return r, ok
}

// Secrets returns the non-empty values of the secret keys, for a redactor.
func (c Config) Secrets() []string {
	var out []string
	for _, k := range Table {
		if v := k.text(&c); k.Secret() && v != "" {
			out = append(out, v)
		}
	}
	return out
}

// DBNamesFromPrefix derives the three database names from a prefix the way the
// seed's wizard does: oms → oms_rm, oms_cm, oms_cm_hb.
func DBNamesFromPrefix(p string) (rm, cm, hb string) {
	return p + "_rm", p + "_cm", p + "_cm_hb"
}

// ToVars maps the config onto the deploy playbook's variables (same names as
// the keys). Keys left unset are omitted so the playbook's own defaults
// apply; secrets carry secret.Mark.
func ToVars(c Config) map[string]cty.Value {
	v := map[string]cty.Value{}
	for _, k := range Table {
		if !k.isSet(&c) {
			continue
		}
		switch p := k.field(&c).(type) {
		case *int:
			v[k.Name] = cty.NumberIntVal(int64(*p))
		case *bool:
			v[k.Name] = cty.BoolVal(*p)
		case *[]string:
			nodes := make([]cty.Value, len(*p))
			for i, n := range *p {
				nodes[i] = cty.StringVal(n)
			}
			v[k.Name] = cty.ListVal(nodes)
		default:
			s := cty.StringVal(k.text(&c))
			if k.Secret() {
				s = s.Mark(secret.Mark)
			}
			v[k.Name] = s
		}
	}
	return v
}

// FromVars sets in c the keys vars holds (as ToVars makes them: strings,
// whole numbers, bools, lists of strings; marks are ignored). Other names
// and values of another type are left alone: the playbook's types were
// checked where the values came from.
func FromVars(c Config, vars map[string]cty.Value) Config {
	for _, k := range Table {
		v, ok := vars[k.Name]
		if !ok {
			continue
		}
		v, _ = v.UnmarkDeep()
		if v.IsNull() || !v.IsWhollyKnown() {
			continue
		}
		switch f := k.field(&c).(type) {
		case *int:
			if v.Type() == cty.Number {
				if n, acc := v.AsBigFloat().Int64(); acc == 0 {
					*f = int(n)
				}
			}
		case *bool:
			if v.Type() == cty.Bool {
				*f = v.True()
			}
		case *[]string:
			if v.CanIterateElements() {
				var out []string
				for it := v.ElementIterator(); it.Next(); {
					_, e := it.Element()
					if e.Type() == cty.String && !e.IsNull() {
						out = append(out, e.AsString())
					}
				}
				*f = out
			}
		default:
			if v.Type() == cty.String {
				k.setText(&c, v.AsString())
			}
		}
	}
	return c
}

type keyVal struct{ key, val string }

// strings lists the string keys with their values, in table order.
func (c Config) strings() []keyVal {
	var out []keyVal
	for _, k := range Table {
		if k.Kind == String {
			out = append(out, keyVal{k.Name, k.text(&c)})
		}
	}
	return out
}

// ExtraYAML returns the kept unknown keys as YAML text, for render_config's
// extra_yaml argument, so importing a config.yaml never drops a key.
func (c Config) ExtraYAML() string {
	var b []byte
	for _, e := range c.Extra {
		b = append(b, e.YAML...)
		if len(e.YAML) > 0 && e.YAML[len(e.YAML)-1] != '\n' {
			b = append(b, '\n')
		}
	}
	return string(b)
}
