package engine

// Attempting a step on a host: the connection, retries, until and timeout.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/hclx"
	"github.com/omsrun/omsrun/internal/playbook"
	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/inventory"
	"github.com/omsrun/omsrun/modules"
)

// attempts is what attemptAll leaves for classify: the last attempt's
// outcome, and what the run lock made of the host.
type attempts struct {
	out      *modules.Result
	plan     *modules.Plan
	err      error
	attempts int
	lock     *lockedHost
	report   modules.Reporter
	// asked are the questions a check run would have asked here.
	asked *wouldAsk
}

// connect returns the host's connection, dialling it on its first step; a
// host whose first dial failed is not dialled again.
func (r *Runner) connect(ctx context.Context, h *inventory.Host) (transport.Host, *lockedHost, error) {
	r.mu.Lock()
	s := r.state[h.Name]
	conn, dialErr, lock := s.conn, s.dialErr, s.lock
	r.mu.Unlock()
	if dialErr != nil {
		return nil, nil, dialErr
	}
	if conn == nil {
		c, err := r.Conn.Get(ctx, h)
		if err != nil {
			return nil, nil, err
		}
		r.mu.Lock()
		r.attach(s, c)
		conn, lock = s.conn, s.lock
		r.mu.Unlock()
	}
	return conn, lock, nil
}

// attemptAll runs the module on the host up to retries+1 times, until the
// step's until holds (or it succeeds), stopping at once on an interrupt, an
// unreachable host or a refused run lock.
func (r *Runner) attemptAll(ctx context.Context, st *playbook.Step, h *inventory.Host, mod modules.Module, args any, group *modules.Group) attempts {
	conn, lock, err := r.connect(ctx, h)
	if err != nil {
		return attempts{err: unreachable{err}}
	}
	if r.Opts.Verbose > 0 {
		conn = &verboseHost{Host: conn, sink: r.Sink, step: st.Name, redact: r.Redactor}
	}
	report := &reporter{sink: r.Sink, step: st.Name, host: h.Name, redact: r.Redactor}
	env := &modules.Env{
		Host: conn, HostName: h.Name, Address: h.Address,
		Become: h.Become, Diff: r.Opts.Diff, Yes: r.Opts.Yes, Confirm: r.moduleConfirm(),
		Report: report, Group: group,
	}
	a := attempts{lock: lock, report: report}
	if r.Opts.Check {
		a.asked = &wouldAsk{}
		env.Confirm = a.asked.confirm
	}
	max := st.Retries + 1
	for attempt := 1; attempt <= max; attempt++ {
		a.attempts = attempt
		a.out, a.plan, a.err = r.attempt(ctx, st, mod, env, args)
		if ctx.Err() != nil {
			if a.err == nil {
				a.err = ctx.Err()
			}
			break
		}
		if a.err != nil && transport.IsUnreachable(a.err) {
			break
		}
		if lock != nil && lock.refused() != nil {
			break
		}
		if st.Until != nil && !r.Opts.Check && !st.CheckMode {
			ok, uerr := r.untilMet(st, h, a.out, a.err)
			if uerr != nil {
				a.err = uerr
				break
			}
			if ok {
				a.err = nil
				break
			}
			if a.err == nil {
				a.err = fmt.Errorf("until condition not met after %d attempt(s)", attempt)
			}
		} else if a.err == nil {
			break
		}
		if attempt < max {
			select {
			case <-ctx.Done():
			case <-time.After(st.Delay):
			}
		}
	}
	return a
}

// unreachable marks a failed dial, which classify reports as unreachable
// whatever the transport's error type says.
type unreachable struct{ error }

func (u unreachable) Unwrap() error { return u.error }

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
