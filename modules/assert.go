package modules

import (
	"context"
	"errors"
)

// Assert fails the step when its condition is false, with the message the
// playbook gives: a refusal decided from what earlier steps read on every
// host (run_once, so every host shares the failure and the run stops).
type Assert struct{}

var _ Module = (*Assert)(nil)
var _ ReadOnly = (*Assert)(nil)
var _ Validator = (*Assert)(nil)

// ReadOnly implements ReadOnly: it only decides.
func (*Assert) ReadOnly() bool { return true }

// AssertArgs are assert's arguments.
type AssertArgs struct {
	That    bool   `hcl:"that"`
	Message string `hcl:"message"`
	OK      string `hcl:"ok,optional"`
}

// Doc implements Module.
func (*Assert) Doc() Doc {
	return Doc{Name: "assert", Summary: "Fail with a message when a condition is false; touches nothing.",
		Args: map[string]string{"that": "the condition", "message": "the error when it is false", "ok": "the result line when it is true"}}
}

// NewArgs implements Module.
func (*Assert) NewArgs() any { return &AssertArgs{} }

// Validate implements Validator: a condition known before the run (built on
// variables only, not on what steps read) that is false is refused by
// validate, as --check would refuse it on reaching the step.
func (*Assert) Validate(a any) error {
	if args := a.(*AssertArgs); !args.That {
		return assertFailed(args.Message)
	}
	return nil
}

// assertFailed is the playbook's message, about the condition ("that").
type assertFailed string

func (e assertFailed) Error() string     { return string(e) }
func (e assertFailed) Attribute() string { return "that" }

// Check implements Module.
func (*Assert) Check(_ context.Context, _ *Env, a any) (*Plan, error) {
	args := a.(*AssertArgs)
	if !args.That {
		return nil, errors.New(args.Message)
	}
	return &Plan{Summary: args.OK}, nil
}

// Apply implements Module; Check decided.
func (*Assert) Apply(_ context.Context, _ *Env, _ any, plan *Plan) (*Result, error) {
	return &Result{Msg: plan.Summary}, nil
}
