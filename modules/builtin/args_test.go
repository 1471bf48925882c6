package builtin_test

import (
	"reflect"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/omsrun/omsrun/modules"
	"github.com/omsrun/omsrun/modules/builtin"
	"github.com/omsrun/omsrun/modules/oms"
)

// TestDockerModuleArgsDecode decodes each module's arguments from HCL as a
// playbook step body would give them, so the tags and types are proven.
func TestDockerModuleArgsDecode(t *testing.T) {
	yes, gb := true, 20.0
	cases := []struct {
		module string
		src    string
		want   any
	}{
		{"command", `argv = ["echo", "a b"]
creates = "/x"`, &modules.CommandArgs{Argv: []string{"echo", "a b"}, Creates: "/x"}},
		{"shell", `cmd = "echo hi | wc -c"`, &modules.ShellArgs{Cmd: "echo hi | wc -c"}},
		{"wait_for", `url = "http://10.0.0.1:8089/oms/health"
status = 200
body = "healthy"
timeout = 90
via = "controller"`, &modules.WaitForArgs{URL: "http://10.0.0.1:8089/oms/health", Status: 200, Body: "healthy", Timeout: "90", Via: "controller"}},
		{"docker_load", `file = "/pkg/oms.tar.gz"
tag = "oms:4.2.5"
keep_file = true`, &oms.DockerLoadArgs{File: "/pkg/oms.tar.gz", Tag: "oms:4.2.5", KeepFile: true}},
		{"mkdir_mounts", `path = "/data/oms"
owner = "root"
mode = "0755"
min_free_gb = 20
subdirs = ["logs"]`, &oms.MkdirMountsArgs{Path: "/data/oms", Owner: "root", Mode: "0755", MinFreeGB: &gb, Subdirs: []string{"logs"}}},
		{"container_run", `image = "oms:4.2.5"
mount_dir = "/data/oms"
extra_env = { A = "1" }
health_timeout = "3m"
upgrade = true`, &oms.ContainerRunArgs{Image: "oms:4.2.5", MountDir: "/data/oms", ExtraEnv: map[string]string{"A": "1"}, HealthTimeout: "3m", Upgrade: &yes}},
		{"supervisor_restart", `init_config = true
programs = ["oms_console"]`, &oms.SupervisorRestartArgs{InitConfig: &yes, Programs: []string{"oms_console"}}},
		{"preflight", `ports = [8088]
peers = ["10.0.0.2", "10.0.0.3:2222"]
metadb_host = "10.0.0.1"
metadb_port = 2881
tsdb_enabled = false
max_clock_skew = "500ms"`, &oms.PreflightArgs{Ports: []int{8088}, Peers: []string{"10.0.0.2", "10.0.0.3:2222"}, MetaDBHost: "10.0.0.1", MetaDBPort: 2881, MaxClockSkew: "500ms"}},
	}
	for _, tc := range cases {
		t.Run(tc.module, func(t *testing.T) {
			m, ok := builtin.Lookup(tc.module)
			if !ok {
				t.Fatalf("%s not registered", tc.module)
			}
			f, diags := hclsyntax.ParseConfig([]byte(tc.src), "step.hcl", hcl.InitialPos)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			args := m.NewArgs()
			if diags := gohcl.DecodeBody(f.Body, nil, args); diags.HasErrors() {
				t.Fatal(diags)
			}
			if !reflect.DeepEqual(args, tc.want) {
				t.Errorf("decoded %+v\nwant    %+v", args, tc.want)
			}
			doc := m.Doc()
			if doc.Name != tc.module {
				t.Errorf("doc name %q", doc.Name)
			}
		})
	}
}
