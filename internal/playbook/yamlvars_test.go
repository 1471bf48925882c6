package playbook

import (
	"os"
	"path/filepath"
	"testing"
)

// TestYAMLVarFile: -e @vars.yml (Ansible's vars files) is read as YAML,
// typed as Ansible types it, and converted to each variable's type; a file
// without an extension that starts as YAML is read as YAML too.
func TestYAMLVarFile(t *testing.T) {
	t.Chdir("../..")
	for _, tc := range []struct{ file, src string }{
		{"vars.yml", "name: oms-y\nreplicas: 3\nports: [80, 0x1bb]\nmetadb: {host: db.example, port: 2883}\ncm_location: 007\n"},
		{"vars", "---\n# Ansible style\nname: oms-y\nreplicas: '3'\nports:\n  - 80\n  - 443\nmetadb:\n  host: db.example\n  port: 2883\ncm_location: 7\n"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), tc.file)
			if err := os.WriteFile(p, []byte(tc.src), 0o600); err != nil {
				t.Fatal(err)
			}
			pb, diags := Load("testdata/bad/vars/_playbook.hcl", Options{ExtraVars: []string{"@" + p}, Modules: fakeModules})
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			got := map[string]string{}
			for k, v := range pb.Vars {
				got[k] = v.GoString()
			}
			want := map[string]string{
				"name":        `cty.StringVal("oms-y")`,
				"replicas":    "cty.NumberIntVal(3)",
				"ports":       "cty.ListVal([]cty.Value{cty.NumberIntVal(80), cty.NumberIntVal(443)})",
				"metadb":      `cty.ObjectVal(map[string]cty.Value{"host":cty.StringVal("db.example"), "port":cty.NumberIntVal(2883)})`,
				"cm_location": "cty.NumberIntVal(7)",
			}
			for k, w := range want {
				if got[k] != w {
					t.Errorf("%s = %s, want %s", k, got[k], w)
				}
			}
		})
	}
}
