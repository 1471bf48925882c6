package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestValidateReadsTheRestoreDump: metadb_restore's dump lies on the
// control machine, and --check refused a missing, foreign or cut-short one
// only on reaching the step; validate now refuses it before any connection,
// pointing at the line where the operator set the file (issue #14 point 8).
func TestValidateReadsTheRestoreDump(t *testing.T) {
	dir := t.TempDir()
	pb := filepath.Join(dir, "restore.hcl")
	src := `variable "dump" { type = string }
step "restore" {
  hosts    = "oms"
  run_once = true
  metadb_restore {
    host      = "10.0.0.5"
    port      = 2883
    user      = "root@oms_tenant#obcluster"
    password  = "not-a-real-password"
    databases = ["oms_rm"]
    file      = var.dump
  }
}
`
	good := filepath.Join(dir, "good.sql")
	foreign := filepath.Join(dir, "foreign.sql")
	short := filepath.Join(dir, "short.sql")
	for f, body := range map[string]string{
		pb:      src,
		good:    "-- dump\nUSE `oms_rm`;\nSET FOREIGN_KEY_CHECKS=1;\n",
		foreign: "-- dump\nUSE `other_rm`;\nSET FOREIGN_KEY_CHECKS=1;\n",
		short:   "-- dump\nUSE `oms_rm`;\nINSERT INTO",
	} {
		if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ name, file, want string }{
		{"missing", filepath.Join(dir, "absent.sql"), "no such file"},
		{"another deployment's", foreign, "holds no database oms_rm"},
		{"cut short", short, "cut short"},
		{"good", good, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := run("validate", pb, "-i", "../../testdata/inventory/lab.hcl", "-e", "dump="+tc.file)
			if tc.want == "" {
				if code != 0 {
					t.Fatalf("exit %d\n%s%s", code, out, errOut)
				}
				return
			}
			if code != ExitInvalid || !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, "Error: -e #1:1:") {
				t.Fatalf("exit %d, want %q at the -e that set it:\n%s", code, tc.want, errOut)
			}
		})
	}
}
