package omsconfig

import (
	"strings"
	"testing"
)

func TestNormalizeCMURL(t *testing.T) {
	tests := []struct {
		name, in, want, err string
	}{
		{name: "bare ip", in: "10.0.0.9", want: "http://10.0.0.9:8088"},
		{name: "ip and port joined", in: "10.0.0.9:8088", want: "http://10.0.0.9:8088"},
		{name: "ip and port apart", in: "10.0.0.9 8088", want: "http://10.0.0.9:8088"},
		{name: "http prefix", in: "http://10.0.0.9", want: "http://10.0.0.9:8088"},
		{name: "full url", in: "http://10.0.0.9:8088", want: "http://10.0.0.9:8088"},
		{name: "trailing slash", in: "http://10.0.0.9:8088/", want: "http://10.0.0.9:8088"},
		{name: "https kept", in: "https://oms.example.com", want: "https://oms.example.com:8088"},
		{name: "upper scheme", in: "HTTP://vip", want: "http://vip:8088"},
		{name: "domain", in: "oms-vip.corp.example:8088", want: "http://oms-vip.corp.example:8088"},
		{name: "ipv6", in: "[fd00::9]:8088", want: "http://[fd00::9]:8088"},
		{name: "ipv6 bare", in: "http://[fd00::9]", want: "http://[fd00::9]:8088"},
		{name: "spaces trimmed", in: "  10.0.0.9  ", want: "http://10.0.0.9:8088"},
		{name: "console port refused", in: "10.0.0.9:8089", err: "must name port 8088"},
		{name: "other port refused", in: "http://vip:80", err: "must name port 8088"},
		{name: "empty", in: "", err: "empty"},
		{name: "empty port", in: "vip:", err: "empty port"},
		{name: "path", in: "http://vip:8088/oms", err: "no path"},
		{name: "ftp scheme", in: "ftp://vip", err: "scheme must be http or https"},
		{name: "userinfo", in: "http://u:p@vip", err: "user name"},
		{name: "bad host", in: "vip$:8088", err: "not a"},
		{name: "no host", in: "http://:8088", err: "no host"},
		{name: "three words", in: "a b c", err: "spaces"},
		{name: "port not a number", in: "vip:http", err: "not"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizeCMURL(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("NormalizeCMURL(%q) = %q, %v; want error containing %q", tt.in, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("NormalizeCMURL(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			// Normalising is idempotent: the output is one of the accepted forms.
			if again, err := NormalizeCMURL(got); err != nil || again != got {
				t.Fatalf("NormalizeCMURL(%q) = %q, %v; not idempotent", got, again, err)
			}
		})
	}
}

func FuzzNormalizeCMURL(f *testing.F) {
	for _, s := range []string{"10.0.0.9", "vip:8088", "http://vip", "https://[::1]:8088/", "a b", "http://:0", "vip 8088"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizeCMURL(s)
		if err != nil {
			return
		}
		if !strings.HasSuffix(got, ":8088") || !(strings.HasPrefix(got, "http://") || strings.HasPrefix(got, "https://")) {
			t.Fatalf("NormalizeCMURL(%q) = %q: not scheme://host:8088", s, got)
		}
		again, err := NormalizeCMURL(got)
		if err != nil || again != got {
			t.Fatalf("NormalizeCMURL(%q) = %q, but that normalises to %q, %v", s, got, again, err)
		}
	})
}
