package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestValidateRefusesAFalseAssert: an assert whose condition is built on
// variables only is known before the run; when false, validate refuses it
// with the playbook's message, as --check did only on reaching the step
// (issue #14 point 8). One built on what steps read stays for the run.
func TestValidateRefusesAFalseAssert(t *testing.T) {
	pb := filepath.Join(t.TempDir(), "assert.hcl")
	src := `variable "nodes" { type = number }
step "enough nodes" {
  hosts    = "oms"
  run_once = true
  assert {
    that    = var.nodes >= 3
    message = "OMS needs 3 nodes, ${var.nodes} given"
  }
}
step "read" {
  hosts = "oms"
  command { argv = ["true"] }
}
step "after the read" {
  hosts    = "oms"
  run_once = true
  assert {
    that    = length(steps["read"]) == 0
    message = "decided at run time"
  }
}
`
	if err := os.WriteFile(pb, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := run("validate", pb, "-i", "../../testdata/inventory/lab.hcl", "-e", "nodes=1")
	if code != ExitInvalid || !strings.Contains(errOut, "OMS needs 3 nodes, 1 given") || !strings.Contains(errOut, pb+":6:") {
		t.Fatalf("nodes=1: exit %d, want the assert's message at line 6:\n%s", code, errOut)
	}
	if strings.Contains(errOut, "decided at run time") {
		t.Fatalf("an assert on steps' outputs was decided before the run:\n%s", errOut)
	}
	if out, errOut, code := run("validate", pb, "-i", "../../testdata/inventory/lab.hcl", "-e", "nodes=3"); code != 0 {
		t.Fatalf("nodes=3: exit %d\n%s%s", code, out, errOut)
	}
}
