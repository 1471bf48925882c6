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

// dbAsker asks in its check what metadb_check asks when the MetaDB already
// has the databases, and declines on a "no" or when no one can be asked.
type dbAsker struct{ readOnlyProbe }

func (*dbAsker) Check(_ context.Context, env *modules.Env, _ any) (*modules.Plan, error) {
	if env.Yes {
		return &modules.Plan{Summary: "existing databases oms_rm (confirmed)"}, nil
	}
	ok := false
	if env.Confirm != nil {
		var err error
		if ok, err = env.Confirm("The specified database names already exist in the MetaDB: oms_rm. Are you sure that you want to continue?"); err != nil {
			return nil, err
		}
	}
	if !ok {
		return nil, &modules.Declined{Reason: "The specified database names already exist in the MetaDB: oms_rm"}
	}
	return &modules.Plan{Summary: "existing databases oms_rm"}, nil
}

// TestCheckModePredictsPastAQuestion: deploy's shape — a read-only "check
// MetaDB" step that asks about existing databases, then steps that change
// hosts. --check asks no one (at a terminal or not), says what the real run
// would ask, and goes on predicting the later steps as the real run goes on
// after a yes; it is not declined.
func TestCheckModePredictsPastAQuestion(t *testing.T) {
	for _, tc := range []struct {
		name     string
		terminal bool
	}{{name: "no terminal"}, {name: "at a terminal", terminal: true}} {
		t.Run(tc.name, func(t *testing.T) {
			inv := testInventory(3)
			check := step(t, "check MetaDB", ``)
			check.Module, check.RunOnce = "metadb_check", true
			later := step(t, "start container", `change = true`)
			asked := 0
			opts := Options{Targets: inv.Hosts, Forks: 3, Check: true, Lock: true}
			if tc.terminal {
				opts.Confirm = func(string) (bool, error) { asked++; return false, nil }
			}
			pb := &playbook.Playbook{Path: "deploy.hcl", Vars: map[string]cty.Value{}, Locals: map[string]cty.Value{},
				Steps: []*playbook.Step{check, later}, MaxFailPercentage: -1}
			rec := &recorder{}
			log := &eventLog{}
			r := &Runner{Playbook: pb, Inventory: inv, Conn: &fakeConn{}, Sink: rec, Redactor: secret.NewRedactor(), Opts: opts,
				Modules: func(name string) (modules.Module, bool) {
					if name == "metadb_check" {
						return &dbAsker{readOnlyProbe{probe{log: log}}}, true
					}
					return &probe{log: log}, true
				}}
			recap, err := r.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if recap.Declined != "" || recap.Failed() {
				t.Fatalf("check mode stopped at the question: declined %q, %+v", recap.Declined, recap.Hosts)
			}
			if asked != 0 {
				t.Errorf("check mode asked the terminal %d time(s)", asked)
			}
			var msg string
			for _, res := range rec.results {
				if res.Step == "check MetaDB" {
					msg = res.Msg
				}
			}
			if !strings.Contains(msg, "would ask first: The specified database names already exist in the MetaDB: oms_rm") {
				t.Errorf("check MetaDB says %q; want what the real run would ask", msg)
			}
			for _, h := range inv.Hosts {
				if s := rec.status("start container", h.Name); s != StatusChanged {
					t.Errorf("start container on %s: %q, want a predicted change", h.Name, s)
				}
			}
			if len(log.events) != 0 {
				t.Errorf("check mode applied: %v", log.events)
			}
		})
	}
}

// TestCheckModeNamesStepQuestions: a step's own confirm is asked before a
// real run; --check asks nothing but says it would, on the step's result.
func TestCheckModeNamesStepQuestions(t *testing.T) {
	steps := uninstallLike(t)
	rec, _, recap := runWithVars(t, steps, map[string]cty.Value{"purge": cty.True}, Options{Check: true})
	if recap.Declined != "" {
		t.Fatalf("check mode declined: %q", recap.Declined)
	}
	n := 0
	for _, res := range rec.results {
		if res.Step == steps[1].Name {
			n++
		}
		if res.Step == steps[1].Name && !strings.Contains(res.Msg, "would ask first: "+steps[1].Confirm) {
			t.Errorf("%s on %s says %q; want the question the real run asks", res.Step, res.Host, res.Msg)
		}
	}
	if n != 3 {
		t.Errorf("%d results of %q, want one per host", n, steps[1].Name)
	}
}
