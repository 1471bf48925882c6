package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/playbook"
	"github.com/omsrun/omsrun/internal/secret"
	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/modules"
)

// advisor is a module with failure advice, as upgrade.hcl's stop, backup
// and start steps give the rollback: it fails on some hosts, loses others
// mid-step (their SSH connection dies) and may add the advice itself.
type advisor struct{}

type advisorArgs struct {
	Advice     string   `hcl:"advice,optional"`
	FailOn     []string `hcl:"fail_on,optional"`
	LostOn     []string `hcl:"lost_on,optional"`
	AddsItself bool     `hcl:"adds_itself,optional"`
}

func (*advisor) Doc() modules.Doc { return modules.Doc{Name: "advisor"} }
func (*advisor) NewArgs() any     { return &advisorArgs{} }
func (*advisor) FailureAdvice(a any) string {
	return a.(*advisorArgs).Advice
}
func (*advisor) Check(context.Context, *modules.Env, any) (*modules.Plan, error) {
	return &modules.Plan{Change: true, Summary: "advise"}, nil
}
func (m *advisor) Apply(_ context.Context, env *modules.Env, a any, _ *modules.Plan) (*modules.Result, error) {
	args := a.(*advisorArgs)
	if slices.Contains(args.LostOn, env.HostName) {
		return nil, &transport.UnreachableError{Host: env.HostName, Err: errors.New("connection reset by peer")}
	}
	if slices.Contains(args.FailOn, env.HostName) {
		if args.AddsItself {
			return nil, fmt.Errorf("docker stop failed\n%s", m.FailureAdvice(a))
		}
		return nil, errors.New("docker stop failed")
	}
	return &modules.Result{Changed: true, Msg: "done"}, nil
}

// TestFailureAdviceOnUnreachableHost: a step whose module gives failure
// advice (an upgrade step's rollback) prints it for a host that was
// unreachable when the step began or went unreachable during it, as for a
// host where the module itself failed; once, even when the module already
// added it; not for hosts that succeeded, nor in a check run, which changed
// nothing to roll back.
func TestFailureAdviceOnUnreachableHost(t *testing.T) {
	const advice = "to roll back to oms:old, run:\n  omsrun playbooks/restore.hcl"
	runAdvisor := func(body string, opts Options, down ...string) *recorder {
		inv := testInventory(4)
		opts.Targets, opts.Forks = inv.Hosts, 4
		st := step(t, "stop every old node", body)
		st.Module = "advisor"
		pb := &playbook.Playbook{Path: "t.hcl", Vars: map[string]cty.Value{}, Locals: map[string]cty.Value{},
			Steps: []*playbook.Step{st}, MaxFailPercentage: -1}
		d := map[string]bool{}
		for _, h := range down {
			d[h] = true
		}
		rec := &recorder{}
		r := &Runner{Playbook: pb, Inventory: inv, Conn: &fakeConn{down: d}, Sink: rec, Redactor: secret.NewRedactor(), Opts: opts,
			Modules: func(string) (modules.Module, bool) { return &advisor{}, true }}
		if _, err := r.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		return rec
	}
	errorOf := func(rec *recorder, host string) (Status, string) {
		for _, h := range rec.results {
			if h.Host == host {
				return h.Status, h.Error
			}
		}
		return "", ""
	}
	body := fmt.Sprintf("advice = %q\nfail_on = [\"h2\"]\nlost_on = [\"h3\"]\n", advice)
	for _, tc := range []struct {
		name string
		body string
		opts Options
	}{
		{"module without its own advice", body, Options{}},
		{"module adding its own advice", body + "adds_itself = true\n", Options{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := runAdvisor(tc.body, tc.opts, "h4")
			for host, want := range map[string]Status{"h2": StatusFailed, "h3": StatusUnreachable, "h4": StatusUnreachable} {
				status, msg := errorOf(rec, host)
				if status != want || strings.Count(msg, advice) != 1 || !strings.HasSuffix(msg, advice) {
					t.Errorf("%s: %s %q, want %s ending with the advice once", host, status, msg, want)
				}
			}
			if status, msg := errorOf(rec, "h1"); status != StatusChanged || msg != "" {
				t.Errorf("h1: %s %q", status, msg)
			}
		})
	}
	t.Run("check run", func(t *testing.T) {
		rec := runAdvisor(body, Options{Check: true}, "h4")
		if status, msg := errorOf(rec, "h4"); status != StatusUnreachable || strings.Contains(msg, "roll back") {
			t.Errorf("h4 in a check run: %s %q, want no rollback advice", status, msg)
		}
	})
	t.Run("no advice for these arguments", func(t *testing.T) {
		rec := runAdvisor(`lost_on = ["h3"]`, Options{}, "h4")
		for _, host := range []string{"h3", "h4"} {
			if status, msg := errorOf(rec, host); status != StatusUnreachable || strings.Contains(msg, "\n") {
				t.Errorf("%s: %s %q, want the bare unreachable error", host, status, msg)
			}
		}
	})
}
