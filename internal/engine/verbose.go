package engine

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/omsrun/omsrun/internal/secret"
	"github.com/omsrun/omsrun/internal/transport"
)

// verboseHost reports every command a module runs, with its exit code and
// the end of its output, for -v. It wraps the host rather than living in the
// transport because the step and host it reports belong to the engine.
type verboseHost struct {
	transport.Host
	sink   Sink
	step   string
	redact *secret.Redactor
}

func (v *verboseHost) Run(ctx context.Context, c transport.Cmd) (transport.Result, error) {
	start := time.Now()
	res, err := v.Host.Run(ctx, c)
	cmd := c.Script
	if cmd == "" {
		cmd = transport.Join(c.Argv)
	}
	if c.Become {
		cmd = "sudo " + cmd
	}
	var b strings.Builder
	fmt.Fprintf(&b, "$ %s", cmd)
	switch {
	case err != nil:
		fmt.Fprintf(&b, "  → %v", err)
	default:
		fmt.Fprintf(&b, "  → rc=%d in %s", res.ExitCode, time.Since(start).Round(time.Millisecond))
	}
	for _, part := range [][]byte{res.Stdout, res.Stderr} {
		if tail := lastLines(string(part), 5); tail != "" {
			b.WriteString("\n" + tail)
		}
	}
	v.sink.Progress(Progress{Step: v.step, Host: v.Host.Name(), Log: v.redact.ScrubOutput(b.String())})
	return res, err
}

func (v *verboseHost) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	v.sink.Progress(Progress{Step: v.step, Host: v.Host.Name(), Log: "dial " + addr + " through the SSH connection"})
	return v.Host.Dial(ctx, network, addr)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) == 1 && lines[0] == "" {
		return ""
	}
	if len(lines) > n {
		lines = append([]string{"…"}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}
