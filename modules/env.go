package modules

import (
	"context"
	"fmt"
	"strings"

	"github.com/omsrun/omsrun/internal/textx"
	"github.com/omsrun/omsrun/internal/transport"
)

// CommandError is a remote command that ran and exited non-zero. Its message
// carries the command and the tail of its stderr, so a failed step says why
// without the user re-running anything by hand.
type CommandError struct {
	Cmd      string
	ExitCode int
	Stderr   string
}

func (e *CommandError) Error() string {
	msg := fmt.Sprintf("%s: exit status %d", e.Cmd, e.ExitCode)
	if t := textx.TailLines(e.Stderr, 10); t != "" {
		msg += ": " + t
	}
	return msg
}

// CmdText is the command as the user would type it, for error messages.
func CmdText(c transport.Cmd) string {
	if c.Script != "" {
		return c.Script
	}
	return transport.Join(c.Argv)
}

// Run runs c on the host with the step's become setting. A non-zero exit
// is a *CommandError; transport failures pass through unchanged so the engine
// can tell an unreachable host from a failed command.
func (env *Env) Run(ctx context.Context, c transport.Cmd) (transport.Result, error) {
	c.Become = env.Become
	res, err := env.Host.Run(ctx, c)
	if err != nil {
		return res, fmt.Errorf("%s: %w", CmdText(c), err)
	}
	if res.ExitCode != 0 {
		stderr := string(res.Stderr)
		if strings.TrimSpace(stderr) == "" {
			// Some tools (docker load among them) explain themselves on stdout.
			stderr = string(res.Stdout)
		}
		return res, &CommandError{Cmd: CmdText(c), ExitCode: res.ExitCode, Stderr: stderr}
	}
	return res, nil
}

// RunArgv runs argv and returns its trimmed stdout.
func (env *Env) RunArgv(ctx context.Context, argv ...string) (string, error) {
	res, err := env.Run(ctx, transport.Cmd{Argv: argv})
	return strings.TrimSpace(string(res.Stdout)), err
}

// Try runs c and returns the result even when it exits non-zero; only a
// transport failure is an error. For reads where "absent" is an answer.
func (env *Env) Try(ctx context.Context, c transport.Cmd) (transport.Result, error) {
	c.Become = env.Become
	res, err := env.Host.Run(ctx, c)
	if err != nil {
		return res, fmt.Errorf("%s: %w", CmdText(c), err)
	}
	return res, nil
}
