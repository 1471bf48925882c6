package remotefile

import (
	"bytes"
	"context"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/omsrun/omsrun/internal/transport"
)

// Write makes the remote file equal f, changing only what differs.
func Write(ctx context.Context, h transport.Host, f File) (Result, error) {
	if f.Path == "" || !path.IsAbs(f.Path) {
		return Result{}, fmt.Errorf("remote file path %q must be absolute", f.Path)
	}
	cur, err := Read(ctx, h, f.Path, f.Become, f.KeepBefore)
	if err != nil {
		return Result{}, err
	}
	if cur.DirMissing {
		return Result{}, &Error{Host: h.Name(), Path: f.Path, Stage: "read", Intact: true,
			Msg: "the directory " + path.Dir(f.Path) + " does not exist (create it in an earlier step)"}
	}
	ch := Compare(cur, f)
	res := Result{Change: ch, Before: cur}
	if !ch.Any() {
		return res, nil
	}
	if ch.Create || ch.Content {
		bak, err := writeContent(ctx, h, f, cur.Exists)
		res.Backup = bak
		if err != nil {
			return res, err
		}
	}
	if err := setAttrs(ctx, h, f, ch.Create); err != nil {
		return res, err
	}
	return res, nil
}

func writeContent(ctx context.Context, h transport.Host, f File, exists bool) (string, error) {
	dir := path.Dir(f.Path)
	bak := ""
	if f.Backup && exists {
		now := f.Now
		if now.IsZero() {
			now = time.Now()
		}
		bak = f.Path + "." + now.Format("20060102150405") + ".bak"
	}
	script := writeScript(f.Path, dir, sum(f.Content), len(f.Content), bak)
	if bak != "" && f.KeepBackups > 0 {
		script += pruneScript(f.KeepBackups)
	}
	res, err := h.Run(ctx, transport.Cmd{Script: script, Stdin: bytes.NewReader(f.Content), Become: f.Become})
	if err != nil {
		return "", fmt.Errorf("writing %s: %w", f.Path, err)
	}
	if res.ExitCode == 0 {
		return bak, nil
	}
	stage, msg := scriptError(res.Stderr, res.ExitCode)
	if res.ExitCode == 41 {
		stage, msg = "write", "interrupted; the previous content was restored"
	}
	e := &Error{Host: h.Name(), Path: f.Path, Stage: stage, Msg: msg,
		// Exit codes below 30 fail before the target is touched; 30-39 and
		// 41 restored it; 40 could not restore it (the message says where
		// the old content is).
		Intact:  res.ExitCode != 40,
		NoSpace: strings.Contains(string(res.Stderr), "No space left on device"),
	}
	if e.NoSpace {
		e.Msg = "no space left on device in " + dir + " (" + msg + ")"
	}
	if bak != "" && res.ExitCode >= 30 {
		return bak, e
	}
	return "", e
}

