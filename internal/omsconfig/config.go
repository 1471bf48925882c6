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

	// Audit logs to Alibaba Cloud Simple Log Service. These keys are
	// omsrun's own: the seed asks for SLS parameters in its interactive
	// tool but its config.yaml table defines no keys for them. Render
	// writes them only when SLSEnabled is true.
	SLSEnabled         bool          // sls_enabled
	SLSEndpoint        string        // sls_endpoint, host name or URL (NormalizeSLSEndpoint)
	SLSProject         string        // sls_project
	SLSLogstore        string        // sls_logstore
	SLSAccessKeyID     string        // sls_access_key_id
	SLSAccessKeySecret secret.String // sls_access_key_secret

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

	// omsrun's keys for SLS audit logs (the seed's table has none).
	KeySLSEnabled         = "sls_enabled"
	KeySLSEndpoint        = "sls_endpoint"
	KeySLSProject         = "sls_project"
	KeySLSLogstore        = "sls_logstore"
	KeySLSAccessKeyID     = "sls_access_key_id"
	KeySLSAccessKeySecret = "sls_access_key_secret"
)

// Keys lists every known key in the template's order.
var Keys = []string{
	KeyMetaHost, KeyMetaPort, KeyMetaUser, KeyMetaPassword,
	KeyRMDB, KeyCMDB, KeyCMHeartbeatDB,
	KeyCMURL, KeyCMLocation, KeyCMRegion, KeyCMRegionCN, KeyCMIsDefault, KeyCMNodes,
	KeyTSDBEnabled, KeyTSDBService, KeyTSDBURL, KeyTSDBUsername, KeyTSDBPassword,
	KeySLSEnabled, KeySLSEndpoint, KeySLSProject, KeySLSLogstore, KeySLSAccessKeyID, KeySLSAccessKeySecret,
}

// SLSKeys are omsrun's keys for SLS audit logs, which the seed's table does
// not define; they are written to config.yaml only when sls_enabled is true.
var SLSKeys = []string{KeySLSEnabled, KeySLSEndpoint, KeySLSProject, KeySLSLogstore, KeySLSAccessKeyID, KeySLSAccessKeySecret}

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

// Secrets returns the non-empty password values, for a redactor.
func (c Config) Secrets() []string {
	var out []string
	for _, s := range []secret.String{c.MetaPassword, c.TSDBPassword, c.SLSAccessKeySecret} {
		if s != "" {
			out = append(out, s.Reveal())
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
// the keys). Optional keys left empty are omitted so the playbook's own
// defaults apply; passwords carry secret.Mark.
func ToVars(c Config) map[string]cty.Value {
	v := map[string]cty.Value{}
	str := func(k, s string) {
		if s != "" {
			v[k] = cty.StringVal(s)
		}
	}
	sec := func(k string, s secret.String) {
		if s != "" {
			v[k] = cty.StringVal(s.Reveal()).Mark(secret.Mark)
		}
	}
	str(KeyMetaHost, c.MetaHost)
	if c.MetaPort != 0 {
		v[KeyMetaPort] = cty.NumberIntVal(int64(c.MetaPort))
	}
	str(KeyMetaUser, c.MetaUser)
	sec(KeyMetaPassword, c.MetaPassword)
	str(KeyRMDB, c.RMDB)
	str(KeyCMDB, c.CMDB)
	str(KeyCMHeartbeatDB, c.CMHeartbeatDB)
	str(KeyCMURL, c.CMURL)
	v[KeyCMLocation] = cty.NumberIntVal(int64(c.CMLocation))
	str(KeyCMRegion, c.CMRegion)
	str(KeyCMRegionCN, c.CMRegionCN)
	v[KeyCMIsDefault] = cty.BoolVal(c.CMIsDefault)
	if len(c.CMNodes) > 0 {
		nodes := make([]cty.Value, len(c.CMNodes))
		for i, n := range c.CMNodes {
			nodes[i] = cty.StringVal(n)
		}
		v[KeyCMNodes] = cty.ListVal(nodes)
	}
	v[KeyTSDBEnabled] = cty.BoolVal(c.TSDBEnabled)
	str(KeyTSDBService, c.TSDBService)
	str(KeyTSDBURL, c.TSDBURL)
	str(KeyTSDBUsername, c.TSDBUsername)
	sec(KeyTSDBPassword, c.TSDBPassword)
	v[KeySLSEnabled] = cty.BoolVal(c.SLSEnabled)
	str(KeySLSEndpoint, c.SLSEndpoint)
	str(KeySLSProject, c.SLSProject)
	str(KeySLSLogstore, c.SLSLogstore)
	str(KeySLSAccessKeyID, c.SLSAccessKeyID)
	sec(KeySLSAccessKeySecret, c.SLSAccessKeySecret)
	return v
}

type keyVal struct{ key, val string }

// strings lists the scalar string keys with their values, in template order.
func (c Config) strings() []keyVal {
	return []keyVal{
		{KeyMetaHost, c.MetaHost}, {KeyMetaUser, c.MetaUser}, {KeyMetaPassword, c.MetaPassword.Reveal()},
		{KeyRMDB, c.RMDB}, {KeyCMDB, c.CMDB}, {KeyCMHeartbeatDB, c.CMHeartbeatDB}, {KeyCMURL, c.CMURL},
		{KeyCMRegion, c.CMRegion}, {KeyCMRegionCN, c.CMRegionCN}, {KeyTSDBService, c.TSDBService},
		{KeyTSDBURL, c.TSDBURL}, {KeyTSDBUsername, c.TSDBUsername}, {KeyTSDBPassword, c.TSDBPassword.Reveal()},
		{KeySLSEndpoint, c.SLSEndpoint}, {KeySLSProject, c.SLSProject}, {KeySLSLogstore, c.SLSLogstore},
		{KeySLSAccessKeyID, c.SLSAccessKeyID}, {KeySLSAccessKeySecret, c.SLSAccessKeySecret.Reveal()},
	}
}

func secretString(s string) secret.String { return secret.String(s) }

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
