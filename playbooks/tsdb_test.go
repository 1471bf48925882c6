package playbooks_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/omsrun/omsrun/internal/playbook"
	"github.com/omsrun/omsrun/inventory"
)

// TestTSDBURLFromInventory: with tsdb_url empty, deploy.hcl points OMS at
// the first host of the tsdb group (the InfluxDB tsdb.hcl deploys) on
// tsdb_port; a tsdb_url given wins; without a tsdb group it stays empty.
func TestTSDBURLFromInventory(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	oms := "group \"oms\" {\n  host \"oms1\" { address = \"10.0.0.11\" }\n}\n"
	withTSDB := write("with.hcl", oms+"group \"tsdb\" {\n  host \"tsdb1\" { address = \"10.0.0.21\" }\n  host \"tsdb2\" { address = \"10.0.0.22\" }\n}\n")
	without := write("without.hcl", oms)
	base := []string{"oms_meta_host=10.0.0.5", "oms_meta_user=u", "oms_meta_password=p", "cm_url=http://10.0.0.100:8088", "image=oms:x", "image_file=x.tar.gz"}
	for _, tc := range []struct {
		name, inv string
		extra     []string
		want      string
	}{
		{"tsdb group", withTSDB, nil, "10.0.0.21:8086"},
		{"tsdb group, other port", withTSDB, []string{"tsdb_port=18086"}, "10.0.0.21:18086"},
		{"tsdb_url given", withTSDB, []string{"tsdb_url=10.9.9.9:8086"}, "10.9.9.9:8086"},
		{"no tsdb group", without, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv, diags := inventory.Load([]string{tc.inv})
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			p, diags := playbook.Load("deploy.hcl", playbook.Options{Inventory: inv, ExtraVars: append(base, tc.extra...)})
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			if got := p.Locals["tsdb_url"].AsString(); got != tc.want {
				t.Errorf("tsdb_url = %q, want %q", got, tc.want)
			}
			if got := p.Locals["oms_config"].GetAttr("tsdb_url").AsString(); got != tc.want {
				t.Errorf("config.yaml's tsdb_url = %q, want %q", got, tc.want)
			}
		})
	}
}
