package inventory

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/omsrun/omsrun/internal/diag"
	"github.com/omsrun/omsrun/internal/secret"
)

// applyConn sets the host's connection fields from the resolved settings,
// converting INI strings to the types each needs.
func (b *builder) applyConn(h *Host, conn map[string]setting) bool {
	ok := true
	fail := func(s setting, summary, format string, args ...any) {
		b.diags = append(b.diags, diag.Errorf(diag.Ptr(s.rng), summary, format, args...))
		ok = false
	}
	h.Address, h.Port = h.Name, 22
	h.ConnRanges = map[string]hcl.Range{}
	for _, k := range connKeys {
		s, set := conn[k]
		if !set || s.val.IsNull() {
			continue
		}
		h.ConnRanges[k] = s.rng
		switch k {
		case "port":
			p, err := toPort(s.val)
			if err != nil {
				fail(s, "Invalid port", "The port of host %q %v; use a whole number from 1 to 65535.", h.Name, err)
				continue
			}
			h.Port = p
		case "become":
			v, err := toBool(s.val)
			if err != nil {
				fail(s, "Invalid become", "become for host %q %v; use true or false.", h.Name, err)
				continue
			}
			h.Become = v
		default:
			str, err := toString(s.val)
			if err != nil {
				fail(s, "Invalid "+k, "%s for host %q %v; use a string.", k, h.Name, err)
				continue
			}
			switch k {
			case "address":
				h.Address = str
			case "user":
				h.User = str
			case "key_file":
				h.KeyFile = str
			case "password":
				h.Password = secret.String(str)
			case "become_password":
				h.BecomePassword = secret.String(str)
			case "known_hosts_file":
				h.KnownHostsFile = str
			case "proxy_jump":
				if err := checkProxyJump(str); err != nil {
					fail(s, "Invalid proxy_jump", "proxy_jump for host %q %v; use [user@]host[:port], comma-separated for several hops.", h.Name, err)
					continue
				}
				h.ProxyJump = str
			}
		}
	}
	if err := checkAddress(h.Address); err != nil {
		r := h.DeclRange
		if s, set := conn["address"]; set {
			r = s.rng
		}
		b.diags = append(b.diags, diag.Errorf(diag.Ptr(r), "Invalid address",
			"Host %q has the address %q, which %v. Use an IP address or a DNS name (letters, digits, '-' and '.').", h.Name, h.Address, err))
		ok = false
	}
	return ok
}

// checkProxyJump finds what the dial would refuse only when connecting: an
// empty hop or a port that is not a number from 1 to 65535.
func checkProxyJump(spec string) error {
	for _, hop := range strings.Split(spec, ",") {
		hop = strings.TrimSpace(hop)
		if i := strings.LastIndex(hop, "@"); i >= 0 {
			hop = hop[i+1:]
		}
		if hop == "" {
			return fmt.Errorf("has an empty hop in %q", spec)
		}
		if _, port, err := net.SplitHostPort(hop); err == nil {
			if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
				return fmt.Errorf("has the port %q in %q, which is not a number from 1 to 65535", port, hop)
			}
		}
	}
	return nil
}

var hostnameRe = regexp.MustCompile(`^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$`)
var numericRe = regexp.MustCompile(`^[0-9.]+$`)

func checkAddress(a string) error {
	if a == "" {
		return fmt.Errorf("is empty")
	}
	if ip := net.ParseIP(strings.TrimSuffix(strings.TrimPrefix(a, "["), "]")); ip != nil {
		return nil
	}
	if numericRe.MatchString(a) {
		return fmt.Errorf("is not a valid IPv4 address")
	}
	if len(a) > 253 || !hostnameRe.MatchString(a) {
		return fmt.Errorf("is not a valid host name")
	}
	return nil
}
