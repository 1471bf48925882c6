package inventory

import (
	"fmt"
	"maps"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// AddHost adds a host the inventory files do not list, named by its
// address, alone in a new group: a playbook reaches a node the operator
// already took out of the inventory (scale-in). It connects as the hosts
// of group like do — their first host's user, port, key, password, become,
// known_hosts and jump host, the inventory's defaults — and takes that
// group's own variables. An empty address adds only the empty group, so
// that steps naming it select nothing.
func (inv *Inventory) AddHost(group, address, like string, decl hcl.Range) error {
	if _, ok := inv.Groups[group]; ok {
		return fmt.Errorf("the inventory already has a group named %q", group)
	}
	if inv.Host(group) != nil {
		return fmt.Errorf("the inventory already has a host named %q", group)
	}
	g := &Group{Name: group, DeclRange: decl}
	if address == "" {
		inv.Groups[group] = g
		if inv.members != nil {
			inv.members[group] = nil
		}
		return nil
	}
	peers := inv.GroupHosts(like)
	if len(peers) == 0 {
		return fmt.Errorf("group %q has no host to take the connection settings from", like)
	}
	for _, h := range inv.Hosts {
		if h.Name == address || h.Address == address {
			return fmt.Errorf("%s is still in the inventory (host %q); take it out of the inventory first", address, h.Name)
		}
	}
	p := peers[0]
	vars := map[string]cty.Value{}
	if lg := inv.Groups[like]; lg != nil {
		maps.Copy(vars, lg.Vars)
	}
	h := &Host{Name: address, Address: address, Port: p.Port, User: p.User, KeyFile: p.KeyFile, Password: p.Password,
		Become: p.Become, BecomePassword: p.BecomePassword, KnownHostsFile: p.KnownHostsFile, ProxyJump: p.ProxyJump,
		Vars: vars, VarRanges: map[string]hcl.Range{}, ConnRanges: p.ConnRanges, Groups: []string{"all", group}, DeclRange: decl}
	g.Hosts = []string{h.Name}
	inv.Groups[group] = g
	inv.Hosts = append(inv.Hosts, h)
	if inv.byName != nil {
		inv.byName[h.Name] = h
	}
	if inv.members != nil {
		inv.members[group] = []*Host{h}
		inv.members["all"] = append(inv.members["all"], h)
	}
	return nil
}
