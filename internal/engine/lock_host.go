package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/inventory"
)

type lockState int

const (
	lockNone   lockState = iota // no command has tried yet
	lockTaking                  // the first command is on its way
	lockHeld                    // ours: the release session runs
	lockFailed                  // refused or failed: the host takes no further part
)

// lockedHost is a host in a changing run. Its first command takes the lock;
// the others wait for the answer, then run as they are.
//
// Why the lock rides on the first command instead of being a phase of its
// own before step 1 (as k0sctl's phase/lock.go is): a phase costs one more
// SSH session round trip per host before any step may start, and the run
// waits for the slowest host's. Measured with `make bench` part 1 (10 ×
// command true on 3 hosts against the floor program, docs/PERFORMANCE.md):
// with the lock as its own session before step 1, 918 ms against the floor's
// 596 ms, 1.54× — over the 1.5× target, the lock alone ~80 ms of it; riding
// on the first command, 790 ms against 601 ms, 1.31×. So the lock stays here,
// at the price of the four states below: lockNone until a first command is
// sent, lockTaking while its answer (a marker on stderr, before the command
// starts) is awaited and other commands to the host wait on ready, then
// lockHeld (the release session runs beside the run) or lockFailed (the
// host's first step fails with the holder's line and the host takes no
// further part). The release and the audit line go through that one session
// at the end, so the lock still goes with the connection if omsrun dies.
type lockedHost struct {
	transport.Host
	inv   *inventory.Host
	line  string // our line in the lock file
	paths lockPaths

	mu      sync.Mutex
	state   lockState
	ready   chan struct{} // closed when a lockTaking ends
	err     error         // why the lock is lockFailed
	tried   bool          // an acquisition was sent: the release must run even if its answer was lost
	release *hostRelease
	// tookOver is the line of a stale lock this run replaced, until reported.
	tookOver string
}

var _ transport.Host = (*lockedHost)(nil)

func newLockedHost(c transport.Host, h *inventory.Host, me LockHolder) *lockedHost {
	return &lockedHost{Host: c, inv: h, line: me.String(), paths: hostPaths()}
}

// refused returns the error that keeps this host out of the run, if any.
func (l *lockedHost) refused() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.state == lockFailed {
		return l.err
	}
	return nil
}

// Run implements transport.Host.
func (l *lockedHost) Run(ctx context.Context, c transport.Cmd) (transport.Result, error) {
	for {
		l.mu.Lock()
		switch l.state {
		case lockHeld:
			l.mu.Unlock()
			return l.Host.Run(ctx, c)
		case lockFailed:
			err := l.err
			l.mu.Unlock()
			return transport.Result{}, err
		case lockTaking:
			ready := l.ready
			l.mu.Unlock()
			select {
			case <-ready:
			case <-ctx.Done():
				return transport.Result{}, ctx.Err()
			}
			continue
		}
		l.state, l.ready, l.tried = lockTaking, make(chan struct{}), true
		l.mu.Unlock()
		return l.runFirst(ctx, c)
	}
}

// settle ends lockTaking; only the first call counts.
func (l *lockedHost) settle(st lockState, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.state != lockTaking {
		return
	}
	l.state, l.err = st, err
	close(l.ready)
	if st == lockHeld {
		l.release = startRelease(l.Host, l.inv, l.paths, l.line)
	}
}

// runFirst runs c with the acquisition in front of it. A command that must
// not be sent twice (it streams stdin, and a stale lock's takeover runs the
// command again) or that runs as another user than the lock needs gets the
// acquisition in front of a `true` of its own first.
func (l *lockedHost) runFirst(ctx context.Context, c transport.Cmd) (transport.Result, error) {
	if c.Stdin != nil || c.Become != l.inv.Become {
		if _, err := l.acquireWith(ctx, transport.Cmd{Argv: []string{"true"}, Become: l.inv.Become}); err != nil {
			return transport.Result{}, err
		}
		return l.Host.Run(ctx, c)
	}
	return l.acquireWith(ctx, c)
}

// acquireWith runs c with the acquisition in front of it and settles the
// lock from the answer; after taking over a stale lock it runs c again, as
// the first attempt stopped before c.
func (l *lockedHost) acquireWith(ctx context.Context, c transport.Cmd) (transport.Result, error) {
	fc := c
	if c.Script != "" {
		fc.Script = acquireScript(l.paths, l.line) + c.Script
	} else {
		fc.Script, fc.Argv = acquireScript(l.paths, l.line)+"exec "+transport.Join(c.Argv), nil
	}
	var captured bytes.Buffer
	dst := c.Stderr
	if dst == nil {
		dst = &captured
	}
	mw := &lockMarker{dst: dst, onOK: func() { l.settle(lockHeld, nil) }}
	fc.Stderr = mw
	res, err := l.Host.Run(ctx, fc)
	mw.flush()
	if c.Stderr == nil {
		res.Stderr = captured.Bytes()
	}
	switch {
	case mw.ok:
		return res, err
	case mw.held != "" && res.ExitCode == lockRefused:
		if err := l.takeOver(ctx, mw.held); err != nil {
			return transport.Result{}, err
		}
		return l.Host.Run(ctx, c)
	case mw.failed != "" && res.ExitCode == lockRefused:
		err := fmt.Errorf("the run lock: %s", mw.failed)
		l.settle(lockFailed, err)
		return transport.Result{}, err
	}
	// The command never got as far as the lock (the connection, sudo, or ctx
	// failed): the next command tries again. When sudo refused, nothing ran,
	// so there is nothing to release either (a second refusal would only add
	// sudo's delay to the end of the run).
	l.unsettle(err)
	if err == nil {
		err = fmt.Errorf("the run lock on %s: no answer from the host (exit %d): %s", l.inv.Name, res.ExitCode, bytes.TrimSpace(res.Stderr))
	}
	return res, err
}

