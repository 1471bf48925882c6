package omsconfig

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// The checks of omsrun's SLS keys. Project and Logstore names follow
// Alibaba Cloud Simple Log Service's naming rules; the endpoint is the
// region's SLS host name (cn-hangzhou.log.aliyuncs.com), as the SLS console
// lists it, or a URL of it.

// NormalizeSLSEndpoint accepts an SLS endpoint as a host name (or IP
// address) with an optional port, or as an http(s) URL of one, and returns
// it in one form: the lower-case host[:port], with `https://` in front when
// it was given (`http://` is the default and dropped) and no trailing slash.
func NormalizeSLSEndpoint(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("sls_endpoint is empty")
	}
	hu, err := parseHostURL("sls_endpoint", s, "a host name (and port), without a path")
	if err != nil {
		return "", err
	}
	scheme, rest := hu.scheme, hu.rest
	host := strings.ToLower(strings.TrimSuffix(hu.host, "."))
	if host == "" {
		return "", fmt.Errorf("sls_endpoint %q has no host name", s)
	}
	out := host
	if strings.Contains(host, ":") {
		out = "[" + host + "]"
	}
	if port := hu.port; port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("sls_endpoint %q: %q is not a TCP port", s, port)
		}
		out = net.JoinHostPort(host, strconv.Itoa(n))
	} else if strings.HasSuffix(strings.TrimRight(rest, "/"), ":") {
		return "", fmt.Errorf("sls_endpoint %q has an empty port", s)
	}
	if scheme == "https" {
		out = "https://" + out
	}
	return out, nil
}

// CheckSLSProject returns why s cannot be an SLS project name, or nil:
// 3 to 63 characters, lower-case letters, digits and hyphens, starting and
// ending with a letter or a digit.
func CheckSLSProject(s string) error {
	return checkSLSName(s, "project", 3, "lower-case letters, digits and hyphens", func(r rune) bool { return r == '-' })
}

// CheckSLSLogstore returns why s cannot be an SLS Logstore name, or nil:
// 2 to 63 characters, lower-case letters, digits, hyphens and underscores,
// starting and ending with a letter or a digit.
func CheckSLSLogstore(s string) error {
	return checkSLSName(s, "Logstore", 2, "lower-case letters, digits, hyphens and underscores", func(r rune) bool { return r == '-' || r == '_' })
}

func checkSLSName(s, what string, minLen int, allowed string, punct func(rune) bool) error {
	alnum := func(r rune) bool { return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' }
	if s == "" {
		return fmt.Errorf("the SLS %s name is empty", what)
	}
	for _, r := range s {
		switch {
		case alnum(r), punct(r):
		case r >= 'A' && r <= 'Z':
			if low := strings.ToLower(s); checkSLSName(low, what, minLen, allowed, punct) == nil {
				return fmt.Errorf("%q: SLS %s names are lower-case; did you mean %q?", s, what, low)
			}
			return fmt.Errorf("%q: an SLS %s name has %s only", s, what, allowed)
		default:
			return fmt.Errorf("%q: an SLS %s name has %s only, not %q", s, what, allowed, r)
		}
	}
	if n := len(s); n < minLen || n > 63 {
		return fmt.Errorf("%q: an SLS %s name is %d to 63 characters long, not %d", s, what, minLen, n)
	}
	if !alnum(rune(s[0])) || !alnum(rune(s[len(s)-1])) {
		return fmt.Errorf("%q: an SLS %s name starts and ends with a letter or a digit", s, what)
	}
	return nil
}

// CheckSLSAccessKeyID returns why s cannot be an AccessKey ID, or nil.
// AccessKey IDs are letters and digits (LTAI…); dots, hyphens and
// underscores are let through for other credential forms.
func CheckSLSAccessKeyID(s string) error {
	if s == "" {
		return errors.New("the AccessKey ID is empty")
	}
	if len(s) > 128 {
		return fmt.Errorf("the AccessKey ID is %d characters long; AccessKey IDs are much shorter", len(s))
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_') {
			return fmt.Errorf("%q is not an AccessKey ID (letters and digits, e.g. LTAI5t…)", s)
		}
	}
	return nil
}
