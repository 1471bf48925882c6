package inventory

import (
	"fmt"
	"maps"
	"net"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/diag"
	"github.com/omsrun/omsrun/internal/secret"
)

// connKeys are the connection settings, by their HCL attribute names.
var connKeys = []string{"address", "port", "user", "key_file", "password", "become", "become_password", "known_hosts_file", "proxy_jump"}

// ansibleVars maps Ansible's connection variables (and their old aliases) to connKeys.
var ansibleVars = map[string]string{
	"ansible_host":                 "address",
	"ansible_ssh_host":             "address",
	"ansible_port":                 "port",
	"ansible_ssh_port":             "port",
	"ansible_user":                 "user",
	"ansible_ssh_user":             "user",
	"ansible_ssh_private_key_file": "key_file",
	"ansible_private_key_file":     "key_file",
	"ansible_password":             "password",
	"ansible_ssh_pass":             "password",
	"ansible_become":               "become",
	"ansible_become_password":      "become_password",
	"ansible_become_pass":          "become_password",
}

// finish checks the group graph, merges variables and builds the inventory.
func (b *builder) finish() *Inventory {
	all := b.group("all", hcl.Range{}, true)
	names := slices.Sorted(maps.Keys(b.groups))
	for _, n := range names {
		g := b.groups[n]
		if !g.declared {
			b.diags = append(b.diags, diag.Errorf(diag.Ptr(g.mention), "Unknown group",
				"Variables are given for group %q, but no such group is declared. Declare it ([%s] in INI, group %q {} in HCL) or fix the name. %s",
				n, n, n, diag.Hint(n, declaredGroups(b.groups), "groups")))
		}
		for _, c := range slices.Sorted(maps.Keys(g.children)) {
			if c == "all" {
				b.diags = append(b.diags, diag.Errorf(diag.Ptr(g.children[c]), "Invalid child group",
					"Group \"all\" holds every group already and cannot be the child of %q; remove it from the children.", n))
				continue
			}
			if cg, ok := b.groups[c]; !ok || !cg.declared {
				b.diags = append(b.diags, diag.Errorf(diag.Ptr(g.children[c]), "Unknown child group",
					"Group %q lists %q as a child, but no group %q is declared. Declare it or fix the name. %s",
					n, c, c, diag.Hint(c, declaredGroups(b.groups), "groups")))
			}
		}
	}
	if b.diags.HasErrors() || b.findCycles(names) {
		return nil
	}
	parents := map[string][]string{}
	for _, n := range names {
		for _, c := range slices.Sorted(maps.Keys(b.groups[n].children)) {
			parents[c] = append(parents[c], n)
			g := b.groups[n].group
			if !contains(g.Children, c) {
				g.Children = append(g.Children, c)
			}
		}
	}
	depth := groupDepths(names, parents)

	inv := &Inventory{Groups: map[string]*Group{}}
	for _, n := range names {
		g := b.groups[n]
		shown := map[string]setting{}
		for k, s := range g.vars {
			shown[k] = s
		}
		for k, s := range b.groupFiles[n] {
			shown[k] = s
		}
		for k, s := range shown {
			v := s.val
			if ck := ansibleVars[k]; ck == "password" || ck == "become_password" || secret.IsSecretName(k) {
				v = v.Mark(secret.Mark)
			}
			g.group.Vars[k] = v
		}
		inv.Groups[n] = g.group
	}
	all.group.Hosts = nil
	direct := map[string][]string{}
	for _, n := range names {
		for _, h := range b.groups[n].group.Hosts {
			direct[h] = append(direct[h], n)
		}
	}
	seen := map[string]string{}
	inv.byName, inv.members = map[string]*Host{}, map[string][]*Host{}
	for _, d := range b.hosts {
		all.group.Hosts = append(all.group.Hosts, d.host.Name)
		h := b.buildHost(d, direct[d.host.Name], parents, depth)
		if h == nil {
			continue
		}
		key := net.JoinHostPort(h.Address, fmt.Sprint(h.Port))
		if other, ok := seen[key]; ok {
			b.diags = append(b.diags, diag.Errorf(diag.Ptr(d.host.DeclRange), "Duplicate host address",
				"Hosts %q and %q both connect to %s, so omsrun would change one machine twice, concurrently. Give each host its own address or port, or remove one.",
				other, h.Name, key))
			continue
		}
		seen[key] = h.Name
		inv.Hosts = append(inv.Hosts, h)
		inv.byName[h.Name] = h
		for _, g := range h.Groups {
			inv.members[g] = append(inv.members[g], h)
		}
	}
	if len(b.hosts) == 0 {
		var first string
		for f := range b.files {
			if first == "" || f < first {
				first = f
			}
		}
		b.diags = append(b.diags, diag.Errorf(diag.FileStart(first), "No hosts",
			"The inventory declares no hosts. Add at least one (a host line in INI, host \"name\" {} in HCL)."))
	}
	b.reportUnsupported()
	return inv
}

