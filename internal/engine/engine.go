// Package engine runs a playbook's steps across hosts: each step fans out to
// its hosts concurrently (bounded by forks) and is a barrier before the next.
// Retries, timeouts, when, serial and ignore_errors are wrappers here, never
// inside modules.
package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/playbook"
	"github.com/omsrun/omsrun/internal/secret"
	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/inventory"
	"github.com/omsrun/omsrun/modules"
	"github.com/omsrun/omsrun/modules/builtin"
)

// Connector hands out one connection per host (the transport pool).
type Connector interface {
	Get(ctx context.Context, h *inventory.Host) (transport.Host, error)
}

// Options are the run's settings from the command line.
type Options struct {
	Forks   int
	Check   bool
	Diff    bool
	Yes     bool
	StartAt string
	// Verbose > 0 reports every remote command (-v).
	Verbose int
	// Lock takes the run lock on every host before the first step, when the
	// run may change hosts: never in check mode, nor for read-only playbooks.
	Lock bool
	// Audit, for a run that cannot be classified (exec -- CMD), takes no lock
	// but appends the audit line and warns when another run holds the lock.
	Audit bool
	// Confirm asks the user a yes/no question; nil (no terminal) means no one can answer.
	Confirm func(question string) (bool, error)
	// Command is what an exec runs (module and arguments, or the command),
	// secrets masked, for the audit line; empty for a playbook.
	Command string
	// Targets are the hosts the run may touch (inventory narrowed by --limit).
	Targets []*inventory.Host
	// ExitCode, when set, gives the recap its process exit code before it is
	// emitted (the command line owns the codes; --json reports them).
	ExitCode func(*Recap) int
}

// Runner runs one playbook once.
type Runner struct {
	Playbook  *playbook.Playbook
	Inventory *inventory.Inventory
	Conn      Connector
	Sink      Sink
	Redactor  *secret.Redactor
	Opts      Options
	// Modules looks modules up by name; builtin.Lookup when nil.
	Modules func(name string) (modules.Module, bool)

	mu      sync.Mutex
	askMu   sync.Mutex      // one question on the terminal at a time
	holder  *LockHolder     // this run in lock files; nil when it takes no lock
	settled map[string]bool // steps whose confirmation was answered yes before the run
	// declined is a module's "no" (modules.Declined) in this run: it ends the run.
	declined string
	state    map[string]*hostState
	tallies  map[string]*HostTally
	// outputs: step name → host name → the module's outputs as an object.
	outputs map[string]map[string]cty.Value
	// lockPaths, when set, puts a host's lock and audit log elsewhere than
	// hostPaths (tests: one temporary folder per host).
	lockPaths func(host string) lockPaths
}

type hostState struct {
	host    *inventory.Host
	conn    transport.Host
	dead    bool        // failed or unreachable: drops out of later steps
	deadWhy string      // why, for the steps that skip it: `failed at step "x"`
	lock    *lockedHost // conn in a changing run: takes the run lock, gives it back at the end
	dialErr error       // the first dial's failure, reported at the host's first step instead of dialling again
	changed map[string]bool
	// unhealthy are the findings of read-only steps that this host is not as intended.
	unhealthy []string
}

