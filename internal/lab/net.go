package lab

import (
	"context"
	"fmt"
	"os"
	"strings"
)

// setupBridge creates the bridge with the controller address and the VIP
// (and VIP2 with two regions). The VIPs live on the bridge itself, so hosts
// reach them by ARP on their only link and the controller reaches them locally.
func setupBridge(regions int) error {
	cmds := [][]string{
		{"link", "add", Bridge, "type", "bridge"},
		{"addr", "add", Controller + "/24", "dev", Bridge},
		{"addr", "add", VIP + "/32", "dev", Bridge},
	}
	if regions > 1 {
		cmds = append(cmds, []string{"addr", "add", VIP2 + "/32", "dev", Bridge})
	}
	cmds = append(cmds, []string{"link", "set", Bridge, "up"})
	for _, c := range cmds {
		if _, err := run("ip", c...); err != nil {
			return err
		}
	}
	// Bridged frames must not traverse iptables: a dockerd in the root
	// namespace (installed by a package, say) sets FORWARD to DROP and
	// would silently cut the hosts apart.
	_ = os.WriteFile("/proc/sys/net/bridge/bridge-nf-call-iptables", []byte("0\n"), 0o644)
	return nil
}

// setupHostNet creates the host's namespace and its veth to the bridge.
func setupHostNet(h Host) error {
	ns := h.Netns()
	cmds := [][]string{
		{"netns", "add", ns},
		{"link", "add", h.Veth(), "type", "veth", "peer", "name", "eth0", "netns", ns},
		{"link", "set", h.Veth(), "master", Bridge, "up"},
	}
	for _, c := range cmds {
		if _, err := run("ip", c...); err != nil {
			return fmt.Errorf("host %s: %w", h.Name, err)
		}
	}
	// Inside the namespace, one ip process for the rest.
	inside := fmt.Sprintf("addr add %s/24 dev eth0\nlink set eth0 up\nlink set lo up\nroute add default via %s\n", h.Address, Controller)
	if _, err := runIn(context.Background(), []byte(inside), "ip", "-n", ns, "-batch", "-"); err != nil {
		return fmt.Errorf("host %s: %w", h.Name, err)
	}
	return nil
}

// labNetns lists the lab's namespaces that exist now, whatever LAB_HOSTS was.
func labNetns() []string {
	out, _ := run("ip", "netns", "list")
	var names []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && strings.HasPrefix(f[0], NetnsPrefix) {
			names = append(names, f[0])
		}
	}
	return names
}

// labLinks lists the bridge and veths of the lab that exist now.
func labLinks() []string {
	out, _ := run("ip", "-o", "link", "show")
	var names []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		name := strings.TrimSuffix(f[1], ":")
		name, _, _ = strings.Cut(name, "@")
		if name == Bridge || strings.HasPrefix(name, VethPrefix) {
			names = append(names, name)
		}
	}
	return names
}
