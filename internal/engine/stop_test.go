package engine

import (
	"context"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/playbook"
	"github.com/omsrun/omsrun/internal/secret"
	"github.com/omsrun/omsrun/modules"
)

// TestStoppedRunNamesUnreachedHosts: reconfigure's shape (the first node
// alone, then the others one at a time) under any_errors_fatal: the first
// node fails, the run stops, and the recap names the nodes the remaining
// steps would have gone to — they were never touched.
func TestStoppedRunNamesUnreachedHosts(t *testing.T) {
	inv := testInventory(3)
	onFirst := func(name, body string) *playbook.Step {
		st := step(t, name, body)
		st.When = when(t, `host.name == "h1"`)
		return st
	}
	others := func(name, body string) *playbook.Step {
		st := step(t, name, body)
		st.When = when(t, `host.name != "h1"`)
		return st
	}
	read := step(t, "read existing deployment", ``)
	cfg1 := onFirst("config.yaml, first node", `change = true`)
	reload1 := onFirst("reload OMS, first node", `fail_on = ["h1"]`)
	cfg := others("config.yaml", `change = true`)
	roll := others("reload OMS, one node at a time", `change = true`)
	roll.Serial = playbook.Serial{Size: 1}
	for _, tc := range []struct {
		name string
		pb   func(*playbook.Playbook)
		want string
	}{
		{name: "any_errors_fatal", pb: func(p *playbook.Playbook) { p.AnyErrorsFatal = true }, want: `any_errors_fatal: a host failed step "reload OMS, first node"`},
		{name: "max_fail_percentage", pb: func(p *playbook.Playbook) { p.MaxFailPercentage = 30 }, want: "max_fail_percentage 30% exceeded: 1 of 3 hosts failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log := &eventLog{}
			rec := &recorder{}
			pb := &playbook.Playbook{Path: "reconfigure.hcl", Vars: map[string]cty.Value{}, Locals: map[string]cty.Value{},
				Steps: []*playbook.Step{read, cfg1, reload1, cfg, roll}, MaxFailPercentage: -1}
			tc.pb(pb)
			r := &Runner{Playbook: pb, Inventory: inv, Conn: &fakeConn{}, Sink: rec, Redactor: secret.NewRedactor(), Opts: Options{Targets: inv.Hosts, Forks: 10},
				Modules: func(string) (modules.Module, bool) { return &probe{log: log}, true }}
			recap, err := r.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if recap.Stopped != tc.want {
				t.Errorf("stopped %q, want %q", recap.Stopped, tc.want)
			}
			if got := recap.NotReached; len(got) != 2 || got[0] != "h2" || got[1] != "h3" {
				t.Errorf("recap names not reached %v, want [h2 h3]", got)
			}
			if rec.recap.Stopped == "" || len(rec.recap.NotReached) != 2 {
				t.Errorf("the emitted recap lacks them: %+v", rec.recap)
			}
			for _, h := range []string{"h2", "h3"} {
				if s := rec.status("config.yaml", h); s != "" {
					t.Errorf("%s ran config.yaml after the stop: %s", h, s)
				}
			}
		})
	}
}
