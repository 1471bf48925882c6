package playbook_test

// Benchmarks of the playbook's in-process hot paths (issue #6): loading
// (parse, includes, variables, locals, static checks) and the per-host
// evaluation the engine does for every step. Run them with
//
//	go test -run '^$' -bench . -benchmem ./internal/playbook/
//
// The package is external (playbook_test) so the benchmarks see only what
// the engine sees, and may use the real modules' argument structs.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/playbook"
	"github.com/omsrun/omsrun/internal/secret"
	"github.com/omsrun/omsrun/inventory"
	"github.com/omsrun/omsrun/modules/builtin"
)

// benchInventory writes an HCL inventory of n OMS nodes in two regions
// (plus one MetaDB host) and loads it.
func benchInventory(b *testing.B, n int) *inventory.Inventory {
	b.Helper()
	var s strings.Builder
	s.WriteString(`defaults {
  user     = "omsadm"
  port     = 22
  key_file = "~/.ssh/id_ed25519"
  become   = true
  vars     = { oms_version = "4.2.5", region = "cn-hangzhou" }
}
group "oms" {
  children = ["oms_hz", "oms_sh"]
  vars     = { cm_port = 8088 }
}
group "metadb" {
  host "meta1" {
    address = "10.9.0.1"
    vars    = { mysql_port = 2881 }
  }
}
`)
	for _, g := range []string{"oms_hz", "oms_sh"} {
		fmt.Fprintf(&s, "group %q {\n  vars = { region = %q }\n", g, strings.Replace(g, "oms_", "cn-", 1))
		for i := 0; i < n; i++ {
			if (i%2 == 0) != (g == "oms_hz") {
				continue
			}
			fmt.Fprintf(&s, "  host \"oms%03d\" {\n    address = \"10.0.%d.%d\"\n    vars    = { cm_nodes_index = %d, rack = \"r%d\" }\n  }\n", i, i/250, i%250+1, i, i%8)
		}
		s.WriteString("}\n")
	}
	path := filepath.Join(b.TempDir(), "inventory.hcl")
	if err := os.WriteFile(path, []byte(s.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	inv, diags := inventory.Load([]string{path})
	if diags.HasErrors() {
		b.Fatal(diags.Error())
	}
	if got := len(inv.GroupHosts("oms")); got != n {
		b.Fatalf("inventory: %d oms hosts, want %d", got, n)
	}
	return inv
}

// deployOptions are what `omsrun playbooks/deploy.hcl -e @vars.hcl` passes to Load.
func deployOptions(inv *inventory.Inventory) playbook.Options {
	return playbook.Options{
		ExtraVars: []string{"@../../testdata/cli/vars.hcl", "image_file=/srv/oms/oms_4.2.5-ce.tar.gz"},
		Modules:   builtin.Names(),
		Inventory: inv,
	}
}

// generatedPlaybook is a playbook of n steps mixing the modules and
// expressions real playbooks use: interpolation, host vars, locals built
// from hosts, when on host vars, changed() and earlier steps' outputs.
func generatedPlaybook(n int) string {
	var s strings.Builder
	s.WriteString(`variable "app" {
  type    = string
  default = "oms"
}
variable "mount_dir" {
  type    = string
  default = "/data/oms"
}
variable "ports" {
  type    = list(number)
  default = [8088, 8089, 9000]
}
variable "db_password" {
  type      = string
  default   = "not-a-real-password"
  sensitive = true
}
locals {
  nodes    = [for h in hosts.oms : h.address]
  node_csv = join(",", local.nodes)
  conf_dir = "${var.mount_dir}/conf"
}
`)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&s, "step \"step %03d\" {\n  hosts = \"oms\"\n", i)
		switch i % 5 {
		case 1:
			s.WriteString("  when  = host.vars.region == \"cn-hangzhou\" || host.vars.cm_nodes_index % 3 == 0\n")
		case 2:
			if i > 2 {
				fmt.Fprintf(&s, "  when  = changed(\"step %03d\") || steps[\"step %03d\"][host.name].rc == 0\n", i-2, i-2)
			}
		}
		switch i % 4 {
		case 0:
			fmt.Fprintf(&s, "  shell {\n    cmd   = \"echo ${var.app}-${host.name}-%d >> ${local.conf_dir}/log && test -d ${var.mount_dir}\"\n    chdir = var.mount_dir\n  }\n", i)
		case 1:
			fmt.Fprintf(&s, "  copy {\n    dest    = \"${local.conf_dir}/${host.name}-%d.conf\"\n    content = <<-EOT\n      node   = ${host.name}\n      addr   = ${host.address}\n      region = ${host.vars.region}\n      peers  = ${local.node_csv}\n      ports  = ${join(\",\", [for p in var.ports : tostring(p)])}\n      pass   = ${var.db_password}\n    EOT\n    mode    = \"0640\"\n  }\n", i)
		case 2:
			fmt.Fprintf(&s, "  command {\n    argv = [\"docker\", \"ps\", \"--filter\", \"name=${var.app}\", \"--format\", \"{{.ID}} %d\"]\n  }\n", i)
		case 3:
			fmt.Fprintf(&s, "  wait_for {\n    port    = var.ports[%d]\n    host    = host.address\n    timeout = \"%ds\"\n  }\n", i%3, 10+i%50)
		}
		s.WriteString("}\n")
	}
	return s.String()
}

