package omsconfig

import "github.com/omsrun/omsrun/internal/secret"

// Kind is the type of a config.yaml key's value.
type Kind int

// The kinds of value a key holds.
const (
	String Kind = iota
	Int
	Bool
	List // of strings
)

// HCLType is the kind as a playbook variable's type.
func (k Kind) HCLType() string {
	return [...]string{"string", "number", "bool", "list(string)"}[k]
}

// Key is one row of the table of config.yaml keys: everything omsrun knows
// about a key, in one place. Parsing, rendering, the deploy playbook's
// variables (held to it by a test), render_config's argument docs and the
// wizard's help all read it, so adding a key means adding a row here, a field
// to Config, its checks to Validate and a variable to oms-variables.hcl.
type Key struct {
	Name string
	Kind Kind
	// Required: config.yaml must have the key.
	Required bool
	// VarDefault is the deploy playbook variable's default as HCL text;
	// "" means the variable has none and must be given.
	VarDefault string
	// OMSDefault is what OMS uses when the key is absent ("" when it has none).
	OMSDefault string
	// Doc is the one-line description shown in docs and help.
	Doc string
	// Comment lines are written above the key in the rendered config.yaml.
	Comment []string
	// ZeroValid: an Int whose 0 is a real value (cm_location), always written.
	ZeroValid bool
	// Region: each region of a multi-region deployment has its own value
	// (obd's regions list, docs/oms-facts.md S5); the rest are shared.
	Region bool
	// field points at the key's value in a Config.
	field func(*Config) any
}

// Secret says whether the key's value is a secret, by the one rule.
func (k Key) Secret() bool { return secret.IsSecretName(k.Name) }

// Section is a group of keys rendered under one heading.
type Section struct {
	Heading []string
	// OnlyWhenSet: the whole section is left out of config.yaml when none of
	// its keys is set (SLS, ports), so such files keep the seed's layout.
	OnlyWhenSet bool
	Keys        []Key
}

