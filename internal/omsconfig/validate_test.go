package omsconfig

import (
	"strings"
	"testing"
)

// good is a valid three-node configuration the cases below break one key at a time.
func good() Config {
	c := Default()
	c.MetaHost, c.MetaPort, c.MetaUser, c.MetaPassword = "10.0.0.1", 2883, "oms@tenant#cluster", "s3cret"
	c.RMDB, c.CMDB, c.CMHeartbeatDB = DBNamesFromPrefix("oms")
	c.CMURL, c.CMLocation = "http://10.0.0.100:8088", 100
	c.CMNodes = []string{"10.0.0.2", "10.0.0.3", "10.0.0.4"}
	return c
}

func TestEffectiveTSDBService(t *testing.T) {
	c := good()
	if got := c.EffectiveTSDBService(); got != TSDBCeresDB {
		t.Fatalf("unset tsdb_service = %q; the seed's default is CERESDB", got)
	}
	c.TSDBService = TSDBInfluxDB
	if got := c.EffectiveTSDBService(); got != TSDBInfluxDB {
		t.Fatalf("tsdb_service = %q", got)
	}
}

func TestDBNamesFromPrefix(t *testing.T) {
	rm, cm, hb := DBNamesFromPrefix("oms")
	if rm != "oms_rm" || cm != "oms_cm" || hb != "oms_cm_hb" {
		t.Fatalf("DBNamesFromPrefix(oms) = %s %s %s", rm, cm, hb)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*Config)
		hosts []string
		want  []string // "key: fragment" of every expected problem, in order
	}{
		{name: "valid", edit: func(*Config) {}, hosts: []string{"10.0.0.2", "10.0.0.3", "10.0.0.4"}},
		{name: "valid single node on loopback", edit: func(c *Config) {
			c.CMURL, c.CMNodes = "127.0.0.1", []string{"127.0.0.1"}
		}},
		{name: "MetaDB user in the sys tenant", edit: func(c *Config) { c.MetaUser = "root@sys#obcluster" },
			want: []string{"oms_meta_user: \"root@sys#obcluster\" is in OceanBase's sys tenant"}},
		{name: "location out of range", edit: func(c *Config) { c.CMLocation = 300 }, want: []string{"cm_location: 300 is out of range"}},
		{name: "location negative", edit: func(c *Config) { c.CMLocation = -1 }, want: []string{"cm_location: -1 is out of range"}},
		{name: "loopback cm_url multi-node", edit: func(c *Config) { c.CMURL = "127.0.0.1:8088" },
			want: []string{"cm_url: \"127.0.0.1:8088\" points at the loopback"}},
		{name: "localhost cm_url multi-node", edit: func(c *Config) { c.CMURL = "http://localhost" },
			want: []string{"cm_url: \"http://localhost\" points at the loopback"}},
		{name: "loopback decided by deployment hosts", edit: func(c *Config) {
			c.CMURL, c.CMNodes = "127.0.0.1", []string{"10.0.0.2"}
		}, hosts: []string{"10.0.0.2", "10.0.0.3"}, want: []string{"cm_url: \"127.0.0.1\" points", "cm_nodes: does not list 10.0.0.3"}},
		{name: "cm_url wrong port", edit: func(c *Config) { c.CMURL = "vip:8089" }, want: []string{"cm_url: \"vip:8089\" uses port 8089"}},
		{name: "cm_nodes misses a host", edit: func(c *Config) { c.CMNodes = c.CMNodes[:2] },
			hosts: []string{"10.0.0.2", "10.0.0.3", "10.0.0.4"}, want: []string{"cm_nodes: does not list 10.0.0.4"}},
		{name: "cm_nodes duplicate and bad", edit: func(c *Config) { c.CMNodes = []string{"10.0.0.2", "10.0.0.2", "a b", ""} },
			want: []string{"cm_nodes: 10.0.0.2 is listed twice", "cm_nodes: entry 3", "cm_nodes: entry 4 is empty"}},
		{name: "tsdb enabled without details", edit: func(c *Config) { c.TSDBEnabled = true },
			want: []string{"tsdb_url: is required", "tsdb_username: is required", "tsdb_password: is required"}},
		{name: "tsdb enabled complete", edit: func(c *Config) {
			c.TSDBEnabled, c.TSDBService, c.TSDBURL, c.TSDBUsername, c.TSDBPassword = true, "INFLUXDB", "10.0.0.5:8086", "u", "p"
		}},
		{name: "tsdb bad url", edit: func(c *Config) {
			c.TSDBEnabled, c.TSDBURL, c.TSDBUsername, c.TSDBPassword = true, "10.0.0.5:99999", "u", "p"
		}, want: []string{"tsdb_url: \"10.0.0.5:99999\" has an invalid port"}},
		{name: "tsdb service lower case", edit: func(c *Config) { c.TSDBService = "influxdb" },
			want: []string{"tsdb_service: \"influxdb\" is not a time-series database type (write it in capitals: INFLUXDB)"}},
		{name: "tsdb service unknown", edit: func(c *Config) { c.TSDBService = "PROMETHEUS" }, want: []string{"tsdb_service: \"PROMETHEUS\""}},
		{name: "db names", edit: func(c *Config) { c.RMDB, c.CMDB, c.CMHeartbeatDB = "oms-rm", "123", "OMS_RM" },
			want: []string{"drc_rm_db: \"oms-rm\" is not a plain", "drc_cm_db: \"123\" is only digits"}},
		{name: "db names duplicate", edit: func(c *Config) { c.CMHeartbeatDB = "OMS_CM" },
			want: []string{"drc_cm_heartbeat_db: \"OMS_CM\" is also the value of drc_cm_db"}},
		{name: "port range", edit: func(c *Config) { c.MetaPort = 70000 }, want: []string{"oms_meta_port: 70000 is not a TCP port"}},
		{name: "meta host with port", edit: func(c *Config) { c.MetaHost = "10.0.0.1:2883" }, want: []string{"oms_meta_host:"}},
		{name: "meta host loopback multi-node", edit: func(c *Config) { c.MetaHost = "127.0.0.1" }, want: []string{"oms_meta_host: \"127.0.0.1\" is the loopback"}},
		{name: "invalid utf8", edit: func(c *Config) { c.MetaPassword = "a\xffb" }, want: []string{"oms_meta_password: is not valid UTF-8"}},
		{name: "all required missing", edit: func(c *Config) { *c = Default() }, want: []string{
			"oms_meta_host: is required", "oms_meta_port: is required", "oms_meta_user: is required", "oms_meta_password: is required",
			"drc_rm_db: is required", "drc_cm_db: is required", "drc_cm_heartbeat_db: is required", "cm_url: is required", "cm_nodes: is required",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good()
			tt.edit(&c)
			got := Validate(c, tt.hosts)
			if len(got) != len(tt.want) {
				t.Fatalf("Validate = %d problems %v; want %d %v", len(got), got, len(tt.want), tt.want)
			}
			for i, p := range got {
				if !strings.HasPrefix(p.Error(), tt.want[i]) && !strings.Contains(p.Error(), tt.want[i]) {
					t.Errorf("problem %d = %q; want it to contain %q", i, p.Error(), tt.want[i])
				}
				if _, known := Lookup(p.Key); p.Attribute() != p.Key || !known {
					t.Errorf("problem %d names %q, not a config key", i, p.Key)
				}
				if p.Hint == "" {
					t.Errorf("problem %d %q has no hint", i, p.Error())
				}
			}
		})
	}
}
