package playbooks_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// TestRestartsUseTheOperatorsWaits: every supervisor_restart in the shipped
// playbooks passes the operator's health_timeout, balancer_settle and ports,
// so no reload falls back to a module default the operator did not choose
// (reconfigure.hcl once left out balancer_settle and, on its first node,
// the timeout and the ports).
func TestRestartsUseTheOperatorsWaits(t *testing.T) {
	files, _ := filepath.Glob("*.hcl")
	found := 0
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, diags := hclsyntax.ParseConfig(src, name, hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		for _, step := range f.Body.(*hclsyntax.Body).Blocks {
			for _, blk := range step.Body.Blocks {
				if blk.Type != "supervisor_restart" {
					continue
				}
				found++
				for _, arg := range []string{"timeout", "settle", "health_port", "cm_port"} {
					if _, ok := blk.Body.Attributes[arg]; !ok {
						t.Errorf("%s: step %q: supervisor_restart without %s", name, step.Labels[0], arg)
					}
				}
			}
		}
	}
	if found < 3 {
		t.Fatalf("found %d supervisor_restart blocks; the test reads the wrong files", found)
	}
}
