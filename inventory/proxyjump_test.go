package inventory

import (
	"strings"
	"testing"
)

// TestProxyJumpCheckedOnLoad: a proxy_jump the dial would refuse (a port
// that is not a number, an empty hop) is an error naming the line where it
// was set, found by validate before any connection (issue #14 point 8).
func TestProxyJumpCheckedOnLoad(t *testing.T) {
	for _, tc := range []struct{ jump, want string }{
		{"admin@bastion:22", ""},
		{"bastion, admin@10.0.0.2:2222", ""},
		{"[fe80::1]:22", ""},
		{"admin@bastion:ssh", `port "ssh"`},
		{"bastion:70000", `port "70000"`},
		{"bastion,,other", "empty hop"},
		{"admin@", "empty hop"},
	} {
		t.Run(tc.jump, func(t *testing.T) {
			src := "group \"oms\" {\n  host \"oms1\" {\n    address    = \"10.0.0.11\"\n    proxy_jump = \"" + tc.jump + "\"\n  }\n}\n"
			inv, diags := LoadSource("inv.hcl", []byte(src))
			if tc.want == "" {
				if diags.HasErrors() || inv.Hosts[0].ProxyJump != tc.jump {
					t.Fatalf("%v %+v", diags, inv)
				}
				return
			}
			if !diags.HasErrors() || !strings.Contains(diags.Error(), tc.want) || !strings.Contains(diags.Error(), "inv.hcl:4,") {
				t.Fatalf("want %q at inv.hcl:4, got %v", tc.want, diags)
			}
		})
	}
}
