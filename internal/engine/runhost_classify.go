package engine

// Classifying a step's attempts on a host into its result.

import (
	"context"
	"errors"
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/playbook"
	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/inventory"
	"github.com/omsrun/omsrun/modules"
)

// classify turns the attempts into the host's result: the lock's verdict
// first (a host another run holds is not ours, whatever the module made of
// it), then the error, then check mode's "would …", then the applied result.
func (r *Runner) classify(st *playbook.Step, h *inventory.Host, mod modules.Module, a attempts, res *HostResult, done func(Status, string) HostResult) HostResult {
	var dial unreachable
	if errors.As(a.err, &dial) {
		return done(StatusUnreachable, dial.error.Error())
	}
	if a.lock != nil {
		if held := a.lock.takenOver(); held != "" {
			a.report.Warn("took over a stale run lock whose process is gone on this machine (" + held + ")")
		}
		if lerr := a.lock.refused(); lerr != nil {
			return done(StatusFailed, lerr.Error())
		}
	}
	var no *modules.Declined
	if errors.As(a.err, &no) {
		// The operator's "no" (or no one to ask) is not the host's failure:
		// the run ends after this step with the declined recap.
		r.decline(no.Reason)
		return done(StatusSkipped, "declined: "+no.Reason)
	}
	if err := a.err; err != nil {
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
	out, plan := a.out, a.plan
	if out != nil {
		r.setOutputs(st.Name, h.Name, out.Outputs)
		res.Outputs = out.Outputs
	} else if plan != nil {
		r.setOutputs(st.Name, h.Name, plan.Outputs)
		res.Outputs = plan.Outputs
	}
	res.Unhealthy = plan.Unhealthy
	if st.CheckMode && (plan.Change || plan.Unknown) && res.Unhealthy == "" {
		// A check_mode step reports drift: the host differs from what the
		// playbook would make it (status.hcl's config.yaml drift).
		res.Unhealthy = st.Name + ": " + wouldText("would change: ", plan.Summary)
	}
	if r.Opts.Check || st.CheckMode {
		res.Diff = plan.Diff
		q := a.asked.text()
		if st.Confirm != "" && r.Opts.Check && !r.Opts.Yes {
			// The step's own question, which the real run asks before its first step.
			q = strings.TrimPrefix(q+"; "+r.Redactor.Scrub(st.Confirm), "; ")
		}
		if q != "" {
			plan.Summary = strings.TrimPrefix(plan.Summary+"; would ask first: "+q, "; ")
		}
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
