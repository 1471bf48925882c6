package history

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/engine"
	"github.com/omsrun/omsrun/internal/output"
	"github.com/omsrun/omsrun/internal/playbook"
	"github.com/omsrun/omsrun/internal/secret"
	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/internal/transport/transporttest"
	"github.com/omsrun/omsrun/inventory"
)

// localConn connects every host to one local shell.
type localConn struct{ h *transporttest.Local }

func (c localConn) Get(context.Context, *inventory.Host) (transport.Host, error) { return c.h, nil }

// hostFile is a file on a host holding secrets omsrun was never told, in
// every form the output masker knows: config.yaml's keys, an env file, a
// keepalived.conf, an Ansible-style inventory line, a JSON document.
var hostFile = strings.Join([]string{
	"oms_meta_host: 10.0.0.5",
	"oms_meta_password: Mq1Meta-Xk41Pv",
	"tsdb_password: 'Tq2Tsdb-Yl52Qw'",
	"apsara_audit_sls_access_secret: Sq3Sls-Zm63Rx",
	"SLS_ACCESS_KEY=Aq4Key-Wn74Sy",
	"    auth_pass Vq5Vrrp-Bo85",
	"oms1 ansible_host=10.0.0.11 ansible_ssh_pass=Hq6Ssh-Cp96Uz ansible_become_pass=Bq7Sudo-Dq07Va",
	`{"tsdb_password": "Jq8Json-Er18Wb", "port": 8086}`,
	"",
}, "\n")

var hostSecrets = []string{"Mq1Meta-Xk41Pv", "Tq2Tsdb-Yl52Qw", "Sq3Sls-Zm63Rx", "Aq4Key-Wn74Sy", "Vq5Vrrp-Bo85", "Hq6Ssh-Cp96Uz", "Bq7Sudo-Dq07Va", "Jq8Json-Er18Wb"}

// TestHostSecretsMaskedInEverySink runs `cat` of such a file (a command's
// stdout, the host result's outputs.stdout) and a copy over it with --diff,
// through the real engine, with the text output, --json and the run record
// as sinks: none of them may show a secret, while the harmless lines stay.
func TestHostSecretsMaskedInEverySink(t *testing.T) {
	local := transporttest.NewLocal(t)
	if err := os.WriteFile(filepath.Join(local.Dir, "config.yaml"), []byte(hostFile), 0o600); err != nil {
		t.Fatal(err)
	}
	steps := []*playbook.Step{
		testStep(t, "show config", "command", `argv = ["cat", "config.yaml"]`),
		testStep(t, "rewrite config", "copy", `
content = "oms_meta_host: 10.0.0.6\n"
dest    = "`+filepath.Join(local.Dir, "config.yaml")+`"`),
	}
	for _, sinkName := range []string{"text", "json"} {
		t.Run(sinkName, func(t *testing.T) {
			os.WriteFile(filepath.Join(local.Dir, "config.yaml"), []byte(hostFile), 0o600)
			red := secret.NewRedactor()
			var shown bytes.Buffer
			var inner engine.Sink = &output.JSON{W: &shown, Redactor: red}
			if sinkName == "text" {
				inner = output.NewText(&shown, red, false, 2, nil)
			}
			state := t.TempDir()
			rec, err := Start(state, inner, Run{Playbook: "t.hcl", Hosts: []string{"oms1"}, Vars: map[string]cty.Value{}, Redactor: red})
			if err != nil {
				t.Fatal(err)
			}
			inv := &inventory.Inventory{Hosts: []*inventory.Host{{Name: "oms1", Address: "10.0.0.11", Groups: []string{"all"}}},
				Groups: map[string]*inventory.Group{"all": {Name: "all", Hosts: []string{"oms1"}}}}
			pb := &playbook.Playbook{Path: "t.hcl", Vars: map[string]cty.Value{}, Locals: map[string]cty.Value{}, Steps: steps, MaxFailPercentage: -1}
			r := &engine.Runner{Playbook: pb, Inventory: inv, Conn: localConn{local}, Sink: rec, Redactor: red,
				Opts: engine.Options{Forks: 1, Diff: true, Targets: inv.Hosts}}
			recap, err := r.Run(context.Background())
			rec.Close()
			if err != nil || recap.Failed() {
				t.Fatalf("run failed: %v %+v\n%s", err, recap, shown.String())
			}
			events, err := os.ReadFile(filepath.Join(state, "runs", "1", "events.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			for where, text := range map[string]string{sinkName: shown.String(), "events.jsonl": string(events)} {
				for _, s := range hostSecrets {
					if strings.Contains(text, s) {
						t.Errorf("%s shows the host's secret %q:\n%s", where, s, text)
					}
				}
				// The file was shown (stdout) and diffed (copy): masked, not dropped.
				if !strings.Contains(text, "oms_meta_host: 10.0.0.5") || !strings.Contains(text, "10.0.0.6") {
					t.Errorf("%s lost the harmless lines:\n%s", where, text)
				}
			}
			if sinkName == "json" && !strings.Contains(shown.String(), `"outputs":{"rc":0,"stderr":"","stdout":"oms_meta_host: 10.0.0.5\noms_meta_password: `+secret.Mask) {
				t.Errorf("outputs.stdout is not the masked file:\n%s", shown.String())
			}
		})
	}
}

func testStep(t *testing.T, name, module, body string) *playbook.Step {
	t.Helper()
	f, diags := hclsyntax.ParseConfig([]byte(body), name+".hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return &playbook.Step{Name: name, Module: module, Hosts: "all", Body: f.Body}
}
