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

// stepRecorder keeps the step events too.
type stepRecorder struct {
	recorder
	starts []StepInfo
	ends   []StepEnd
}

func (r *stepRecorder) StepStart(s StepInfo) { r.starts = append(r.starts, s) }
func (r *stepRecorder) StepEnd(e StepEnd)    { r.ends = append(r.ends, e) }

// TestLaterStepsSayWhyTheySkip: a host that failed is named, with the step
// it failed at, by every later step that matches it (not "no hosts
// matched"); a rolling step stopped by a failed batch names the hosts it
// never reached; a result carries the module's outputs.
func TestLaterStepsSayWhyTheySkip(t *testing.T) {
	inv := testInventory(3)
	first := step(t, "first", `fail_on = ["h2"]`)
	roll := step(t, "roll", `fail_on = ["h1"]`)
	roll.Serial = playbook.Serial{Size: 1}
	last := step(t, "last", ``)
	rec := &stepRecorder{}
	log := &eventLog{}
	pb := &playbook.Playbook{Path: "test.hcl", Vars: map[string]cty.Value{}, Locals: map[string]cty.Value{}, Steps: []*playbook.Step{first, roll, last}, MaxFailPercentage: -1}
	r := &Runner{Playbook: pb, Inventory: inv, Conn: &fakeConn{}, Sink: rec, Redactor: secret.NewRedactor(), Opts: Options{Targets: inv.Hosts, Forks: 10},
		Modules: func(string) (modules.Module, bool) { return &probe{log: log}, true }}
	recap, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.starts) != 3 {
		t.Fatalf("step starts: %+v", rec.starts)
	}
	if d := rec.starts[1].Dropped; len(d) != 1 || d[0].Host != "h2" || d[0].Why != `failed at step "first"` {
		t.Errorf("roll's dropped hosts: %+v", d)
	}
	if d := rec.starts[2].Dropped; len(d) != 2 || d[0].Host != "h1" || !strings.Contains(d[0].Why, `"roll"`) || d[1].Host != "h2" {
		t.Errorf("last's dropped hosts: %+v", d)
	}
	if nr := rec.ends[1].NotReached; len(nr) != 1 || nr[0] != "h3" {
		t.Errorf("roll stopped after h1 but names not reached %v", nr)
	}
	if nr := recap.Steps[1].NotReached; len(nr) != 1 || nr[0] != "h3" {
		t.Errorf("the recap's steps do not carry the unreached hosts: %+v", recap.Steps)
	}
}
