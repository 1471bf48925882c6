package inventory

// Benchmarks of inventory loading (issue #6): a generated OMS inventory of
// 100 and 1,000 hosts in HCL and in Ansible INI, through Load (the path
// `omsrun -i FILE` takes: read, detect the format, parse, merge, check),
// and host pattern matching on the loaded inventory. Run them with
//
//	go test -run '^$' -bench . -benchmem ./inventory/

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// benchRegions are the OMS node groups the generated inventories spread hosts over.
var benchRegions = []string{"cn_hangzhou", "cn_shanghai", "cn_beijing", "cn_shenzhen", "cn_chengdu", "cn_qingdao", "cn_wuhan", "cn_xian"}

// The generated inventories hold n hosts: n-4 OMS nodes spread over the
// regions' groups (children of oms), three MetaDB hosts and one TSDB host,
// with defaults, group vars (some secret) and host vars, as an OMS
// deployment has them.
const benchExtraHosts = 4

func benchHCL(n int) string {
	var s strings.Builder
	s.WriteString(`# Generated OMS inventory for benchmarks.
defaults {
  user     = "omsadm"
  port     = 22
  key_file = "~/.ssh/id_ed25519"
  become   = true
  vars = {
    oms_version   = "4.2.5"
    mount_dir     = "/data/oms"
    ntp_server    = "ntp.example.com"
  }
}

group "oms" {
  children = [`)
	for i, r := range benchRegions {
		if i > 0 {
			s.WriteString(", ")
		}
		fmt.Fprintf(&s, "%q", "oms_"+r)
	}
	s.WriteString(`]
  vars = {
    cm_port       = 8088
    supervisor_port = 9000
    tsdb_password = "not-a-real-password"
  }
}
`)
	nodes := n - benchExtraHosts
	for ri, r := range benchRegions {
		fmt.Fprintf(&s, "\ngroup %q {\n  vars = {\n    region      = %q\n    cm_location = %d\n  }\n", "oms_"+r, strings.ReplaceAll(r, "_", "-"), 100+ri)
		for i := ri; i < nodes; i += len(benchRegions) {
			fmt.Fprintf(&s, "  host \"oms-%04d\" {\n    address = \"10.%d.%d.%d\"\n", i, ri, i/250, i%250+1)
			if i%50 == 0 {
				s.WriteString("    port    = 2222\n")
			}
			fmt.Fprintf(&s, "    vars    = { cm_nodes_index = %d, rack = \"r%02d\", zone = \"z%d\" }\n  }\n", i, i%40, i%3)
		}
		s.WriteString("}\n")
	}
	s.WriteString(`
group "metadb" {
  vars = { mysql_port = 2881, metadb_password = "not-a-real-password" }
  host "meta1" { address = "10.200.0.1" }
  host "meta2" { address = "10.200.0.2" }
  host "meta3" { address = "10.200.0.3" }
}

group "tsdb" {
  host "influx1" {
    address  = "10.201.0.1"
    user     = "root"
    password = "not-a-real-password"
    become   = false
  }
}
`)
	return s.String()
}

func benchINI(n int) string {
	var s strings.Builder
	s.WriteString("# Generated OMS inventory for benchmarks.\n")
	nodes := n - benchExtraHosts
	for ri, r := range benchRegions {
		fmt.Fprintf(&s, "\n[oms_%s]\n", r)
		for i := ri; i < nodes; i += len(benchRegions) {
			fmt.Fprintf(&s, "oms-%04d ansible_host=10.%d.%d.%d", i, ri, i/250, i%250+1)
			if i%50 == 0 {
				s.WriteString(" ansible_port=2222")
			}
			fmt.Fprintf(&s, " cm_nodes_index=%d rack=r%02d zone=\"z%d\"\n", i, i%40, i%3)
		}
		fmt.Fprintf(&s, "\n[oms_%s:vars]\nregion=%s\ncm_location=%d\n", r, strings.ReplaceAll(r, "_", "-"), 100+ri)
	}
	s.WriteString("\n[oms:children]\n")
	for _, r := range benchRegions {
		fmt.Fprintf(&s, "oms_%s\n", r)
	}
	s.WriteString(`
[oms:vars]
cm_port=8088
supervisor_port=9000
tsdb_password=not-a-real-password

[metadb]
meta[1:3].db.example.com

[metadb:vars]
mysql_port=2881
metadb_password=not-a-real-password

[tsdb]
influx1 ansible_host=10.201.0.1 ansible_user=root ansible_password=not-a-real-password ansible_become=false

[all:vars]
ansible_user=omsadm
ansible_become=yes
ansible_ssh_private_key_file=~/.ssh/id_ed25519
oms_version=4.2.5
mount_dir=/data/oms
ntp_server=ntp.example.com
`)
	return s.String()
}

