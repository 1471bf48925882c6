package modules

import (
	"context"
	"errors"
	"path"
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/transport"
)

// Command runs one program with its arguments, no shell involved, so every
// argument arrives literally.
type Command struct{}

var _ Module = (*Command)(nil)
var _ Validator = (*Command)(nil)

// CommandArgs are the arguments of the command module.
type CommandArgs struct {
	Argv    []string `hcl:"argv"`
	Creates string   `hcl:"creates,optional"`
	Removes string   `hcl:"removes,optional"`
	Chdir   string   `hcl:"chdir,optional"`
	Stdin   string   `hcl:"stdin,optional"`
}

// Doc describes the module.
func (*Command) Doc() Doc {
	return Doc{
		Name:    "command",
		Summary: "Run a program with arguments (no shell); always changed unless creates/removes say otherwise.",
		Args:    commandDocArgs("argv", "the program and its arguments, each passed literally"),
	}
}

// commandDocArgs documents the arguments command and shell share.
func commandDocArgs(first, firstDoc string) map[string]string {
	return map[string]string{
		first:     firstDoc,
		"creates": "skip when this path exists on the host",
		"removes": "skip when this path does not exist on the host",
		"chdir":   "run in this directory",
		"stdin":   "text fed to the command's standard input",
	}
}

// NewArgs returns empty arguments.
func (*Command) NewArgs() any { return &CommandArgs{} }

// Validate refuses an empty argv before any host is touched.
func (*Command) Validate(args any) error {
	a := args.(*CommandArgs)
	if len(a.Argv) == 0 || a.Argv[0] == "" {
		return errors.New("argv: give at least the program to run")
	}
	return nil
}

// Check reads the creates/removes guards; the command itself cannot be previewed.
func (*Command) Check(ctx context.Context, env *Env, args any) (*Plan, error) {
	a := args.(*CommandArgs)
	return guardPlan(ctx, env, a.Creates, a.Removes, transport.Join(a.Argv))
}

// Apply runs the program.
func (*Command) Apply(ctx context.Context, env *Env, args any, _ *Plan) (*Result, error) {
	a := args.(*CommandArgs)
	c := transport.Cmd{Argv: a.Argv}
	if a.Chdir != "" {
		// exec keeps the program the session's own process, so cancelling kills it.
		c = transport.Cmd{Script: "cd " + cdDir(a.Chdir) + " && exec " + transport.Join(a.Argv)}
	}
	return runCommand(ctx, env, c, a.Stdin)
}

// cdDir is dir quoted for cd: a relative dir gets "./", so that cd neither
// reads "-x" as an option (or "-" as the previous directory) nor searches CDPATH.
func cdDir(dir string) string {
	if !path.IsAbs(dir) {
		dir = "./" + dir
	}
	return transport.Quote(dir)
}

// guardPlan reads the creates/removes paths in one command and returns either
// an ok plan (a guard says the work is done) or "would run".
func guardPlan(ctx context.Context, env *Env, creates, removes, what string) (*Plan, error) {
	if creates != "" || removes != "" {
		var s strings.Builder
		if creates != "" {
			s.WriteString("if [ -e " + transport.Quote(creates) + " ]; then echo creates; fi; ")
		}
		if removes != "" {
			s.WriteString("if [ ! -e " + transport.Quote(removes) + " ]; then echo removes; fi; ")
		}
		s.WriteString("true")
		res, err := env.Run(ctx, transport.Cmd{Script: s.String()})
		if err != nil {
			return nil, err
		}
		out := string(res.Stdout)
		switch {
		case strings.Contains(out, "creates"):
			return &Plan{Summary: "skipped: " + creates + " exists"}, nil
		case strings.Contains(out, "removes"):
			return &Plan{Summary: "skipped: " + removes + " does not exist"}, nil
		}
	}
	return &Plan{Unknown: true, Summary: what}, nil
}

// runCommand runs c and turns its answer into a result with rc, stdout and
// stderr outputs; a non-zero exit is a failure naming the command.
func runCommand(ctx context.Context, env *Env, c transport.Cmd, stdin string) (*Result, error) {
	if stdin != "" {
		c.Stdin = strings.NewReader(stdin)
	}
	res, err := env.Run(ctx, c)
	if err != nil {
		return nil, err
	}
	return &Result{
		Changed: true,
		Msg:     "rc=0",
		Outputs: map[string]cty.Value{
			"rc":     cty.NumberIntVal(int64(res.ExitCode)),
			"stdout": cty.StringVal(string(res.Stdout)),
			"stderr": cty.StringVal(string(res.Stderr)),
		},
	}, nil
}
