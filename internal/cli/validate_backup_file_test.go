package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestValidateReadsRestoresBackupFile: the dump a failed upgrade's printed
// rollback names (-e backup_file=…) is read by validate, before any host
// is contacted, as metadb_restore's file.
func TestValidateReadsRestoresBackupFile(t *testing.T) {
	absent := filepath.Join(t.TempDir(), "metadb-1.sql")
	out, errOut, code := run("validate", "../../playbooks/restore.hcl", "-i", "../../testdata/inventory/lab.hcl", "-e", "@../../testdata/cli/vars.hcl",
		"-e", "image_file=x.tar.gz", "-e", "backup_file="+absent)
	if code != ExitInvalid || !strings.Contains(errOut, "open "+absent+": no such file") {
		t.Fatalf("exit %d, want the missing dump refused:\n%s%s", code, out, errOut)
	}
}
