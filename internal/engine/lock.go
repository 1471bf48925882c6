package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/omsrun/omsrun/internal/inventory"
	"github.com/omsrun/omsrun/internal/transport"
)

// Host locks keep two runs from interleaving on one cluster: a run that may
// change hosts creates /var/lock/omsrun/lock on each (atomically, with the
// shell's noclobber) before its first command there, and removes it at the
// end, in the same session that appends the run to /var/log/omsrun/audit.log.
// Check mode takes no lock.
// They are variables only so that tests can point them at a temporary folder.
var (
	lockDir   = "/var/lock/omsrun"
	lockFile  = lockDir + "/lock"
	auditDir  = "/var/log/omsrun"
	auditFile = auditDir + "/audit.log"
)

// LockHolder identifies this run in lock files and the audit log.
type LockHolder struct {
	User, Controller string
	PID              int
	Start            time.Time
	Playbook         string
}

// NewLockHolder describes the current process.
func NewLockHolder(playbook string) LockHolder {
	h := LockHolder{PID: os.Getpid(), Start: time.Now().UTC(), Playbook: playbook}
	if u, err := user.Current(); err == nil {
		h.User = u.Username
	}
	h.Controller, _ = os.Hostname()
	return h
}

func (l LockHolder) String() string {
	return fmt.Sprintf("holder=%s@%s pid=%d start=%s playbook=%s", l.User, l.Controller, l.PID, l.Start.Format(time.RFC3339), l.Playbook)
}

// staleOnThisMachine says whether a lock line was written by a process of
// this controller that no longer runs: only then is taking it over safe.
func staleOnThisMachine(line, controller string) bool {
	f := map[string]string{}
	for _, kv := range strings.Fields(line) {
		if k, v, ok := strings.Cut(kv, "="); ok {
			f[k] = v
		}
	}
	_, host, _ := strings.Cut(f["holder"], "@")
	pid, err := strconv.Atoi(f["pid"])
	if host == "" || host != controller || err != nil || pid <= 0 {
		return false
	}
	return syscall.Kill(pid, 0) == syscall.ESRCH
}

// How the lock is taken and given back, at the cost of no session of its own
// on the critical path: the run's first command on a host carries the
// acquisition in front of it (lockedHost), which reports on stderr before the
// command starts; once the lock is ours, one session is opened beside the run
// and waits on its stdin (hostRelease). The run ends by sending it the audit
// line and closing stdin; it then removes the lock (if still ours) and
// appends the line. If the control machine dies, the closed connection ends
// the wait the same way, so the lock goes with its run.

// Lines the acquisition writes on stderr before the command runs.
const (
	lockOK      = "omsrun-lock:ok"
	lockHeldPfx = "omsrun-lock:held:"
	lockErrPfx  = "omsrun-lock:error:"
)

// lockRefused is exit status of the acquisition when it did not run the command.
const lockRefused = 97

// acquireScript creates the lock file atomically (noclobber) with our line,
// or finds our own line already there; otherwise it says who holds it and
// exits without running anything.
func acquireScript(line string) string {
	q := transport.Quote(line)
	return fmt.Sprintf(`[ -d %[1]s ] || mkdir -p %[1]s 2>/dev/null
if { set -C; printf '%%s\n' %[2]s > %[3]s; } 2>/dev/null; then set +C; echo %[4]s >&2
else
  set +C; omsrun_l=; read -r omsrun_l 2>/dev/null < %[3]s
  if [ "$omsrun_l" = %[2]s ]; then echo %[4]s >&2
  elif [ -e %[3]s ]; then printf '%%s%%s\n' %[5]s "$omsrun_l" >&2; exit %[7]d
  else echo '%[6]scannot create %[3]s' >&2; exit %[7]d; fi
fi
unset omsrun_l
`, lockDir, q, lockFile, lockOK, lockHeldPfx, lockErrPfx, lockRefused)
}

// releaseScript waits for the audit line on stdin, then removes the lock if
// it is still ours and appends the line. HUP and TERM are ignored so the
// release still runs when the connection closes right after asking for it.
func releaseScript(line string) string {
	q := transport.Quote(line)
	return fmt.Sprintf(`trap '' HUP INT TERM
audit=; read -r audit
l=; read -r l 2>/dev/null < %[1]s; [ "$l" = %[2]s ] && rm -f %[1]s
[ -z "$audit" ] || { [ -d %[3]s ] || mkdir -p %[3]s; printf '%%s\n' "$audit" >> %[4]s; }`, lockFile, q, auditDir, auditFile)
}

// LockHeldError says another run holds a host's lock; the host takes no
// further part in the run.
type LockHeldError struct {
	Host, Holder string
}

func (e *LockHeldError) Error() string {
	return fmt.Sprintf("another omsrun run holds %s (%s); wait for it, or if it is gone, run `omsrun unlock -i INVENTORY %s`", lockFile, e.Holder, e.Host)
}

