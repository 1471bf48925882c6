package engine

// Confirmations: every question a run's steps carry is asked once, together,
// before the first step runs — or, when a question depends on what the
// hosts hold, before the first step that may change one — so a "no" (or no
// one to answer) changes nothing.

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/playbook"
	"github.com/omsrun/omsrun/inventory"
)

// question is one step's confirmation and the hosts it would run on.
type question struct {
	step  *playbook.Step
	text  string
	hosts []string
}

// questionsReadHosts reports whether some step's question depends on
// what earlier steps read on the hosts (its `when` reads their results, as
// upgrade.hcl's "stop every old node" reads upgrade_check's needs_stop).
// Such questions are settled once those reads ran, just before the first
// step that may change a host (settleBefore), so that a run with nothing to
// change asks nothing; otherwise before any host is contacted.
func (r *Runner) questionsReadHosts() bool {
	if r.Opts.Check || r.Opts.Yes {
		return false
	}
	for _, st := range r.Playbook.Steps {
		if st.Confirm != "" && !st.CheckMode && st.WhenReadsSteps() {
			return true
		}
	}
	return false
}

// settleBefore reports whether the questions are to be settled before step
// st, in a run that settles them once the hosts were read: st may change a
// host, or asks itself.
func (r *Runner) settleBefore(st *playbook.Step) bool {
	return (st.Confirm != "" && !st.CheckMode) || r.stepMayChange(st)
}

// settleConfirmations asks, in one prompt, the question of every step from
// index from on that may run. It returns why the run may not go on (""
// when it may). A step whose `when` cannot be decided yet (it needs results
// of steps still to come) is asked about on every host it targets: it
// might run, and a question asked halfway through would come after changes.
func (r *Runner) settleConfirmations(from int) string {
	if r.Opts.Check || r.Opts.Yes {
		return ""
	}
	var qs []question
	runs := r.stepRuns()
	for i := from; i < len(r.Playbook.Steps); i++ {
		st := r.Playbook.Steps[i]
		if !runs[i] {
			continue
		}
		if st.Confirm == "" || st.CheckMode {
			continue
		}
		hosts, _, err := r.selectHosts(st)
		if err != nil {
			continue // reported by the step itself
		}
		if st.RunOnce && len(hosts) > 1 {
			hosts = hosts[:1]
		}
		if names := r.mayRun(st, hosts); len(names) > 0 {
			qs = append(qs, question{step: st, text: r.Redactor.Scrub(st.Confirm), hosts: names})
		}
	}
	if len(qs) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("This run will:\n")
	for _, q := range qs {
		fmt.Fprintf(&b, "  - %s\n      on hosts: %s\n", q.text, strings.Join(q.hosts, ", "))
	}
	if r.Opts.Confirm == nil {
		var what []string
		for _, q := range qs {
			what = append(what, fmt.Sprintf("step %q (%s)", q.step.Name, q.text))
		}
		return "needs a confirmation and there is no terminal to ask on: " + strings.Join(what, "; ") + "; nothing was changed; re-run with --yes to confirm"
	}
	b.WriteString("Go ahead?")
	ok, err := r.Opts.Confirm(b.String())
	if err != nil {
		return fmt.Sprintf("confirmation could not be read (%v); nothing was changed", err)
	}
	if !ok {
		return "not confirmed: nothing was changed"
	}
	r.settled = map[string]bool{}
	for _, q := range qs {
		r.settled[q.step.Name] = true
	}
	return ""
}

// mayRun names the hosts whose `when` does not rule the step out before the
// run. changed() counts as true here: the step may well run.
func (r *Runner) mayRun(st *playbook.Step, hosts []*inventory.Host) []string {
	var out []string
	for _, h := range hosts {
		scope := r.scope(h, cty.NilVal)
		scope.Changed = func(string) bool { return true }
		run, diags := playbook.EvalWhen(r.Playbook, st, scope, r.Redactor.AddValue)
		if run || diags.HasErrors() {
			out = append(out, h.Name)
		}
	}
	return out
}

// confirmLate is the guard for a confirm step that was not settled before
// the run (its `when` ruled it out then, and later results ruled it in): it
// is refused rather than asked after other steps have changed hosts.
func (r *Runner) confirmLate(st *playbook.Step, hosts []*inventory.Host) error {
	if st.Confirm == "" || r.Opts.Check || st.CheckMode || r.Opts.Yes || r.settled[st.Name] {
		return nil
	}
	if len(r.hostsToRun(st, hosts)) == 0 {
		return nil
	}
	return fmt.Errorf("step %q needs a confirmation that was not asked before the run (its condition changed during the run): %s; re-run with --yes to confirm", st.Name, r.Redactor.Scrub(st.Confirm))
}

// hostsToRun names the hosts whose `when` lets the step run now.
func (r *Runner) hostsToRun(st *playbook.Step, hosts []*inventory.Host) []string {
	var out []string
	for _, h := range hosts {
		run, diags := playbook.EvalWhen(r.Playbook, st, r.scope(h, cty.NilVal), r.Redactor.AddValue)
		if run || diags.HasErrors() {
			out = append(out, h.Name)
		}
	}
	return out
}

// moduleConfirm is the question-asker modules get: one question at a time
// (hosts run concurrently), and none in check mode, which must not wait on a
// person. Only read-only steps (metadb_check's question about existing
// databases) may ask: a question asked after a change would not hold it back.
func (r *Runner) moduleConfirm() func(string) (bool, error) {
	if r.Opts.Confirm == nil || r.Opts.Check {
		return nil
	}
	return func(q string) (bool, error) {
		if r.anyChanged() {
			return false, fmt.Errorf("a question after hosts were changed cannot hold the change back; re-run with --yes or settle it first")
		}
		r.askMu.Lock()
		defer r.askMu.Unlock()
		return r.Opts.Confirm(r.Redactor.Scrub(q))
	}
}

// wouldAsk is check mode's question-asker for modules: no one is asked
// (check mode must not wait on a person, and has no answer to give), the
// question is kept for the host's result ("would ask first: …") and taken as
// yes, so the prediction goes on as the real run goes on after a yes at the
// terminal — instead of stopping at the first question as if declined.
type wouldAsk struct {
	mu sync.Mutex
	qs []string
}

func (w *wouldAsk) confirm(q string) (bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !slices.Contains(w.qs, q) { // a retried attempt asks again
		w.qs = append(w.qs, q)
	}
	return true, nil
}

// text is the questions asked, "" when none (or w is nil: not check mode).
func (w *wouldAsk) text() string {
	if w == nil {
		return ""
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.qs, "; ")
}

// anyChanged reports whether some host changed in this run so far.
func (r *Runner) anyChanged() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range r.tallies {
		if t.Changed > 0 {
			return true
		}
	}
	return false
}

// decline records a module's modules.Declined; the first reason is kept.
func (r *Runner) decline(why string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.declined == "" {
		r.declined = r.Redactor.Scrub(why)
	}
}

// declinedWhy is the reason a module declined in this run, "" when none did.
func (r *Runner) declinedWhy() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.declined
}
