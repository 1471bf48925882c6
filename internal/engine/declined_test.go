package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/playbook"
	"github.com/omsrun/omsrun/internal/secret"
	"github.com/omsrun/omsrun/modules"
)

// decliner is a read-only module whose question was answered no.
type decliner struct{ readOnlyProbe }

func (*decliner) Check(context.Context, *modules.Env, any) (*modules.Plan, error) {
	return nil, &modules.Declined{Reason: "existing databases not confirmed; re-run with -e allow_existing_databases=true"}
}

// A module's "no" (metadb_check's questions) ends the run as declined —
// no host failed, no later step runs — so it exits 5 like a "no" to a
// step's confirmation, not 2.
func TestModuleDeclinedEndsTheRunAsDeclined(t *testing.T) {
	check := step(t, "check MetaDB", ``)
	check.Module, check.RunOnce = "decliner", true
	later := step(t, "change", `change = true`)
	inv := testInventory(3)
	log, rec := &eventLog{}, &recorder{}
	pb := &playbook.Playbook{Path: "t.hcl", Vars: map[string]cty.Value{}, Locals: map[string]cty.Value{}, Steps: []*playbook.Step{check, later}, MaxFailPercentage: -1}
	r := &Runner{Playbook: pb, Inventory: inv, Conn: &fakeConn{}, Sink: rec, Redactor: secret.NewRedactor(),
		Opts: Options{Forks: 3, Targets: inv.Hosts},
		Modules: func(name string) (modules.Module, bool) {
			if name == "decliner" {
				return &decliner{readOnlyProbe{probe{log: log}}}, true
			}
			return &probe{log: log}, true
		}}
	recap, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(recap.Declined, "allow_existing_databases=true") || rec.recap.Declined != recap.Declined {
		t.Fatalf("declined %q (emitted %q), want the module's reason", recap.Declined, rec.recap.Declined)
	}
	if recap.Failed() || len(log.events) != 0 || len(recap.Steps) != 1 {
		t.Fatalf("failed %v, later steps ran %v, steps %d: a declined run changes nothing and fails nothing", recap.Failed(), log.events, len(recap.Steps))
	}
}
