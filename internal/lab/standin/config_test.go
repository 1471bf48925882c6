package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const goodConfig = `oms_meta_host: 10.77.0.1
oms_meta_port: 3306
oms_meta_user: oms@tenant#cluster
oms_meta_password: 'oms#Meta: 2026'
drc_rm_db: oms_rm
drc_cm_db: oms_cm
drc_cm_heartbeat_db: oms_cm_heartbeat
cm_url: http://10.77.0.100:8088
cm_location: 100
cm_is_default: true
cm_nodes:
 - 10.77.0.11
 - 10.77.0.12
`

func TestLoadConfig(t *testing.T) {
	cases := []struct {
		name   string
		edit   func(string) string
		reason string // "" means valid
	}{
		{"seed example shape", func(s string) string { return s }, ""},
		{"tsdb complete", func(s string) string {
			return s + "tsdb_enabled: true\ntsdb_service: 'INFLUXDB'\ntsdb_url: '10.77.0.1:8086'\ntsdb_username: u\ntsdb_password: p\n"
		}, ""},
		{"location too big", func(s string) string { return strings.Replace(s, "cm_location: 100", "cm_location: 300", 1) }, "invalid cm_location"},
		{"missing database", func(s string) string { return strings.Replace(s, "drc_cm_db: oms_cm\n", "", 1) }, "invalid drc_cm_db"},
		{"bare asterisk password", func(s string) string {
			return strings.Replace(s, "'oms#Meta: 2026'", "********", 1)
		}, "parse"},
		{"url without scheme", func(s string) string { return strings.Replace(s, "http://", "", 1) }, "invalid cm_url"},
		{"tsdb without url", func(s string) string { return s + "tsdb_enabled: true\ntsdb_service: INFLUXDB\n" }, "invalid tsdb_url"},
		{"tsdb service unknown", func(s string) string { return s + "tsdb_service: PROMETHEUS\n" }, "invalid tsdb_service"},
		{"no nodes", func(s string) string { return strings.Split(s, "cm_nodes:")[0] }, "invalid cm_nodes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "config.yaml")
			if err := os.WriteFile(file, []byte(tc.edit(goodConfig)), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := loadConfig(file)
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("valid config refused: %v", err)
				}
				if cfg.str("oms_meta_password") != "oms#Meta: 2026" || cfg.str("oms_meta_user") != "oms@tenant#cluster" {
					t.Errorf("values did not round-trip: %v", cfg)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("got error %v, want one containing %q", err, tc.reason)
			}
		})
	}
}

func TestCheckHostIP(t *testing.T) {
	cfg := config{"cm_nodes": []any{"10.77.0.11", "10.77.0.12"}}
	t.Setenv("OMS_HOST_IP", "10.77.0.12")
	if err := checkHostIP(cfg); err != nil {
		t.Errorf("listed node refused: %v", err)
	}
	t.Setenv("OMS_HOST_IP", "10.77.0.13")
	if err := checkHostIP(cfg); err == nil {
		t.Error("unlisted node accepted")
	}
}
