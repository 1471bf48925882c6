package omsconfig

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// NormalizeCMURL turns the forms the seed accepts for cm_url — `VIP`,
// `VIP:8088`, `VIP 8088` (host and port given apart), `http://VIP`,
// `https://VIP:8088`, a domain name instead of an IP, IPv6 in brackets —
// into one URL: scheme://host:8088 with no trailing slash. The scheme
// defaults to http and an https given by the user is kept.
//
// Another port is refused rather than silently rewritten: the seed says
// "You must specify Port 8088" (8088 serves program calls, 8089 the web
// console), so `VIP:8089` is almost certainly the console address pasted by
// mistake, and changing it to 8088 behind the user's back could point OMS at
// the wrong listener of a VIP that maps ports differently.
func NormalizeCMURL(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("cm_url is empty")
	}
	if f := strings.Fields(s); len(f) == 2 {
		// Host and port given apart, as the wizard allows.
		if _, err := strconv.Atoi(f[1]); err == nil {
			s = net.JoinHostPort(strings.Trim(f[0], "[]"), f[1])
		}
	}
	hu, err := parseHostURL("cm_url", s, "a scheme, host and port (no path)")
	if err != nil {
		return "", err
	}
	scheme, host, rest := hu.scheme, hu.host, hu.rest
	if port := hu.port; port != "" {
		n, err := strconv.Atoi(port)
		if err != nil {
			return "", fmt.Errorf("cm_url %q: port %q is not a number", s, port)
		}
		if n != CMPort {
			return "", fmt.Errorf("cm_url %q uses port %d: it must name port %d (CM's program port; %d is the web console)", s, n, CMPort, CMPort+1)
		}
	} else if strings.HasSuffix(rest, ":") {
		return "", fmt.Errorf("cm_url %q has an empty port", s)
	}
	return scheme + "://" + net.JoinHostPort(host, strconv.Itoa(CMPort)), nil
}

// CMURLHost returns the host part of a cm_url in any accepted form.
func CMURLHost(s string) (string, error) {
	n, err := NormalizeCMURL(s)
	if err != nil {
		return "", err
	}
	u, err := url.Parse(n)
	if err != nil {
		return "", err
	}
	return u.Hostname(), nil
}

// hostURL is a value of the form [scheme://]host[:port][/] taken apart, as
// cm_url and sls_endpoint accept it; each applies its own rule to the port.
type hostURL struct {
	scheme, host, port string
	rest               string // the value without its scheme
}

// parseHostURL takes s, the value of key, apart: http or https (http when
// none is given), no user, no path, a valid IP address or host name. only
// says what the value may hold, for the error about a path.
func parseHostURL(key, s, only string) (hostURL, error) {
	if strings.ContainsAny(s, " \t\r\n") {
		return hostURL{}, fmt.Errorf("%s %q contains spaces", key, s)
	}
	hu := hostURL{scheme: "http", rest: s}
	if i := strings.Index(s, "://"); i >= 0 {
		hu.scheme, hu.rest = strings.ToLower(s[:i]), s[i+3:]
		if hu.scheme != "http" && hu.scheme != "https" {
			return hostURL{}, fmt.Errorf("%s %q: scheme must be http or https", key, s)
		}
	}
	u, err := url.Parse(hu.scheme + "://" + hu.rest)
	if err != nil {
		return hostURL{}, fmt.Errorf("%s %q is not a host name or URL: %w", key, s, unwrapURLError(err))
	}
	if u.User != nil {
		return hostURL{}, fmt.Errorf("%s %q must not contain a user name or password", key, s)
	}
	if p := strings.TrimRight(u.Path, "/"); p != "" || u.RawQuery != "" || u.Fragment != "" {
		return hostURL{}, fmt.Errorf("%s %q must be only %s", key, s, only)
	}
	if hu.host = u.Hostname(); hu.host == "" {
		return hostURL{}, fmt.Errorf("%s %q has no host name", key, s)
	}
	if err := checkHost(hu.host); err != nil {
		return hostURL{}, fmt.Errorf("%s %q: %w", key, s, err)
	}
	hu.port = u.Port()
	return hu, nil
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// checkHost accepts an IP address or a DNS name.
func checkHost(h string) error {
	if net.ParseIP(h) != nil {
		return nil
	}
	if len(h) > 253 {
		return fmt.Errorf("host name %q is too long", h)
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("%q is not a valid host name", h)
		}
		for i, r := range label {
			ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
				r == '-' && i > 0 && i < len(label)-1 || r == '_'
			if !ok {
				return fmt.Errorf("%q is not a valid IP address or host name", h)
			}
		}
	}
	return nil
}

// isLoopback reports whether host is 127.0.0.0/8, ::1 or localhost.
func isLoopback(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
