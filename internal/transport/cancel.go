package transport

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"
)

// How a cancelled command is stopped: closing its session alone would leave
// the remote process running, so a fresh session kills it.

// cancel kills the command's process group over a fresh session: closing the
// session alone would leave the remote process running.
func (h *sshHost) cancel(mode becomeMode, pg *pgidWriter, ended <-chan struct{}) {
	select {
	case <-pg.ready:
	case <-ended:
		return
	case <-h.dead:
		return
	case <-time.After(killGrace):
		// The wrapper never reported a group (e.g. sudo still waiting); closing
		// the session is all that is left.
		return
	}
	pgid := pg.pgid()
	if pgid <= 1 {
		return
	}
	ctx, stop := context.WithTimeout(context.Background(), killGrace+10*time.Second)
	defer stop()
	if err := h.killGroup(ctx, mode, pgid); err != nil {
		h.cfg.logf("%s: killing process group %d: %v", h.name, pgid, err)
	}
}

// cancelTagged stops a command started without sudo: a fresh session finds
// every process carrying its tag and kills their process groups (TERM, then
// KILL after killGrace). The command may not have started yet when the
// cancel comes, so the search goes on a little while nothing is found, and
// stops early once the session is over.
func (h *sshHost) cancelTagged(tag string, ended <-chan struct{}) {
	select {
	case <-ended:
		return
	case <-h.dead:
		return
	default:
	}
	steps := int(killGrace / (100 * time.Millisecond))
	// grep -z reads environ's NUL-separated entries; the groups are read from
	// /proc/PID/stat (field 5) so children that started their own group are
	// caught too.
	script := fmt.Sprintf(`find() { grep -lzx %[1]s /proc/[0-9]*/environ 2>/dev/null | while IFS=/ read -r _ _ p _; do [ "$p" = "$$" ] || echo "$p"; done; }
k() { for p in $(find); do read -r _ _ _ _ g _ < /proc/$p/stat 2>/dev/null && kill -s "$1" -- "-$g" 2>/dev/null; kill -s "$1" "$p" 2>/dev/null; done; }
i=0; seen=
while [ $i -le %[3]d ]; do
  if [ -n "$(find)" ]; then
    seen=1; sig=TERM; [ $i -lt %[2]d ] || sig=KILL; k $sig
  elif [ -n "$seen" ] || [ $i -ge 10 ]; then
    exit 0
  fi
  i=$((i+1)); sleep 0.1
done`, Quote(tagEnv+"="+tag), steps, steps+10)
	ctx, stop := context.WithTimeout(context.Background(), killGrace+10*time.Second)
	defer stop()
	if err := h.runKill(ctx, becomeNone, script); err != nil {
		h.cfg.logf("%s: killing cancelled command %s: %v", h.name, tag, err)
		return
	}
	h.cfg.logf("%s: killed cancelled command %s", h.name, tag)
}

func (h *sshHost) killGroup(ctx context.Context, mode becomeMode, pgid int) error {
	steps := int(killGrace / (100 * time.Millisecond))
	// dash wants "kill -s SIG -- -PGID", busybox rejects the "--": try both.
	script := fmt.Sprintf(`k() { kill -s "$1" -- "-$2" 2>/dev/null || kill -s "$1" "-$2" 2>/dev/null; }
k TERM %[1]d || exit 0
i=0
while k 0 %[1]d; do
  i=$((i+1)); if [ $i -ge %[2]d ]; then k KILL %[1]d; exit 0; fi; sleep 0.1
done`, pgid, steps)
	if err := h.runKill(ctx, mode, script); err != nil {
		return err
	}
	h.cfg.logf("%s: killed process group %d", h.name, pgid)
	return nil
}

// runKill runs a kill script in a session of its own, on one of the slots
// kept for it beyond MaxSessions, with sudo's password on stdin when needed.
func (h *sshHost) runKill(ctx context.Context, mode becomeMode, script string) error {
	if err := h.acquire(ctx, h.kills); err != nil {
		return err
	}
	defer func() { <-h.kills }()
	sess, err := h.newSession(ctx)
	if err != nil {
		return err
	}
	defer sess.Close()
	var stdin io.WriteCloser
	if mode == becomeSudoPassword {
		if stdin, err = sess.StdinPipe(); err != nil {
			return err
		}
	}
	var out, errOut bytes.Buffer
	sess.Stdout, sess.Stderr = &out, &errOut
	if err := sess.Start(mode.prefix() + "sh -c " + Quote(script)); err != nil {
		return err
	}
	if stdin != nil {
		_, _ = io.WriteString(stdin, h.becomePass.Reveal()+"\n")
		stdin.Close()
	}
	done := make(chan error, 1)
	go func() { done <- sess.Wait() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if err != nil {
		return fmt.Errorf("%w: %s", err, bytes.TrimSpace(append(out.Bytes(), errOut.Bytes()...)))
	}
	return nil
}
