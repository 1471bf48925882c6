package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/secret"
)

const testConfig = `oms_meta_host: 10.0.0.1
oms_meta_port: 2883
oms_meta_user: oms_meta_user
oms_meta_password: '********'
drc_rm_db: oms_rm
drc_cm_db: oms_cm
drc_cm_heartbeat_db: oms_cm_heartbeat
cm_url: 10.0.0.100
cm_location: 100
cm_nodes:
 - 10.0.0.2
 - 10.0.0.3
`

func writeTemp(t *testing.T, name, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEnvRefVar(t *testing.T) {
	t.Setenv("OMSRUN_TEST_PW", "s3cret: #x")
	t.Setenv("OMSRUN_TEST_EMPTY", "")
	tests := []struct {
		name, arg, wantName, wantErr string
		ok                           bool
	}{
		{name: "plain -e", arg: "cm_location=100"},
		{name: "var file", arg: "@vars.hcl"},
		{name: "env ref", arg: "oms_meta_password=@env:OMSRUN_TEST_PW", ok: true, wantName: "oms_meta_password"},
		{name: "unset", arg: "x=@env:OMSRUN_TEST_UNSET_42", ok: true, wantName: "x", wantErr: "is not set"},
		{name: "empty", arg: "x=@env:OMSRUN_TEST_EMPTY", ok: true, wantName: "x", wantErr: "is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name, v, diags, ok := envRefVar(tt.arg)
			if ok != tt.ok || name != tt.wantName {
				t.Fatalf("envRefVar(%q) = %q, ok %v", tt.arg, name, ok)
			}
			if tt.wantErr != "" {
				if !diags.HasErrors() || !strings.Contains(diags.Error(), tt.wantErr) {
					t.Fatalf("diags = %v, want %q", diags, tt.wantErr)
				}
				return
			}
			if ok {
				if !v.HasMark(secret.Mark) {
					t.Errorf("value not marked sensitive")
				}
				if raw, _ := v.Unmark(); raw.AsString() != "s3cret: #x" {
					t.Errorf("value = %q", raw.AsString())
				}
			}
		})
	}
}

func TestOMSConfigVarsAndArgs(t *testing.T) {
	cfg := writeTemp(t, "config.yaml", testConfig)
	inv := writeTemp(t, "inv.hcl", "group \"oms\" {\n  host \"a\" { address = \"10.0.0.2\" }\n  host \"b\" { address = \"10.0.0.3\" }\n}\n")
	t.Setenv("OMSRUN_TEST_PW", "from-env")
	g := &globals{omsConfig: cfg, inventories: []string{inv}, extraVars: []string{"cm_location=7", "oms_meta_password=@env:OMSRUN_TEST_PW", "@vars.hcl"}}
	preset, args, diags := varSources(g)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if strings.Join(args, " ") != "cm_location=7 @vars.hcl" {
		t.Errorf("args = %q", args)
	}
	// The config's values are presets; the @env reference wins over the config's password.
	if pw, _ := preset["oms_meta_password"].Unmark(); pw.AsString() != "from-env" || !preset["oms_meta_password"].HasMark(secret.Mark) {
		t.Errorf("oms_meta_password = %#v", preset["oms_meta_password"])
	}
	if !preset["oms_meta_port"].RawEquals(cty.NumberIntVal(2883)) || preset["cm_nodes"].LengthInt() != 2 {
		t.Errorf("preset = %#v", preset)
	}

	// cm_nodes must cover the inventory's oms group.
	inv3 := writeTemp(t, "inv3.hcl", "group \"oms\" {\n  host \"a\" { address = \"10.0.0.2\" }\n  host \"c\" { address = \"10.0.0.9\" }\n}\n")
	_, diags = omsConfigVars(&globals{omsConfig: cfg, inventories: []string{inv3}})
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "does not list 10.0.0.9") {
		t.Errorf("diags = %v", diags)
	}
	vals, diags := omsConfigVars(&globals{omsConfig: cfg})
	if diags.HasErrors() || !vals["cm_is_default"].RawEquals(cty.True) {
		t.Errorf("vals = %v, diags = %v", vals, diags)
	}
	// The seed's bare-VIP form becomes the URL the playbook's health checks need.
	if got := vals["cm_url"]; !got.RawEquals(cty.StringVal("http://10.0.0.100:8088")) {
		t.Errorf("cm_url = %#v", got)
	}
}

func TestOMSConfigInventory(t *testing.T) {
	cfg := writeTemp(t, "config.yaml", testConfig)
	src, diags := omsConfigInventory(cfg, "admin", "/keys/id")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	g := &globals{builtInventory: src}
	inv, diags := g.loadInventory()
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if len(inv.Hosts) != 2 || inv.Hosts[0].Address != "10.0.0.2" || inv.Hosts[0].User != "admin" || inv.Hosts[0].KeyFile != "/keys/id" || !inv.Hosts[0].Become {
		t.Errorf("hosts = %+v", inv.Hosts[0])
	}
	if _, ok := inv.Groups["oms"]; !ok {
		t.Errorf("no oms group")
	}
}

// TestOMSConfigWithoutInventory: --oms-config without -i validates against
// an inventory of its cm_nodes built in memory (no file written).
func TestOMSConfigWithoutInventory(t *testing.T) {
	cfg := writeTemp(t, "config.yaml", testConfig)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	out, errOut, code := run("validate", "../../playbooks/deploy.hcl", "--oms-config", cfg, "--user", "root",
		"-e", "image=oms:feature_4.2.5-ce", "-e", "image_file="+tinyArchive(t))
	if code != 0 || !strings.Contains(out, "2 host(s) targeted") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if ents, _ := os.ReadDir(tmp); len(ents) > 1 { // tinyArchive's own file may be there
		t.Errorf("files left in TMPDIR: %v", ents)
	}
}
