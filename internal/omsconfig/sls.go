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
		return "", errors.New(KeySLSEndpoint + " is empty")
	}
	hu, err := parseHostURL(KeySLSEndpoint, s, "a host name (and port), without a path")
	if err != nil {
		return "", err
	}
	scheme, rest := hu.scheme, hu.rest
	host := strings.ToLower(strings.TrimSuffix(hu.host, "."))
	if host == "" {
		return "", fmt.Errorf(KeySLSEndpoint+" %q has no host name", s)
	}
	out := host
	if strings.Contains(host, ":") {
		out = "[" + host + "]"
	}
	if port := hu.port; port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf(KeySLSEndpoint+" %q: %q is not a TCP port", s, port)
		}
		out = net.JoinHostPort(host, strconv.Itoa(n))
	} else if strings.HasSuffix(strings.TrimRight(rest, "/"), ":") {
		return "", fmt.Errorf(KeySLSEndpoint+" %q has an empty port", s)
	}
	if scheme == "https" {
		out = "https://" + out
	}
	return out, nil
}

// CheckSLSTopic returns why s cannot be an SLS topic, or nil: a topic is
// free text to SLS, but a line break or a control character would corrupt
// the YAML line and is surely a mistake.
func CheckSLSTopic(s string) error {
	if len(s) > 128 {
		return fmt.Errorf("the topic is %d characters long; keep it under 128", len(s))
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%q: a topic has no control characters", s)
		}
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
