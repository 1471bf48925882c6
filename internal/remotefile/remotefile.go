// Package remotefile is the one way omsrun writes files on hosts. It writes
// in place — truncating and rewriting the file's own inode — because OMS's
// config.yaml is bind-mounted into a running container as a single file, and
// the usual write-then-rename leaves the container reading the old inode
// forever. In-place writes are made safe another way: the new content first
// lands in a temporary file beside the target (so a full disk fails before
// the target is touched) and is verified there; the target's old content is
// copied aside and put back in place if writing or verifying the target fails.
// Content always travels on stdin, never in a command line, since it may hold
// passwords.
package remotefile

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/omsrun/omsrun/internal/transport"
)

// MaxContentRead is the largest file whose content Read fetches for a diff;
// larger ones are compared by checksum only.
const MaxContentRead = 4 << 20

// DefaultMode is the mode of a file created without an explicit mode: files
// omsrun writes often hold passwords.
const DefaultMode fs.FileMode = 0o600

// File is the desired state of one remote file.
type File struct {
	Path    string
	Content []byte
	// Mode is applied when non-zero; zero keeps an existing file's mode and
	// creates a new file with DefaultMode.
	Mode fs.FileMode
	// Owner is "user" or "user:group"; empty leaves ownership alone.
	Owner string
	// Become runs every command through sudo.
	Become bool
	// Backup keeps the previous content as <path>.<YYYYmmddHHMMSS>.bak (mode 0600)
	// when the content changes.
	Backup bool
	// KeepBackups, when above zero, removes the oldest of the path's backups
	// after writing one, so that only this many remain.
	KeepBackups int
	// Now stamps the backup's name; the zero value means time.Now().
	Now time.Time
	// KeepBefore makes Write fetch the previous content into Result.Before
	// (for a diff after the fact); off, only its checksum travels.
	KeepBefore bool
}

// State is what a remote path holds now.
type State struct {
	Exists bool
	Mode   fs.FileMode
	Owner  string
	Group  string
	// UID and GID are the numeric ids, for owners given as numbers.
	UID, GID string
	Size     int64
	// SHA256 is the hex digest of the content.
	SHA256 string
	// Content is filled only when Read was asked for it.
	Content []byte
	// HaveContent says Content was fetched (it is not for files over MaxContentRead).
	HaveContent bool
	// DirMissing says the file's directory does not exist (nor the file).
	DirMissing bool
}

// Change says what Write would do to get from a State to a File.
type Change struct {
	Create, Content, Mode, Owner bool
	// From describes the current mode/owner for messages ("mode 0644").
	From State
}

// Any reports whether anything would change.
func (c Change) Any() bool { return c.Create || c.Content || c.Mode || c.Owner }

// String says in a few words what would change.
func (c Change) String() string {
	if c.Create {
		return "create"
	}
	var parts []string
	if c.Content {
		parts = append(parts, "content")
	}
	if c.Mode {
		parts = append(parts, fmt.Sprintf("mode from %04o", c.From.Mode))
	}
	if c.Owner {
		parts = append(parts, "owner from "+c.From.Owner+":"+c.From.Group)
	}
	if len(parts) == 0 {
		return "unchanged"
	}
	return strings.Join(parts, ", ")
}

// Result is what Write did.
type Result struct {
	Change
	// Backup is the path of the backup written, if any.
	Backup string
	// Before is the previous state, content included.
	Before State
}

// Changed reports whether the host was changed.
func (r Result) Changed() bool { return r.Any() }

// Describe says in one line what Write did to path, for a module's message.
func (r Result) Describe(path string) string {
	switch {
	case !r.Any():
		return path + " unchanged"
	case r.Create:
		return "created " + path
	}
	s := "updated " + path + " (" + r.Change.String() + ")"
	if r.Backup != "" {
		s += "; previous version kept as " + r.Backup
	}
	return s
}

// Error is a failed write. Intact says the target still holds its previous
// content (or, for a new file, does not exist).
type Error struct {
	Host, Path string
	// Stage is where it failed: temp, snapshot, backup, write, verify, chmod, chown, read.
	Stage string
	Msg   string
	// Intact is true when the target was left as it was before.
	Intact bool
	// NoSpace is true when the file system is full.
	NoSpace bool
}

// ErrNoSpace is matched by errors.Is for a write that failed on a full disk.
var ErrNoSpace = errors.New("no space left on device")

func (e *Error) Error() string {
	s := fmt.Sprintf("%s: writing %s failed at %s: %s", e.Host, e.Path, e.Stage, e.Msg)
	if e.Intact {
		s += " (the previous content is intact)"
	}
	return s
}

