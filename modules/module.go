// Package modules is the module contract and the generic modules (command,
// shell, copy, wait_for, note). A module reads a host and says what it would
// change (Check), then changes it (Apply). Modules never print: they return
// results and report progress through Env.Report. The OMS modules are in
// modules/oms; every built-in module is listed once in modules/builtin.
//
// The contract uses omsrun's internal transport types (Env.Host), so modules
// outside this repository cannot implement it: the package is public only so
// that the layout reads as the product's model, not as an API.
package modules

import (
	"context"

	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/transport"
)

// Module is one kind of step.
type Module interface {
	// Doc describes the module for `omsrun modules` and the README.
	Doc() Doc
	// NewArgs returns a pointer to a fresh argument struct with `hcl` tags; the
	// engine decodes the step's module block into it (per host) with gohcl.
	NewArgs() any
	// Check reads the host (never writes) and returns what Apply would do.
	Check(ctx context.Context, env *Env, args any) (*Plan, error)
	// Apply makes the change the plan describes and reports what happened.
	Apply(ctx context.Context, env *Env, args any, plan *Plan) (*Result, error)
}

// Validator is implemented by modules with static checks on their decoded
// arguments; it runs for every host before any connection is made.
type Validator interface {
	Validate(args any) error
}

// Waiter is implemented by modules whose Apply only waits or observes and
// never changes the host (wait_for): check mode reports their "would wait"
// as ok, so it announces exactly the changes a real run makes.
type Waiter interface {
	OnlyWaits() bool
}

// ReadOnly is implemented by modules that never change a host (reads,
// waits, notes). A run made only of such steps, or of check-mode steps,
// takes no run lock and is never refused by one.
type ReadOnly interface {
	ReadOnly() bool
}

// Advisor is implemented by modules whose failure needs advice beyond the
// error, such as an upgrade step's rollback command. The engine adds it to
// the host's error whatever made the step fail there (the module, a timeout,
// the host becoming unreachable), so the advice does not depend on how far
// the module got. Empty means none for these arguments.
type Advisor interface {
	FailureAdvice(args any) string
}

// Doc is the reference text of a module.
type Doc struct {
	Name    string
	Summary string
	// Args documents each argument: name → one line.
	Args map[string]string
}

// Env is what a module may use while it runs on one host.
type Env struct {
	Host transport.Host
	// HostName and Address are the inventory name and address of the host.
	HostName, Address string
	// Become asks modules to run their commands through sudo.
	Become bool
	// Diff asks Check to fill Plan.Diff.
	Diff bool
	// Yes is the user's blanket answer to confirmations.
	Yes bool
	// Confirm asks the user a yes/no question on the terminal; nil when no one
	// can answer (no terminal, or check mode), so a module must then refuse.
	Confirm func(question string) (bool, error)
	// Report receives progress; never nil when the engine calls a module.
	Report Reporter
	// Group is shared by the hosts running this step together; nil when
	// they do not all run at once (serial, fewer forks than hosts).
	Group *Group
}

// Reporter receives a module's progress; the output layer draws it.
type Reporter interface {
	// Phase says what the module is doing now ("waiting for health").
	Phase(msg string)
	// Bytes reports a transfer: done of total bytes (total 0 when unknown).
	Bytes(done, total int64)
	// Warn reports a non-fatal problem shown in the host's result.
	Warn(msg string)
}

// Plan is what Check found.
type Plan struct {
	// Change is true when Apply would change the host.
	Change bool
	// Unknown is true when the module cannot know without running ("would run").
	Unknown bool
	// Summary says in a few words what would change and why.
	Summary string
	// Diff is the content diff, secrets already removed.
	Diff string
	// Data carries module-private state from Check to Apply.
	Data any
	// Outputs are facts read by Check; read-only modules expose them here so
	// later steps can use them in check mode too.
	Outputs map[string]cty.Value
	// Unhealthy is a read-only module's finding that the host is not in the
	// state intended for it (status.hcl: container down, another image,
	// config not loaded), in a few words; the run then exits 6.
	Unhealthy string
}

// Result is what Apply did.
type Result struct {
	Changed bool
	Msg     string
	Diff    string
	// Outputs are exposed to later steps (stdout, rc, …).
	Outputs map[string]cty.Value
	// Warnings are shown with the host's line.
	Warnings []string
}