// Sections is the table of config.yaml keys, in the order Render writes them.
var Sections = []Section{
	{Heading: []string{"Information about the OMS Community Edition MetaDB"}, Keys: []Key{
		{Name: KeyMetaHost, Kind: String, Required: true, Doc: "the MetaDB address (MySQL, or an OceanBase MySQL tenant)",
			field: func(c *Config) any { return &c.MetaHost }},
		{Name: KeyMetaPort, Kind: Int, Required: true, VarDefault: "2881", Doc: "the MetaDB port",
			field: func(c *Config) any { return &c.MetaPort }},
		{Name: KeyMetaUser, Kind: String, Required: true, Doc: "the MetaDB user (user@tenant#cluster for OceanBase)",
			field: func(c *Config) any { return &c.MetaUser }},
		{Name: KeyMetaPassword, Kind: String, Required: true, Doc: "the MetaDB password",
			field: func(c *Config) any { return &c.MetaPassword }},
	}},
	{Heading: []string{"You can customize the names of the following three databases, which are created in the MetaDB when you deploy OMS Community Edition."}, Keys: []Key{
		{Name: KeyRMDB, Kind: String, Required: true, VarDefault: "null", Doc: "the console database name (default <db_prefix>_rm)",
			field: func(c *Config) any { return &c.RMDB }},
		{Name: KeyCMDB, Kind: String, Required: true, VarDefault: "null", Doc: "the CM database name (default <db_prefix>_cm)",
			field: func(c *Config) any { return &c.CMDB }},
		{Name: KeyCMHeartbeatDB, Region: true, Kind: String, Required: true, VarDefault: "null", Doc: "the CM heartbeat database name (default <db_prefix>_cm_hb)",
			field: func(c *Config) any { return &c.CMHeartbeatDB }},
	}},
	{Heading: []string{"Configurations of the OMS Community Edition cluster"}, Keys: []Key{
		{Name: KeyCMURL, Region: true, Kind: String, Required: true, VarDefault: `""`, Doc: "the VIP or domain in front of every node's CM port 8088; VIP, VIP:8088 and http(s):// forms are normalised",
			Comment: []string{"To deploy OMS Community Edition on multiple nodes in a single region, you must set the cm_url parameter to a VIP or domain name to which all CM servers in the region are mounted."},
			field:   func(c *Config) any { return &c.CMURL }},
		{Name: KeyCMLocation, Region: true, Kind: Int, Required: true, VarDefault: "100", ZeroValid: true, Doc: "the region code, 0 to 127",
			field: func(c *Config) any { return &c.CMLocation }},
		{Name: KeyCMRegion, Region: true, Kind: String, VarDefault: `""`, Doc: "the region name, for several regions only",
			Comment: []string{"The cm_region parameter is not required for single-region deployment."},
			field:   func(c *Config) any { return &c.CMRegion }},
		{Name: KeyCMRegionCN, Region: true, Kind: String, VarDefault: `""`, Doc: "the region name as the console shows it, for several regions only",
			Comment: []string{"The cm_region_cn parameter is not required for single-region deployment."},
			field:   func(c *Config) any { return &c.CMRegionCN }},
		{Name: KeyCMIsDefault, Region: true, Kind: Bool, VarDefault: "true", OMSDefault: "true", Doc: "whether this region is the default one",
			field: func(c *Config) any { return &c.CMIsDefault }},
		{Name: KeyCMNodes, Region: true, Kind: List, Required: true, VarDefault: "[]", Doc: "every OMS node's IP address (default: the hosts deployed to)",
			field: func(c *Config) any { return &c.CMNodes }},
	}},
	{Heading: []string{"Configurations of the time-series database"}, Keys: []Key{
		{Name: KeyTSDBEnabled, Kind: Bool, VarDefault: "false", OMSDefault: "false", Doc: "report metrics to a time-series database; url, username and password are then required",
			Comment: []string{"Default value: false. To enable metric reporting, set the parameter to `true`."},
			field:   func(c *Config) any { return &c.TSDBEnabled }},
		{Name: KeyTSDBService, Kind: String, VarDefault: `"INFLUXDB"`, OMSDefault: TSDBCeresDB, Doc: "INFLUXDB or CERESDB",
			Comment: []string{"INFLUXDB or CERESDB; OMS uses CERESDB when it is not set."},
			field:   func(c *Config) any { return &c.TSDBService }},
		{Name: KeyTSDBURL, Kind: String, VarDefault: `""`, Doc: "the time-series database address, host:port",
			field: func(c *Config) any { return &c.TSDBURL }},
		{Name: KeyTSDBUsername, Kind: String, VarDefault: `""`, Doc: "the time-series database user",
			field: func(c *Config) any { return &c.TSDBUsername }},
		{Name: KeyTSDBPassword, Kind: String, VarDefault: `""`, Doc: "the time-series database password",
			field: func(c *Config) any { return &c.TSDBPassword }},
	}},
	{Heading: []string{"Audit logs to Alibaba Cloud Simple Log Service (SLS), under the names OMS reads.",
		"Written only when set; then all five are required."}, OnlyWhenSet: true, Keys: []Key{
		{Name: KeySLSAccessKey, Kind: String, VarDefault: `""`, Doc: "the AccessKey ID that writes the audit logs to SLS; setting it turns SLS audit logs on",
			field: func(c *Config) any { return &c.SLSAccessKey }},
		{Name: KeySLSAccessSecret, Kind: String, VarDefault: `""`, Doc: "that AccessKey's secret",
			field: func(c *Config) any { return &c.SLSAccessSecret }},
		{Name: KeySLSEndpoint, Kind: String, VarDefault: `""`, Doc: "the SLS endpoint of the region, e.g. cn-hangzhou.log.aliyuncs.com (or an http(s) URL of it)",
			field: func(c *Config) any { return &c.SLSEndpoint }},
		{Name: KeySLSOpsSiteTopic, Kind: String, VarDefault: `""`, Doc: "the SLS topic of the operations site's audit logs",
			field: func(c *Config) any { return &c.SLSOpsSiteTopic }},
		{Name: KeySLSUserSiteTopic, Kind: String, VarDefault: `""`, Doc: "the SLS topic of the user site's audit logs",
			field: func(c *Config) any { return &c.SLSUserSiteTopic }},
	}},
	{Heading: []string{"Ports OMS listens on (the container uses the host's network). Written only when set;",
		"OMS's defaults apply to the others."}, OnlyWhenSet: true, Keys: []Key{
		port(KeyNginxServerPort, "8089", "the web console's port (nginx), also where /oms/health answers", func(c *Config) *int { return &c.NginxServerPort }),
		port(KeyCMServerPort, "8088", "the CM port, the one cm_url names", func(c *Config) *int { return &c.CMServerPort }),
		port(KeyGhanaServerPort, "8090", "the console backend's (Ghana) port", func(c *Config) *int { return &c.GhanaServerPort }),
		port(KeySupervisorServerPort, "9000", "the DRC supervisor's port", func(c *Config) *int { return &c.SupervisorServerPort }),
		port(KeySSHDServerPort, "2023", "the port of the sshd inside the container", func(c *Config) *int { return &c.SSHDServerPort }),
	}},
}

