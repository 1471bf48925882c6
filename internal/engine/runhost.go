package engine

// One step on one host: its scope, when, retries, until, timeout, and the
// module's check and apply.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/hclx"
	"github.com/omsrun/omsrun/internal/playbook"
	"github.com/omsrun/omsrun/internal/secret"
	"github.com/omsrun/omsrun/internal/transport"
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

// runHost runs one step on one host with when, timeout, retries and until.
func (r *Runner) runHost(ctx context.Context, st *playbook.Step, h *inventory.Host) HostResult {
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
	scope := r.scope(h, cty.NilVal)
	run, diags := playbook.EvalWhen(r.Playbook, st, scope, r.Redactor.AddValue)
	if diags.HasErrors() {
		return done(StatusFailed, diagText(diags))
	}
	if !run {
		return done(StatusSkipped, "condition false")
	}
	mod, ok := r.Modules(st.Module)
	if !ok {
		return done(StatusFailed, fmt.Sprintf("unknown module %q", st.Module))
	}
	args := mod.NewArgs()
	if diags := playbook.DecodeStep(r.Playbook, st, scope, args, r.Redactor.AddValue); diags.HasErrors() {
		return done(StatusFailed, diagText(diags))
	}
	if v, ok := mod.(modules.Validator); ok {
		if err := v.Validate(args); err != nil {
			return done(StatusFailed, err.Error())
		}
	}
	r.mu.Lock()
	s := r.state[h.Name]
	conn, dialErr, lock := s.conn, s.dialErr, s.lock
	r.mu.Unlock()
	if dialErr != nil {
		return done(StatusUnreachable, dialErr.Error())
	}
	if conn == nil {
		c, err := r.Conn.Get(ctx, h)
		if err != nil {
			return done(StatusUnreachable, err.Error())
		}
		r.mu.Lock()
		r.attach(s, c)
		conn, lock = s.conn, s.lock
		r.mu.Unlock()
	}
	if r.Opts.Verbose > 0 {
		conn = &verboseHost{Host: conn, sink: r.Sink, step: st.Name, redact: r.Redactor}
	}
	env := &modules.Env{
		Host: conn, HostName: h.Name, Address: h.Address,
		Become: h.Become, Diff: r.Opts.Diff, Yes: r.Opts.Yes, Confirm: r.moduleConfirm(),
		Report: &reporter{sink: r.Sink, step: st.Name, host: h.Name, redact: r.Redactor},
	}
	attempts := st.Retries + 1
	var out *modules.Result
	var plan *modules.Plan
	var err error
	for attempt := 1; attempt <= attempts; attempt++ {
		res.Attempts = attempt
		out, plan, err = r.attempt(ctx, st, mod, env, args)
		if ctx.Err() != nil {
			if err == nil {
				err = ctx.Err()
			}
			break
		}
		if err != nil && transport.IsUnreachable(err) {
			break
		}
		if lock != nil && lock.refused() != nil {
			break
		}
		if st.Until != nil && !r.Opts.Check && !st.CheckMode {
			ok, uerr := r.untilMet(st, h, out, err)
			if uerr != nil {
				err = uerr
				break
			}
			if ok {
				err = nil
				break
			}
			if err == nil {
				err = fmt.Errorf("until condition not met after %d attempt(s)", attempt)
			}
		} else if err == nil {
			break
		}
		if attempt < attempts {
			select {
			case <-ctx.Done():
			case <-time.After(st.Delay):
			}
		}
	}
	if lock != nil {
		if held := lock.takenOver(); held != "" {
			env.Report.Warn("took over a stale run lock whose process is gone on this machine (" + held + ")")
		}
		if lerr := lock.refused(); lerr != nil {
			// Whatever the module made of it: this host is not ours to change.
			return done(StatusFailed, lerr.Error())
		}
	}
	if err != nil {
		status := StatusFailed
		switch {
		case transport.IsUnreachable(err):
			status = StatusUnreachable
		case errors.Is(err, context.Canceled):
			err = errors.New("interrupted")
		case st.IgnoreErrors:
			status = StatusIgnored
		}
		return done(status, err.Error())
	}
	if out != nil {
		r.setOutputs(st.Name, h.Name, out.Outputs)
	} else if plan != nil {
		r.setOutputs(st.Name, h.Name, plan.Outputs)
	}
	res.Unhealthy = plan.Unhealthy
	if st.CheckMode && (plan.Change || plan.Unknown) && res.Unhealthy == "" {
		// A check_mode step reports drift: the host differs from what the
		// playbook would make it (status.hcl's config.yaml drift).
		res.Unhealthy = st.Name + ": " + wouldText("would change: ", plan.Summary)
	}
	if r.Opts.Check || st.CheckMode {
		res.Diff = plan.Diff
		if w, ok := mod.(modules.Waiter); ok && w.OnlyWaits() {
			return done(StatusOK, wouldText("would wait: ", plan.Summary))
		}
		switch {
		case plan.Unknown:
			return done(StatusChanged, wouldText("would run: ", plan.Summary))
		case plan.Change:
			return done(StatusChanged, wouldText("would change: ", plan.Summary))
		}
		return done(StatusOK, plan.Summary)
	}
	res.Warnings = out.Warnings
	res.Stdout, res.Stderr = outputText(out, "stdout"), outputText(out, "stderr")
	if r.Opts.Diff {
		res.Diff = out.Diff
	}
	if out.Changed {
		return done(StatusChanged, out.Msg)
	}
	return done(StatusOK, out.Msg)
}

