package wizard

import (
	"errors"
	goldenfile "github.com/omsrun/omsrun/internal/golden"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omsrun/omsrun/internal/secret"
	"github.com/omsrun/omsrun/inventory"
)

func sampleAnswers(secrets string) *Answers {
	return &Answers{
		Mode: ModeMulti, MetaHost: "10.0.0.1", MetaPort: 3306, MetaUser: "oms@tenant#cluster",
		MetaPassword: secret.String(`pa"ss ${x} %{y}`), DBPrefix: "oms", AllowExisting: true,
		CMURL: "http://10.0.0.100:8088", Nodes: []string{"10.0.0.2", "10.0.0.3"},
		TSDBEnabled: true, TSDBService: "INFLUXDB", TSDBURL: "10.0.0.5:8086", TSDBUser: "oms", TSDBPassword: "********",
		SLSEnabled: true, SLSEndpoint: "cn-hangzhou.log.aliyuncs.com", SLSOpsSiteTopic: "oms-ops", SLSUserSiteTopic: "oms-user",
		SLSAccessKey: "LTAI5tExampleKeyID", SLSAccessSecret: "sls-sk-1",
		MountDir: "/data/oms", Image: "oms:feature_4.2.5-ce", ImageFile: "/srv/pkgs/oms 4.2.5.tar.gz",
		HTTPSCrt: "/etc/oms/oms.crt", HTTPSKey: "/etc/oms/oms.key",
		SSHUser: "admin", SSHPassword: "sshpw", KnownHosts: "/etc/oms/known_hosts", Become: true, BecomePassword: "sudopw",
		Secrets: secrets,
	}
}

func TestRender(t *testing.T) {
	for _, mode := range []string{SecretsFile, SecretsEnv} {
		t.Run(mode, func(t *testing.T) {
			a := sampleAnswers(mode)
			golden(t, "vars-"+mode+".hcl", Vars(a))
			golden(t, "inventory-"+mode+".hcl", Inventory(a))
			if mode == SecretsEnv {
				for _, s := range []string{"sshpw", "sudopw", "pa\\\"ss", "********", "sls-sk-1"} {
					if strings.Contains(string(Vars(a))+string(Inventory(a)), s) {
						t.Errorf("%q written although secrets go to the environment", s)
					}
				}
			}
		})
	}
}

// The inventory init writes must load with omsrun's own inventory loader.
func TestInventoryLoads(t *testing.T) {
	dir := t.TempDir()
	files := Files{Inventory: filepath.Join(dir, "inv.hcl"), Vars: filepath.Join(dir, "vars.hcl")}
	a := sampleAnswers(SecretsFile)
	if err := Write(a, files, false); err != nil {
		t.Fatal(err)
	}
	inv, diags := inventory.Load([]string{files.Inventory})
	if diags.HasErrors() {
		t.Fatalf("inventory does not load: %v", diags)
	}
	if len(inv.Hosts) != 2 || inv.Hosts[1].Address != "10.0.0.3" || inv.Hosts[0].User != "admin" ||
		!inv.Hosts[0].Become || inv.Hosts[0].BecomePassword.Reveal() != "sudopw" || inv.Hosts[0].Password.Reveal() != "sshpw" {
		t.Errorf("loaded hosts: %+v", inv.Hosts[0])
	}
	if g, ok := inv.Groups["oms"]; !ok || len(g.Hosts) != 2 {
		t.Errorf("group oms: %+v", inv.Groups["oms"])
	}
}

