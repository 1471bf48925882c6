// Package transporttest provides a transport.Host that runs commands on the
// local machine, for unit tests of code that drives hosts. It runs the same
// shell text the SSH transport would send, so scripts are tested for real;
// only the network hop and sudo are missing.
package transporttest

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"sync"

	"github.com/omsrun/omsrun/internal/transport"
)

// Local runs every command with the local /bin/sh in Dir.
type Local struct {
	// HostName is what Name returns; "local" when empty.
	HostName string
	// Dir is the working directory of every command.
	Dir string
	// Env is added to the environment of every command (e.g. a PATH with
	// shims that make one tool fail, to test failure paths).
	Env []string

	mu   sync.Mutex
	cmds []transport.Cmd
}

var _ transport.Host = (*Local)(nil)

// NewLocal returns a Local working in a fresh temporary directory of t.
func NewLocal(t interface{ TempDir() string }) *Local {
	return &Local{HostName: "local", Dir: t.TempDir()}
}

// Name returns HostName.
func (l *Local) Name() string {
	if l.HostName == "" {
		return "local"
	}
	return l.HostName
}

// Commands returns every command run so far, without their stdin or writers.
func (l *Local) Commands() []transport.Cmd {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]transport.Cmd(nil), l.cmds...)
}

// Run runs c locally. Become is recorded but ignored: tests run as the
// current user.
func (l *Local) Run(ctx context.Context, c transport.Cmd) (transport.Result, error) {
	l.mu.Lock()
	l.cmds = append(l.cmds, transport.Cmd{Argv: c.Argv, Script: c.Script, Become: c.Become})
	l.mu.Unlock()

	var cmd *exec.Cmd
	switch {
	case c.Script != "" && len(c.Argv) == 0:
		cmd = exec.CommandContext(ctx, "/bin/sh", "-c", c.Script)
	case c.Script == "" && len(c.Argv) > 0:
		// The SSH transport sends argv as one quoted line to the login shell.
		cmd = exec.CommandContext(ctx, "/bin/sh", "-c", transport.Join(c.Argv))
	default:
		return transport.Result{}, errors.New("transporttest: exactly one of Argv and Script must be set")
	}
	cmd.Dir = l.Dir
	cmd.Env = append(os.Environ(), l.Env...)
	cmd.Stdin = c.Stdin
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if c.Stdout != nil {
		cmd.Stdout = c.Stdout
	}
	if c.Stderr != nil {
		cmd.Stderr = c.Stderr
	}
	err := cmd.Run()
	res := transport.Result{}
	if c.Stdout == nil {
		res.Stdout = out.Bytes()
	}
	if c.Stderr == nil {
		res.Stderr = errb.Bytes()
	}
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return res, ctx.Err()
	case errors.As(err, &exit):
		res.ExitCode = exit.ExitCode()
		return res, nil
	case err != nil:
		return res, &transport.UnreachableError{Host: l.Name(), Err: err}
	}
	return res, nil
}

// Dial connects from the local machine.
func (l *Local) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}