func writeGenerated(b *testing.B, steps int) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "generated.hcl")
	if err := os.WriteFile(path, []byte(generatedPlaybook(steps)), 0o644); err != nil {
		b.Fatal(err)
	}
	return path
}

func mustLoad(b *testing.B, path string, opts playbook.Options, steps int) *playbook.Playbook {
	b.Helper()
	p, diags := playbook.Load(path, opts)
	if diags.HasErrors() {
		b.Fatal(diags.Error())
	}
	if len(p.Steps) != steps {
		b.Fatalf("%s: %d steps, want %d", path, len(p.Steps), steps)
	}
	return p
}

const deploySteps = 12

func BenchmarkParse(b *testing.B) {
	inv := benchInventory(b, 100)
	b.Run("deploy.hcl", func(b *testing.B) {
		path := "../../playbooks/deploy.hcl"
		mustLoad(b, path, deployOptions(inv), deploySteps)
		b.ReportAllocs()
		for b.Loop() {
			if _, diags := playbook.Load(path, deployOptions(inv)); diags.HasErrors() {
				b.Fatal(diags.Error())
			}
		}
	})
	for _, steps := range []int{10, 100} {
		b.Run(fmt.Sprintf("generated/steps=%d", steps), func(b *testing.B) {
			path := writeGenerated(b, steps)
			opts := playbook.Options{Modules: builtin.Names(), Inventory: inv}
			mustLoad(b, path, opts, steps)
			b.ReportAllocs()
			for b.Loop() {
				if _, diags := playbook.Load(path, opts); diags.HasErrors() {
					b.Fatal(diags.Error())
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(steps), "ns/step")
		})
	}
}

// fakeOutputs are outputs of the shape each module gives later steps.
func fakeOutputs(module string, h *inventory.Host, i int) map[string]cty.Value {
	switch module {
	case "container_info":
		exists := i%2 == 0
		return map[string]cty.Value{
			"exists": cty.BoolVal(exists), "running": cty.BoolVal(exists), "image": cty.StringVal("sha256:0123456789abcdef"),
			"databases":     cty.ListVal([]cty.Value{cty.StringVal("oms_rm"), cty.StringVal("oms_cm"), cty.StringVal("oms_cm_hb")}),
			"image_differs": cty.BoolVal(exists && i%4 == 0),
		}
	case "command", "shell":
		return map[string]cty.Value{"rc": cty.NumberIntVal(int64(i % 2)), "stdout": cty.StringVal("ok from " + h.Name + "\n"), "stderr": cty.StringVal("")}
	case "render_config":
		return map[string]cty.Value{"path": cty.StringVal("/data/oms/config.yaml"), "backup": cty.StringVal("")}
	case "docker_load":
		return map[string]cty.Value{"image_id": cty.StringVal("sha256:0123456789abcdef"), "bytes_sent": cty.NumberIntVal(0)}
	case "container_run":
		return map[string]cty.Value{"container_id": cty.StringVal("c0ffee"), "image_id": cty.StringVal("sha256:0123456789abcdef"), "recreated": cty.False}
	}
	return nil
}

// evalRun evaluates every step of p for its hosts the way engine.Runner does,
// without modules or connections: per step, the host pattern is matched;
// `when` is evaluated for every host (hostsToRun, before a confirmation)
// and again in runHost, which then decodes the module block into a fresh
// argument struct; the module's outputs are recorded for later steps and
// the step counts as having changed the host. With copyOutputs the outputs
// are written copy-on-write (a new top map and a new map of the step per
// write), as engine.Runner.setOutputs does so that scopes need no copy;
// without, all share one map mutated in place (the playbook package's own
// cost). It returns the number of (host, step) module blocks decoded.
func evalRun(b *testing.B, p *playbook.Playbook, inv *inventory.Inventory, onMarked func(cty.Value), copyOutputs bool) int {
	outputs := map[string]map[string]cty.Value{}
	changed := map[string]map[string]bool{}
	scope := func(h *inventory.Host) playbook.Scope {
		ch := changed[h.Name]
		return playbook.Scope{Outputs: outputs, Host: h, Inv: inv, Changed: func(step string) bool { return ch[step] }}
	}
	decoded := 0
	for _, st := range p.Steps {
		pattern := st.Hosts
		if pattern == "" {
			pattern = "all"
		}
		hosts, err := inv.Match(pattern)
		if err != nil {
			b.Fatal(err)
		}
		if st.RunOnce && len(hosts) > 1 {
			hosts = hosts[:1]
		}
		for _, h := range hosts {
			if _, diags := playbook.EvalWhen(p, st, scope(h), onMarked); diags.HasErrors() {
				b.Fatalf("step %q on %s: %s", st.Name, h.Name, diags.Error())
			}
		}
		mod, ok := builtin.Lookup(st.Module)
		if !ok {
			b.Fatalf("step %q: no module %q", st.Name, st.Module)
		}
		for i, h := range hosts {
			s := scope(h)
			run, diags := playbook.EvalWhen(p, st, s, onMarked)
			if diags.HasErrors() {
				b.Fatalf("step %q on %s: %s", st.Name, h.Name, diags.Error())
			}
			if !run {
				continue
			}
			args := mod.NewArgs()
			if diags := playbook.DecodeStep(p, st, s, args, onMarked); diags.HasErrors() {
				b.Fatalf("step %q on %s: %s", st.Name, h.Name, diags.Error())
			}
			decoded++
			if outs := fakeOutputs(st.Module, h, i); len(outs) > 0 {
				switch {
				case copyOutputs:
					next := make(map[string]map[string]cty.Value, len(outputs)+1)
					for k, v := range outputs {
						next[k] = v
					}
					inner := make(map[string]cty.Value, len(outputs[st.Name])+1)
					for k, v := range outputs[st.Name] {
						inner[k] = v
					}
					inner[h.Name] = cty.ObjectVal(outs)
					next[st.Name] = inner
					outputs = next
				case outputs[st.Name] == nil:
					outputs[st.Name] = map[string]cty.Value{h.Name: cty.ObjectVal(outs)}
				default:
					outputs[st.Name][h.Name] = cty.ObjectVal(outs)
				}
			}
			if changed[h.Name] == nil {
				changed[h.Name] = map[string]bool{}
			}
			changed[h.Name][st.Name] = true
		}
	}
	return decoded
}

// BenchmarkEvalPerHost evaluates whole playbooks for 10 and 100 hosts (a
// run's evaluation work, without modules or connections): scope=engine
// writes outputs copy-on-write as the engine does, scope=shared mutates one
// map in place, which isolates the playbook package's own cost.
func BenchmarkEvalPerHost(b *testing.B) {
	for _, hosts := range []int{10, 100} {
		inv := benchInventory(b, hosts)
		deploy := mustLoad(b, "../../playbooks/deploy.hcl", deployOptions(inv), deploySteps)
		gen := mustLoad(b, writeGenerated(b, 100), playbook.Options{Modules: builtin.Names(), Inventory: inv}, 100)
		for _, tc := range []struct {
			name string
			p    *playbook.Playbook
		}{{"deploy.hcl", deploy}, {"generated-100-steps", gen}} {
			for _, copyOutputs := range []bool{true, false} {
				scope := "shared"
				if copyOutputs {
					scope = "engine"
				}
				b.Run(fmt.Sprintf("%s/hosts=%d/scope=%s", tc.name, hosts, scope), func(b *testing.B) {
					red := secret.NewRedactor()
					marked := 0
					onMarked := func(v cty.Value) { marked++; red.AddValue(v) }
					decoded := evalRun(b, tc.p, inv, onMarked, copyOutputs)
					// Every step but the run_once ones and those whose when is
					// false on some hosts is decoded for every host.
					if decoded < hosts*len(tc.p.Steps)/2 {
						b.Fatalf("only %d module blocks decoded for %d hosts × %d steps", decoded, hosts, len(tc.p.Steps))
					}
					if marked == 0 {
						b.Fatal("no sensitive value was seen: the password must reach a module block")
					}
					b.ReportAllocs()
					for b.Loop() {
						evalRun(b, tc.p, inv, red.AddValue, copyOutputs)
					}
					perRun := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
					b.ReportMetric(perRun/float64(hosts), "ns/host")
					b.ReportMetric(perRun/float64(decoded), "ns/decode")
				})
			}
		}
	}
}
