package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"golang.org/x/crypto/ssh"
)

// stdinBuffer is large so an image stream keeps the SSH window full without
// a read per 32 KiB packet.
const stdinBuffer = 1 << 20

// killGrace is how long a cancelled command's group gets between TERM and KILL.
const killGrace = 3 * time.Second

// argv returns the words to run, turning a Script into `sh -c SCRIPT`.
func (c Cmd) argv() ([]string, error) {
	switch {
	case len(c.Argv) > 0 && c.Script != "":
		return nil, errors.New("command has both Argv and Script")
	case len(c.Argv) > 0:
		return c.Argv, nil
	case c.Script != "":
		return []string{"sh", "-c", c.Script}, nil
	}
	return nil, errors.New("empty command")
}

// groupWrap prints the process group the command will run in, on stderr,
// then execs argv; it is used under sudo only. The command stays in the group
// of the login shell that sshd started as the leader of a new session (sudo
// without a terminal starts no group of its own), read from /proc to be sure.
// Killing that group kills the command, its children and sudo, and nothing
// else. The marker also tells sudo's password prompt from the command's output.
func groupWrap(argv []string) string {
	return "sh -c " + Quote(`read -r _ _ _ _ g _ </proc/$$/stat; echo `+pgidMarker+`$g >&2; exec "$@"`) + " sh " + Join(argv)
}

// tagEnv names the environment variable that marks every process a command
// starts: `TAG=ID argv` costs the remote shell nothing (no extra fork, no
// exec, builtins stay builtins, a lone external command is exec'd by the
// shell as it is), so a plain command line is exactly what `ssh host argv`
// would send. Only a cancelled command pays: the kill session finds its
// processes by the tag in /proc/*/environ, which children inherit.
const tagEnv = "OMSRUN_CMD"

// tagged returns the command line for argv marked with tag.
func tagged(argv []string, tag string) string {
	if isShellReserved(argv[0]) {
		// `TAG=x if` would not run a program called "if".
		return tagEnv + "=" + tag + " exec " + Join(argv)
	}
	return tagEnv + "=" + tag + " " + Join(argv)
}

// isShellReserved reports words a shell would not take as a command name
// after an assignment.
func isShellReserved(w string) bool {
	switch w {
	case "!", "{", "}", "case", "do", "done", "elif", "else", "esac", "fi", "for", "function", "if", "in", "select", "then", "time", "until", "while", "[[", "]]":
		return true
	}
	return false
}

// Run implements Host: one session per command, in its own process group,
// killed as a group when ctx ends.
func (h *sshHost) Run(ctx context.Context, c Cmd) (Result, error) {
	argv, err := c.argv()
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w", h.name, err)
	}
	if err := h.acquire(ctx, h.sessions); err != nil {
		return Result{}, err
	}
	defer func() { <-h.sessions }()

	// Deciding the line: under sudo the group wrapper (its marker also tells
	// sudo's prompt from the command's output); otherwise the tag that finds
	// the command's processes if it must be killed.
	mode := h.becomeMode(c.Become)
	var line, tag string
	if mode.sudo() {
		line = mode.prefix() + groupWrap(argv)
	} else {
		tag = h.nextTag()
		line = tagged(argv, tag)
	}

	sess, err := h.newSession(ctx)
	if err != nil {
		return Result{}, err
	}
	defer sess.Close()
	rio := h.wire(sess, c, mode)
	var stdin io.WriteCloser
	if c.Stdin != nil || mode == becomeSudoPassword {
		if stdin, err = sess.StdinPipe(); err != nil {
			return Result{}, h.sessionError(err)
		}
	}
	if err := sess.Start(line); err != nil {
		return Result{}, h.sessionError(err)
	}
	if h.cfg.Logf != nil {
		h.cfg.Logf("%s: run%s: %s", h.name, mode.label(), Join(argv))
	}

	waited := make(chan error, 1)
	ended := make(chan struct{}) // closed once the session is over, for the helpers
	go func() {
		waited <- sess.Wait()
		close(ended)
	}()
	if stdin != nil {
		go h.feedStdin(stdin, c.Stdin, mode, rio.pg, ended)
	}
	select {
	case werr := <-waited:
		return h.result(c, mode, rio, werr)
	case <-ctx.Done():
		if rio.pg != nil {
			h.cancel(mode, rio.pg, ended)
		} else {
			h.cancelTagged(tag, ended)
		}
		return Result{}, ctx.Err()
	case <-h.dead:
		return Result{}, h.unreachable(nil)
	}
}

