package modules

import (
	"context"
	"errors"
	"strings"

	"github.com/omsrun/omsrun/internal/transport"
)

// Shell runs a command line through `sh -c`, for pipelines and redirects.
type Shell struct{}

var _ Module = (*Shell)(nil)
var _ Validator = (*Shell)(nil)

// ShellArgs are the arguments of the shell module.
type ShellArgs struct {
	Cmd     string `hcl:"cmd"`
	Creates string `hcl:"creates,optional"`
	Removes string `hcl:"removes,optional"`
	Chdir   string `hcl:"chdir,optional"`
	Stdin   string `hcl:"stdin,optional"`
}

// Doc describes the module.
func (*Shell) Doc() Doc {
	return Doc{
		Name:    "shell",
		Summary: "Run a command line through sh -c; always changed unless creates/removes say otherwise.",
		Args:    commandDocArgs("cmd", "the command line, interpreted by sh on the host"),
	}
}

// NewArgs returns empty arguments.
func (*Shell) NewArgs() any { return &ShellArgs{} }

// Validate refuses an empty command line.
func (*Shell) Validate(args any) error {
	if strings.TrimSpace(args.(*ShellArgs).Cmd) == "" {
		return errors.New("cmd: the command line is empty")
	}
	return nil
}

// Check reads the creates/removes guards.
func (*Shell) Check(ctx context.Context, env *Env, args any) (*Plan, error) {
	a := args.(*ShellArgs)
	return guardPlan(ctx, env, a.Creates, a.Removes, a.Cmd)
}

// Apply runs the command line.
func (*Shell) Apply(ctx context.Context, env *Env, args any, _ *Plan) (*Result, error) {
	a := args.(*ShellArgs)
	script := a.Cmd
	if a.Chdir != "" {
		script = "cd " + cdDir(a.Chdir) + " || exit; " + script
	}
	return runCommand(ctx, env, transport.Cmd{Script: script}, a.Stdin)
}
