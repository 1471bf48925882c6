package playbooks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/engine"
	"github.com/omsrun/omsrun/internal/output"
	"github.com/omsrun/omsrun/internal/playbook"
	"github.com/omsrun/omsrun/internal/secret"
	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/inventory"
	"github.com/omsrun/omsrun/modules"
	"github.com/omsrun/omsrun/modules/builtin"
	"github.com/omsrun/omsrun/modules/modtest"
)

// plansAs stands in for every vip.hcl module but command: the container
// step changes when the case says so, the copies change and output the
// config's sha256, the rest is up to date.
type plansAs struct {
	real      modules.Module
	name      string
	container bool
}

const loadedSum = "c0ffee"

func (m plansAs) Doc() modules.Doc { return m.real.Doc() }
func (m plansAs) NewArgs() any     { return m.real.NewArgs() }
func (m plansAs) Check(context.Context, *modules.Env, any) (*modules.Plan, error) {
	switch m.name {
	case "container":
		return &modules.Plan{Change: m.container, Summary: "as read"}, nil
	case "copy":
		return &modules.Plan{Change: true, Summary: "as read", Outputs: map[string]cty.Value{"sha256": cty.StringVal(loadedSum)}}, nil
	}
	return &modules.Plan{Summary: "as read"}, nil
}
func (m plansAs) Apply(_ context.Context, _ *modules.Env, _ any, p *modules.Plan) (*modules.Result, error) {
	return &modules.Result{Changed: p.Change, Outputs: p.Outputs}, nil
}

// loadedHosts are nodes whose keepalived left loaded-<loadedSum> or not.
type loadedHosts struct{ loaded bool }

func (c loadedHosts) Get(context.Context, *inventory.Host) (transport.Host, error) {
	h := &modtest.Host{}
	if c.loaded {
		h.On("/keepalived/loaded-"+loadedSum, 0, "creates\n", "")
	}
	return h.On("if [ -e", 0, "", "").On("docker restart omsrun-keepalived", 0, "", ""), nil
}

// reloadStatuses runs vip.hcl (check mode or for real) on three nodes and
// returns each node's "reload keepalived" status.
func reloadStatuses(t *testing.T, check, containerChanges, loaded bool) map[string]string {
	t.Helper()
	inv := filepath.Join(t.TempDir(), "inv.hcl")
	os.WriteFile(inv, []byte("group \"oms\" {\n  host \"oms1\" { address = \"10.0.0.11\" }\n  host \"oms2\" { address = \"10.0.0.12\" }\n  host \"oms3\" { address = \"10.0.0.13\" }\n}\n"), 0o600)
	i, diags := inventory.Load([]string{inv})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	p, diags := playbook.Load("vip.hcl", playbook.Options{Inventory: i, ExtraVars: []string{"oms_meta_host=10.0.0.5", "oms_meta_user=u",
		"oms_meta_password=p", "cm_url=http://10.0.0.120:8088", "image=oms:x", "image_file=x.tar.gz", "vip_password=0123456789",
		"keepalived_image_file=k.tar"}})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	var out bytes.Buffer
	r := &engine.Runner{Playbook: p, Inventory: i, Conn: loadedHosts{loaded}, Sink: &output.JSON{W: &out, Redactor: secret.NewRedactor()},
		Redactor: secret.NewRedactor(), Opts: engine.Options{Targets: i.Hosts, Forks: 3, Check: check},
		Modules: func(name string) (modules.Module, bool) {
			m, ok := builtin.Lookup(name)
			if name == "command" {
				return m, ok
			}
			return plansAs{real: m, name: name, container: containerChanges}, ok
		}}
	if _, err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var ev struct{ Type, Step, Host, Status string }
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		if ev.Type == "host_result" && ev.Step == "reload keepalived" {
			got[ev.Host] = ev.Status
		}
	}
	return got
}

// TestVIPReloadKeepalived: keepalived is restarted when it has not loaded
// the config on disk (no loaded-<sha256> of it), unless this run (re)created
// or started its container, which read the config as it started: its start
// script may not have written the record yet (a first run, a new image), and
// --check predicts exactly what the run does.
func TestVIPReloadKeepalived(t *testing.T) {
	for _, tc := range []struct {
		name              string
		container, loaded bool
		want              string
	}{
		{name: "new container, record not yet written", container: true, want: "skipped"},
		{name: "new container, record written", container: true, loaded: true, want: "skipped"},
		{name: "config not loaded (a run killed before the restart)", want: "changed"},
		{name: "config loaded", loaded: true, want: "ok"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, check := range []bool{true, false} {
				got := reloadStatuses(t, check, tc.container, tc.loaded)
				for _, h := range []string{"oms1", "oms2", "oms3"} {
					if got[h] != tc.want {
						t.Errorf("check=%v: %s reload keepalived %q, want %q (all: %v)", check, h, got[h], tc.want, got)
					}
				}
			}
		})
	}
}
