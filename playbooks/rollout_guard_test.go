package playbooks_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/playbook"
	"github.com/omsrun/omsrun/inventory"
	"github.com/omsrun/omsrun/modules"
)

// TestRolloutRefusedWithANodeDown: before the rollout restarts its first
// node on a changed config.yaml, every other oms node of the inventory must
// have answered and serve: with one down, the restart could leave nobody
// behind the VIP. The first node itself and hosts without an OMS container
// (no members: deploy creates them, a scale-in's replacement host waits for
// its deploy) are not held against it, nor is anything when nothing is to be
// reloaded; the message names the nodes and the way out.
func TestRolloutRefusedWithANodeDown(t *testing.T) {
	type node struct{ exists, healthy bool }
	up, down, absent := node{true, true}, node{true, false}, node{false, false}
	for _, tc := range []struct {
		name, pb string
		nodes    map[string]*node // nil: did not answer
		refused  []string         // names the message must hold
		same     bool             // config.yaml unchanged and loaded: nothing to restart
	}{
		{"all serving", "deploy.hcl", map[string]*node{"oms1": &up, "oms2": &up, "oms3": &up}, nil, false},
		{"first node did not answer", "deploy.hcl", map[string]*node{"oms1": nil, "oms2": &up, "oms3": &up}, []string{"oms1 (10.0.0.11): did not answer"}, false},
		{"another node down", "reconfigure.hcl", map[string]*node{"oms1": &up, "oms2": &down, "oms3": &up}, []string{"oms2 (10.0.0.12): container not running or OMS not healthy"}, false},
		{"the first node down: it goes first", "reconfigure.hcl", map[string]*node{"oms1": &down, "oms2": &up, "oms3": &up}, nil, false},
		{"a new node deploy creates", "deploy.hcl", map[string]*node{"oms1": &up, "oms2": &up, "oms3": &absent}, nil, false},
		{"a host without a container is no member: reconfigure", "reconfigure.hcl", map[string]*node{"oms1": &up, "oms2": &up, "oms3": &absent}, nil, false},
		{"a stopped member is down, a host without a container is not", "reconfigure.hcl", map[string]*node{"oms1": &up, "oms2": &down, "oms3": &absent}, []string{"oms2 (10.0.0.12): container not running or OMS not healthy"}, false},
		{"nothing runs yet", "deploy.hcl", map[string]*node{"oms1": &absent, "oms2": &absent, "oms3": nil}, nil, false},
		{"nothing to reload", "deploy.hcl", map[string]*node{"oms1": &up, "oms2": &up, "oms3": nil}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, inv := loadForGuard(t, tc.pb)
			var st *playbook.Step
			for _, s := range p.Steps {
				if s.Name == "other nodes serving" {
					st = s
				}
			}
			if st == nil {
				t.Fatalf("%s has no step \"other nodes serving\"", tc.pb)
			}
			read, since := map[string]cty.Value{}, map[string]cty.Value{}
			for name, n := range tc.nodes {
				if n == nil {
					continue
				}
				read[name] = cty.ObjectVal(map[string]cty.Value{"exists": cty.BoolVal(n.exists)})
				since[name] = cty.ObjectVal(map[string]cty.Value{"settled_at": cty.StringVal(""), "healthy": cty.BoolVal(n.healthy)})
			}
			first := ""
			for _, name := range []string{"oms1", "oms2", "oms3"} {
				if n := tc.nodes[name]; first == "" && n != nil && n.exists {
					first = name
				}
			}
			if first == "" {
				first = "oms1"
			}
			scope := playbook.Scope{Host: inv.Host(first), Inv: inv, Changed: func(string) bool { return !tc.same },
				Outputs: map[string]map[string]cty.Value{"read existing deployment": read, "healthy since": since,
					"loaded config, first node": {first: cty.ObjectVal(map[string]cty.Value{"stale": cty.BoolVal(false)})}}}
			run, diags := playbook.EvalWhen(p, st, scope, nil)
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			a := &modules.AssertArgs{}
			if run {
				if diags := playbook.DecodeStep(p, st, scope, a, nil); diags.HasErrors() {
					t.Fatal(diags.Error())
				}
			}
			if refused := run && !a.That; refused != (tc.refused != nil) {
				t.Fatalf("refused %v, want %v: %s", refused, tc.refused != nil, a.Message)
			}
			for _, want := range append(tc.refused, "scale-in.hcl -e remove_node=") {
				if tc.refused != nil && !strings.Contains(a.Message, want) {
					t.Errorf("message lacks %q:\n%s", want, a.Message)
				}
			}
		})
	}
}

func loadForGuard(t *testing.T, pb string) (*playbook.Playbook, *inventory.Inventory) {
	t.Helper()
	inv := filepath.Join(t.TempDir(), "inv.hcl")
	os.WriteFile(inv, []byte("group \"oms\" {\n  host \"oms1\" { address = \"10.0.0.11\" }\n  host \"oms2\" { address = \"10.0.0.12\" }\n  host \"oms3\" { address = \"10.0.0.13\" }\n}\n"), 0o600)
	i, diags := inventory.Load([]string{inv})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	vars := []string{"oms_meta_host=10.0.0.5", "oms_meta_user=u", "oms_meta_password=p", "image=oms:x", "image_file=x.tar.gz", "cm_url=http://10.0.0.9:8088"}
	if pb == "scale-in.hcl" {
		vars = append(vars, "remove_node=10.0.0.14")
	}
	p, diags := playbook.Load(pb, playbook.Options{Inventory: i, ExtraVars: vars})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return p, i
}