// unsettle puts a lockTaking back to lockNone after a command that failed
// with err before the acquisition answered.
func (l *lockedHost) unsettle(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var be *transport.BecomeError
	if errors.As(err, &be) {
		l.tried = false // sudo refused: nothing ran, nothing to release
	}
	if l.state == lockTaking {
		l.state = lockNone
		close(l.ready)
	}
}

// takeOver replaces a lock whose holder died on this machine; any other
// holder refuses the host.
func (l *lockedHost) takeOver(ctx context.Context, held string) error {
	controller, _ := os.Hostname()
	if !staleOnThisMachine(held, controller) {
		err := &LockHeldError{Host: l.inv.Name, Holder: held, File: l.paths.File}
		l.settle(lockFailed, err)
		return err
	}
	script := fmt.Sprintf("printf '%%s\\n' %s > %s", transport.Quote(l.line), l.paths.File)
	res, err := l.Host.Run(ctx, transport.Cmd{Script: script, Become: l.inv.Become})
	if err == nil && res.ExitCode != 0 {
		err = fmt.Errorf("taking over the stale run lock %s: %s", l.paths.File, bytes.TrimSpace(res.Stderr))
	}
	if err != nil {
		l.settle(lockFailed, err)
		return err
	}
	l.mu.Lock()
	l.tookOver = held
	l.mu.Unlock()
	l.settle(lockHeld, nil)
	return nil
}

// takenOver returns, once, the line of a stale lock this run took over, so
// the run reports it rather than taking it silently.
func (l *lockedHost) takenOver() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	held := l.tookOver
	l.tookOver = ""
	return held
}

// finish gives the lock back with the audit line ("" appends none). A host
// whose acquisition was sent but never answered gets a one-off release, which
// removes the lock only if it is ours and appends the line (the command rode
// on the acquisition, so it may have run).
func (l *lockedHost) finish(ctx context.Context, audit string) error {
	l.mu.Lock()
	rel, tried, st := l.release, l.tried, l.state
	l.mu.Unlock()
	switch {
	case rel != nil:
		return rel.finish(ctx, audit)
	case !tried || st == lockFailed:
		return nil
	}
	// The run's own line, not an end of input: that would read as a lost connection.
	res, err := l.Host.Run(ctx, transport.Cmd{Script: releaseScript(l.paths, l.line), Stdin: strings.NewReader(strings.ReplaceAll(audit, "\n", " ") + "\n"), Become: l.inv.Become})
	if err == nil && res.ExitCode != 0 {
		err = fmt.Errorf("releasing the run lock: %s", bytes.TrimSpace(res.Stderr))
	}
	return err
}

// lockMarker sits in front of the first command's stderr: it takes out the
// acquisition's line and passes everything after it through.
type lockMarker struct {
	dst  io.Writer
	onOK func()

	buf          []byte
	done         bool
	ok           bool
	held, failed string
}

func (w *lockMarker) Write(p []byte) (int, error) {
	if w.done {
		return w.dst.Write(p)
	}
	w.buf = append(w.buf, p...)
	var out []byte // lines before the marker (a login script's noise) pass through
	for !w.done {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			if len(w.buf) > 64<<10 {
				out, w.buf, w.done = append(out, w.buf...), nil, true
			}
			break
		}
		line := string(w.buf[:i])
		w.buf = w.buf[i+1:]
		switch {
		case line == lockOK:
			w.ok, w.done = true, true
			w.onOK()
		case strings.HasPrefix(line, lockHeldPfx):
			w.held, w.done = strings.TrimPrefix(line, lockHeldPfx), true
		case strings.HasPrefix(line, lockErrPfx):
			w.failed, w.done = strings.TrimPrefix(line, lockErrPfx), true
		default:
			out = append(append(out, line...), '\n')
		}
	}
	if w.done {
		out, w.buf = append(out, w.buf...), nil
	}
	if len(out) > 0 {
		if _, err := w.dst.Write(out); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// flush passes on what is held back when the output ends without a line.
func (w *lockMarker) flush() {
	if !w.done && len(w.buf) > 0 {
		_, _ = w.dst.Write(w.buf)
	}
	w.done, w.buf = true, nil
}

// hostRelease is the session that gives the lock back at the end.
type hostRelease struct {
	stdin *io.PipeWriter
	done  chan error
}

func startRelease(c transport.Host, h *inventory.Host, p lockPaths, line string) *hostRelease {
	pr, pw := io.Pipe()
	r := &hostRelease{stdin: pw, done: make(chan error, 1)}
	go func() {
		// Not the run's context: an interrupted run must still release its locks.
		res, err := c.Run(context.Background(), transport.Cmd{Script: releaseScript(p, line), Stdin: pr, Become: h.Become})
		if err == nil && res.ExitCode != 0 {
			err = fmt.Errorf("releasing the run lock %s: %s", p.File, strings.TrimSpace(string(res.Stderr)))
		}
		pr.Close()
		r.done <- err
	}()
	return r
}

// finish hands the session the audit line, which makes it remove the lock,
// and waits for it to end.
func (r *hostRelease) finish(ctx context.Context, audit string) error {
	_, _ = io.WriteString(r.stdin, strings.ReplaceAll(audit, "\n", " ")+"\n")
	r.stdin.Close()
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
