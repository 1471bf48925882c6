package playbook

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omsrun/omsrun/inventory"
)

const splitPlaybook = `variable "url" {
  type    = string
  default = "http://one"
}
variable "code" {
  type    = number
  default = 100
}
variable "parts" {
  type = list(object({
    hosts = string
    url   = string
    code  = optional(number)
  }))
  default         = []
  split_group     = "oms"
  split_overrides = ["url", "code"]
}
locals {
  mine  = try([for p in var.parts : p if p.url == var.url][0], null)
  peers = join(",", [for h in try(hosts_matching(local.mine.hosts), hosts.oms) : h.name])
}
step "show" {
  hosts = "oms"
  shell { cmd = "${var.url} ${var.code} ${local.peers}" }
}
`

// TestSplitValues: a split variable's element replaces the variables it
// lists on the hosts its pattern names (null attributes leave the run's),
// and locals built on them follow; without elements every host shares the
// run's values.
func TestSplitValues(t *testing.T) {
	const inv = "[oms]\nh1\nh2\nh3\n[tsdb]\nt1\n"
	for _, tc := range []struct {
		name, vars string
		want       map[string]string
	}{
		{name: "no parts", vars: "code = 100\n",
			want: map[string]string{"h1": "http://one 100 h1,h2,h3", "h3": "http://one 100 h1,h2,h3"}},
		{name: "two parts", vars: "parts = [\n  { hosts = \"h1:h2\", url = \"http://a\", code = 1 },\n  { hosts = \"h3\", url = \"http://b\" },\n]\n",
			want: map[string]string{"h1": "http://a 1 h1,h2", "h2": "http://a 1 h1,h2", "h3": "http://b 100 h3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, in, diags := loadSplit(t, inv, tc.vars)
			if diags != "" {
				t.Fatal(diags)
			}
			expectCmds(t, p, in, tc.want)
		})
	}
}

// TestSplitErrors: a host in two elements, a host of the group in none, a
// pattern that names nothing, and an element value of the wrong type are
// refused before any connection, at the line of the var file that says so.
func TestSplitErrors(t *testing.T) {
	const inv = "[oms]\nh1\nh2\nh3\n"
	for _, tc := range []struct{ name, vars, want string }{
		{"host in two", "parts = [\n  { hosts = \"h1:h2:h3\", url = \"http://a\" },\n  { hosts = \"h2\", url = \"http://b\" },\n]\n",
			`vars.hcl:3,13-17: Host in two elements; Host "h2" is in parts[0] (its hosts at ` + "vars.hcl:2:13) and again in parts[1]"},
		{"host in none", "parts = [\n  { hosts = \"h1\", url = \"http://a\" },\n]\n", `vars.hcl:1,9-3,2: Hosts in no element; parts is given, so every host of group "oms" must be in one of its elements; h2, h3 are in none`},
		// Its hosts left the inventory: the pattern matches nothing at all.
		{"unknown host", "parts = [\n  { hosts = \"h1:h2:h3\", url = \"http://a\" },\n  { hosts = \"h9\", url = \"http://b\" },\n]\n",
			`vars.hcl:3,13-17: Element with no hosts; parts[1].hosts = "h9" matches no host or group; did you mean "h1"? Every element needs its hosts: name them in this pattern, or remove the element.`},
		{"glob that matches nothing", "parts = [\n  { hosts = \"h1:h2:h3\", url = \"http://a\" },\n  { hosts = \"x*\", url = \"http://b\" },\n]\n",
			`vars.hcl:3,13-17: Element with no hosts; parts[1].hosts = "x*" selects no host of the inventory. Every element`},
		{"bad pattern", "parts = [\n  { hosts = \"h1:h2:h3\", url = \"http://a\" },\n  { hosts = \"~(\", url = \"http://b\" },\n]\n", `vars.hcl:3,13-17: Invalid hosts pattern`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, diags := loadSplit(t, inv, tc.vars)
			if !strings.Contains(diags, tc.want) {
				t.Errorf("got %s\nwant %s", diags, tc.want)
			}
		})
	}
}

func loadSplit(t *testing.T, invText, vars string) (*Playbook, *inventory.Inventory, string) {
	t.Helper()
	dir := t.TempDir()
	write := func(name, src string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pb := write("p.hcl", splitPlaybook)
	vf := write("vars.hcl", vars)
	in, diags := inventory.Load([]string{write("hosts.ini", invText)})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	p, diags := Load(pb, Options{ExtraVars: []string{"@" + vf}, Modules: fakeModules, Inventory: in})
	if diags.HasErrors() {
		return nil, nil, diags.Error()
	}
	if d := Validate(p, in, newArgs, validateArgs); d.HasErrors() {
		return p, in, strings.ReplaceAll(d.Error(), vf, "vars.hcl")
	}
	return p, in, ""
}