// runIO is where one command's output goes: the caller's writers, or
// buffers for the Result; under sudo, stderr passes through pg, which finds
// the wrapper's marker and answers sudo's prompt.
type runIO struct {
	out, err bytes.Buffer
	pg       *pgidWriter
}

// wire connects the session's output streams for c.
func (h *sshHost) wire(sess *ssh.Session, c Cmd, mode becomeMode) *runIO {
	r := &runIO{}
	if c.Stdout != nil {
		sess.Stdout = c.Stdout
	} else {
		sess.Stdout = &r.out
	}
	var errDst io.Writer = &r.err
	if c.Stderr != nil {
		errDst = c.Stderr
	}
	if !mode.sudo() {
		sess.Stderr = errDst
		return r
	}
	r.pg = newPgidWriter(errDst)
	if mode == becomeSudoPassword {
		r.pg.prompt = []byte(sudoPrompt)
	}
	sess.Stderr = r.pg
	return r
}

// result classifies how the session ended: an exit status (any, a failure
// is the caller's to judge), sudo refusing before the command ran, the
// connection gone, or no status at all.
func (h *sshHost) result(c Cmd, mode becomeMode, r *runIO, werr error) (Result, error) {
	if r.pg != nil {
		r.pg.flush()
	}
	var res Result
	if c.Stdout == nil {
		res.Stdout = r.out.Bytes()
	}
	if c.Stderr == nil {
		res.Stderr = r.err.Bytes()
	}
	var exitErr *ssh.ExitError
	if errors.As(werr, &exitErr) {
		res.ExitCode = exitErr.ExitStatus()
	}
	if r.pg != nil && !r.pg.seen() && h.alive() {
		// sudo refused before our wrapper ever ran.
		return res, h.becomeError(mode, r.pg.preamble())
	}
	switch {
	case werr == nil:
		return res, nil
	case exitErr != nil:
		return res, nil
	case !h.alive():
		return res, h.unreachable(werr)
	}
	return res, fmt.Errorf("%s: command ended without a status: %w", h.name, werr)
}

// newSession opens a session, retrying while sshd refuses it for lack of
// slots: sshd frees a session's slot only some time after the session's
// close, so a new session right behind a finished one can be refused even
// though fewer than MaxSessions are open on our side.
func (h *sshHost) newSession(ctx context.Context) (*ssh.Session, error) {
	delay := 5 * time.Millisecond
	deadline := time.Now().Add(10 * time.Second)
	for {
		sess, err := h.client.NewSession()
		if err == nil {
			return sess, nil
		}
		var oce *ssh.OpenChannelError
		if !errors.As(err, &oce) || time.Now().After(deadline) {
			return nil, h.sessionError(err)
		}
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-h.dead:
			return nil, h.unreachable(err)
		}
		delay = min(2*delay, 200*time.Millisecond)
	}
}

// sessionError classifies a failure to open or start a session.
func (h *sshHost) sessionError(err error) error {
	if !h.alive() {
		return h.unreachable(err)
	}
	return fmt.Errorf("%s: opening ssh session: %w", h.name, err)
}

// feedStdin answers sudo's prompt with the password, then — only once the
// wrapper has printed its group id, i.e. sudo let the command start — streams
// the caller's input. Holding the input back means a wrong password can never
// make sudo read the caller's data as further password attempts.
func (h *sshHost) feedStdin(w io.WriteCloser, r io.Reader, mode becomeMode, pg *pgidWriter, ended <-chan struct{}) {
	defer w.Close()
	if mode == becomeSudoPassword {
		select {
		case <-pg.asked:
			if _, err := io.WriteString(w, h.becomePass.Reveal()+"\n"); err != nil {
				return
			}
		case <-pg.ready:
		case <-ended:
			return
		}
		select {
		case <-pg.ready:
		case <-ended:
			return
		}
		if !pg.seen() {
			return
		}
	}
	if r == nil {
		return
	}
	buf := make([]byte, stdinBuffer)
	_, _ = io.CopyBuffer(w, r, buf)
}