// Is makes errors.Is(err, ErrNoSpace) work.
func (e *Error) Is(target error) bool { return target == ErrNoSpace && e.NoSpace }

// Compare says what must change to get from cur to f.
func Compare(cur State, f File) Change {
	ch := Change{From: cur}
	if !cur.Exists {
		ch.Create = true
		return ch
	}
	ch.Content = cur.SHA256 != sum(f.Content)
	ch.Mode = f.Mode != 0 && cur.Mode.Perm() != f.Mode.Perm()
	if f.Owner != "" {
		user, group, hasGroup := strings.Cut(f.Owner, ":")
		ch.Owner = !sameID(user, cur.Owner, cur.UID) || hasGroup && !sameID(group, cur.Group, cur.GID)
	}
	return ch
}

// sameID compares a wanted owner (name or numeric id) with what stat printed.
func sameID(want, name, id string) bool { return want == "" || want == name || want == id }

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// Read returns the state of path on h in one command; withContent also
// fetches the content (for diffs). A missing file is not an error, nor is a
// missing parent directory (State.DirMissing): in check mode an earlier step
// would have created it. A directory at the path is an error.
func Read(ctx context.Context, h transport.Host, p string, become, withContent bool) (State, error) {
	want := "0"
	if withContent {
		want = "1"
	}
	// The parent folder is worked out here: $(dirname …) would drop a trailing
	// newline of its name.
	script := `p=` + transport.Quote(p) + `
if [ -d "$p" ]; then echo "omsrun-stat dir"; exit 0; fi
if [ ! -e "$p" ]; then
  if [ -d ` + transport.Quote(path.Dir(p)) + ` ]; then echo "omsrun-stat absent"; else echo "omsrun-stat nodir"; fi
  exit 0
fi
s=$(stat -L -c '%a %U %G %u %g %s' -- "$p") || exit 1
h=$(sha256sum < "$p") || exit 1
echo "omsrun-stat file $s ${h%% *}"
if [ ` + want + ` = 1 ] && [ "${s##* }" -le ` + strconv.Itoa(MaxContentRead) + ` ]; then exec cat -- "$p"; fi
`
	res, err := h.Run(ctx, transport.Cmd{Script: script, Become: become})
	if err != nil {
		return State{}, fmt.Errorf("reading %s: %w", p, err)
	}
	if res.ExitCode != 0 {
		return State{}, &Error{Host: h.Name(), Path: p, Stage: "read", Msg: stderrMsg(res.Stderr, res.ExitCode), Intact: true}
	}
	header, rest, _ := bytes.Cut(res.Stdout, []byte("\n"))
	f := strings.Fields(string(header))
	if len(f) < 2 || f[0] != "omsrun-stat" {
		return State{}, fmt.Errorf("reading %s on %s: unexpected answer %q", p, h.Name(), header)
	}
	switch f[1] {
	case "absent":
		return State{}, nil
	case "dir":
		return State{}, fmt.Errorf("%s: %s is a directory, not a file", h.Name(), p)
	case "nodir":
		return State{DirMissing: true}, nil
	}
	if len(f) != 9 {
		return State{}, fmt.Errorf("reading %s on %s: unexpected answer %q", p, h.Name(), header)
	}
	mode, err1 := strconv.ParseUint(f[2], 8, 32)
	size, err2 := strconv.ParseInt(f[7], 10, 64)
	if err1 != nil || err2 != nil {
		return State{}, fmt.Errorf("reading %s on %s: unexpected answer %q", p, h.Name(), header)
	}
	st := State{Exists: true, Mode: fs.FileMode(mode), Owner: f[3], Group: f[4], UID: f[5], GID: f[6], Size: size, SHA256: f[8]}
	if withContent && size <= MaxContentRead {
		st.Content = rest
		st.HaveContent = true
	}
	return st, nil
}

// Plan reads the target (with content, for a diff) and says what Write would change.
func Plan(ctx context.Context, h transport.Host, f File) (State, Change, error) {
	cur, err := Read(ctx, h, f.Path, f.Become, true)
	if err != nil {
		return State{}, Change{}, err
	}
	return cur, Compare(cur, f), nil
}

// stderrMsg is the last meaningful line of stderr, without the script's tag.
func stderrMsg(stderr []byte, code int) string {
	lines := strings.Split(strings.TrimSpace(string(stderr)), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			return strings.TrimPrefix(l, "omsrun-remotefile ")
		}
	}
	return fmt.Sprintf("exit status %d", code)
}