// Run executes every step and returns the recap, also when it returns an
// error. The error is non-nil only for problems of the run itself (a bad
// `serial`, say), not for host failures.
func (r *Runner) Run(ctx context.Context) (*Recap, error) {
	if r.Modules == nil {
		r.Modules = builtin.Lookup
	}
	start := time.Now()
	r.state = map[string]*hostState{}
	r.tallies = map[string]*HostTally{}
	r.outputs = map[string]map[string]cty.Value{}
	names := make([]string, 0, len(r.Opts.Targets))
	for _, h := range r.Opts.Targets {
		r.state[h.Name] = &hostState{host: h, changed: map[string]bool{}}
		r.tallies[h.Name] = &HostTally{Host: h.Name}
		names = append(names, h.Name)
	}
	r.Sink.RunStart(RunInfo{Playbook: r.Playbook.Path, Hosts: names, Check: r.Opts.Check, Steps: len(r.Playbook.Steps)})
	recap := &Recap{Check: r.Opts.Check}
	// Every question is settled before any host is contacted, or, when one
	// depends on what the hosts hold, once they were read and before the
	// first step that may change one: a "no" leaves everything as it was.
	unsettled := r.questionsReadHosts()
	if !unsettled {
		if why := r.settleConfirmations(0); why != "" {
			r.declineOrInterrupt(ctx, recap, why)
			return r.finish(recap, start, nil)
		}
	}

	// Dial every host that some step will use, all at once, so dial latency is
	// paid once in parallel rather than per step.
	if r.Opts.Lock && !r.Opts.Check && r.mayChange() {
		h := r.newHolder()
		r.holder = &h
		defer r.unlockAll(h, recap)
	}
	r.connectAll(ctx)

	runs := r.stepRuns()
	gated := false // the run lock is ours on every host before the first change (lock_gate.go)
	for i, st := range r.Playbook.Steps {
		if !runs[i] {
			continue
		}
		if ctx.Err() != nil {
			recap.Interrupted = true
			break
		}
		if r.holder != nil && !gated && r.stepMayChange(st) {
			gated = true
			if why := r.lockGate(ctx, i, st); why != "" {
				if ctx.Err() != nil {
					recap.Interrupted = true // Ctrl-C cut the acquisitions short
					break
				}
				recap.Stopped = why
				recap.NotReached = r.notReached(nil, r.Playbook.Steps[i:])
				break
			}
		}
		// After the lock gate: a run another holds is refused before it asks.
		if unsettled && r.settleBefore(st) {
			unsettled = false
			if why := r.settleConfirmations(i); why != "" {
				r.declineOrInterrupt(ctx, recap, why)
				break
			}
		}
		end, err := r.runStep(ctx, i, st)
		if err != nil {
			// The run started: the recap still says what was done before.
			recap.Error = r.Redactor.Scrub(err.Error())
			return r.finish(recap, start, err)
		}
		recap.Steps = append(recap.Steps, end)
		if why := r.declinedWhy(); why != "" {
			recap.Declined = why
			break
		}
		if ctx.Err() != nil {
			recap.Interrupted = true
			break
		}
		if why := r.shouldStop(st); why != "" {
			recap.Stopped = why
			recap.NotReached = r.notReached(end.NotReached, r.Playbook.Steps[i+1:])
			break
		}
	}
	if r.Opts.Audit && !r.Opts.Check {
		r.auditOnly(recap)
	}
	return r.finish(recap, start, nil)
}

// declineOrInterrupt records why the questions stopped the run: declined,
// or, after Ctrl-C at the question, interrupted (nothing was declined).
func (r *Runner) declineOrInterrupt(ctx context.Context, recap *Recap, why string) {
	if ctx.Err() != nil {
		recap.Interrupted = true
		return
	}
	recap.Declined = why
}

// finish completes the recap, emits it and returns it with err: every run
// that started ends with its recap, whatever stopped it.
func (r *Runner) finish(recap *Recap, start time.Time, err error) (*Recap, error) {
	for _, h := range r.Opts.Targets {
		recap.Hosts = append(recap.Hosts, *r.tallies[h.Name])
		if u := r.state[h.Name].unhealthy; len(u) > 0 {
			recap.Unhealthy = append(recap.Unhealthy, h.Name+": "+strings.Join(u, "; "))
		}
	}
	recap.Duration = time.Since(start)
	if r.Opts.ExitCode != nil {
		recap.ExitCode = r.Opts.ExitCode(recap)
	}
	r.Sink.Recap(*recap)
	return recap, err
}

// connectAll dials every target at once, so dial latency is paid once in
// parallel rather than per step. In a changing run each connection is wrapped
// so that its first command takes the run lock (see lockedHost).
func (r *Runner) connectAll(ctx context.Context) {
	eachHost(r.Opts.Targets, max(r.Opts.Forks, 1), func(h *inventory.Host) error {
		c, err := r.Conn.Get(ctx, h)
		r.mu.Lock()
		defer r.mu.Unlock()
		s := r.state[h.Name]
		if err != nil {
			// Unreachable hosts are reported at the first step that needs them.
			s.dialErr = err
			return nil
		}
		r.attach(s, c)
		return nil
	})
}