// writeScript streams stdin into a temporary file beside the target, checks
// it, snapshots the current content, optionally backs it up, then rewrites
// the target in place and verifies it, restoring the snapshot on failure.
// A hangup or termination (the SSH connection dropped, the run cancelled)
// while the target is being rewritten restores it as well.
// Exit codes: 2x before the target was touched, 3x and 41 target restored,
// 40 not restored.
func writeScript(p, dir, wantSum string, wantSize int, bak string) string {
	return `set -u
umask 077
p=` + transport.Quote(p) + `
d=` + transport.Quote(dir) + `
bak=` + transport.Quote(bak) + `
new= old= phase=prepare
clean() { rm -f -- "$new"; if [ -n "$old" ]; then rm -f -- "$old"; fi; }
fail() { c=$1; shift; echo "omsrun-remotefile $*" >&2; clean; exit "$c"; }
restore() {
  c=$1; shift
  if [ -n "$old" ]; then
    if cat -- "$old" > "$p"; then echo "omsrun-remotefile $* (previous content restored)" >&2; clean; exit "$c"; fi
    rm -f -- "$new"
    echo "omsrun-remotefile $*; restoring the previous content failed as well, it is kept in $old" >&2
    exit 40
  fi
  rm -f -- "$p"
  fail "$c" "$* (the partly written new file was removed)"
}
onsig() {
  trap '' HUP INT TERM PIPE
  if [ "$phase" = overwrite ]; then
    if [ -n "$old" ]; then cat -- "$old" > "$p" || exit 40; else rm -f -- "$p"; fi
  fi
  clean; exit 41
}
trap onsig HUP INT TERM PIPE
new=$(mktemp "$d/.omsrun-new.XXXXXX") || fail 20 "temp: cannot create a temporary file in $d"
cat > "$new" || fail 21 "temp: writing the new content to a temporary file in $d failed"
[ "$(($(wc -c < "$new")))" -eq ` + strconv.Itoa(wantSize) + ` ] || fail 22 "temp: the temporary copy has the wrong size"
s=$(sha256sum < "$new") || fail 23 "temp: cannot checksum the temporary copy"
[ "${s%% *}" = ` + wantSum + ` ] || fail 23 "temp: the temporary copy has the wrong checksum"
if [ -e "$p" ]; then
  old=$(mktemp "$d/.omsrun-old.XXXXXX") || fail 24 "snapshot: cannot create a temporary file in $d"
  cat -- "$p" > "$old" || fail 25 "snapshot: copying the current content aside failed"
  if [ -n "$bak" ]; then
    cat -- "$p" > "$bak" || { rm -f -- "$bak"; fail 26 "backup: writing $bak failed"; }
  fi
fi
# The redirection truncates and rewrites the target's own inode: a container
# bind-mounting this single file sees the new content (a rename would not).
phase=overwrite
cat -- "$new" > "$p" || { phase=restore; restore 30 "write: writing $p failed"; }
s=$(sha256sum < "$p") || { phase=restore; restore 31 "verify: cannot checksum $p after writing"; }
[ "${s%% *}" = ` + wantSum + ` ] || { phase=restore; restore 31 "verify: $p does not hold the new content after writing"; }
phase=done
clean
`
}

// BackupGlob is the shell glob of the backups Write keeps of the file named
// by $p (<path>.<YYYYmmddHHMMSS>.bak), in time order when expanded.
const BackupGlob = `"$p".[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9].bak`

// pruneScript runs after a successful write with a backup: it removes the
// oldest backups of $p beyond keep. The glob names only our own
// <path>.<YYYYmmddHHMMSS>.bak files; it expands in name order, which is
// time order.
func pruneScript(keep int) string {
	return `set -- ` + BackupGlob + `
if [ -e "$1" ]; then
  n=$(($# - ` + strconv.Itoa(keep) + `))
  while [ "$n" -gt 0 ]; do rm -f -- "$1"; shift; n=$((n - 1)); done
fi
`
}

// setAttrs applies mode and owner. A new file gets DefaultMode unless a mode is given.
func setAttrs(ctx context.Context, h transport.Host, f File, created bool) error {
	mode := f.Mode
	if mode == 0 && created {
		mode = DefaultMode
	}
	var argv []string
	script := "set -e\np=" + transport.Quote(f.Path) + "\n"
	if mode != 0 {
		script += "chmod -- " + fmt.Sprintf("%04o", mode.Perm()) + ` "$p"` + "\n"
		argv = append(argv, "chmod")
	}
	if f.Owner != "" {
		script += "chown -- " + transport.Quote(f.Owner) + ` "$p"` + "\n"
		argv = append(argv, "chown")
	}
	if len(argv) == 0 {
		return nil
	}
	res, err := h.Run(ctx, transport.Cmd{Script: script, Become: f.Become})
	if err != nil {
		return fmt.Errorf("setting mode/owner of %s: %w", f.Path, err)
	}
	if res.ExitCode != 0 {
		return &Error{Host: h.Name(), Path: f.Path, Stage: strings.Join(argv, "/"), Msg: stderrMsg(res.Stderr, res.ExitCode)}
	}
	return nil
}

// scriptError splits the write script's stderr into its stage and a message
// that also carries the failing tool's own words ("cat: write error: …").
func scriptError(stderr []byte, code int) (stage, msg string) {
	var tagged string
	var other []string
	for _, l := range strings.Split(strings.TrimSpace(string(stderr)), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "omsrun-remotefile "):
			tagged = strings.TrimPrefix(l, "omsrun-remotefile ")
		case l != "":
			other = append(other, l)
		}
	}
	if tagged == "" {
		return "write", stderrMsg(stderr, code)
	}
	stage, msg, ok := strings.Cut(tagged, ": ")
	if !ok {
		stage, msg = "write", tagged
	}
	if len(other) > 0 {
		msg += ": " + strings.Join(other, "; ")
	}
	return stage, msg
}