func port(name, def, doc string, f func(*Config) *int) Key {
	return Key{Name: name, Kind: Int, VarDefault: "null", OMSDefault: def,
		Doc: doc + ", 1025 to 65535 (OMS's default " + def + ")", field: func(c *Config) any { return f(c) }}
}

// Table lists every key in render order.
var Table = func() []Key {
	var out []Key
	for _, s := range Sections {
		out = append(out, s.Keys...)
	}
	return out
}()

// Keys lists every known key's name in render order.
var Keys = func() []string {
	out := make([]string, len(Table))
	for i, k := range Table {
		out[i] = k.Name
	}
	return out
}()

// PortKeys are the five port keys, in table order.
var PortKeys = []string{KeyNginxServerPort, KeyCMServerPort, KeyGhanaServerPort, KeySupervisorServerPort, KeySSHDServerPort}

// SLSKeys are the five SLS audit keys, in table order.
var SLSKeys = []string{KeySLSAccessKey, KeySLSAccessSecret, KeySLSEndpoint, KeySLSOpsSiteTopic, KeySLSUserSiteTopic}

// RegionKeys are the keys each region has its own value of, in table order.
var RegionKeys = func() []string {
	var out []string
	for _, k := range Table {
		if k.Region {
			out = append(out, k.Name)
		}
	}
	return out
}()

// Lookup returns the table's row for name.
func Lookup(name string) (Key, bool) {
	for _, k := range Table {
		if k.Name == name {
			return k, true
		}
	}
	return Key{}, false
}

// Retired returns why name is refused when it is one of the SLS keys omsrun
// once invented (OMS never read them), naming what replaces it.
func Retired(name string) (string, bool) {
	topics := "OMS's audit logs go to the topics " + KeySLSOpsSiteTopic + " and " + KeySLSUserSiteTopic +
		", and SLS is on when " + KeySLSAccessKey + " is set"
	msg, ok := map[string]string{
		"sls_access_key_id":     "use " + KeySLSAccessKey + ", the name OMS reads",
		"sls_access_key_secret": "use " + KeySLSAccessSecret + ", the name OMS reads",
		"sls_endpoint":          "use " + KeySLSEndpoint + ", the name OMS reads",
		"sls_enabled":           "OMS has no such key: " + topics,
		"sls_project":           "OMS has no such key: " + topics,
		"sls_logstore":          "OMS has no such key: " + topics,
	}[name]
	if !ok {
		return "", false
	}
	return name + " is no longer accepted: " + msg, true
}

// text returns a String key's value (a secret revealed), "" for other kinds.
func (k Key) text(c *Config) string {
	switch p := k.field(c).(type) {
	case *string:
		return *p
	case *secret.String:
		return p.Reveal()
	}
	return ""
}

// setText sets a String key's value.
func (k Key) setText(c *Config, s string) {
	switch p := k.field(c).(type) {
	case *string:
		*p = s
	case *secret.String:
		*p = secret.String(s)
	}
}

// isSet says whether the key has a value worth writing: a non-empty string
// or list, a non-zero number (or any number when ZeroValid), any bool.
func (k Key) isSet(c *Config) bool {
	switch p := k.field(c).(type) {
	case *int:
		return *p != 0 || k.ZeroValid
	case *bool:
		return true
	case *[]string:
		return len(*p) > 0
	}
	return k.text(c) != ""
}

// IsSet says whether key has a value in c (see Key.isSet); false for an unknown key.
func (c Config) IsSet(key string) bool {
	k, ok := Lookup(key)
	return ok && k.isSet(&c)
}
