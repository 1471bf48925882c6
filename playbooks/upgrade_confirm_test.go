package playbooks_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omsrun/omsrun/internal/engine"
	"github.com/omsrun/omsrun/internal/output"
	"github.com/omsrun/omsrun/internal/playbook"
	"github.com/omsrun/omsrun/internal/secret"
	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/inventory"
)

// noDial fails the test when the run contacts a host: a question is
// settled before that.
type noDial struct{ t *testing.T }

func (c noDial) Get(_ context.Context, h *inventory.Host) (transport.Host, error) {
	c.t.Errorf("%s contacted before the question was settled", h.Name)
	return nil, errors.New("no hosts in this test")
}

// settle runs a shipped playbook on three hosts up to its questions, with
// answer as the terminal (nil: none); it returns what was asked and the
// recap's reason for declining.
func settle(t *testing.T, name string, answer *bool, yes bool, extra ...string) (asked []string, declined string) {
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
		opts.Confirm = func(q string) (bool, error) { asked = append(asked, q); return *answer, nil }
	}
	var out bytes.Buffer
	r := &engine.Runner{Playbook: p, Inventory: i, Conn: noDial{t}, Sink: &output.JSON{W: &out, Redactor: secret.NewRedactor()}, Redactor: secret.NewRedactor(), Opts: opts}
	if yes {
		// With --yes the run goes on to the hosts, which this test has not.
		r.Conn = failDial{}
	}
	recap, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return asked, recap.Declined
}

type failDial struct{}

func (failDial) Get(context.Context, *inventory.Host) (transport.Host, error) {
	return nil, errors.New("no hosts in this test")
}

// TestUpgradeAsksAboutSyncAndSwitchover: the docs' precondition that only
// the console shows (docs/oms-facts.md U10) is a question settled before
// any host is contacted; no terminal refuses with --yes as the remedy,
// which the re-run follows.
func TestUpgradeAsksAboutSyncAndSwitchover(t *testing.T) {
	no := false
	asked, declined := settle(t, "upgrade.hcl", &no, false)
	if len(asked) != 1 || !strings.Contains(asked[0], "incremental sync is near real time") || !strings.Contains(asked[0], "forward switchover is complete") ||
		!strings.Contains(asked[0], "oms1, oms2, oms3") {
		t.Fatalf("asked %q", asked)
	}
	if !strings.Contains(declined, "not confirmed") {
		t.Fatalf("a no: %q", declined)
	}
	_, declined = settle(t, "upgrade.hcl", nil, false)
	if !strings.Contains(declined, "no terminal") || !strings.Contains(declined, "incremental sync") || !strings.Contains(declined, "re-run with --yes") {
		t.Fatalf("without a terminal: %q", declined)
	}
	if _, declined = settle(t, "upgrade.hcl", nil, true); declined != "" {
		t.Fatalf("--yes still declined: %q", declined)
	}
}

// TestRestoreAsksBeforeTheRestore: restore.hcl names the databases it drops
// and the dump it loads before anything runs.
func TestRestoreAsksBeforeTheRestore(t *testing.T) {
	no := false
	asked, declined := settle(t, "restore.hcl", &no, false, "backup_file=/backups/metadb-1.sql")
	if len(asked) != 1 || !strings.Contains(asked[0], "drop the MetaDB databases oms_rm, oms_cm, oms_cm_hb on 10.0.0.5:2881") ||
		!strings.Contains(asked[0], "load them back from /backups/metadb-1.sql") || !strings.Contains(declined, "not confirmed") {
		t.Fatalf("asked %q, declined %q", asked, declined)
	}
	if _, declined = settle(t, "restore.hcl", nil, false); !strings.Contains(declined, "the dump the nodes' upgrade records name") || !strings.Contains(declined, "--yes") {
		t.Fatalf("without a terminal: %q", declined)
	}
}