type lockState int

const (
	lockNone   lockState = iota // no command has tried yet
	lockTaking                  // the first command is on its way
	lockHeld                    // ours: the release session runs
	lockFailed                  // refused or failed: the host takes no further part
)

// lockedHost is a host in a changing run. Its first command takes the lock;
// the others wait for the answer, then run as they are.
type lockedHost struct {
	transport.Host
	inv  *inventory.Host
	line string // our line in the lock file

	mu      sync.Mutex
	state   lockState
	ready   chan struct{} // closed when a lockTaking ends
	err     error         // why the lock is lockFailed
	tried   bool          // an acquisition was sent: the release must run even if its answer was lost
	release *hostRelease
}

func newLockedHost(c transport.Host, h *inventory.Host, me LockHolder) *lockedHost {
	return &lockedHost{Host: c, inv: h, line: me.String()}
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
		l.release = startRelease(l.Host, l.inv, l.line)
	}
}

// runFirst runs c with the acquisition in front of it. A command that must
// not be retried after a refusal (it streams stdin) or that runs as another
// user than the lock needs gets a separate acquisition first.
func (l *lockedHost) runFirst(ctx context.Context, c transport.Cmd) (transport.Result, error) {
	if c.Stdin != nil || c.Become != l.inv.Become {
		if err := l.acquireAlone(ctx); err != nil {
			return transport.Result{}, err
		}
		return l.Host.Run(ctx, c)
	}
	fc := c
	if c.Script != "" {
		fc.Script = acquireScript(l.line) + c.Script
	} else {
		fc.Script, fc.Argv = acquireScript(l.line)+"exec "+transport.Join(c.Argv), nil
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

// acquireAlone takes the lock in a session of its own.
func (l *lockedHost) acquireAlone(ctx context.Context) error {
	res, err := l.Host.Run(ctx, transport.Cmd{Script: acquireScript(l.line) + "true", Become: l.inv.Become})
	if err != nil {
		l.unsettle(err)
		return err
	}
	out := string(res.Stderr)
	switch {
	case strings.Contains(out, lockOK):
		l.settle(lockHeld, nil)
		return nil
	case strings.Contains(out, lockHeldPfx):
		held := strings.TrimSpace(out[strings.Index(out, lockHeldPfx)+len(lockHeldPfx):])
		if i := strings.IndexByte(held, '\n'); i >= 0 {
			held = held[:i]
		}
		return l.takeOver(ctx, held)
	}
	err = fmt.Errorf("the run lock %s: %s", lockFile, strings.TrimSpace(out))
	l.settle(lockFailed, err)
	return err
}

// takeOver replaces a lock whose holder died on this machine; any other
// holder refuses the host.
func (l *lockedHost) takeOver(ctx context.Context, held string) error {
	controller, _ := os.Hostname()
	if !staleOnThisMachine(held, controller) {
		err := &LockHeldError{Host: l.inv.Name, Holder: held}
		l.settle(lockFailed, err)
		return err
	}
	script := fmt.Sprintf("printf '%%s\\n' %s > %s", transport.Quote(l.line), lockFile)
	res, err := l.Host.Run(ctx, transport.Cmd{Script: script, Become: l.inv.Become})
	if err == nil && res.ExitCode != 0 {
		err = fmt.Errorf("taking over the stale run lock %s: %s", lockFile, bytes.TrimSpace(res.Stderr))
	}
	if err != nil {
		l.settle(lockFailed, err)
		return err
	}
	l.settle(lockHeld, nil)
	return nil
}

// finish gives the lock back with the audit line ("" appends none). A host
// whose acquisition was sent but never answered gets a one-off release, which
// removes the lock only if it is ours.
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
	res, err := l.Host.Run(ctx, transport.Cmd{Script: releaseScript(l.line), Stdin: strings.NewReader(""), Become: l.inv.Become})
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

func startRelease(c transport.Host, h *inventory.Host, line string) *hostRelease {
	pr, pw := io.Pipe()
	r := &hostRelease{stdin: pw, done: make(chan error, 1)}
	go func() {
		// Not the run's context: an interrupted run must still release its locks.
		res, err := c.Run(context.Background(), transport.Cmd{Script: releaseScript(line), Stdin: pr, Become: h.Become})
		if err == nil && res.ExitCode != 0 {
			err = fmt.Errorf("releasing the run lock %s: %s", lockFile, strings.TrimSpace(string(res.Stderr)))
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

// Unlock removes the run lock whoever holds it (`omsrun unlock`).
func Unlock(ctx context.Context, c transport.Host, h *inventory.Host) (string, error) {
	script := fmt.Sprintf("cat %s 2>/dev/null && rm -f %s; true", lockFile, lockFile)
	res, err := c.Run(ctx, transport.Cmd{Script: script, Become: h.Become})
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(res.Stdout)), nil
}
