package inventory

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/diag"
)

// Ansible connection variables omsrun has no equivalent for are never
// dropped silently: each is either translated (a ProxyJump or a
// ProxyCommand of the form "ssh -W %h:%p bastion" in ansible_ssh_common_args
// becomes proxy_jump; UserKnownHostsFile becomes known_hosts_file) or warned
// about, naming the variable, where it is set and the hosts it applies to.

// ignoredSSHOptions are ssh -o options whose absence changes nothing for
// omsrun: it keeps one connection per host for the whole run already.
var ignoredSSHOptions = map[string]bool{"controlmaster": true, "controlpersist": true, "controlpath": true}

// unsupportedVars says why a variable cannot be honoured, given its value
// ("" when this value is fine).
var unsupportedVars = map[string]func(v string) string{
	"ansible_connection": func(v string) string {
		switch v {
		case "ssh", "smart", "paramiko", "paramiko_ssh":
			return ""
		case "local":
			return "omsrun has no local connection: it connects to every host over SSH, so this host is reached by SSH at its address (use 127.0.0.1 with a running sshd for the controller)"
		}
		return "omsrun connects over SSH only; this connection type is not supported"
	},
	"ansible_become_user": func(v string) string {
		if v == "root" {
			return ""
		}
		return "omsrun becomes root only (sudo without -u); steps on this host run as root, not as this user"
	},
	"ansible_become_method": func(v string) string {
		if v == "sudo" {
			return ""
		}
		return "omsrun becomes root with sudo only"
	},
	"ansible_host_key_checking":     hostKeyChecking,
	"ansible_ssh_host_key_checking": hostKeyChecking,
	"ansible_ssh_executable":        func(string) string { return "omsrun has its own SSH client and runs no ssh executable" },
	"ansible_ssh_extra_args":        nil, // read by sshArgs
	"ansible_ssh_common_args":       nil,
}

func hostKeyChecking(v string) string {
	if b, err := toBool(cty.StringVal(v)); err == nil && b {
		return ""
	}
	return "omsrun always checks host keys against known_hosts; add the hosts' keys there (ssh-keyscan) instead"
}

// warnKey groups one warning: the same variable, value and place.
type warnKey struct {
	name, why string
	rng       hcl.Range
}

// checkUnsupported records warnings for the host's unsupported settings and
// applies the ssh arguments omsrun can translate.
func (b *builder) checkUnsupported(h *Host, vars map[string]setting) {
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		s := vars[k]
		if s.val.IsNull() || !s.val.Type().IsPrimitiveType() {
			continue
		}
		str, err := toString(s.val)
		if err != nil {
			continue
		}
		if k == "ansible_ssh_common_args" || k == "ansible_ssh_extra_args" {
			kh := h.KnownHostsFile
			for _, why := range b.sshArgs(h, str) {
				b.warnUnsupported(warnKey{k, why, s.rng}, h.Name)
			}
			if h.KnownHostsFile != kh {
				h.ConnRanges["known_hosts_file"] = s.rng // -o UserKnownHostsFile=
			}
			continue
		}
		if f := unsupportedVars[k]; f != nil {
			if why := f(str); why != "" {
				b.warnUnsupported(warnKey{k + "=" + str, why, s.rng}, h.Name)
			}
		}
	}
}

func (b *builder) warnUnsupported(k warnKey, host string) {
	if b.unsupported == nil {
		b.unsupported = map[warnKey][]string{}
	}
	b.unsupported[k] = append(b.unsupported[k], host)
}

// reportUnsupported turns the recorded settings into one warning each.
func (b *builder) reportUnsupported() {
	keys := make([]warnKey, 0, len(b.unsupported))
	for k := range b.unsupported {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return diag.Pos(keys[i].rng)+keys[i].name < diag.Pos(keys[j].rng)+keys[j].name })
	for _, k := range keys {
		hosts := b.unsupported[k]
		list := strings.Join(hosts, ", ")
		if len(hosts) > 5 {
			list = strings.Join(hosts[:5], ", ") + fmt.Sprintf(" and %d more", len(hosts)-5)
		}
		b.diags = append(b.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Subject: diag.Ptr(k.rng),
			Summary: "Connection setting not supported",
			Detail:  fmt.Sprintf("%s (for host %s) is ignored: %s.", k.name, list, k.why)})
	}
}

