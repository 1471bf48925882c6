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

// lockHost takes the lock on one host. It fails with the holder's line when
// another live run has it.
func lockHost(ctx context.Context, c transport.Host, h *inventory.Host, me LockHolder) error {
	line := me.String()
	// Shell builtins only, once the folder exists: this runs on every host
	// before every changing run, so it must cost no more than a session.
	script := fmt.Sprintf("[ -d %[1]s ] || mkdir -p %[1]s || exit 3; set -C; if { printf '%%s\\n' %[2]s > %[3]s; } 2>/dev/null; then echo ACQUIRED; else echo HELD; read -r l < %[3]s; echo \"$l\"; fi",
		lockDir, transport.Quote(line), lockFile)
	res, err := c.Run(ctx, transport.Cmd{Script: script, Become: h.Become})
	if err != nil {
		return err
	}
	out := strings.TrimSpace(string(res.Stdout))
	if res.ExitCode != 0 {
		return fmt.Errorf("taking the run lock %s: %s", lockFile, strings.TrimSpace(string(res.Stderr)))
	}
	if out == "ACQUIRED" {
		return nil
	}
	held := strings.TrimSpace(strings.TrimPrefix(out, "HELD"))
	if staleOnThisMachine(held, me.Controller) {
		// The run that held it died on this machine: take it over.
		take := fmt.Sprintf("printf '%%s\\n' %s > %s", transport.Quote(line), lockFile)
		if res, err := c.Run(ctx, transport.Cmd{Script: take, Become: h.Become}); err != nil || res.ExitCode != 0 {
			return fmt.Errorf("taking over the stale run lock %s failed", lockFile)
		}
		return nil
	}
	return fmt.Errorf("another omsrun run holds %s (%s); wait for it, or if it is gone, run `omsrun unlock -i INVENTORY %s`", lockFile, held, h.Name)
}

// unlockHost removes our lock (only ours) and appends the audit line.
func unlockHost(ctx context.Context, c transport.Host, h *inventory.Host, me LockHolder, audit string) error {
	script := fmt.Sprintf("read -r l < %[1]s 2>/dev/null; [ \"$l\" = %[2]s ] && rm -f %[1]s; [ -d %[3]s ] || mkdir -p %[3]s; printf '%%s\\n' %[4]s >> %[5]s",
		lockFile, transport.Quote(me.String()), auditDir, transport.Quote(audit), auditFile)
	res, err := c.Run(ctx, transport.Cmd{Script: script, Become: h.Become})
	if err != nil {
		return err
	}
	if res.ExitCode != 0 {
		return fmt.Errorf("releasing the run lock: %s", strings.TrimSpace(string(res.Stderr)))
	}
	return nil
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
