package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/playbook"
	"github.com/omsrun/omsrun/internal/secret"
	"github.com/omsrun/omsrun/modules"
)

func when(t *testing.T, src string) hcl.Expression {
	t.Helper()
	e, diags := hclsyntax.ParseExpression([]byte(src), "when.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return e
}

// uninstallLike is uninstall.hcl's shape: a change first, then two steps that ask.
func uninstallLike(t *testing.T) []*playbook.Step {
	remove := step(t, "remove container", `change = true`)
	purge := step(t, "delete mount directory", `change = true`)
	purge.Confirm = "purge: delete /data/oms for good"
	purge.When = when(t, "var.purge")
	drop := step(t, "drop databases", `change = true`)
	drop.Confirm = "purge: drop oms_rm for good"
	drop.RunOnce = true
	drop.When = when(t, `var.purge && changed("delete mount directory")`)
	return []*playbook.Step{remove, purge, drop}
}

func runWithVars(t *testing.T, steps []*playbook.Step, vars map[string]cty.Value, opts Options) (*recorder, *eventLog, *Recap) {
	t.Helper()
	inv := testInventory(3)
	opts.Targets, opts.Forks = inv.Hosts, 3
	log := &eventLog{}
	rec := &recorder{}
	pb := &playbook.Playbook{Path: "t.hcl", Vars: vars, Locals: map[string]cty.Value{}, Steps: steps, MaxFailPercentage: -1}
	r := &Runner{Playbook: pb, Inventory: inv, Conn: &fakeConn{}, Sink: rec, Redactor: secret.NewRedactor(), Opts: opts,
		Modules: func(string) (modules.Module, bool) { return &probe{log: log}, true }}
	recap, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rec, log, recap
}

func TestConfirmationsSettledBeforeAnyChange(t *testing.T) {
	purge := map[string]cty.Value{"purge": cty.True}
	for _, tc := range []struct {
		name      string
		vars      map[string]cty.Value
		answer    *bool // nil: no terminal
		yes       bool
		check     bool
		wantAsked int
		wantRan   bool
		declined  string
	}{
		{name: "no changes nothing", vars: purge, answer: ptr(false), wantAsked: 1, declined: "not confirmed"},
		{name: "yes runs everything", vars: purge, answer: ptr(true), wantAsked: 1, wantRan: true},
		{name: "no terminal refuses first", vars: purge, declined: "--yes"},
		{name: "--yes asks nothing", vars: purge, yes: true, wantRan: true},
		{name: "check mode asks nothing", vars: purge, check: true},
		{name: "ruled out by a variable: not asked", vars: map[string]cty.Value{"purge": cty.False}, answer: ptr(false), wantRan: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var asked []string
			opts := Options{Yes: tc.yes, Check: tc.check}
			if tc.answer != nil {
				opts.Confirm = func(q string) (bool, error) { asked = append(asked, q); return *tc.answer, nil }
			}
			rec, log, recap := runWithVars(t, uninstallLike(t), tc.vars, opts)
			if len(asked) != tc.wantAsked {
				t.Fatalf("asked %d times, want %d: %q", len(asked), tc.wantAsked, asked)
			}
			if tc.wantAsked > 0 {
				// One question naming both steps and their hosts; the run_once step on one host.
				q := asked[0]
				for _, want := range []string{"delete /data/oms", "on hosts: h1, h2, h3", "drop oms_rm", "on hosts: h1\n"} {
					if !strings.Contains(q, want) {
						t.Errorf("question lacks %q:\n%s", want, q)
					}
				}
			}
			if ran := len(log.events) > 0; ran != tc.wantRan {
				t.Fatalf("steps ran: %v, want %v (%v)", ran, tc.wantRan, log.events)
			}
			if tc.declined == "" {
				if recap.Declined != "" {
					t.Fatalf("declined: %s", recap.Declined)
				}
				return
			}
			if !strings.Contains(recap.Declined, tc.declined) || !strings.Contains(recap.Declined, "nothing was changed") {
				t.Fatalf("declined %q, want it to say %q and that nothing was changed", recap.Declined, tc.declined)
			}
			if len(rec.results) != 0 || rec.recap.Declined == "" {
				t.Fatalf("a declined run reported results %+v or no declined recap %+v", rec.results, rec.recap)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// A module's own question (metadb_check's existing databases) cannot come
// after a change: it would hold nothing back.
func TestModuleQuestionAfterAChangeIsRefused(t *testing.T) {
	r := &Runner{Opts: Options{Confirm: func(string) (bool, error) { return true, nil }}, Redactor: secret.NewRedactor(),
		tallies: map[string]*HostTally{"h1": {Host: "h1"}}}
	if ok, err := r.moduleConfirm()("existing databases?"); !ok || err != nil {
		t.Fatalf("before any change the question is asked: %v %v", ok, err)
	}
	r.tallies["h1"].Changed = 1
	if ok, err := r.moduleConfirm()("existing databases?"); ok || err == nil {
		t.Fatalf("after a change the question must be refused: %v %v", ok, err)
	}
}

// An error of the run itself after it started still ends with the recap.
func TestRunErrorStillEmitsRecap(t *testing.T) {
	bad := step(t, "bad", ``)
	bad.Hosts = "nosuchgroup" // found only at run time when the inventory changed under a playbook
	rec := &recorder{}
	inv := testInventory(2)
	pb := &playbook.Playbook{Path: "t.hcl", Vars: map[string]cty.Value{}, Locals: map[string]cty.Value{}, Steps: []*playbook.Step{step(t, "first", `change = true`), bad}, MaxFailPercentage: -1}
	r := &Runner{Playbook: pb, Inventory: inv, Conn: &fakeConn{}, Sink: rec, Redactor: secret.NewRedactor(),
		Opts:    Options{Forks: 2, Targets: inv.Hosts, ExitCode: func(*Recap) int { return 7 }},
		Modules: func(string) (modules.Module, bool) { return &probe{log: &eventLog{}}, true }}
	recap, err := r.Run(context.Background())
	if err == nil || recap == nil {
		t.Fatalf("want the error and the recap: %v %v", recap, err)
	}
	if rec.recap.Error == "" || rec.recap.ExitCode != 7 || len(rec.recap.Hosts) != 2 || rec.recap.Hosts[0].Changed != 1 {
		t.Fatalf("recap emitted: %+v", rec.recap)
	}
}

// readOnlyProbe is the probe declaring itself read-only.
type readOnlyProbe struct{ probe }

func (*readOnlyProbe) ReadOnly() bool { return true }

// A run that cannot change anything takes no lock: on these fake hosts,
// which give no answer to the lock's acquisition, it runs; a changing run
// tries the lock (and fails here for want of an answer).
func TestReadOnlyRunTakesNoLock(t *testing.T) {
	for _, tc := range []struct {
		name      string
		readOnly  bool
		checkMode bool
		check     bool
		wantLock  bool
	}{
		{name: "read-only modules", readOnly: true},
		{name: "check_mode steps", checkMode: true},
		{name: "--check", check: true},
		{name: "a changing module", wantLock: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv := testInventory(2)
			st := step(t, "s", ``)
			st.CheckMode = tc.checkMode
			rec := &recorder{}
			pb := &playbook.Playbook{Path: "t.hcl", Vars: map[string]cty.Value{}, Locals: map[string]cty.Value{}, Steps: []*playbook.Step{st}, MaxFailPercentage: -1}
			log := &eventLog{}
			r := &Runner{Playbook: pb, Inventory: inv, Conn: &fakeConn{}, Sink: rec, Redactor: secret.NewRedactor(),
				Opts: Options{Forks: 2, Targets: inv.Hosts, Lock: true, Check: tc.check},
				Modules: func(string) (modules.Module, bool) {
					if tc.readOnly {
						return &readOnlyProbe{probe{log: log}}, true
					}
					return &probe{log: log}, true
				}}
			if _, err := r.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			if locked := r.holder != nil; locked != tc.wantLock {
				t.Fatalf("lock taken: %v, want %v", locked, tc.wantLock)
			}
		})
	}
}

// finder is a read-only module that finds h2 not as intended.
type finder struct{ readOnlyProbe }

func (f *finder) Check(_ context.Context, env *modules.Env, _ any) (*modules.Plan, error) {
	p := &modules.Plan{Summary: "read"}
	if env.HostName == "h2" {
		p.Unhealthy = "container absent"
	}
	return p, nil
}

// Findings of read-only steps, and drift found by check_mode steps, end up
// in the recap by host (status.hcl's exit 6 and last line).
func TestUnhealthyFindingsInRecap(t *testing.T) {
	inv := testInventory(3)
	read := step(t, "status", ``)
	read.Module = "finder"
	drift := step(t, "config.yaml drift", `change = true`)
	drift.CheckMode = true
	drift.Hosts = "h3"
	rec := &recorder{}
	pb := &playbook.Playbook{Path: "t.hcl", Vars: map[string]cty.Value{}, Locals: map[string]cty.Value{}, Steps: []*playbook.Step{read, drift}, MaxFailPercentage: -1}
	r := &Runner{Playbook: pb, Inventory: inv, Conn: &fakeConn{}, Sink: rec, Redactor: secret.NewRedactor(), Opts: Options{Forks: 3, Targets: inv.Hosts},
		Modules: func(name string) (modules.Module, bool) {
			if name == "finder" {
				return &finder{}, true
			}
			return &probe{log: &eventLog{}}, true
		}}
	recap, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"h2: container absent", `h3: config.yaml drift: would change: probe`}
	if strings.Join(recap.Unhealthy, "\n") != strings.Join(want, "\n") {
		t.Fatalf("unhealthy %q, want %q", recap.Unhealthy, want)
	}
}
