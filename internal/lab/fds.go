package lab

import (
	"os"
	"strconv"
	"syscall"
)

// The lab is used under `flock /var/lib/omslab/e2e.lock -c …`, and flock
// hands the locked descriptor to its command. Go's os/exec does not close
// descriptors a process inherited, so every daemon the lab starts (dockerd,
// sshd, MariaDB, …) would keep the lock open, and the lock would stay held
// as long as the lab runs: the next engineer's `flock … -c 'omslab down; …'`
// then waits forever. Marking every inherited descriptor close-on-exec when
// a lab process starts (omslab, the e2e tests, the bench) keeps the lock
// with the command that took it.
func init() { closeInheritedOnExec() }

func closeInheritedOnExec() {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range entries {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			syscall.CloseOnExec(fd)
		}
	}
}