var proxyCommandJump = regexp.MustCompile(`^ssh\s+(.*)$`)

// sshArgs reads OpenSSH arguments: it applies ProxyJump (-J, -o ProxyJump,
// or a ProxyCommand "ssh -W %h:%p [-q] [-p PORT] [-l USER] [user@]host")
// and UserKnownHostsFile, and returns why each other argument is ignored.
func (b *builder) sshArgs(h *Host, args string) []string {
	toks, err := tokenize(args, 0)
	if err != nil {
		return []string{"its quoting does not parse"}
	}
	var why []string
	for i := 0; i < len(toks); i++ {
		t := toks[i].text
		next := func() string {
			if i+1 < len(toks) {
				i++
				return toks[i].text
			}
			return ""
		}
		switch {
		case t == "-J":
			b.setJump(h, next())
		case strings.HasPrefix(t, "-J"):
			b.setJump(h, t[2:])
		case t == "-o" || strings.HasPrefix(t, "-o"):
			opt := strings.TrimPrefix(t, "-o")
			if opt == "" {
				opt = next()
			}
			if w := b.sshOption(h, opt); w != "" {
				why = append(why, w)
			}
		case t == "-q" || t == "-v" || t == "-C":
		default:
			why = append(why, fmt.Sprintf("omsrun does not read the ssh argument %q", t))
		}
	}
	return why
}

// sshOption applies one -o option; it returns why it is ignored, or "".
func (b *builder) sshOption(h *Host, opt string) string {
	key, val, ok := strings.Cut(opt, "=")
	if !ok {
		key, val, _ = strings.Cut(strings.TrimSpace(opt), " ")
	}
	key, val = strings.ToLower(strings.TrimSpace(key)), strings.TrimSpace(val)
	switch {
	case ignoredSSHOptions[key]:
		return ""
	case key == "userknownhostsfile":
		if h.KnownHostsFile == "" && val != "/dev/null" {
			h.KnownHostsFile = strings.Trim(val, `'"`)
			return ""
		}
		if val == "/dev/null" {
			return "omsrun always checks host keys; UserKnownHostsFile=/dev/null would turn that off"
		}
		return ""
	case key == "proxyjump":
		b.setJump(h, val)
		return ""
	case key == "proxycommand":
		if jump := jumpFromProxyCommand(val); jump != "" {
			b.setJump(h, jump)
			return ""
		}
		return "omsrun runs no ProxyCommand; only \"ssh -W %h:%p [user@]bastion\" is understood (as a ProxyJump). Use -o ProxyJump=[user@]bastion[:port]"
	case key == "stricthostkeychecking" && strings.EqualFold(val, "yes"):
		return ""
	}
	return fmt.Sprintf("omsrun does not read the ssh option %s", key)
}

// jumpFromProxyCommand turns "ssh -W %h:%p [-q] [-p P] [-l U] [U@]H" into "[U@]H[:P]".
func jumpFromProxyCommand(cmd string) string {
	m := proxyCommandJump.FindStringSubmatch(strings.Trim(cmd, `'"`))
	if m == nil {
		return ""
	}
	toks, err := tokenize(m[1], 0)
	if err != nil {
		return ""
	}
	var host, user, port string
	sawW := false
	for i := 0; i < len(toks); i++ {
		t := toks[i].text
		switch {
		case t == "-W" && i+1 < len(toks) && toks[i+1].text == "%h:%p":
			sawW = true
			i++
		case t == "-q":
		case (t == "-p" || t == "-l") && i+1 < len(toks):
			if t == "-p" {
				port = toks[i+1].text
			} else {
				user = toks[i+1].text
			}
			i++
		case strings.HasPrefix(t, "-") || host != "":
			return ""
		default:
			host = t
		}
	}
	if !sawW || host == "" {
		return ""
	}
	if user != "" && !strings.Contains(host, "@") {
		host = user + "@" + host
	}
	if port != "" {
		host += ":" + port
	}
	return host
}

func (b *builder) setJump(h *Host, jump string) {
	if h.ProxyJump == "" {
		h.ProxyJump = strings.Trim(jump, `'"`)
	}
}
