package engine

// One step on one host: its scope and the deciding part (when, the module's
// arguments); attempting is in runhost_attempt.go, classifying in
// runhost_classify.go.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/playbook"
	"github.com/omsrun/omsrun/internal/secret"
	"github.com/omsrun/omsrun/inventory"
	"github.com/omsrun/omsrun/modules"
)

// scope is what a host's expressions see: every step's outputs so far (shared,
// never copied: see setOutputs), the host, the inventory, changed() and result.
func (r *Runner) scope(h *inventory.Host, result cty.Value) playbook.Scope {
	r.mu.Lock()
	s := r.state[h.Name]
	outs := r.outputs // never written to: setOutputs replaces it
	r.mu.Unlock()
	return playbook.Scope{
		Outputs: outs,
		Host:    h,
		Inv:     r.Inventory,
		Changed: func(step string) bool {
			r.mu.Lock()
			defer r.mu.Unlock()
			return s.changed[step]
		},
		Result: result,
	}
}

// runHost runs one step on one host in three parts: deciding whether and
// with what arguments it runs (nothing on the host yet), attempting it
// (the connection, retries, until, timeout) and classifying the outcome
// into the host's result.
func (r *Runner) runHost(ctx context.Context, st *playbook.Step, h *inventory.Host, group *modules.Group) HostResult {
	start := time.Now()
	res := HostResult{Step: st.Name, Host: h.Name}
	done := func(status Status, msg string) HostResult {
		res.Status, res.Duration = status, time.Since(start)
		if status == StatusFailed || status == StatusUnreachable {
			res.Error = msg
		} else if msg != "" {
			res.Msg = msg
		}
		return res
	}
	mod, args, skip, err := r.decide(st, h)
	if err != nil {
		return done(StatusFailed, err.Error())
	}
	if skip {
		return done(StatusSkipped, "condition false")
	}
	a := r.attemptAll(ctx, st, h, mod, args, group)
	res.Attempts = a.attempts
	return r.advise(st, mod, args, r.classify(st, h, mod, a, &res, done))
}

// advise ends a failed host's error with the module's advice (an upgrade's
// rollback), once: a module may already have added it to its own error,
// while a host that went unreachable mid-step never got that far. A check
// run changed nothing, so there is nothing to roll back.
func (r *Runner) advise(st *playbook.Step, mod modules.Module, args any, res HostResult) HostResult {
	adv, ok := mod.(modules.Advisor)
	if !ok || r.Opts.Check || st.CheckMode || (res.Status != StatusFailed && res.Status != StatusUnreachable) {
		return res
	}
	if advice := adv.FailureAdvice(args); advice != "" && !strings.Contains(res.Error, advice) {
		res.Error += "\n" + advice
	}
	return res
}

// decide evaluates the step's when and, when it runs, decodes and validates
// the module's arguments for this host. It reads nothing from the host, so
// an error here is the playbook's, never the host's.
func (r *Runner) decide(st *playbook.Step, h *inventory.Host) (mod modules.Module, args any, skip bool, err error) {
	scope := r.scope(h, cty.NilVal)
	run, diags := playbook.EvalWhen(r.Playbook, st, scope, r.Redactor.AddValue)
	if diags.HasErrors() {
		return nil, nil, false, errors.New(diagText(diags))
	}
	if !run {
		return nil, nil, true, nil
	}
	mod, ok := r.Modules(st.Module)
	if !ok {
		return nil, nil, false, fmt.Errorf("unknown module %q", st.Module)
	}
	args = mod.NewArgs()
	if diags := playbook.DecodeStep(r.Playbook, st, scope, args, r.Redactor.AddValue); diags.HasErrors() {
		return nil, nil, false, errors.New(diagText(diags))
	}
	if v, ok := mod.(modules.Validator); ok {
		if err := v.Validate(args); err != nil {
			return nil, nil, false, err
		}
	}
	return mod, args, false, nil
}

func (r *Runner) setOutputs(step, host string, outs map[string]cty.Value) {
	if len(outs) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	// Copy on write, so a scope handed out earlier reads its maps without a
	// lock and evaluations copy nothing: steps + hosts entries per write,
	// instead of steps × hosts per evaluation.
	next := make(map[string]map[string]cty.Value, len(r.outputs)+1)
	for k, v := range r.outputs {
		next[k] = v
	}
	inner := make(map[string]cty.Value, len(r.outputs[step])+1)
	for k, v := range r.outputs[step] {
		inner[k] = v
	}
	inner[host] = cty.ObjectVal(outs)
	next[step] = inner
	r.outputs = next
}

func diagText(diags hcl.Diagnostics) string {
	var msg string
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		if msg != "" {
			msg += "; "
		}
		if d.Subject != nil {
			msg += d.Subject.String() + ": "
		}
		msg += d.Summary
		if d.Detail != "" {
			msg += ": " + d.Detail
		}
	}
	return msg
}

// reporter forwards a module's progress to the sink, tagged with step and host.
type reporter struct {
	sink   Sink
	step   string
	host   string
	redact *secret.Redactor
}

func (p *reporter) Phase(msg string) {
	p.sink.Progress(Progress{Step: p.step, Host: p.host, Phase: p.redact.Scrub(msg)})
}

func (p *reporter) Bytes(done, total int64) {
	p.sink.Progress(Progress{Step: p.step, Host: p.host, Done: done, Total: total})
}

func (p *reporter) Warn(msg string) {
	p.sink.Progress(Progress{Step: p.step, Host: p.host, Warn: p.redact.Scrub(msg)})
}
