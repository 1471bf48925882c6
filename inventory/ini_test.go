package inventory

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func loadText(t *testing.T, name, src string) (*Inventory, string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	inv, diags := Load([]string{p})
	if diags.HasErrors() {
		return nil, diags.Error()
	}
	return inv, ""
}

func TestINI(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		check     func(t *testing.T, inv *Inventory)
		err       string
	}{
		{name: "crlf and comments", src: "; c\r\n[web]\r\nweb1 ansible_host=10.0.0.1 # trailing\r\n",
			check: func(t *testing.T, inv *Inventory) {
				if h := inv.Host("web1"); h == nil || h.Address != "10.0.0.1" {
					t.Errorf("web1 = %+v", h)
				}
			}},
		{name: "quoted value with spaces", src: "[web]\nweb1 motd=\"hello world\" x='a b'\n",
			check: func(t *testing.T, inv *Inventory) {
				h := inv.Host("web1")
				if h.Vars["motd"].AsString() != "hello world" || h.Vars["x"].AsString() != "a b" {
					t.Errorf("vars = %#v", h.Vars)
				}
			}},
		{name: "name:port", src: "10.0.0.5:2222\n",
			check: func(t *testing.T, inv *Inventory) {
				if h := inv.Host("10.0.0.5"); h == nil || h.Port != 2222 {
					t.Errorf("host = %+v", h)
				}
			}},
		{name: "range with port", src: "[web]\nweb[1:2]:2200\n",
			check: func(t *testing.T, inv *Inventory) {
				if h := inv.Host("web2"); h == nil || h.Port != 2200 {
					t.Errorf("web2 = %+v", h)
				}
			}},
		{name: "host in several groups", src: "[a]\nh1 ansible_host=10.0.0.1\n[b]\nh1\n",
			check: func(t *testing.T, inv *Inventory) {
				if g := strings.Join(inv.Host("h1").Groups, ","); g != "a,all,b" {
					t.Errorf("groups = %s", g)
				}
			}},
		{name: "same host same settings twice", src: "[a]\nh1 ansible_host=10.0.0.1\n[b]\nh1 ansible_host=10.0.0.1\n",
			check: func(t *testing.T, inv *Inventory) {
				if len(inv.Hosts) != 1 {
					t.Errorf("%d hosts", len(inv.Hosts))
				}
			}},
		{name: "all children and vars", src: "[web]\nw1\n[all:children]\nweb\n[all:vars]\nansible_port=2022\n",
			check: func(t *testing.T, inv *Inventory) {
				if h := inv.Host("w1"); h.Port != 2022 {
					t.Errorf("port = %d", h.Port)
				}
			}},
		{name: "vars before group", src: "[web:vars]\nx='1'\n[web]\nw1\n",
			check: func(t *testing.T, inv *Inventory) {
				if inv.Host("w1").Vars["x"].AsString() != "1" {
					t.Errorf("vars = %#v", inv.Host("w1").Vars)
				}
			}},
		{name: "ssh pass alias is a secret", src: "h1 ansible_ssh_pass=pw1 ansible_become_pass=pw2\n",
			check: func(t *testing.T, inv *Inventory) {
				h := inv.Host("h1")
				if h.Password.Reveal() != "pw1" || h.BecomePassword.Reveal() != "pw2" || len(h.Vars) != 0 {
					t.Errorf("host = %+v", h)
				}
			}},
		{name: "ipv6 host", src: "[v6]\n::1 ansible_port=2201\n",
			check: func(t *testing.T, inv *Inventory) {
				if h := inv.Host("::1"); h == nil || h.Port != 2201 {
					t.Errorf("host = %+v", h)
				}
			}},
		{name: "two hosts one address", src: "a ansible_host=10.0.0.1\nb ansible_host=10.0.0.1\n", err: "Duplicate host address"},
		{name: "same address other port is fine", src: "a ansible_host=127.0.0.1 ansible_port=2201\nb ansible_host=127.0.0.1 ansible_port=2202\n",
			check: func(t *testing.T, inv *Inventory) {
				if len(inv.Hosts) != 2 {
					t.Errorf("%d hosts", len(inv.Hosts))
				}
			}},
		{name: "conflicting port", src: "[a]\nh1 ansible_port=22\n[b]\nh1 ansible_port=23\n", err: "Conflicting host declaration"},
		{name: "child of itself", src: "[a:children]\na\n[a]\nh\n", err: "Cyclic group children"},
		{name: "all as child", src: "[a:children]\nall\n[a]\nh\n", err: "Invalid child group"},
		{name: "bad bool", src: "h ansible_become=maybe\n", err: "not true or false"},
		{name: "port zero", src: "h ansible_port=0\n", err: "out of range"},
		{name: "section not closed", src: "[web\nh\n", err: "must end with ']'"},
		{name: "text after section", src: "[web] h1\n", err: "Nothing may follow"},
		{name: "bad child name", src: "[a:children]\nb c\n", err: "Invalid child group"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv, err := loadText(t, "hosts.ini", tc.src)
			if tc.err != "" {
				if !strings.Contains(err, tc.err) {
					t.Fatalf("want error %q, got %q", tc.err, err)
				}
				return
			}
			if err != "" {
				t.Fatal(err)
			}
			tc.check(t, inv)
		})
	}
}

