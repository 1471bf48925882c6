package inventory

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// TestAddHost: a host outside the inventory files connects as the first
// host of the like group and takes that group's variables; an empty
// address adds only the empty group; a host still in the inventory, or a
// group name already taken, is refused.
func TestAddHost(t *testing.T) {
	load := func() *Inventory {
		inv, diags := LoadSource("hosts.ini", []byte("[oms]\noms1 ansible_host=10.0.0.11 ansible_user=deploy ansible_port=2222\noms2 ansible_host=10.0.0.12\n[oms:vars]\ncontainer_name=omsx\n"))
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		return inv
	}
	inv := load()
	if err := inv.AddHost("gone", "10.0.0.13", "oms", hcl.Range{}); err != nil {
		t.Fatal(err)
	}
	hs, err := inv.Match("gone")
	if err != nil || len(hs) != 1 {
		t.Fatalf("Match(gone) = %v, %v", hs, err)
	}
	h := hs[0]
	if h.Address != "10.0.0.13" || h.User != "deploy" || h.Port != 2222 || h.Vars["container_name"].AsString() != "omsx" {
		t.Errorf("added host %+v", h)
	}
	if n := len(inv.GroupHosts("oms")); n != 2 {
		t.Errorf("group oms has %d hosts after AddHost", n)
	}
	inv = load()
	if err := inv.AddHost("gone", "", "oms", hcl.Range{}); err != nil {
		t.Fatal(err)
	}
	if hs, err := inv.Match("gone"); err != nil || len(hs) != 0 {
		t.Errorf("empty address: Match(gone) = %v, %v", hs, err)
	}
	for _, tc := range []struct{ group, addr, want string }{
		{"gone", "10.0.0.12", "still in the inventory"},
		{"oms", "10.0.0.13", "already has a group"},
	} {
		if err := load().AddHost(tc.group, tc.addr, "oms", hcl.Range{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("AddHost(%s, %s) = %v, want %q", tc.group, tc.addr, err, tc.want)
		}
	}
}
