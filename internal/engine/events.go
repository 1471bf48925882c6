package engine

import (
	"time"

	"github.com/zclconf/go-cty/cty"
)

// Status is the outcome of one step on one host.
type Status string

// The statuses a host can end a step with.
const (
	StatusOK          Status = "ok"
	StatusChanged     Status = "changed"
	StatusFailed      Status = "failed"
	StatusSkipped     Status = "skipped"
	StatusUnreachable Status = "unreachable"
	StatusIgnored     Status = "ignored" // failed, but the step says ignore_errors
)

// RunInfo opens a run.
type RunInfo struct {
	Playbook string
	Hosts    []string
	Check    bool
	Steps    int
}

// StepInfo opens a step.
type StepInfo struct {
	Index  int
	Name   string
	Module string
	Hosts  []string
	// Dropped are the hosts the step's pattern matches that it does not run
	// on, each with why: an earlier step failed on it or could not reach it.
	Dropped []Dropped
}

// Dropped is a host a step skips because an earlier step failed on it.
type Dropped struct {
	Host string
	Why  string // e.g. `failed at step "preflight"`
}

// HostResult is one host's outcome for one step.
type HostResult struct {
	Step     string
	Host     string
	Status   Status
	Duration time.Duration
	Msg      string
	Diff     string
	Warnings []string
	// Error is the failure text (command and stderr tail), empty on success.
	Error    string
	Attempts int
	// Stdout and Stderr are the module's outputs of those names, when it has them (command, shell).
	Stdout, Stderr string
	// Unhealthy says why the host is not as intended (see modules.Plan.Unhealthy).
	Unhealthy string
	// Outputs are the module's outputs (what later steps read as
	// steps["name"]["host"]), so --json carries them as fields.
	Outputs map[string]cty.Value
}

// StepEnd closes a step.
type StepEnd struct {
	Name     string
	Duration time.Duration
	// Slowest is the host that took longest, with its time.
	Slowest         string
	SlowestDuration time.Duration
	// NotReached are the hosts a rolling (serial) step never got to because
	// a batch before them failed: the rollout stopped there.
	NotReached []string
}

// Progress is a module's report while it works on a host.
type Progress struct {
	Step  string
	Host  string
	Phase string
	Done  int64
	Total int64
	Warn  string
	// Log is a remote command and the end of its output (-v).
	Log string
}

// HostTally counts one host's outcomes over the run.
type HostTally struct {
	Host                                      string
	OK, Changed, Failed, Skipped, Unreachable int
	Ignored                                   int
}

// Recap closes a run.
type Recap struct {
	Hosts       []HostTally
	Steps       []StepEnd
	Duration    time.Duration
	Interrupted bool
	Check       bool
	// Stopped says why the run ended early ("any_errors_fatal", "max_fail_percentage"), if it did.
	Stopped string
	// NotReached are, when the run stopped, the live hosts it never got to:
	// the ones the remaining steps would have run on, in inventory order.
	NotReached []string
	// Declined says why no step ran: a confirmation answered no, or one that
	// could not be asked (no terminal, no --yes).
	Declined string
	// Error is a problem of the run itself that ended it after it started.
	Error string
	// ExitCode is the process exit code the run ends with (see Options.ExitCode).
	ExitCode int
	// Unhealthy lists "host: why" for every host a step found not as
	// intended, in inventory order (status.hcl).
	Unhealthy []string
}

// Failed reports whether any host failed a step.
func (r *Recap) Failed() bool {
	for _, h := range r.Hosts {
		if h.Failed > 0 {
			return true
		}
	}
	return false
}

// Unreachable reports whether any host could not be reached.
func (r *Recap) Unreachable() bool {
	for _, h := range r.Hosts {
		if h.Unreachable > 0 {
			return true
		}
	}
	return false
}

// Changed counts the (host, step) pairs that changed.
func (r *Recap) Changed() int {
	n := 0
	for _, h := range r.Hosts {
		n += h.Changed
	}
	return n
}

// Sink receives the events of a run; the output layer implements it.
// Calls may come from several goroutines at once.
type Sink interface {
	RunStart(RunInfo)
	StepStart(StepInfo)
	Progress(Progress)
	HostResult(HostResult)
	StepEnd(StepEnd)
	Recap(Recap)
}