func TestWriteModeAndOverwrite(t *testing.T) {
	dir := t.TempDir()
	files := Files{Inventory: filepath.Join(dir, "sub", "inv.hcl"), Vars: filepath.Join(dir, "sub", "vars.hcl")}
	a := sampleAnswers(SecretsFile)
	if err := Write(a, files, false); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{files.Inventory, files.Vars} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", p, st.Mode().Perm())
		}
	}
	var ee *ExistsError
	if err := Write(a, files, false); !errors.As(err, &ee) {
		t.Fatalf("second Write: %v, want ExistsError", err)
	}
	if err := Write(a, files, true); err != nil {
		t.Fatalf("Write with overwrite: %v", err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "sub", ".*"))
	if len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestNextCommands(t *testing.T) {
	files := Files{Inventory: "oms inventory.hcl", Vars: "vars.hcl"}
	tests := []struct {
		name    string
		secrets string
		want    []string
	}{
		{name: "file", secrets: SecretsFile, want: []string{
			"omsrun playbooks/deploy.hcl -i 'oms inventory.hcl' -e @vars.hcl --check --diff",
			"omsrun playbooks/deploy.hcl -i 'oms inventory.hcl' -e @vars.hcl",
		}},
		{name: "env", secrets: SecretsEnv, want: []string{
			"read -rs OMS_META_PASSWORD && export OMS_META_PASSWORD",
			"read -rs OMS_TSDB_PASSWORD && export OMS_TSDB_PASSWORD",
			"read -rs OMS_SLS_ACCESS_SECRET && export OMS_SLS_ACCESS_SECRET",
			"omsrun playbooks/deploy.hcl -i 'oms inventory.hcl' -e @vars.hcl -e oms_meta_password=@env:OMS_META_PASSWORD -e tsdb_password=@env:OMS_TSDB_PASSWORD -e apsara_audit_sls_access_secret=@env:OMS_SLS_ACCESS_SECRET --ask-pass --ask-become-pass --check --diff",
			"omsrun playbooks/deploy.hcl -i 'oms inventory.hcl' -e @vars.hcl -e oms_meta_password=@env:OMS_META_PASSWORD -e tsdb_password=@env:OMS_TSDB_PASSWORD -e apsara_audit_sls_access_secret=@env:OMS_SLS_ACCESS_SECRET --ask-pass --ask-become-pass",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := NextCommands(sampleAnswers(tt.secrets), files)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("..", "..", "testdata", "init", name), got)
}

// TestWriteTSDBDeploy: with a TSDB for omsrun to deploy, the inventory gets
// its host as group tsdb (an OMS node by its own name), the vars file what
// tsdb.hcl needs and no tsdb_url (deploy.hcl then uses the tsdb host), and
// tsdb.hcl comes before the deployment's commands.
func TestWriteTSDBDeploy(t *testing.T) {
	for _, tc := range []struct{ host, want string }{
		{"10.0.0.3", `host "oms2"`},
		{"10.0.0.9", `host "tsdb1" {`},
	} {
		dir := t.TempDir()
		files := Files{Inventory: filepath.Join(dir, "inv.hcl"), Vars: filepath.Join(dir, "vars.hcl")}
		a := sampleAnswers(SecretsEnv)
		a.TSDBDeploy, a.TSDBHost, a.TSDBImage, a.TSDBImageFile, a.TSDBAdminPassword = true, tc.host, "influxdb:1.8", "/srv/influx.tar", "adm1n"
		if err := Write(a, files, false); err != nil {
			t.Fatal(err)
		}
		inv, diags := inventory.Load([]string{files.Inventory})
		if diags.HasErrors() {
			t.Fatalf("inventory does not load: %v\n%s", diags, Inventory(a))
		}
		if g := inv.Groups["tsdb"]; g == nil || len(g.Hosts) != 1 || !strings.Contains(string(Inventory(a)), tc.want) {
			t.Errorf("group tsdb %+v in:\n%s", g, Inventory(a))
		}
		vars := string(Vars(a))
		for _, s := range []string{`tsdb_image      = "influxdb:1.8"`, `tsdb_image_file = "/srv/influx.tar"`, "tsdb_admin_password comes from $OMS_TSDB_ADMIN_PASSWORD"} {
			if !strings.Contains(vars, s) {
				t.Errorf("vars lack %q:\n%s", s, vars)
			}
		}
		if strings.Contains(vars, "\ntsdb_url ") || strings.Contains(vars, "adm1n") {
			t.Errorf("vars hold tsdb_url or the admin password:\n%s", vars)
		}
		if got, want := TSDBCommand(a, files), "omsrun playbooks/tsdb.hcl -i "+files.Inventory+" -e @"+files.Vars+
			" -e tsdb_admin_password=@env:OMS_TSDB_ADMIN_PASSWORD -e oms_meta_password=@env:OMS_META_PASSWORD -e tsdb_password=@env:OMS_TSDB_PASSWORD -e apsara_audit_sls_access_secret=@env:OMS_SLS_ACCESS_SECRET --ask-pass --ask-become-pass"; got != want {
			t.Errorf("tsdb command\n%s\nwant\n%s", got, want)
		}
		if cmds := NextCommands(a, files); cmds[0] != "read -rs OMS_TSDB_ADMIN_PASSWORD && export OMS_TSDB_ADMIN_PASSWORD" {
			t.Errorf("commands %q", cmds)
		}
	}
}
