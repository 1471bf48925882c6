package playbooks_test

import (
	"bytes"
	"context"
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

// readsAs stands in for the hosts: every module keeps its schema and says
// whether it is read-only as the real one does, a read-only one answers
// with outs[module] (what the test's hosts hold) and changes nothing, and
// a changing one is logged, so the test sees whether a change came before
// the question was settled.
type readsAs struct {
	real modules.Module
	outs map[string]cty.Value
	log  *[]string
	name string
}

func (m readsAs) Doc() modules.Doc { return m.real.Doc() }
func (m readsAs) NewArgs() any     { return m.real.NewArgs() }
func (m readsAs) ReadOnly() bool {
	ro, ok := m.real.(modules.ReadOnly)
	return ok && ro.ReadOnly()
}
func (m readsAs) Check(context.Context, *modules.Env, any) (*modules.Plan, error) {
	return &modules.Plan{Change: !m.ReadOnly(), Outputs: m.outs, Summary: "as read"}, nil
}
func (m readsAs) Apply(_ context.Context, env *modules.Env, _ any, p *modules.Plan) (*modules.Result, error) {
	if !m.ReadOnly() {
		*m.log = append(*m.log, "changed "+m.name+" on "+env.HostName)
	}
	return &modules.Result{Changed: p.Change, Outputs: p.Outputs}, nil
}

type fakeHosts struct{}

func (fakeHosts) Get(context.Context, *inventory.Host) (transport.Host, error) {
	return &modtest.Host{}, nil
}

// settle runs a shipped playbook on three hosts whose reads answer outs
// (per module name), with answer as the terminal (nil: none); it returns
// what was asked, the recap's reason for declining, and the changes made
// before the run ended.
func settle(t *testing.T, name string, outs map[string]map[string]cty.Value, answer *bool, yes bool, extra ...string) (asked []string, declined string, changes []string) {
	t.Helper()
	inv := filepath.Join(t.TempDir(), "inv.hcl")
	os.WriteFile(inv, []byte("group \"oms\" {\n  host \"oms1\" { address = \"10.0.0.11\" }\n  host \"oms2\" { address = \"10.0.0.12\" }\n  host \"oms3\" { address = \"10.0.0.13\" }\n}\n"), 0o600)
	i, diags := inventory.Load([]string{inv})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	vars := append([]string{"oms_meta_host=10.0.0.5", "oms_meta_user=u", "oms_meta_password=p", "image=oms:feature_4.2.6-ce",
		"image_file=x.tar.gz", "cm_url=http://10.0.0.100:8088"}, extra...)
	p, diags := playbook.Load(name, playbook.Options{Inventory: i, ExtraVars: vars})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	opts := engine.Options{Targets: i.Hosts, Forks: 3, Yes: yes}
	if answer != nil {
		opts.Confirm = func(q string) (bool, error) {
			asked = append(asked, q)
			if len(changes) > 0 {
				t.Errorf("asked after changes: %v", changes)
			}
			return *answer, nil
		}
	}
	var out bytes.Buffer
	r := &engine.Runner{Playbook: p, Inventory: i, Conn: fakeHosts{}, Sink: &output.JSON{W: &out, Redactor: secret.NewRedactor()}, Redactor: secret.NewRedactor(), Opts: opts,
		Modules: func(name string) (modules.Module, bool) {
			m, ok := builtin.Lookup(name)
			return readsAs{real: m, outs: outs[name], log: &changes, name: name}, ok
		}}
	recap, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return asked, recap.Declined, changes
}

// nodes holds what every node's reads answer.
func nodes(container, upgrade map[string]cty.Value) map[string]map[string]cty.Value {
	return map[string]map[string]cty.Value{"container_info": container, "upgrade_check": upgrade}
}

var running = map[string]cty.Value{"exists": cty.True, "running": cty.True, "databases": cty.ListVal([]cty.Value{cty.StringVal("oms_rm")})}

func upgradeOuts(state string, needsStop bool, backup string) map[string]cty.Value {
	return map[string]cty.Value{"state": cty.StringVal(state), "needs_stop": cty.BoolVal(needsStop), "backup": cty.StringVal(backup),
		"from_image": cty.StringVal("oms:feature_4.2.5-ce"), "from_id": cty.StringVal("sha256:v1"), "to_image": cty.StringVal("oms:feature_4.2.6-ce"),
		"running": cty.BoolVal(needsStop)}
}

// TestUpgradeAsksAboutSyncAndSwitchover: the docs' precondition that only
// the console shows (docs/oms-facts.md U10) is a question settled once the
// nodes were read and before anything changes; no terminal refuses with
// --yes as the remedy, which the re-run follows. A run with nothing to
// upgrade (every node on the image) asks nothing.
func TestUpgradeAsksAboutSyncAndSwitchover(t *testing.T) {
	no := false
	toDo := nodes(running, upgradeOuts("upgrade", true, ""))
	asked, declined, changes := settle(t, "upgrade.hcl", toDo, &no, false)
	if len(asked) != 1 || !strings.Contains(asked[0], "incremental sync is near real time") || !strings.Contains(asked[0], "forward switchover is complete") ||
		!strings.Contains(asked[0], "oms1, oms2, oms3") {
		t.Fatalf("asked %q", asked)
	}
	if !strings.Contains(declined, "not confirmed") || len(changes) > 0 {
		t.Fatalf("a no: %q, changes %v", declined, changes)
	}
	_, declined, changes = settle(t, "upgrade.hcl", toDo, nil, false)
	if !strings.Contains(declined, "no terminal") || !strings.Contains(declined, "incremental sync") || !strings.Contains(declined, "re-run with --yes") || len(changes) > 0 {
		t.Fatalf("without a terminal: %q, changes %v", declined, changes)
	}
	if _, declined, _ = settle(t, "upgrade.hcl", toDo, nil, true); declined != "" {
		t.Fatalf("--yes still declined: %q", declined)
	}
	// Every node on the image already: nothing stops, nothing to ask.
	current := nodes(running, upgradeOuts("current", false, ""))
	asked, _, _ = settle(t, "upgrade.hcl", current, &no, false)
	if len(asked) != 0 {
		t.Fatalf("a run with nothing to upgrade asked %q", asked)
	}
	if _, declined, _ = settle(t, "upgrade.hcl", current, nil, false); declined != "" {
		t.Fatalf("a run with nothing to upgrade and no terminal declined: %q", declined)
	}
}

// TestRestoreAsksBeforeTheRestore: restore.hcl names the databases it drops
// and the dump it loads before anything changes; a rollback whose upgrade
// took no backup (it failed before) restores nothing and asks nothing.
func TestRestoreAsksBeforeTheRestore(t *testing.T) {
	no := false
	withBackup := nodes(running, upgradeOuts("in progress", true, "/backups/metadb-1.sql"))
	asked, declined, changes := settle(t, "restore.hcl", withBackup, &no, false, "backup_file=/backups/metadb-1.sql")
	if len(asked) != 1 || !strings.Contains(asked[0], "drop the MetaDB databases oms_rm, oms_cm, oms_cm_hb on 10.0.0.5:2881") ||
		!strings.Contains(asked[0], "load them back from /backups/metadb-1.sql") || !strings.Contains(asked[0], "on hosts: oms1\n") ||
		!strings.Contains(declined, "not confirmed") || len(changes) > 0 {
		t.Fatalf("asked %q, declined %q, changes %v", asked, declined, changes)
	}
	if _, declined, _ = settle(t, "restore.hcl", withBackup, nil, false); !strings.Contains(declined, "the dump the nodes' upgrade records name") || !strings.Contains(declined, "--yes") {
		t.Fatalf("without a terminal: %q", declined)
	}
	if asked, declined, _ = settle(t, "restore.hcl", nodes(running, upgradeOuts("in progress", true, "")), nil, false); len(asked) != 0 || declined != "" {
		t.Fatalf("a rollback without a backup asked %q, declined %q", asked, declined)
	}
}