// attempt is one check (+ apply) of a module, under the step's timeout.
func (r *Runner) attempt(ctx context.Context, st *playbook.Step, mod modules.Module, env *modules.Env, args any) (*modules.Result, *modules.Plan, error) {
	if st.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, st.Timeout)
		defer cancel()
	}
	plan, err := mod.Check(ctx, env, args)
	if err == nil && plan == nil {
		plan = &modules.Plan{}
	}
	if err != nil || r.Opts.Check || st.CheckMode {
		return nil, plan, timeoutErr(ctx, st, err)
	}
	if !plan.Change && !plan.Unknown {
		return &modules.Result{Msg: plan.Summary, Outputs: plan.Outputs}, plan, nil
	}
	out, err := mod.Apply(ctx, env, args, plan)
	if err == nil && out == nil {
		out = &modules.Result{Changed: true}
	}
	if out != nil && out.Outputs == nil {
		out.Outputs = plan.Outputs
	}
	return out, plan, timeoutErr(ctx, st, err)
}

func timeoutErr(ctx context.Context, st *playbook.Step, err error) error {
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("timed out after %s: %w", st.Timeout, err)
	}
	return err
}

// untilMet evaluates the step's until expression against this attempt's result.
func (r *Runner) untilMet(st *playbook.Step, h *inventory.Host, out *modules.Result, err error) (bool, error) {
	obj := map[string]cty.Value{
		"failed":  cty.BoolVal(err != nil),
		"changed": cty.BoolVal(out != nil && out.Changed),
		"msg":     cty.StringVal(""),
	}
	if out != nil {
		obj["msg"] = cty.StringVal(out.Msg)
		for k, v := range out.Outputs {
			obj[k] = v
		}
	}
	v, diags := hclx.Value(st.Until, r.Playbook.EvalContext(r.scope(h, cty.ObjectVal(obj))), r.Redactor.AddValue)
	if diags.HasErrors() {
		return false, fmt.Errorf("until: %s", diagText(diags))
	}
	if v.IsNull() || !v.IsKnown() || v.Type() != cty.Bool {
		return false, fmt.Errorf("until: %s: the condition must be true or false", st.Until.Range())
	}
	return v.True(), nil
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

// wouldText prefixes a plan summary for check mode unless it already speaks conditionally.
func wouldText(prefix, summary string) string {
	if strings.HasPrefix(summary, "would ") {
		return summary
	}
	return prefix + summary
}

func outputText(out *modules.Result, name string) string {
	v, ok := out.Outputs[name]
	if !ok || v.IsNull() || !v.IsKnown() || v.Type() != cty.String {
		return ""
	}
	return v.AsString()
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
