package inventory

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/omsrun/omsrun/internal/diag"
)

// Dump writes the inventory as stable, readable text: hosts in inventory
// order with their settings and merged vars, then groups by name. Passwords
// show only whether they are set. It is what the golden tests compare and
// what `omsrun inventory` prints.
func (inv *Inventory) Dump(w io.Writer) {
	for _, h := range inv.Hosts {
		fmt.Fprintf(w, "host %s  # %s\n", h.Name, diag.Pos(h.DeclRange))
		fmt.Fprintf(w, "  address = %s:%d\n", h.Address, h.Port)
		if h.User != "" {
			fmt.Fprintf(w, "  user = %s\n", h.User)
		}
		if h.KeyFile != "" {
			fmt.Fprintf(w, "  key_file = %s\n", h.KeyFile)
		}
		if h.Password != "" {
			fmt.Fprintf(w, "  password = %s\n", h.Password)
		}
		if h.Become {
			fmt.Fprintf(w, "  become = true\n")
		}
		if h.BecomePassword != "" {
			fmt.Fprintf(w, "  become_password = %s\n", h.BecomePassword)
		}
		if h.KnownHostsFile != "" {
			fmt.Fprintf(w, "  known_hosts_file = %s\n", h.KnownHostsFile)
		}
		if h.ProxyJump != "" {
			fmt.Fprintf(w, "  proxy_jump = %s\n", h.ProxyJump)
		}
		fmt.Fprintf(w, "  groups = %s\n", strings.Join(h.Groups, ", "))
		for _, k := range slices.Sorted(maps.Keys(h.Vars)) {
			fmt.Fprintf(w, "  var %s = %s\n", k, renderValue(h.Vars[k]))
		}
	}
	names := make([]string, 0, len(inv.Groups))
	for n := range inv.Groups {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		g := inv.Groups[n]
		fmt.Fprintf(w, "group %s\n", n)
		if len(g.Hosts) > 0 {
			fmt.Fprintf(w, "  hosts = %s\n", strings.Join(g.Hosts, ", "))
		}
		if len(g.Children) > 0 {
			fmt.Fprintf(w, "  children = %s\n", strings.Join(g.Children, ", "))
		}
		for _, k := range slices.Sorted(maps.Keys(g.Vars)) {
			fmt.Fprintf(w, "  var %s = %s\n", k, renderValue(g.Vars[k]))
		}
	}
}