func declaredGroups(groups map[string]*groupDecl) []string {
	var out []string
	for n, g := range groups {
		if g.declared {
			out = append(out, n)
		}
	}
	return out
}

// findCycles reports every cycle in the children graph once.
func (b *builder) findCycles(names []string) bool {
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	found := false
	var path []string
	var visit func(n string)
	visit = func(n string) {
		color[n] = grey
		path = append(path, n)
		g := b.groups[n]
		for _, c := range slices.Sorted(maps.Keys(g.children)) {
			switch color[c] {
			case grey:
				i := indexOf(path, c)
				cycle := append(append([]string(nil), path[i:]...), c)
				b.diags = append(b.diags, diag.Errorf(diag.Ptr(g.children[c]), "Cyclic group children",
					"The groups form a cycle: %s. A group cannot contain itself; remove one of these children.",
					strings.Join(cycle, " → ")))
				found = true
			case white:
				visit(c)
			}
		}
		path = path[:len(path)-1]
		color[n] = black
	}
	for _, n := range names {
		if color[n] == white {
			visit(n)
		}
	}
	return found
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// groupDepths: "all" is 0, a group with no parent 1, a child one more than its deepest parent.
func groupDepths(names []string, parents map[string][]string) map[string]int {
	depth := map[string]int{"all": 0}
	var get func(n string) int
	get = func(n string) int {
		if d, ok := depth[n]; ok {
			return d
		}
		d := 1
		for _, p := range parents[n] {
			d = max(d, get(p)+1)
		}
		depth[n] = d
		return d
	}
	for _, n := range names {
		get(n)
	}
	return depth
}

// buildHost merges a host's variables and resolves its connection settings.
func (b *builder) buildHost(d *hostDecl, groups []string, parents map[string][]string, depth map[string]int) *Host {
	h := d.host
	member := map[string]bool{"all": true}
	var add func(g string)
	add = func(g string) {
		if member[g] {
			return
		}
		member[g] = true
		for _, p := range parents[g] {
			add(p)
		}
	}
	for _, n := range groups {
		add(n)
	}
	h.Groups = slices.Sorted(maps.Keys(member))
	order := append([]string(nil), h.Groups...)
	sort.SliceStable(order, func(i, j int) bool { return depth[order[i]] < depth[order[j]] })

	merged := map[string]setting{}
	for k, s := range b.defVars {
		merged[k] = s
	}
	// Ansible's order: the inventory's group vars, then group_vars/all (and
	// ungrouped), then group_vars/ of the other groups; then the host's own.
	for _, g := range order {
		for k, s := range b.groups[g].vars {
			merged[k] = s
		}
	}
	fileOrder := []string{"all"}
	if len(groups) == 0 {
		fileOrder = append(fileOrder, "ungrouped")
	}
	for _, g := range order {
		if g != "all" {
			fileOrder = append(fileOrder, g)
		}
	}
	for _, g := range fileOrder {
		for k, s := range b.groupFiles[g] {
			merged[k] = s
		}
	}
	for k, s := range d.vars {
		merged[k] = s
	}
	hostFile := b.hostFiles[h.Name]
	for k, s := range hostFile {
		merged[k] = s
	}
	conn := map[string]setting{}
	for k, s := range b.defaults {
		conn[k] = s
	}
	// Ansible's variables override the defaults block; the host's own settings override both.
	for _, k := range slices.Sorted(maps.Keys(merged)) {
		if ck, ok := ansibleVars[k]; ok {
			conn[ck] = merged[k]
			delete(merged, k)
		}
	}
	for k, s := range d.conn {
		conn[k] = s
	}
	// host_vars/ outrank the inventory's own host line.
	for _, k := range slices.Sorted(maps.Keys(hostFile)) {
		if ck, ok := ansibleVars[k]; ok {
			conn[ck] = hostFile[k]
		}
	}
	h.Vars, h.VarRanges = map[string]cty.Value{}, map[string]hcl.Range{}
	for k, s := range merged {
		h.VarRanges[k] = s.rng
		v := s.val
		if secret.IsSecretName(k) {
			v = v.Mark(secret.Mark)
		}
		h.Vars[k] = v
	}
	ok := b.applyConn(h, conn)
	if !ok {
		return nil
	}
	b.checkUnsupported(h, merged)
	return h
}
