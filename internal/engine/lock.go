package engine

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/omsrun/omsrun/internal/inventory"
	"github.com/omsrun/omsrun/internal/transport"
)

// Host locks keep two runs from interleaving on one cluster: a run that may
// change hosts creates /var/lock/omsrun/lock on each (atomically, with the
// shell's noclobber) and removes it at the end, in the same session that
// appends the run to /var/log/omsrun/audit.log. Check mode takes no lock.
const (
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

// hostLock is a held run lock: one session stays open on the host for the
// whole run, waiting on its stdin. The run ends by sending the audit line
// and closing stdin; the session then removes the lock and appends the line.
// A held session costs one session set-up per run instead of two, and if
// the control machine dies the closed connection ends the wait, so the lock
// goes with its run.
type hostLock struct {
	stdin *io.PipeWriter
	done  chan error
}

// lineSink hands each line written to it to a channel.
type lineSink struct {
	buf   []byte
	lines chan string
}

func (w *lineSink) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.lines <- string(w.buf[:i])
		w.buf = w.buf[i+1:]
	}
}

// lockHost takes the lock on one host. It fails with the holder's line when
// another live run has it.
func lockHost(ctx context.Context, c transport.Host, h *inventory.Host, me LockHolder) (*hostLock, error) {
	line := transport.Quote(me.String())
	// Shell builtins only once the folders exist. HUP and TERM are ignored so
	// that the release still runs when the connection closes right after it
	// was asked for.
	script := fmt.Sprintf(`trap '' HUP INT TERM
[ -d %[1]s ] || mkdir -p %[1]s || exit 3
if ( set -C; printf '%%s
' %[2]s > %[3]s ) 2>/dev/null; then echo ACQUIRED
else
  echo HELD; read -r l < %[3]s; echo "$l"
  read -r verdict; [ "$verdict" = TAKE ] || exit 0
  printf '%%s
' %[2]s > %[3]s && echo ACQUIRED
fi
read -r audit
read -r l < %[3]s; [ "$l" = %[2]s ] && rm -f %[3]s
[ -z "$audit" ] || { [ -d %[4]s ] || mkdir -p %[4]s; printf '%%s
' "$audit" >> %[5]s; }`,
		lockDir, line, lockFile, auditDir, auditFile)
	pr, pw := io.Pipe()
	out := &lineSink{lines: make(chan string, 4)}
	l := &hostLock{stdin: pw, done: make(chan error, 1)}
	go func() {
		// Not the run's context: an interrupted run must still release its locks.
		res, err := c.Run(context.Background(), transport.Cmd{Script: script, Stdin: pr, Stdout: out, Become: h.Become})
		if err == nil && res.ExitCode != 0 {
			err = fmt.Errorf("the run lock %s: %s", lockFile, strings.TrimSpace(string(res.Stderr)))
		}
		pr.Close()
		l.done <- err
	}()
	next := func() (string, error) {
		select {
		case s := <-out.lines:
			return s, nil
		case err := <-l.done:
			if err == nil {
				err = fmt.Errorf("the run lock session on %s ended early", h.Name)
			}
			return "", err
		case <-ctx.Done():
			pw.Close()
			return "", ctx.Err()
		}
	}
	first, err := next()
	if err != nil {
		return nil, err
	}
	if first == "ACQUIRED" {
		return l, nil
	}
	held, err := next()
	if err != nil {
		return nil, err
	}
	if !staleOnThisMachine(held, me.Controller) {
		io.WriteString(pw, "NO\n")
		pw.Close()
		return nil, fmt.Errorf("another omsrun run holds %s (%s); wait for it, or if it is gone, run `omsrun unlock -i INVENTORY %s`", lockFile, held, h.Name)
	}
	// The run that held it died on this machine: take it over.
	io.WriteString(pw, "TAKE\n")
	if s, err := next(); err != nil || s != "ACQUIRED" {
		pw.Close()
		return nil, fmt.Errorf("taking over the stale run lock %s failed: %v", lockFile, err)
	}
	return l, nil
}

// release hands the session the audit line, which makes it remove the lock,
// and waits for it to finish.
func (l *hostLock) release(ctx context.Context, audit string) error {
	io.WriteString(l.stdin, strings.ReplaceAll(audit, "\n", " ")+"\n")
	l.stdin.Close()
	select {
	case err := <-l.done:
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