// attach makes c the host's connection; called with r.mu held.
func (r *Runner) attach(s *hostState, c transport.Host) {
	if r.holder != nil {
		s.lock = newLockedHost(c, s.host, *r.holder)
		if r.lockPaths != nil {
			s.lock.paths = r.lockPaths(s.host.Name)
		}
		c = s.lock
	}
	s.conn = c
}

// unlockAll releases our locks and appends each host's audit line. It runs
// after an interrupt too, on a fresh context, so no lock outlives its run.
func (r *Runner) unlockAll(me LockHolder, recap *Recap) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	result := runResult(recap)
	eachHost(r.Opts.Targets, max(r.Opts.Forks, 1), func(h *inventory.Host) error {
		r.mu.Lock()
		s := r.state[h.Name]
		lk := s.lock
		var changed []string
		for step := range s.changed {
			changed = append(changed, step)
		}
		r.mu.Unlock()
		if lk == nil {
			return nil
		}
		return lk.finish(ctx, auditLine(me, result, changed))
	})
}

// runResult is the audit log's word for how the run ended. A run refused at
// its question (no, or no terminal to ask on, after it read the hosts under
// the lock) is "declined": it changed nothing, and "ok" would say it went on.
func runResult(recap *Recap) string {
	switch {
	case recap.Interrupted:
		return "interrupted"
	case recap.Declined != "":
		return "declined"
	case recap.Failed():
		return "failed"
	}
	return "ok"
}

// newHolder is this run as its lock and audit lines name it.
func (r *Runner) newHolder() LockHolder {
	h := NewLockHolder(r.Playbook.Path)
	h.Command = r.Opts.Command
	return h
}

// auditLine is one run's line in a host's audit log.
func auditLine(me LockHolder, result string, changed []string) string {
	sort.Strings(changed)
	command := ""
	if me.Command != "" {
		command = fmt.Sprintf(" command=%q", me.Command)
	}
	return fmt.Sprintf("%s %s@%s playbook=%s%s result=%s changed=%q", time.Now().UTC().Format(time.RFC3339), me.User, me.Controller, me.Playbook, command, result, strings.Join(changed, ", "))
}

// selectHosts returns the live targets the step's pattern matches, in
// inventory order, and the targets it matches that dropped out, with why.
func (r *Runner) selectHosts(st *playbook.Step) ([]*inventory.Host, []Dropped, error) {
	pattern := st.Hosts
	if pattern == "" {
		pattern = "all"
	}
	matched, err := r.Inventory.Match(pattern)
	if err != nil {
		return nil, nil, err
	}
	var out []*inventory.Host
	var dropped []Dropped
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, h := range matched {
		s, ok := r.state[h.Name]
		if !ok {
			continue
		}
		if s.dead {
			dropped = append(dropped, Dropped{Host: h.Name, Why: s.deadWhy})
			continue
		}
		out = append(out, s.host)
	}
	return out, dropped, nil
}

