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
// the timeout and the ports). A block may take them from the shared
// local.reload (with = local.reload), which must then set them all.
func TestRestartsUseTheOperatorsWaits(t *testing.T) {
	files, _ := filepath.Glob("*.hcl")
	bodies := map[string]*hclsyntax.Body{}
	shared := map[string]bool{} // the keys of local.reload
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, diags := hclsyntax.ParseConfig(src, name, hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		bodies[name] = f.Body.(*hclsyntax.Body)
		for _, blk := range bodies[name].Blocks {
			if a, ok := blk.Body.Attributes["reload"]; blk.Type == "locals" && ok {
				obj, isObj := a.Expr.(*hclsyntax.ObjectConsExpr)
				if !isObj {
					t.Fatalf("%s: local.reload is not an object", name)
				}
				for _, item := range obj.Items {
					shared[hcl.ExprAsKeyword(item.KeyExpr)] = true
				}
			}
		}
	}
	found := 0
	for _, name := range files {
		for _, step := range bodies[name].Blocks {
			for _, blk := range step.Body.Blocks {
				if blk.Type != "supervisor_restart" {
					continue
				}
				found++
				with := ""
				if a, ok := blk.Body.Attributes["with"]; ok {
					with = string(a.Expr.Range().SliceBytes(mustRead(t, name)))
				}
				for _, arg := range []string{"timeout", "settle", "health_port", "cm_port"} {
					if _, ok := blk.Body.Attributes[arg]; !ok && !(with == "local.reload" && shared[arg]) {
						t.Errorf("%s: step %q: supervisor_restart without %s", name, step.Labels[0], arg)
					}
				}
			}
		}
	}
	// both in oms-rollout.hcl, which every reload of a running cluster shares
	if found < 2 {
		t.Fatalf("found %d supervisor_restart blocks; the test reads the wrong files", found)
	}
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
