package engine

import (
	"context"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/omsrun/omsrun/internal/playbook"
	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/inventory"
	"github.com/omsrun/omsrun/modules"
)

// Host locks keep two runs from interleaving on one cluster: a run that may
// change hosts creates /var/lock/omsrun/lock on each (atomically, with the
// shell's noclobber) before its first command there, and removes it at the
// end, in the same session that appends the run to /var/log/omsrun/audit.log.
// Check mode takes no lock.

// lockPaths are where a host keeps the run lock and the audit log (a value,
// so that tests can use a temporary folder).
type lockPaths struct {
	Dir, File, AuditDir, AuditFile string
}

// hostPaths are the real places.
func hostPaths() lockPaths {
	return lockPaths{Dir: "/var/lock/omsrun", File: "/var/lock/omsrun/lock", AuditDir: "/var/log/omsrun", AuditFile: "/var/log/omsrun/audit.log"}
}

// LockHolder identifies this run in lock files and the audit log.
type LockHolder struct {
	User, Controller string
	PID              int
	Start            time.Time
	Playbook         string
	// Command is what an exec ran (Options.Command); the audit line names
	// it, since every exec's playbook is "exec".
	Command string
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
func acquireScript(p lockPaths, line string) string {
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
`, p.Dir, q, p.File, lockOK, lockHeldPfx, lockErrPfx, lockRefused)
}

// releaseScript waits for the audit line on stdin, then removes the lock if
// it is still ours and appends the line. HUP and TERM are ignored so the
// release still runs when the connection closes right after asking for it.
// Input that ends without a line (omsrun killed, the connection lost) still
// leaves a line, when the lock was ours: the lock's own line (who, pid,
// playbook) with result=connection-lost, since the run may have changed the
// host and the audit log promises a line for every such run. An empty line
// asks for none.
func releaseScript(p lockPaths, line string) string {
	q := transport.Quote(line)
	return fmt.Sprintf(`trap '' HUP INT TERM
audit=; lost=; read -r audit || [ -n "$audit" ] || lost=1
l=; read -r l 2>/dev/null < %[1]s
if [ "$l" = %[2]s ]; then
  rm -f %[1]s
  [ -z "$lost" ] || audit="$(date -u +%%Y-%%m-%%dT%%H:%%M:%%SZ) $l result=connection-lost changed=unknown"
fi
[ -z "$audit" ] || { [ -d %[3]s ] || mkdir -p %[3]s; printf '%%s\n' "$audit" >> %[4]s; }`, p.File, q, p.AuditDir, p.AuditFile)
}

// LockHeldError says another run holds a host's lock; the host takes no
// further part in the run.
type LockHeldError struct {
	Host, Holder string
	File         string // the lock file on the host
}

func (e *LockHeldError) Error() string {
	return fmt.Sprintf("another omsrun run holds %s (%s); wait for it, or if it is gone, run `omsrun unlock -i INVENTORY %s`", e.File, e.Holder, e.Host)
}

// Unlock removes the run lock whoever holds it (`omsrun unlock`).
func Unlock(ctx context.Context, c transport.Host, h *inventory.Host) (string, error) {
	f := hostPaths().File
	script := fmt.Sprintf("cat %s 2>/dev/null && rm -f %s; true", f, f)
	res, err := c.Run(ctx, transport.Cmd{Script: script, Become: h.Become})
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(res.Stdout)), nil
}

// mayChange reports whether some step of the run may change a host: one
// whose module does not declare itself read-only (modules.ReadOnly, or a
// Waiter that only waits) and that is not forced into check mode. A run
// that cannot change anything takes no lock, so it is never refused by one.
func (r *Runner) mayChange() bool {
	runs := r.stepRuns()
	for i, st := range r.Playbook.Steps {
		if !runs[i] {
			continue
		}
		if r.stepMayChange(st) {
			return true
		}
	}
	return false
}

// stepMayChange reports whether a step may change a host (see mayChange).
func (r *Runner) stepMayChange(st *playbook.Step) bool {
	if st.CheckMode {
		return false
	}
	m, ok := r.Modules(st.Module)
	if !ok {
		return true
	}
	if ro, ok := m.(modules.ReadOnly); ok && ro.ReadOnly() {
		return false
	}
	if w, ok := m.(modules.Waiter); ok && w.OnlyWaits() {
		return false
	}
	return true
}

// auditOnly ends a run that takes no lock but may change hosts (exec --
// CMD, which cannot be classified): each host it reached gets its audit
// line, and a lock held by another run is reported, never obeyed, so a
// command can always look at (or repair) a locked cluster.
func (r *Runner) auditOnly(recap *Recap) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	me := r.newHolder()
	controller, _ := os.Hostname()
	p := hostPaths()
	eachHost(r.Opts.Targets, max(r.Opts.Forks, 1), func(h *inventory.Host) error {
		r.mu.Lock()
		s := r.state[h.Name]
		conn := s.conn
		var changed []string
		for step := range s.changed {
			changed = append(changed, step)
		}
		r.mu.Unlock()
		if conn == nil {
			return nil
		}
		script := fmt.Sprintf("l=; read -r l 2>/dev/null < %s; printf '%%s\\n' \"$l\"; [ -d %[2]s ] || mkdir -p %[2]s; printf '%%s\\n' %[3]s >> %[4]s",
			p.File, p.AuditDir, transport.Quote(auditLine(me, runResult(recap), changed)), p.AuditFile)
		res, err := conn.Run(ctx, transport.Cmd{Script: script, Become: h.Become})
		if err != nil || res.ExitCode != 0 {
			r.Sink.Progress(Progress{Host: h.Name, Warn: fmt.Sprintf("could not append to %s: %v %s", p.AuditFile, err, strings.TrimSpace(string(res.Stderr)))})
			return nil
		}
		if held := strings.TrimSpace(string(res.Stdout)); held != "" && !staleOnThisMachine(held, controller) {
			r.Sink.Progress(Progress{Host: h.Name, Warn: "another omsrun run holds the run lock (" + held + "); this command ran anyway"})
		}
		return nil
	})
}
