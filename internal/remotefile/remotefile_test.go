package remotefile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/omsrun/omsrun/internal/transport/transporttest"
)

func inode(t *testing.T, p string) uint64 {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

func TestWriteCreatesWithDefaultMode(t *testing.T) {
	h := transporttest.NewLocal(t)
	p := filepath.Join(h.Dir, "config.yaml")
	content := []byte("oms_meta_password: \"s3cret-value\"\nbinary\x00\xff end")
	res, err := Write(context.Background(), h, File{Path: p, Content: content, Backup: true})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed() || !res.Create || res.Backup != "" {
		t.Fatalf("result = %+v; want a create without backup", res)
	}
	got, _ := os.ReadFile(p)
	if !bytes.Equal(got, content) {
		t.Fatalf("content = %q", got)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %v; want 0600", fi.Mode())
	}
	for _, c := range h.Commands() {
		if strings.Contains(c.Script, "s3cret-value") || strings.Contains(strings.Join(c.Argv, " "), "s3cret-value") {
			t.Fatalf("the content travelled in a command line: %q", c.Script)
		}
	}
	assertNoTemps(t, h.Dir)
}

func TestWriteUnchangedDoesNothing(t *testing.T) {
	h := transporttest.NewLocal(t)
	p := filepath.Join(h.Dir, "f")
	if err := os.WriteFile(p, []byte("same\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	res, err := Write(context.Background(), h, File{Path: p, Content: []byte("same\n"), Mode: 0o640, Backup: true})
	if err != nil || res.Changed() {
		t.Fatalf("Write = %+v, %v; want unchanged", res, err)
	}
	if n := len(h.Commands()); n != 1 {
		t.Fatalf("%d commands ran; want only the read", n)
	}
}

func TestWriteInPlaceWithBackup(t *testing.T) {
	h := transporttest.NewLocal(t)
	p := filepath.Join(h.Dir, "config.yaml")
	if err := os.WriteFile(p, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ino := inode(t, p)
	now := time.Date(2026, 11, 23, 22, 41, 5, 0, time.UTC)
	res, err := Write(context.Background(), h, File{Path: p, Content: []byte("new\n"), Mode: 0o600, Backup: true, Now: now, KeepBefore: true})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Content || !res.Mode || res.Create {
		t.Fatalf("change = %+v", res.Change)
	}
	if got, _ := os.ReadFile(p); string(got) != "new\n" {
		t.Fatalf("content = %q", got)
	}
	if inode(t, p) != ino {
		t.Fatalf("the file was replaced by another inode; a bind-mounting container would not see the change")
	}
	wantBak := p + ".20261123224105.bak"
	if res.Backup != wantBak {
		t.Fatalf("backup = %q; want %q", res.Backup, wantBak)
	}
	if got, want := res.Describe(p), "updated "+p+" (content, mode from 0644); previous version kept as "+wantBak; got != want {
		t.Fatalf("Describe = %q; want %q", got, want)
	}
	fi, err := os.Stat(wantBak)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup %v mode %v; want 0600", err, fi)
	}
	if b, _ := os.ReadFile(wantBak); string(b) != "old\n" {
		t.Fatalf("backup content = %q", b)
	}
	if string(res.Before.Content) != "old\n" {
		t.Fatalf("Before.Content = %q", res.Before.Content)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %v", fi.Mode())
	}
	assertNoTemps(t, h.Dir)
}

func TestWriteModeAndOwnerOnly(t *testing.T) {
	h := transporttest.NewLocal(t)
	p := filepath.Join(h.Dir, "f")
	if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	me, err := user.Current()
	if err != nil {
		t.Skip(err)
	}
	ino := inode(t, p)
	res, err := Write(context.Background(), h, File{Path: p, Content: []byte("x"), Mode: 0o600, Owner: me.Username, Backup: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Content || !res.Mode || res.Owner || res.Backup != "" {
		t.Fatalf("result = %+v; want a mode change only", res)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 || inode(t, p) != ino {
		t.Fatalf("mode = %v", fi.Mode())
	}
	// By numeric id the owner matches as well.
	res, err = Write(context.Background(), h, File{Path: p, Content: []byte("x"), Owner: me.Uid + ":" + me.Gid})
	if err != nil || res.Changed() {
		t.Fatalf("numeric owner: %+v, %v; want unchanged", res, err)
	}
}

// shim puts a fake tool first in the PATH of h's commands.
func shim(t *testing.T, h *transporttest.Local, name, script string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "bin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		t.Fatal(err)
	}
	h.Env = append(h.Env, "PATH="+dir+":"+os.Getenv("PATH"), "SHIMDIR="+dir)
}

func TestWriteRestoresWhenVerifyFails(t *testing.T) {
	h := transporttest.NewLocal(t)
	p := filepath.Join(h.Dir, "config.yaml")
	if err := os.WriteFile(p, []byte("previous\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// sha256sum lies on its third call: the read, the temp copy, then the
	// target's verification — which must make the script put the old content back.
	shim(t, h, "sha256sum", `n=$(cat "$SHIMDIR/n" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$SHIMDIR/n"
if [ $n -eq 3 ]; then echo "0000  -"; exit 0; fi
exec /usr/bin/sha256sum "$@"
`)
	_, err := Write(context.Background(), h, File{Path: p, Content: []byte("next\n"), Backup: true})
	var we *Error
	if !errors.As(err, &we) || we.Stage != "verify" || !we.Intact {
		t.Fatalf("err = %#v; want a verify failure with the target intact", err)
	}
	if got, _ := os.ReadFile(p); string(got) != "previous\n" {
		t.Fatalf("content after failed write = %q; want the previous content", got)
	}
	if !strings.Contains(err.Error(), "previous content restored") {
		t.Fatalf("message %q does not say the content was restored", err)
	}
	assertNoTemps(t, h.Dir)
}

func TestWriteFailsBeforeTouchingTarget(t *testing.T) {
	h := transporttest.NewLocal(t)
	p := filepath.Join(h.Dir, "config.yaml")
	if err := os.WriteFile(p, []byte("previous\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A full disk shows up as cat failing to fill the temporary copy.
	shim(t, h, "cat", `if [ $# -eq 0 ]; then echo "cat: write error: No space left on device" >&2; exit 1; fi
exec /bin/cat "$@"
`)
	_, err := Write(context.Background(), h, File{Path: p, Content: []byte("next\n")})
	if !errors.Is(err, ErrNoSpace) {
		t.Fatalf("err = %v; want ErrNoSpace", err)
	}
	var we *Error
	if !errors.As(err, &we) || we.Stage != "temp" || !we.Intact {
		t.Fatalf("err = %#v", err)
	}
	if !strings.Contains(err.Error(), "no space left on device in "+h.Dir) || !strings.Contains(err.Error(), "intact") {
		t.Fatalf("message = %q", err)
	}
	if got, _ := os.ReadFile(p); string(got) != "previous\n" {
		t.Fatalf("content = %q", got)
	}
	assertNoTemps(t, h.Dir)
}

func TestReadErrors(t *testing.T) {
	h := transporttest.NewLocal(t)
	ctx := context.Background()
	if _, err := Read(ctx, h, h.Dir, false, false); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Fatalf("directory: %v", err)
	}
	if st, err := Read(ctx, h, filepath.Join(h.Dir, "nope", "f"), false, false); err != nil || st.Exists || !st.DirMissing {
		t.Fatalf("missing dir: %+v, %v; want DirMissing", st, err)
	}
	if _, err := Write(ctx, h, File{Path: filepath.Join(h.Dir, "nope", "f"), Content: []byte("x")}); err == nil ||
		!strings.Contains(err.Error(), "does not exist (create it in an earlier step)") {
		t.Fatalf("write into a missing dir: %v", err)
	}
	st, err := Read(ctx, h, filepath.Join(h.Dir, "absent"), false, true)
	if err != nil || st.Exists {
		t.Fatalf("absent: %+v %v", st, err)
	}
	if _, err := Write(ctx, h, File{Path: "relative/path", Content: nil}); err == nil {
		t.Fatal("a relative path was accepted")
	}
}

func assertNoTemps(t *testing.T, dir string) {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, ".omsrun-*"))
	if len(m) > 0 {
		t.Fatalf("temporary files left behind: %v", m)
	}
}

func TestReadSkipsLargeContent(t *testing.T) {
	h := transporttest.NewLocal(t)
	p := filepath.Join(h.Dir, "big")
	if err := os.WriteFile(p, bytes.Repeat([]byte("x"), MaxContentRead+1), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := Read(context.Background(), h, p, false, true)
	if err != nil || !st.Exists || st.HaveContent || st.Content != nil || st.Size != MaxContentRead+1 {
		t.Fatalf("Read = exists %v have %v len %d size %d, %v", st.Exists, st.HaveContent, len(st.Content), st.Size, err)
	}
	small := filepath.Join(h.Dir, "small")
	if err := os.WriteFile(small, []byte("s"), 0o600); err != nil {
		t.Fatal(err)
	}
	if st, err := Read(context.Background(), h, small, false, true); err != nil || !st.HaveContent || string(st.Content) != "s" {
		t.Fatalf("Read small = %+v, %v", st, err)
	}
}

func TestWriteRestoresWhenInterrupted(t *testing.T) {
	h := transporttest.NewLocal(t)
	p := filepath.Join(h.Dir, "config.yaml")
	if err := os.WriteFile(p, []byte("previous\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The overwrite leaves half the content and the script is then told to
	// stop, as when the SSH connection drops in the middle.
	shim(t, h, "cat", `case "$2" in */.omsrun-new.*) printf 'ne' ; kill -TERM $PPID; exit 1;; esac
exec /bin/cat "$@"
`)
	_, err := Write(context.Background(), h, File{Path: p, Content: []byte("next\n")})
	var we *Error
	if !errors.As(err, &we) || !we.Intact || !strings.Contains(we.Msg, "interrupted") {
		t.Fatalf("err = %#v", err)
	}
	if got, _ := os.ReadFile(p); string(got) != "previous\n" {
		t.Fatalf("content after an interrupted write = %q", got)
	}
	assertNoTemps(t, h.Dir)
}

// Backups are kept, but only the last KeepBackups of them: eight changes
// leave the five newest backups, and a file of another name is left alone.
func TestWriteKeepsTheLastBackups(t *testing.T) {
	h := transporttest.NewLocal(t)
	p := filepath.Join(h.Dir, "config.yaml")
	other := p + ".manual.bak"
	for _, f := range []string{p, other} {
		if err := os.WriteFile(f, []byte("v0\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for i := 1; i <= 8; i++ {
		now := start.Add(time.Duration(i) * time.Minute)
		if _, err := Write(context.Background(), h, File{Path: p, Content: []byte(fmt.Sprintf("v%d\n", i)), Backup: true, KeepBackups: 5, Now: now}); err != nil {
			t.Fatal(err)
		}
	}
	baks, _ := filepath.Glob(p + ".2*.bak")
	if len(baks) != 5 {
		t.Fatalf("%d backups left, want 5: %v", len(baks), baks)
	}
	// The newest five are kept: the contents v3..v7 (v8 is the file itself).
	for i, b := range baks {
		if got, _ := os.ReadFile(b); string(got) != fmt.Sprintf("v%d\n", i+3) {
			t.Errorf("%s holds %q, want v%d", b, got, i+3)
		}
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("a backup omsrun did not write was removed: %v", err)
	}
}