func (r *Runner) runStep(ctx context.Context, idx int, st *playbook.Step) (StepEnd, error) {
	hosts, dropped, err := r.selectHosts(st)
	if err != nil {
		return StepEnd{}, fmt.Errorf("step %q: %w", st.Name, err)
	}
	// run_once runs on the first host for all of them; the others share its
	// failure (a MetaDB check that fails stops every node, not one).
	var others []*inventory.Host
	if st.RunOnce && len(hosts) > 1 {
		hosts, others = hosts[:1], hosts[1:]
	}
	names := make([]string, len(hosts))
	for i, h := range hosts {
		names[i] = h.Name
	}
	r.Sink.StepStart(StepInfo{Index: idx, Name: st.Name, Module: st.Module, Hosts: names, Dropped: dropped})
	groups := batches(hosts, st.Serial)
	if err := r.confirmLate(st, hosts); err != nil {
		for _, h := range hosts {
			r.record(st, HostResult{Step: st.Name, Host: h.Name, Status: StatusFailed, Error: err.Error()})
		}
		return StepEnd{Name: st.Name}, nil
	}
	start := time.Now()
	end := StepEnd{Name: st.Name}
	var endMu sync.Mutex
	for i, batch := range groups {
		if ctx.Err() != nil {
			break
		}
		// Hosts meet in a group only when all of them run at once: one
		// waiting for a host that has no fork yet would wait for ever.
		var group *modules.Group
		if r.Opts.Forks >= len(batch) {
			names := make([]string, len(batch))
			for i, h := range batch {
				names[i] = h.Name
			}
			group = modules.NewGroup(names)
		}
		errs := eachHost(batch, r.Opts.Forks, func(h *inventory.Host) error {
			defer group.Finish(h.Name)
			res := r.runHost(ctx, st, h, group)
			endMu.Lock()
			if res.Duration > end.SlowestDuration {
				end.Slowest, end.SlowestDuration = h.Name, res.Duration
			}
			endMu.Unlock()
			r.record(st, res)
			return nil
		})
		// Only a panic gets here: runHost reports everything else itself.
		for name, e := range errs {
			r.record(st, HostResult{Step: st.Name, Host: name, Status: StatusFailed, Error: e.Error()})
		}
		// A serial batch in which a host failed stops the rollout: the rest keep
		// their old state, which is the point of rolling work.
		if st.Serial.IsSet() && r.batchFailed(st, batch) {
			for _, rest := range groups[i+1:] {
				for _, h := range rest {
					end.NotReached = append(end.NotReached, h.Name)
				}
			}
			break
		}
	}
	if len(others) > 0 && r.batchFailed(st, hosts) {
		for _, h := range others {
			r.record(st, HostResult{Step: st.Name, Host: h.Name, Status: StatusFailed,
				Error: fmt.Sprintf("step %q runs once for all hosts and failed on %s", st.Name, hosts[0].Name)})
		}
	}
	end.Duration = time.Since(start)
	r.Sink.StepEnd(end)
	return end, nil
}

func (r *Runner) batchFailed(st *playbook.Step, batch []*inventory.Host) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, h := range batch {
		if r.state[h.Name].dead {
			return true
		}
	}
	return false
}

// scrubOutputs is a copy of outs as every sink may show them: the later
// steps keep reading the real values (setOutputs).
func scrubOutputs(red *secret.Redactor, outs map[string]cty.Value) map[string]cty.Value {
	if len(outs) == 0 {
		return outs
	}
	// As one object, so that a top-level key naming a secret masks its value too.
	return red.ScrubOutputValue(cty.ObjectVal(outs)).AsValueMap()
}

// record tallies a result, drops failed hosts from later steps and emits it.
func (r *Runner) record(st *playbook.Step, res HostResult) {
	res.Msg = r.Redactor.Scrub(res.Msg)
	res.Error = r.Redactor.Scrub(res.Error)
	res.Stdout = r.Redactor.ScrubOutput(res.Stdout)
	res.Stderr = r.Redactor.ScrubOutput(res.Stderr)
	// A diff and the outputs hold a host's text as the command output does
	// (a config file's old lines, `cat`'s stdout), so they get its masking.
	res.Diff = r.Redactor.ScrubOutput(res.Diff)
	res.Outputs = scrubOutputs(r.Redactor, res.Outputs)
	res.Unhealthy = r.Redactor.Scrub(res.Unhealthy)
	r.mu.Lock()
	if res.Unhealthy != "" {
		s := r.state[res.Host]
		s.unhealthy = append(s.unhealthy, res.Unhealthy)
	}
	t := r.tallies[res.Host]
	s := r.state[res.Host]
	switch res.Status {
	case StatusOK:
		t.OK++
	case StatusChanged:
		t.Changed++
		s.changed[st.Name] = true
	case StatusSkipped:
		t.Skipped++
	case StatusIgnored:
		t.Ignored++
	case StatusUnreachable:
		t.Unreachable++
		s.dead, s.deadWhy = true, fmt.Sprintf("unreachable at step %q", st.Name)
	default:
		t.Failed++
		s.dead, s.deadWhy = true, fmt.Sprintf("failed at step %q", st.Name)
	}
	r.mu.Unlock()
	r.Sink.HostResult(res)
}