// checkBenchInventory asserts a generated inventory loaded whole and merged right.
func checkBenchInventory(b *testing.B, inv *Inventory, n int) {
	b.Helper()
	if len(inv.Hosts) != n {
		b.Fatalf("%d hosts, want %d", len(inv.Hosts), n)
	}
	if got := len(inv.GroupHosts("oms")); got != n-benchExtraHosts {
		b.Fatalf("oms has %d hosts, want %d", got, n-benchExtraHosts)
	}
	h := inv.Host("oms-0001")
	if h == nil || h.Address != "10.1.0.2" || h.User != "omsadm" || !h.Become {
		b.Fatalf("oms-0001 = %+v", h)
	}
	if r := h.Vars["region"]; r.AsString() != "cn-shanghai" {
		b.Fatalf("oms-0001 region = %#v", r)
	}
	if h := inv.Host("oms-0050"); h == nil || h.Port != 2222 {
		b.Fatalf("oms-0050 = %+v", h)
	}
	if h := inv.Host("influx1"); h == nil || h.Password.Reveal() != "not-a-real-password" || h.Become {
		b.Fatalf("influx1 = %+v", h)
	}
	if !inv.Host("oms-0002").Vars["tsdb_password"].IsMarked() {
		b.Fatal("tsdb_password is not marked sensitive")
	}
}

func BenchmarkLoad(b *testing.B) {
	for _, format := range []struct {
		ext string
		gen func(int) string
	}{{"hcl", benchHCL}, {"ini", benchINI}} {
		for _, n := range []int{100, 1000} {
			b.Run(fmt.Sprintf("%s/hosts=%d", format.ext, n), func(b *testing.B) {
				src := format.gen(n)
				// No extension: Load detects the format as it does for an
				// Ansible "hosts" file.
				path := filepath.Join(b.TempDir(), "hosts")
				if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
					b.Fatal(err)
				}
				inv, diags := Load([]string{path})
				if diags.HasErrors() {
					b.Fatal(diags.Error())
				}
				checkBenchInventory(b, inv, n)
				b.SetBytes(int64(len(src)))
				b.ReportAllocs()
				for b.Loop() {
					if _, diags := Load([]string{path}); diags.HasErrors() {
						b.Fatal(diags.Error())
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/host")
			})
		}
	}
}

// BenchmarkHCLSyntaxFloor is hclsyntax.ParseConfig alone on the HCL
// inventories of BenchmarkLoad: the part of loading an HCL inventory that is
// the HCL library's, not omsrun's.
func BenchmarkHCLSyntaxFloor(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("hosts=%d", n), func(b *testing.B) {
			src := []byte(benchHCL(n))
			if _, diags := hclsyntax.ParseConfig(src, "hosts.hcl", hcl.InitialPos); diags.HasErrors() {
				b.Fatal(diags.Error())
			}
			b.SetBytes(int64(len(src)))
			b.ReportAllocs()
			for b.Loop() {
				hclsyntax.ParseConfig(src, "hosts.hcl", hcl.InitialPos)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/host")
		})
	}
}

// BenchmarkMatch resolves the patterns steps use, as the engine does once
// per step.
func BenchmarkMatch(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("hosts=%d", n), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "hosts.hcl")
			if err := os.WriteFile(path, []byte(benchHCL(n)), 0o644); err != nil {
				b.Fatal(err)
			}
			inv, diags := Load([]string{path})
			if diags.HasErrors() {
				b.Fatal(diags.Error())
			}
			patterns := []string{"oms", "oms,!oms_cn_beijing", "oms:&oms_cn_hangzhou", "oms-00*", "~oms-0[0-4].*", "all"}
			if hs, err := inv.Match("oms,!oms_cn_beijing"); err != nil || len(hs) == 0 || len(hs) >= n-benchExtraHosts {
				b.Fatalf("oms,!oms_cn_beijing: %d hosts, %v", len(hs), err)
			}
			b.ReportAllocs()
			for b.Loop() {
				for _, p := range patterns {
					if _, err := inv.Match(p); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(patterns)*n), "ns/host-match")
		})
	}
}
