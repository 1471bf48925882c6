package engine

// Stopping a run between steps (any_errors_fatal, max_fail_percentage) and
// naming the hosts it never reached.

import (
	"fmt"

	"github.com/omsrun/omsrun/internal/playbook"
)

// shouldStop applies any_errors_fatal and max_fail_percentage after a step.
func (r *Runner) shouldStop(st *playbook.Step) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	failed := 0
	for _, t := range r.tallies {
		if t.Failed > 0 {
			failed++
		}
	}
	if failed == 0 {
		return ""
	}
	if r.Playbook.AnyErrorsFatal {
		return fmt.Sprintf("any_errors_fatal: a host failed step %q", st.Name)
	}
	if p := r.Playbook.MaxFailPercentage; p >= 0 && len(r.tallies) > 0 && failed*100 > p*len(r.tallies) {
		return fmt.Sprintf("max_fail_percentage %d%% exceeded: %d of %d hosts failed", p, failed, len(r.tallies))
	}
	return ""
}

// notReached names the live hosts a stopped run leaves untouched: those a
// rolling step did not get to (inFlight) and those the remaining steps'
// patterns match, in inventory order. Patterns, not `when`: a condition may
// read results the stopped run never produced, and the operator wants to
// know which nodes the run would still have gone to.
func (r *Runner) notReached(inFlight []string, rest []*playbook.Step) []string {
	want := map[string]bool{}
	for _, h := range inFlight {
		want[h] = true
	}
	for _, st := range rest {
		hosts, _, err := r.selectHosts(st)
		if err != nil {
			continue
		}
		if st.RunOnce && len(hosts) > 1 {
			hosts = hosts[:1]
		}
		for _, h := range hosts {
			want[h.Name] = true
		}
	}
	var out []string
	for _, h := range r.Opts.Targets {
		if want[h.Name] {
			out = append(out, h.Name)
		}
	}
	return out
}
