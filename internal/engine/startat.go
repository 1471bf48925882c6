package engine

import (
	"github.com/omsrun/omsrun/modules"
)

// stepRuns says, step by step, whether this run runs it: every step from
// --start-at-step on, and before it only the read-only steps whose outputs
// a running step reads (directly or through another such read). A step
// decides from what it reads on the hosts (container_info, config_loaded),
// so starting past that read must not leave it deciding from nothing; the
// checks and changes before the start stay skipped, as asked.
func (r *Runner) stepRuns() []bool {
	steps := r.Playbook.Steps
	runs := make([]bool, len(steps))
	start := -1
	for i, st := range steps {
		if r.Opts.StartAt == "" || st.Name == r.Opts.StartAt {
			start = i
			break
		}
	}
	if start < 0 {
		return runs
	}
	for i := start; i < len(steps); i++ {
		runs[i] = true
	}
	// Backwards: a read is kept when a later step that runs reads it, and a
	// kept read may itself read an earlier one.
	for i := start - 1; i >= 0; i-- {
		if !r.readOnly(i) {
			continue
		}
		for j := i + 1; j < len(steps) && !runs[i]; j++ {
			runs[i] = runs[j] && steps[j].ReadsStep(steps[i].Name)
		}
	}
	return runs
}

// readOnly reports whether step i can never change a host: its module
// declares itself read-only, or the step runs in check mode.
func (r *Runner) readOnly(i int) bool {
	st := r.Playbook.Steps[i]
	if st.CheckMode {
		return true
	}
	m, ok := r.Modules(st.Module)
	if !ok {
		return false
	}
	ro, ok := m.(modules.ReadOnly)
	return ok && ro.ReadOnly()
}
