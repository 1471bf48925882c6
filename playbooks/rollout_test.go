package playbooks_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/omsrun/omsrun/internal/playbook"
	"github.com/omsrun/omsrun/inventory"
)

// TestRunningClusterChangesGoThroughTheRollout: every playbook that
// rewrites config.yaml on nodes already running OMS and reloads them does
// it through oms-rollout.hcl (first node alone, then the others, previous
// config.yaml back on failure), never with steps of its own: scale-in.hcl
// once wrote config.yaml on every node before a serial reload. Each reads
// "healthy since" (oms-balancer.hcl) before its first restart.
func TestRunningClusterChangesGoThroughTheRollout(t *testing.T) {
	for pb, extra := range map[string][]string{"reconfigure.hcl": nil, "scale-in.hcl": {"remove_node=10.0.0.14"}} {
		t.Run(pb, func(t *testing.T) {
			steps := loadSteps(t, pb, extra...)
			for _, s := range steps {
				if s.File != "oms-rollout.hcl" && (s.Module == "render_config" || s.Module == "supervisor_restart") {
					t.Errorf("step %q (%s) is the playbook's own %s: use oms-rollout.hcl", s.Name, s.File, s.Module)
				}
			}
			names := stepNames(steps)
			for _, want := range []string{"healthy since", "config.yaml, first node", "first node done", "reload OMS, one node at a time"} {
				if !slices.Contains(names, want) {
					t.Fatalf("no step %q in %v", want, names)
				}
			}
			if slices.Index(names, "healthy since") > slices.Index(names, "config.yaml, first node") {
				t.Errorf("the rollout runs before healthy since: %v", names)
			}
		})
	}
}

// TestScaleInOrder: scale-in.hcl keeps the documented order around the
// shared rollout: asked and checked, the node's container out, its host
// row deleted, then the remaining nodes reconfigured, then the VIP checks.
func TestScaleInOrder(t *testing.T) {
	names := stepNames(loadSteps(t, "scale-in.hcl", "remove_node=10.0.0.14"))
	order := []string{"check MetaDB", "registered nodes", "node to scale in", "healthy since",
		"remove the node's container", "delete the node's host row", "container may still run",
		"config.yaml, first node", "reload OMS, first node", "first node done", "reload OMS, one node at a time",
		"VIP answers on 8088", "VIP answers on 8089"}
	last := -1
	for _, n := range order {
		i := slices.Index(names, n)
		if i < 0 {
			t.Fatalf("no step %q in %v", n, names)
		}
		if i < last {
			t.Errorf("step %q runs before %q: %v", n, order[slices.Index(order, n)-1], names)
		}
		last = i
	}
}

type loadedStep struct{ Name, File, Module string }

func loadSteps(t *testing.T, pb string, extra ...string) []loadedStep {
	t.Helper()
	dir := t.TempDir()
	inv := filepath.Join(dir, "inv.hcl")
	os.WriteFile(inv, []byte("group \"oms\" {\n  host \"oms1\" { address = \"10.0.0.11\" }\n  host \"oms2\" { address = \"10.0.0.12\" }\n  host \"oms3\" { address = \"10.0.0.13\" }\n}\n"), 0o600)
	i, diags := inventory.Load([]string{inv})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	vars := append([]string{"oms_meta_host=10.0.0.5", "oms_meta_user=u", "oms_meta_password=p", "image=oms:x", "image_file=x.tar.gz", "cm_url=http://10.0.0.9:8088"}, extra...)
	p, diags := playbook.Load(pb, playbook.Options{Inventory: i, ExtraVars: vars})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	var out []loadedStep
	for _, s := range p.Steps {
		out = append(out, loadedStep{s.Name, filepath.Base(s.DeclRange.Filename), s.Module})
	}
	return out
}

func stepNames(steps []loadedStep) []string {
	var names []string
	for _, s := range steps {
		names = append(names, s.Name)
	}
	return names
}
