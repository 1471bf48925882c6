package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestValidateCatchesWithoutConnecting: validate refuses, before any
// connection, what needs none — an inventory whose hosts cm_nodes does not
// list, a MetaDB user in OceanBase's sys tenant — and points at the line
// where the operator set the value, not at the playbook.
func TestValidateCatchesWithoutConnecting(t *testing.T) {
	img := tinyArchive(t)
	src, err := os.ReadFile("../../testdata/cli/vars.hcl")
	if err != nil {
		t.Fatal(err)
	}
	vars := filepath.Join(t.TempDir(), "vars.hcl")
	if err := os.WriteFile(vars, append(src, "cm_nodes = [\"10.0.0.11\", \"10.0.0.12\"]\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	line := strings.Count(string(src), "\n") + 1
	for _, pb := range []string{"deploy.hcl", "reconfigure.hcl"} {
		_, errOut, code := run("validate", "../../playbooks/"+pb, "-i", "../../testdata/inventory/lab.hcl", "-e", "@"+vars, "-e", "image_file="+img)
		want := fmt.Sprintf("Error: %s:%d:12: Invalid module arguments", vars, line)
		if code != 4 || !strings.Contains(errOut, want) || !strings.Contains(errOut, "cm_nodes: does not list 10.0.1.13") {
			t.Errorf("%s, cm_nodes without oms3: exit %d, want %q in\n%s", pb, code, want, errOut)
		}
	}
	// A value that reaches render_config through a local reading two
	// variables (local.rm_db: drc_rm_db, else db_prefix) points at the one
	// the operator set.
	_, errOut, code := run("validate", "../../playbooks/deploy.hcl", "-i", "../../testdata/inventory/lab.hcl", "-e", "@../../testdata/cli/vars.hcl", "-e", "image_file="+img, "-e", "drc_rm_db=bad-name")
	if code != 4 || !strings.Contains(errOut, "Error: -e #3:1:11: Invalid module arguments") || !strings.Contains(errOut, "var.drc_rm_db") {
		t.Errorf("drc_rm_db=bad-name: exit %d\n%s", code, errOut)
	}
	_, errOut, code = run("validate", "../../playbooks/reconfigure.hcl", "-i", "../../testdata/inventory/lab.hcl", "-e", "@../../testdata/cli/vars.hcl", "-e", "image_file="+img, "-e", "oms_meta_user=root@sys")
	if code != 4 || !strings.Contains(errOut, "Error: -e #3:1:15: Invalid module arguments") || !strings.Contains(errOut, "sys tenant") {
		t.Errorf("oms_meta_user=root@sys: exit %d\n%s", code, errOut)
	}
}
