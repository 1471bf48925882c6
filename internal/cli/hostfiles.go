package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/omsrun/omsrun/internal/diag"
	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/inventory"
)

// hostFileDiags checks, before any connection, the files on this machine
// that hosts' connections read: each inventory key_file, and the
// known_hosts file each host's key is checked against (the inventory's
// known_hosts_file, else --known-hosts). Every connection using a broken one
// would fail the same way, host after host, so a problem is reported once,
// at the line that set the value, naming the hosts. The default
// ~/.ssh/known_hosts, used by the hosts that name none while --known-hosts
// is not given, is checked the same way: set by no line, its problem is
// reported without one.
func hostFileDiags(hosts []*inventory.Host, g *globals) hcl.Diagnostics {
	type place struct {
		setting, value string
		rng            hcl.Range
	}
	problems := map[place]error{}
	users := map[place][]string{}
	var order []place
	note := func(p place, host string, check func() error) {
		if _, seen := users[p]; !seen {
			order = append(order, p)
			problems[p] = check()
		}
		users[p] = append(users[p], host)
	}
	for _, h := range hosts {
		if h.KeyFile != "" {
			note(place{"key_file", h.KeyFile, connRange(h, "key_file")}, h.Name,
				func() error { return transport.CheckKeyFile(h.KeyFile) })
		}
		if kh := h.KnownHostsFile; kh != "" {
			note(place{"known_hosts_file", kh, connRange(h, "known_hosts_file")}, h.Name,
				func() error { return transport.CheckKnownHosts(kh, g.acceptNew) })
		}
	}
	var diags hcl.Diagnostics
	for _, p := range order {
		err := problems[p]
		if err == nil {
			continue
		}
		who := hostList(users[p])
		var d *hcl.Diagnostic
		if p.setting == "key_file" {
			d = diag.Errorf(diag.Ptr(p.rng), "Unusable key_file",
				"key_file %q (for %s): %v. %s", p.value, who, err, keyFileRemedy(err))
		} else {
			d = diag.Errorf(diag.Ptr(p.rng), "Unusable known_hosts_file",
				"known_hosts_file %q (for %s): %v. %s", p.value, who, err, knownHostsRemedy(err, transport.HomePath(p.value), "known_hosts_file"))
		}
		diags = append(diags, d)
	}
	if g.knownHosts != "" {
		if err := transport.CheckKnownHosts(g.knownHosts, g.acceptNew); err != nil && usesFlag(hosts) {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unusable --known-hosts",
				Detail: fmt.Sprintf("--known-hosts %s: %v. %s", g.knownHosts, err, knownHostsRemedy(err, transport.HomePath(g.knownHosts), "--known-hosts"))})
		}
	} else if d := defaultKnownHostsDiag(hosts, g.acceptNew); d != nil {
		diags = append(diags, d)
	}
	return diags
}

// defaultKnownHostsDiag checks ~/.ssh/known_hosts for the hosts that name
// no known_hosts_file, when --known-hosts is not given. A missing one,
// without --accept-new-host-keys, would refuse every such host at its
// first connection, each with its own fingerprint message.
func defaultKnownHostsDiag(hosts []*inventory.Host, acceptNew bool) *hcl.Diagnostic {
	var users []*inventory.Host
	for _, h := range hosts {
		if h.KnownHostsFile == "" {
			users = append(users, h)
		}
	}
	if len(users) == 0 {
		return nil
	}
	err := transport.CheckKnownHosts(transport.DefaultKnownHostsFile, acceptNew)
	if err == nil {
		return nil
	}
	names := make([]string, len(users))
	for i, h := range users {
		names[i] = h.Name
	}
	path := transport.HomePath(transport.DefaultKnownHostsFile)
	why := fmt.Sprintf("%s (checked for %s: no known_hosts_file in the inventory, no --known-hosts): %v.", transport.DefaultKnownHostsFile, hostList(names), err)
	if !errors.Is(err, transport.ErrKnownHostsMissing) {
		return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unusable ~/.ssh/known_hosts",
			Detail: why + " " + knownHostsRemedy(err, path, "known_hosts_file (or --known-hosts)")}
	}
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "No ~/.ssh/known_hosts",
		Detail: fmt.Sprintf("%s Either pass --accept-new-host-keys to record each host's key in %s on first connection; "+
			"or add the keys yourself, after checking their fingerprints: %s; "+
			"or set known_hosts_file in the inventory (or pass --known-hosts FILE) to a file that has them.", why, path, keyscanCommand(users))}
}

// keyscanCommand is the command that adds users' host keys to the default
// known_hosts file, as printed for the operator to run: ssh-keyscan writes
// a host on another port than 22 as [address]:port, as the dial looks it up.
func keyscanCommand(users []*inventory.Host) string {
	if len(users) > 5 {
		return "mkdir -p ~/.ssh && ssh-keyscan -p PORT ADDRESS… >> " + transport.DefaultKnownHostsFile
	}
	var ports []int
	byPort := map[int][]string{}
	for _, h := range users {
		port := h.Port
		if port == 0 {
			port = 22
		}
		if _, seen := byPort[port]; !seen {
			ports = append(ports, port)
		}
		byPort[port] = append(byPort[port], transport.Quote(h.Address))
	}
	cmd := "mkdir -p ~/.ssh"
	for _, p := range ports {
		cmd += fmt.Sprintf(" && ssh-keyscan -p %d %s >> %s", p, strings.Join(byPort[p], " "), transport.DefaultKnownHostsFile)
	}
	return cmd
}

// usesFlag says whether some host has no known_hosts_file of its own, so
// that --known-hosts is the file its key is checked against.
func usesFlag(hosts []*inventory.Host) bool {
	for _, h := range hosts {
		if h.KnownHostsFile == "" {
			return true
		}
	}
	return false
}

// connRange is where h's setting was set, or the host's declaration when
// the inventory did not record it.
func connRange(h *inventory.Host, setting string) hcl.Range {
	if r, ok := h.ConnRanges[setting]; ok {
		return r
	}
	return h.DeclRange
}

func keyFileRemedy(err error) string {
	if errors.Is(err, fs.ErrNotExist) {
		return "Set key_file to the path of the private key the hosts accept (a leading ~/ is your home directory), or remove it to use ssh-agent, ~/.ssh/id_* or a password."
	}
	return "Set key_file to the private key itself (not the .pub file), readable by the user running omsrun, or remove it to use ssh-agent, ~/.ssh/id_* or a password."
}

func knownHostsRemedy(err error, path, setting string) string {
	if errors.Is(err, transport.ErrKnownHostsMissing) {
		return fmt.Sprintf("Fix the path, or pass --accept-new-host-keys to record each host's key in %s on first connection, or add the keys yourself (ssh-keyscan HOST >> %s, after checking the fingerprints).", path, path)
	}
	return "Fix or delete the line it names (each line is `host[,host…] keytype base64-key`, as ssh writes it), or point " + setting + " at another file."
}

// hostList names up to five hosts.
func hostList(hosts []string) string {
	sort.Strings(hosts)
	word := "host "
	if len(hosts) > 1 {
		word = "hosts "
	}
	if len(hosts) > 5 {
		return word + strings.Join(hosts[:5], ", ") + fmt.Sprintf(" and %d more", len(hosts)-5)
	}
	return word + strings.Join(hosts, ", ")
}
