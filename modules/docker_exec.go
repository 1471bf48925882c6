package modules

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

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
	if t := tailLines(e.Stderr, 10); t != "" {
		msg += ": " + t
	}
	return msg
}

// cmdText is the command as the user would type it, for error messages.
func cmdText(c transport.Cmd) string {
	if c.Script != "" {
		return c.Script
	}
	return transport.Join(c.Argv)
}

// runCmd runs c on the host with the step's become setting. A non-zero exit
// is a *CommandError; transport failures pass through unchanged so the engine
// can tell an unreachable host from a failed command.
func runCmd(ctx context.Context, env *Env, c transport.Cmd) (transport.Result, error) {
	c.Become = env.Become
	res, err := env.Host.Run(ctx, c)
	if err != nil {
		return res, fmt.Errorf("%s: %w", cmdText(c), err)
	}
	if res.ExitCode != 0 {
		stderr := string(res.Stderr)
		if strings.TrimSpace(stderr) == "" {
			// Some tools (docker load among them) explain themselves on stdout.
			stderr = string(res.Stdout)
		}
		return res, &CommandError{Cmd: cmdText(c), ExitCode: res.ExitCode, Stderr: stderr}
	}
	return res, nil
}

// runArgv runs argv and returns its trimmed stdout.
func runArgv(ctx context.Context, env *Env, argv ...string) (string, error) {
	res, err := runCmd(ctx, env, transport.Cmd{Argv: argv})
	return strings.TrimSpace(string(res.Stdout)), err
}

// tryCmd runs c and returns the result even when it exits non-zero; only a
// transport failure is an error. For reads where "absent" is an answer.
func tryCmd(ctx context.Context, env *Env, c transport.Cmd) (transport.Result, error) {
	c.Become = env.Become
	res, err := env.Host.Run(ctx, c)
	if err != nil {
		return res, fmt.Errorf("%s: %w", cmdText(c), err)
	}
	return res, nil
}

// containerNameRE is Docker's rule for container names, less its minimum of
// two characters: a name outside it names no container, and one starting
// with "-" would reach docker as an option.
var containerNameRE = regexp.MustCompile(`^/?[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// checkContainerName refuses a container name docker would not accept; ""
// (the module's default) is fine.
func checkContainerName(arg, name string) error {
	if name == "" || containerNameRE.MatchString(name) {
		return nil
	}
	return fmt.Errorf("%s: %q is not a container name (letters, digits, _ . and -, starting with a letter or digit)", arg, name)
}

// tailLines returns the last n non-empty lines of s, joined by newlines.
func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n\r\t "), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// parseDuration accepts Go durations ("90s", "2m") and bare numbers of seconds,
// because HCL users write both.
func parseDuration(name, s string, def time.Duration) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return def, nil
	}
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		if n < 0 {
			return 0, fmt.Errorf("%s: %q must not be negative", name, s)
		}
		return time.Duration(n * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a duration (e.g. \"90s\", \"2m\")", name, s)
	}
	if d < 0 {
		return 0, fmt.Errorf("%s: %q must not be negative", name, s)
	}
	return d, nil
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// splitSections splits the output of a multi-part read script at lines equal
// to marker; one SSH session then answers several questions at once.
func splitSections(out, marker string) []string {
	var parts []string
	var cur strings.Builder
	for _, line := range strings.SplitAfter(out, "\n") {
		if strings.TrimRight(line, "\r\n") == marker {
			parts = append(parts, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteString(line)
	}
	return append(parts, cur.String())
}

// humanBytes formats n in binary units for messages.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
