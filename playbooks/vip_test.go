package playbooks_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omsrun/omsrun/internal/playbook"
	"github.com/omsrun/omsrun/inventory"
	"github.com/omsrun/omsrun/modules"
)

// TestVIPKeepalivedConfig: the keepalived.conf vip.hcl writes on each node
// derives the router id from the VIP (cm_url's host), the priorities from
// the group's order, the peers from the other nodes, and cuts the password
// to VRRP's 8 characters.
func TestVIPKeepalivedConfig(t *testing.T) {
	inv := filepath.Join(t.TempDir(), "inv.hcl")
	os.WriteFile(inv, []byte("group \"oms\" {\n  host \"oms1\" { address = \"10.0.0.11\" }\n  host \"oms2\" { address = \"10.0.0.12\" }\n  host \"oms3\" { address = \"10.0.0.13\" }\n}\n"), 0o600)
	i, diags := inventory.Load([]string{inv})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	p, diags := playbook.Load("vip.hcl", playbook.Options{Inventory: i, ExtraVars: []string{"oms_meta_host=10.0.0.5", "oms_meta_user=u",
		"oms_meta_password=p", "cm_url=http://10.0.0.120:8088", "image=oms:x", "image_file=x.tar.gz", "vip_password=0123456789"}})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	var step *playbook.Step
	for _, st := range p.Steps {
		if st.Name == "keepalived config" {
			step = st
		}
	}
	want := map[string][]string{
		"oms1": {"priority 200", "unicast_src_ip 10.0.0.11", "unicast_peer {\n    10.0.0.12\n    10.0.0.13\n  }"},
		"oms2": {"priority 199", "unicast_peer {\n    10.0.0.11\n    10.0.0.13\n  }"},
		"oms3": {"priority 198"},
	}
	for name, lines := range want {
		a := &modules.CopyArgs{}
		if diags := playbook.DecodeStep(p, step, playbook.Scope{Host: i.Host(name), Inv: i}, a, nil); diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		conf := *a.Content
		for _, w := range append(lines, "virtual_router_id 120", "auth_pass 01234567\n", "10.0.0.120/32 dev @IFACE@", "router_id "+name) {
			if !strings.Contains(conf, w) {
				t.Errorf("%s: no %q in\n%s", name, w, conf)
			}
		}
	}
}

// TestVIPKeepalivedConfigPerRegion: with regions, each region's nodes get
// their region's VIP and virtual_router_id, and peers and priorities only
// among the region's hosts; a vip given for the whole run does not apply.
func TestVIPKeepalivedConfigPerRegion(t *testing.T) {
	dir := t.TempDir()
	inv, vars := filepath.Join(dir, "inv.hcl"), filepath.Join(dir, "vars.hcl")
	os.WriteFile(inv, []byte("group \"oms\" {\n  host \"oms1\" { address = \"10.0.0.11\" }\n  host \"oms2\" { address = \"10.0.0.12\" }\n  host \"oms3\" { address = \"10.0.0.13\" }\n}\n"), 0o600)
	os.WriteFile(vars, []byte(twoRegions), 0o600)
	i, diags := inventory.Load([]string{inv})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	p, diags := playbook.Load("vip.hcl", playbook.Options{Inventory: i, ExtraVars: []string{"oms_meta_host=10.0.0.5", "oms_meta_user=u",
		"oms_meta_password=p", "image=oms:x", "image_file=x.tar.gz", "vip_password=0123456789", "vip=10.0.0.250", "@" + vars}})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	var step *playbook.Step
	for _, st := range p.Steps {
		if st.Name == "keepalived config" {
			step = st
		}
	}
	want := map[string][]string{
		"oms1": {"virtual_router_id 100", "10.0.0.100/32 dev @IFACE@", "priority 200", "unicast_peer {\n    10.0.0.12\n  }"},
		"oms2": {"virtual_router_id 100", "10.0.0.100/32 dev @IFACE@", "priority 199", "unicast_peer {\n    10.0.0.11\n  }"},
		"oms3": {"virtual_router_id 200", "10.0.0.200/32 dev @IFACE@", "priority 200", "unicast_peer {\n    \n  }"},
	}
	for name, lines := range want {
		a := &modules.CopyArgs{}
		if diags := playbook.DecodeStep(p, step, playbook.Scope{Host: i.Host(name), Inv: i}, a, nil); diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		for _, w := range lines {
			if !strings.Contains(*a.Content, w) {
				t.Errorf("%s: no %q in\n%s", name, w, *a.Content)
			}
		}
		if strings.Contains(*a.Content, "10.0.0.250") {
			t.Errorf("%s: the run-wide vip applied with regions:\n%s", name, *a.Content)
		}
	}
}
