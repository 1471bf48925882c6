// Package transport runs commands on remote hosts. The SSH implementation keeps
// one persistent connection per host; everything above it sees only Host.
//
// The connections are golang.org/x/crypto/ssh clients, not ones made by
// github.com/melbahja/goph, for capabilities goph's constructors and Run do
// not have: a ProxyJump hop dials the target through the jump host's own
// connection (goph.New and NewConn dial a TCP address themselves); host keys
// are checked against several known_hosts files with accept-new; keepalives
// mark a silent host unreachable; sudo reads its password on stdin, and a
// cancelled command's process group is found and killed. The reason is
// these capabilities, not speed, so nothing was measured. goph.Client only
// embeds *ssh.Client, so goph's SFTP file transfer wraps a pool connection
// as it is wherever it serves.
package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
)

// Cmd is one remote command, run as one SSH session (never an interactive shell).
type Cmd struct {
	// Argv is quoted word by word; exactly one of Argv and Script is set.
	Argv []string
	// Script is passed to `sh -c` as a single quoted word, for pipelines and redirects.
	Script string
	// Stdin, when set, is streamed to the command; it is closed at EOF.
	Stdin io.Reader
	// Stdout and Stderr, when set, receive output as it arrives instead of it being captured.
	Stdout, Stderr io.Writer
	// Become runs the command through sudo (password on stdin, never in argv).
	Become bool
}

// Result is what a finished command left behind.
type Result struct {
	ExitCode int
	Stdout   []byte // captured only when Cmd.Stdout was nil
	Stderr   []byte // captured only when Cmd.Stderr was nil
}

// Host is one remote machine reachable over the transport.
type Host interface {
	// Name is the inventory name of the host.
	Name() string
	// Run runs c and waits for it. A non-zero exit is reported in Result.ExitCode
	// with a nil error; err is reserved for the transport failing (see Unreachable)
	// or ctx ending, in which case the remote process group is killed.
	Run(ctx context.Context, c Cmd) (Result, error)
	// Dial opens a TCP connection from the host (SSH direct-tcpip), for reaching
	// services only the hosts can see.
	Dial(ctx context.Context, network, addr string) (net.Conn, error)
}

// UnreachableError marks a failure to reach a host at all (dial, auth, host
// key, or the connection dying); the engine reports such hosts as unreachable.
type UnreachableError struct {
	Host string
	Err  error
}

func (e *UnreachableError) Error() string { return fmt.Sprintf("%s unreachable: %v", e.Host, e.Err) }
func (e *UnreachableError) Unwrap() error { return e.Err }

// IsUnreachable reports whether err says the host could not be reached.
func IsUnreachable(err error) bool {
	var u *UnreachableError
	return errors.As(err, &u)
}

// Quote returns s as one POSIX shell word that arrives literally.
func Quote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@%", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

// Join quotes every word of argv and joins them with spaces.
func Join(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = Quote(a)
	}
	return strings.Join(q, " ")
}
