// Package inventory loads the hosts and groups omsrun works on, from HCL or
// Ansible INI files, and matches host patterns against them.
package inventory

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/secret"
)

// Host is one inventory host with its connection settings and merged variables.
type Host struct {
	Name           string
	Address        string // defaults to Name
	Port           int    // defaults to 22
	User           string // empty: ~/.ssh/config or the local user
	KeyFile        string
	Password       secret.String
	Become         bool
	BecomePassword secret.String
	KnownHostsFile string
	// ProxyJump is ssh\'s -J: [user@]host[:port] hops, comma-separated.
	ProxyJump string
	// Vars are the host's variables after merging all < group < host.
	Vars map[string]cty.Value
	// VarRanges say where each of Vars was set (the winning declaration).
	VarRanges map[string]hcl.Range
	// ConnRanges say where each connection setting above was set, by its
	// HCL name (key_file, known_hosts_file, …), so a check of the value made
	// later (is the key file there?) can point at the line to fix.
	ConnRanges map[string]hcl.Range
	// Groups lists every group the host belongs to, directly or through children, sorted; always includes "all".
	Groups []string
	// DeclRange is where the host was declared, for diagnostics.
	DeclRange hcl.Range
}

// Group is a named set of hosts.
type Group struct {
	Name     string
	Hosts    []string // direct members, in declaration order
	Children []string
	Vars     map[string]cty.Value
	// DeclRange is where the group was declared.
	DeclRange hcl.Range
}

// Inventory is every host and group from the inventory sources, hosts in declaration order.
type Inventory struct {
	Hosts  []*Host
	Groups map[string]*Group

	// byName indexes Hosts for Host; Load fills it, a hand-built inventory
	// goes without (Host then searches).
	byName map[string]*Host
	// members lists each group's hosts (through children too), for GroupHosts.
	members map[string][]*Host
}
