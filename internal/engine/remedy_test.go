package engine

import (
	"context"
	"regexp"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/playbook"
	"github.com/omsrun/omsrun/internal/secret"
	"github.com/omsrun/omsrun/modules"
)

// asker is a module that asks its own question in Check unless the run
// passed --yes, as metadb_check does about existing databases.
type asker struct{ probe }

func (a *asker) Check(_ context.Context, env *modules.Env, _ any) (*modules.Plan, error) {
	if !env.Yes && env.Confirm != nil {
		ok, err := env.Confirm("existing databases: go on?")
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, context.Canceled
		}
	}
	return &modules.Plan{Summary: "asked"}, nil
}

// TestModuleQuestionRemedy follows "re-run with --yes or settle it first"
// as printed (issue #14 point 7, docs/remedies.md): a module's question
// after a change is refused with that advice, and the re-run with --yes
// gets past the question on every host.
func TestModuleQuestionRemedy(t *testing.T) {
	runOnce := func(opts Options) *recorder {
		inv := testInventory(2)
		opts.Targets, opts.Forks = inv.Hosts, 2
		change := step(t, "change", `change = true`)
		ask := step(t, "ask", ``)
		ask.Module = "asker"
		pb := &playbook.Playbook{Path: "t.hcl", Vars: map[string]cty.Value{}, Locals: map[string]cty.Value{},
			Steps: []*playbook.Step{change, ask}, MaxFailPercentage: -1}
		rec := &recorder{}
		log := &eventLog{}
		r := &Runner{Playbook: pb, Inventory: inv, Conn: &fakeConn{}, Sink: rec, Redactor: secret.NewRedactor(), Opts: opts,
			Modules: func(name string) (modules.Module, bool) {
				if name == "asker" {
					return &asker{probe{log: log}}, true
				}
				return &probe{log: log}, true
			}}
		if _, err := r.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		return rec
	}
	confirm := func(string) (bool, error) { return true, nil }
	rec := runOnce(Options{Confirm: confirm})
	var refusal string
	for _, h := range rec.results {
		if h.Step == "ask" && h.Status == StatusFailed {
			refusal = h.Error + h.Msg
		}
	}
	m := regexp.MustCompile(`re-run with (--yes) or settle it first`).FindStringSubmatch(refusal)
	if m == nil {
		t.Fatalf("want the question refused with its remedy, got %q (%+v)", refusal, rec.results)
	}
	// The remedy as printed: the same run again with the flag it names.
	opts := Options{Confirm: func(q string) (bool, error) {
		t.Errorf("asked %q after %s", q, m[1])
		return false, nil
	}}
	if m[1] == "--yes" {
		opts.Yes = true
	}
	rec = runOnce(opts)
	for _, host := range []string{"h1", "h2"} {
		if st := rec.status("ask", host); st == StatusFailed || st == "" {
			t.Fatalf("after %s the question's step on %s: %q (%+v)", m[1], host, st, rec.results)
		}
	}
	if rec.recap.Declined != "" || rec.recap.Error != "" {
		t.Fatalf("the re-run with %s ended with %q %q", m[1], rec.recap.Declined, rec.recap.Error)
	}
}