func TestHCLInventory(t *testing.T) {
	inv, err := loadText(t, "inv.hcl", `
host "solo" {
  address = "10.0.0.9"
}
group "web" {
  host "solo" {}
  host "w2" {
    address = "10.0.0.2"
    become  = true
  }
}
`)
	if err != "" {
		t.Fatal(err)
	}
	if g := strings.Join(inv.Host("solo").Groups, ","); g != "all,web" {
		t.Errorf("solo groups = %s", g)
	}
	if inv.Host("solo").Address != "10.0.0.9" || !inv.Host("w2").Become {
		t.Errorf("settings lost: %+v %+v", inv.Host("solo"), inv.Host("w2"))
	}
	for src, want := range map[string]string{
		`group "a" {}` + "\n" + `group "a" {}`:                "Duplicate group",
		`defaults {}` + "\n" + `defaults {}`:                  "Duplicate defaults block",
		`group "a" { children = "b" }`:                        "Invalid children",
		`group "a b" {}`:                                      "Invalid group name",
		`defaults { address = "x" }`:                          "Unsupported argument",
		`host "h" { port = 70000 }`:                           "out of range",
		`host "h" { vars = { x = upper("a") } }`:              "Function calls not allowed",
		`host "h" { address = ["10.0.0.1"] }`:                 "must be a single value",
		`group "a" { children = [1] }` + "\nhost \"h\" {}":    "Invalid child group",
		`group "a" { children = ["zz"] }` + "\nhost \"h\" {}": "Unknown child group",
	} {
		if _, err := loadText(t, "inv.hcl", src); !strings.Contains(err, want) {
			t.Errorf("%s: want %q, got %q", src, want, err)
		}
	}
}

// TestINIValue: Python literals as ast.literal_eval reads them; anything
// else is kept as written. TestAnsibleOracle checks the same against Ansible.
func TestINIValue(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"1", "cty.NumberIntVal(1)"},
		{"-3", "cty.NumberIntVal(-3)"},
		{"007", `cty.StringVal("007")`},
		{"0x10", "cty.NumberIntVal(16)"},
		{"1_000", "cty.NumberIntVal(1000)"},
		{"True", "cty.True"},
		{"true", `cty.StringVal("true")`},
		{"False", "cty.False"},
		{`"1"`, `cty.StringVal("1")`},
		{`"a # b" # c`, `cty.StringVal("a # b")`},
		{"a # b", `cty.StringVal("a # b")`},
		{`'it''s'`, `cty.StringVal("its")`},
		{`"a\tb"`, `cty.StringVal("a\tb")`},
		{"1.2.3", `cty.StringVal("1.2.3")`},
		{"yes", `cty.StringVal("yes")`},
		{"[1, 'a']", `cty.TupleVal([]cty.Value{cty.NumberIntVal(1), cty.StringVal("a")})`},
		{"(1)", "cty.NumberIntVal(1)"},
		{strings.Repeat("[", 500), `cty.StringVal("` + strings.Repeat("[", 500) + `")`},
	} {
		if got := iniValue(tc.in).GoString(); got != tc.want {
			t.Errorf("iniValue(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// TestLimits: ranges may expand to many hosts, up to a bound that keeps a
// typo from exhausting memory.
func TestLimits(t *testing.T) {
	inv, err := loadText(t, "big.ini", "[web]\nweb[00001:10000]\n[db]\ndb[00001:10000]\n")
	if err != "" {
		t.Fatal(err)
	}
	if len(inv.Hosts) != 20000 || len(inv.GroupHosts("web")) != 10000 || inv.Host("db10000") == nil {
		t.Fatalf("got %d hosts", len(inv.Hosts))
	}
	if hs, err := inv.Match("web*,&~5$,!db*"); err != nil || len(hs) != 1000 {
		t.Fatalf("match: %d hosts, %v", len(hs), err)
	}
	_, err = loadText(t, "bigger.ini", "[web]\nweb[00001:10000]\n[db]\ndb[00001:10000]\n[app]\napp[1:5]\n")
	if !strings.Contains(err, "more than 20000 hosts") {
		t.Fatalf("want a size error, got %q", err)
	}
}
