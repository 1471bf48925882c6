package playbook

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omsrun/omsrun/inventory"
)

const perHostPlaybook = `variable "mount_dir" {
  type     = string
  default  = "/data/oms"
  per_host = true
}
variable "port" {
  type     = number
  default  = 8089
  per_host = true
  validation {
    condition     = var.port >= 1025 && var.port <= 65535
    error_message = "port must be from 1025 to 65535."
  }
}
variable "name" {
  type    = string
  default = "oms"
}
locals {
  cfg = "${var.mount_dir}/config.yaml"
}
step "show" {
  shell { cmd = "${local.cfg} ${var.port} ${var.name}" }
}
`

// TestPerHostValues: inventory variables override per_host variables on
// their host, in the order default < -e @file < group vars < host vars <
// -e name=value, and locals built from them follow; other variables ignore
// the inventory.
func TestPerHostValues(t *testing.T) {
	for _, tc := range []struct {
		name, inv string
		extra     []string
		want      map[string]string // host → the step's cmd
	}{
		{name: "defaults and a host's own", inv: "[oms]\nh1\nh2 mount_dir=/data/h2 name=ignored\n",
			want: map[string]string{"h1": "/data/oms/config.yaml 8089 oms", "h2": "/data/h2/config.yaml 8089 oms"}},
		{name: "a var file is below the inventory", inv: "[oms]\nh1\nh2 mount_dir=/data/h2\n", extra: []string{"@VARS"},
			want: map[string]string{"h1": "/file/config.yaml 9000 oms", "h2": "/data/h2/config.yaml 9000 oms"}},
		{name: "-e name=value is above it", inv: "[oms]\nh1\nh2 mount_dir=/data/h2 port=9100\n", extra: []string{"mount_dir=/cli"},
			want: map[string]string{"h1": "/cli/config.yaml 8089 oms", "h2": "/cli/config.yaml 9100 oms"}},
		{name: "a later var file replaces an -e value", inv: "[oms]\nh1\nh2 mount_dir=/data/h2\n", extra: []string{"mount_dir=/cli", "@VARS"},
			want: map[string]string{"h1": "/file/config.yaml 9000 oms", "h2": "/data/h2/config.yaml 9000 oms"}},
		{name: "host over group", inv: "[oms]\nh1\nh2 mount_dir=/data/h2\n[oms:vars]\nmount_dir=/grp\nport=9200\n",
			want: map[string]string{"h1": "/grp/config.yaml 9200 oms", "h2": "/data/h2/config.yaml 9200 oms"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			write := func(name, src string) string {
				p := filepath.Join(dir, name)
				if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
					t.Fatal(err)
				}
				return p
			}
			pb := write("p.hcl", perHostPlaybook)
			vars := write("vars.hcl", "mount_dir = \"/file\"\nport = 9000\n")
			inv, diags := inventory.Load([]string{write("hosts.ini", tc.inv)})
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			var extra []string
			for _, e := range tc.extra {
				extra = append(extra, strings.Replace(e, "@VARS", "@"+vars, 1))
			}
			p, diags := Load(pb, Options{ExtraVars: extra, Modules: fakeModules, Inventory: inv})
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			if d := Validate(p, inv, newArgs, validateArgs); d.HasErrors() {
				t.Fatal(d)
			}
			expectCmds(t, p, inv, tc.want)
		})
	}
}

// TestPerHostValueErrors: a host's own value that does not fit the type or
// the validation rule is reported at the inventory line that sets it.
func TestPerHostValueErrors(t *testing.T) {
	for _, tc := range []struct{ inv, want string }{
		{"[oms]\nh1\nh2 port=abc\n", "hosts.ini:3,"},
		{"[oms]\nh1 port=80\n", "hosts.ini:2,"},
		{"[oms]\nh1\n[oms:vars]\nport=99999\n", "hosts.ini:4,"},
	} {
		dir := t.TempDir()
		pb := filepath.Join(dir, "p.hcl")
		invPath := filepath.Join(dir, "hosts.ini")
		if err := os.WriteFile(pb, []byte(perHostPlaybook), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(invPath, []byte(tc.inv), 0o644); err != nil {
			t.Fatal(err)
		}
		inv, diags := inventory.Load([]string{invPath})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		p, diags := Load(pb, Options{Modules: fakeModules, Inventory: inv})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		d := Validate(p, inv, newArgs, validateArgs)
		if !d.HasErrors() || !strings.Contains(d.Error(), tc.want) || !strings.Contains(d.Error(), "Invalid value for variable") {
			t.Errorf("%q: want an error at %s, got %v", tc.inv, tc.want, d)
		}
	}
}

// expectCmds decodes the playbook's first step, a shell step, for each host
// of want and compares its cmd with the host's entry.
func expectCmds(t *testing.T, p *Playbook, inv *inventory.Inventory, want map[string]string) {
	t.Helper()
	for host, cmd := range want {
		var args shellArgs
		if d := DecodeStep(p, p.Steps[0], Scope{Host: inv.Host(host), Inv: inv}, &args, nil); d.HasErrors() {
			t.Fatal(d)
		}
		if args.Cmd != cmd {
			t.Errorf("%s: cmd = %q, want %q", host, args.Cmd, cmd)
		}
	}
}
