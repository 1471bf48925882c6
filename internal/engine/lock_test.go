package engine

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/internal/transport/transporttest"
	"github.com/omsrun/omsrun/inventory"
)

// lockLab returns a local host to run the real scripts on, lock and audit
// paths in a temporary folder, and that folder.
func lockLab(t *testing.T) (*transporttest.Local, lockPaths, string) {
	t.Helper()
	dir := t.TempDir()
	p := lockPaths{Dir: filepath.Join(dir, "lock", "omsrun"), AuditDir: filepath.Join(dir, "log", "omsrun")}
	p.File, p.AuditFile = filepath.Join(p.Dir, "lock"), filepath.Join(p.AuditDir, "audit.log")
	return transporttest.NewLocal(t), p, dir
}

// testLocked is newLockedHost with the test's paths.
func testLocked(c transport.Host, h *inventory.Host, me LockHolder, p lockPaths) *lockedHost {
	l := newLockedHost(c, h, me)
	l.paths = p
	return l
}

func testHolder(playbook string) LockHolder {
	h := NewLockHolder(playbook)
	h.Start = time.Date(2026, 11, 24, 1, 0, 0, 0, time.UTC)
	return h
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestLockRidesOnFirstCommand(t *testing.T) {
	local, paths, _ := lockLab(t)
	me := testHolder("deploy.hcl")
	l := testLocked(local, &inventory.Host{Name: "h1"}, me, paths)
	ctx := context.Background()

	// Argv form, stderr captured: the command runs after the lock is taken and
	// the acquisition's line is not in what the caller sees.
	res, err := l.Run(ctx, transport.Cmd{Argv: []string{"sh", "-c", "echo out; echo err >&2; cat " + paths.File}})
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("first command: %+v %v", res, err)
	}
	if got := string(res.Stderr); got != "err\n" {
		t.Errorf("stderr %q: the lock's line should be taken out", got)
	}
	if got := string(res.Stdout); got != "out\n"+me.String()+"\n" {
		t.Errorf("stdout %q: the command should see our lock line", got)
	}
	if got := readFile(t, paths.File); got != me.String()+"\n" {
		t.Errorf("lock file %q", got)
	}
	// Later commands run as they are: one acquisition per host and run.
	var errw bytes.Buffer
	if _, err := l.Run(ctx, transport.Cmd{Script: "echo again >&2", Stderr: &errw}); err != nil || errw.String() != "again\n" {
		t.Fatalf("second command: %q %v", errw.String(), err)
	}
	if n := len(local.Commands()); n != 3 {
		// first command, the release session started beside it, second command
		t.Errorf("%d commands ran, want 3: %+v", n, local.Commands())
	}
	acquisitions := 0
	for _, c := range local.Commands() {
		if strings.Contains(c.Script, "set -C") {
			acquisitions++
		}
	}
	if acquisitions != 1 {
		t.Errorf("%d acquisitions, want 1", acquisitions)
	}

	if err := l.finish(ctx, "2026-11-24T01:00:00Z me playbook=deploy.hcl result=ok"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(paths.File); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the lock outlived the run: %v", err)
	}
	if got := readFile(t, paths.AuditFile); got != "2026-11-24T01:00:00Z me playbook=deploy.hcl result=ok\n" {
		t.Errorf("audit log %q", got)
	}
}

func TestLockHeldByAnotherRunRefusesHost(t *testing.T) {
	local, paths, dir := lockLab(t)
	if err := os.MkdirAll(paths.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	other := "holder=alice@laptop pid=4242 start=2026-01-01T00:00:00Z playbook=deploy.hcl"
	if err := os.WriteFile(paths.File, []byte(other+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l := testLocked(local, &inventory.Host{Name: "h1"}, testHolder("mine.hcl"), paths)
	marker := filepath.Join(dir, "ran")
	for _, c := range []transport.Cmd{
		{Argv: []string{"touch", marker}},
		{Script: "touch " + marker},
		{Argv: []string{"touch", marker}, Stdin: strings.NewReader("data")},
	} {
		_, err := l.Run(context.Background(), c)
		var held *LockHeldError
		if !errors.As(err, &held) || held.Holder != other {
			t.Fatalf("got %v, want the holder's line", err)
		}
		if !strings.Contains(err.Error(), "alice@laptop") || !strings.Contains(err.Error(), "omsrun unlock") {
			t.Errorf("the message should name the holder and the way out: %v", err)
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("a command ran on a host locked by another run")
	}
	if l.refused() == nil {
		t.Error("refused() is nil")
	}
	if got := readFile(t, paths.File); got != other+"\n" {
		t.Errorf("the other run's lock was changed: %q", got)
	}
	if err := l.finish(context.Background(), "audit"); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, paths.File); got != other+"\n" {
		t.Errorf("finish removed another run's lock: %q", got)
	}
	if _, err := os.Stat(paths.AuditFile); err == nil {
		t.Error("a refused host got an audit line")
	}
}

func TestLockStaleHolderOnThisMachineIsTakenOver(t *testing.T) {
	local, paths, dir := lockLab(t)
	// A pid that surely no longer runs: a child that has exited and been reaped.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	stale := "holder=bob@" + host + " pid=" + strconv.Itoa(cmd.Process.Pid) + " start=2026-01-01T00:00:00Z playbook=old.hcl"
	if err := os.MkdirAll(paths.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(paths.File, []byte(stale+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	me := testHolder("mine.hcl")
	l := testLocked(local, &inventory.Host{Name: "h1"}, me, paths)
	marker := filepath.Join(dir, "ran")
	res, err := l.Run(context.Background(), transport.Cmd{Argv: []string{"touch", marker}})
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("%+v %v", res, err)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Fatal("the command did not run after the takeover")
	}
	if got := readFile(t, paths.File); got != me.String()+"\n" {
		t.Errorf("lock file %q after the takeover", got)
	}
	// Reported once, naming the lock it replaced.
	if got := l.takenOver(); got != stale {
		t.Errorf("takeover reported as %q, want %q", got, stale)
	}
	if got := l.takenOver(); got != "" {
		t.Errorf("takeover reported twice: %q", got)
	}
	if err := l.finish(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(paths.File); err == nil {
		t.Error("the lock outlived the run")
	}
}

// TestLockConcurrentCommandsWaitForTheFirst runs several commands at once on
// a fresh host: exactly one carries the acquisition and the others start
// only once it is known.
func TestLockConcurrentCommandsWaitForTheFirst(t *testing.T) {
	local, paths, _ := lockLab(t)
	me := testHolder("deploy.hcl")
	l := testLocked(local, &inventory.Host{Name: "h1"}, me, paths)
	var wg sync.WaitGroup
	outs := make([]string, 5)
	for i := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := l.Run(context.Background(), transport.Cmd{Script: "cat " + paths.File})
			if err != nil {
				t.Error(err)
			}
			outs[i] = string(res.Stdout)
		}()
	}
	wg.Wait()
	for i, o := range outs {
		if o != me.String()+"\n" {
			t.Errorf("command %d ran before the lock was ours: %q", i, o)
		}
	}
	if err := l.finish(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
}

// TestLockReleaseKeepsSomeoneElsesLock: if the lock was replaced (an
// `omsrun unlock` and another run) while we ran, our release leaves it.
func TestLockReleaseKeepsSomeoneElsesLock(t *testing.T) {
	local, paths, _ := lockLab(t)
	l := testLocked(local, &inventory.Host{Name: "h1"}, testHolder("deploy.hcl"), paths)
	if _, err := l.Run(context.Background(), transport.Cmd{Argv: []string{"true"}}); err != nil {
		t.Fatal(err)
	}
	other := "holder=carol@elsewhere pid=1 start=2026-01-01T00:00:00Z playbook=x.hcl\n"
	if err := os.WriteFile(paths.File, []byte(other), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := l.finish(context.Background(), "line"); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, paths.File); got != other {
		t.Errorf("lock file %q", got)
	}
}

// TestLockCannotCreate: an acquisition that cannot write the lock (no
// permission, read-only disk) refuses the host with that reason.
func TestLockCannotCreate(t *testing.T) {
	if os.Geteuid() == 0 {
		// root writes anywhere: make the lock folder a file instead.
		local, paths, _ := lockLab(t)
		if err := os.MkdirAll(filepath.Dir(paths.Dir), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(paths.Dir, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		l := testLocked(local, &inventory.Host{Name: "h1"}, testHolder("deploy.hcl"), paths)
		_, err := l.Run(context.Background(), transport.Cmd{Argv: []string{"true"}})
		if err == nil || !strings.Contains(err.Error(), "cannot create "+paths.File) {
			t.Fatalf("got %v", err)
		}
		if l.refused() == nil {
			t.Error("refused() is nil")
		}
		return
	}
	t.Fatal("this test expects to run as root, as the e2e suite does")
}

// TestLockMarkerPassesNoiseThrough: a login script's own stderr lines before
// the acquisition's line reach the caller; the line itself does not, however
// the writes are split.
func TestLockMarkerPassesNoiseThrough(t *testing.T) {
	in := "bashrc: warning\nomsrun-lock:ok\ncommand's err\npartial"
	for split := 1; split < len(in); split++ {
		var dst bytes.Buffer
		ok := 0
		w := &lockMarker{dst: &dst, onOK: func() { ok++ }}
		for _, part := range []string{in[:split], in[split:]} {
			if _, err := w.Write([]byte(part)); err != nil {
				t.Fatal(err)
			}
		}
		w.flush()
		if got := dst.String(); got != "bashrc: warning\ncommand's err\npartial" || ok != 1 || !w.ok {
			t.Fatalf("split %d: %q ok=%d", split, got, ok)
		}
	}
}

// TestLockFirstCommandWithStdinOrOtherUser: a first command that streams
// stdin (it could not be sent again after a refusal) or runs as another
// user than the lock needs gets a separate acquisition first, then runs
// unchanged with its input intact.
func TestLockFirstCommandWithStdinOrOtherUser(t *testing.T) {
	for name, c := range map[string]transport.Cmd{
		"stdin":      {Argv: []string{"cat"}, Stdin: strings.NewReader("streamed data")},
		"other user": {Argv: []string{"cat"}, Stdin: nil, Become: true},
	} {
		t.Run(name, func(t *testing.T) {
			local, paths, _ := lockLab(t)
			me := testHolder("deploy.hcl")
			l := testLocked(local, &inventory.Host{Name: "h1"}, me, paths)
			if c.Stdin == nil {
				c.Argv = []string{"cat", paths.File}
			}
			res, err := l.Run(context.Background(), c)
			if err != nil || res.ExitCode != 0 {
				t.Fatalf("%+v %v", res, err)
			}
			want := "streamed data"
			if c.Stdin == nil {
				want = me.String() + "\n"
			}
			if string(res.Stdout) != want {
				t.Errorf("stdout %q, want %q", res.Stdout, want)
			}
			// The acquisition first, then the command as it was (the release
			// session, started once the lock is ours, may come in between).
			cmds := local.Commands()
			ran := -1
			for i, rc := range cmds {
				if len(rc.Argv) > 0 && rc.Argv[0] == "cat" {
					ran = i
				}
			}
			if len(cmds) < 2 || !strings.Contains(cmds[0].Script, "set -C") || ran < 1 || strings.Contains(cmds[ran].Script, "set -C") {
				t.Errorf("want a separate acquisition, then the command as it was: %+v", cmds)
			}
			if err := l.finish(context.Background(), ""); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(paths.File); err == nil {
				t.Error("the lock outlived the run")
			}
		})
	}
}

// refusingHost is a host whose sudo refuses every command.
type refusingHost struct {
	transport.Host
	runs int
}

func (h *refusingHost) Run(context.Context, transport.Cmd) (transport.Result, error) {
	h.runs++
	return transport.Result{}, &transport.BecomeError{Host: "h1"}
}

// TestLockSudoRefusedNeedsNoRelease: when sudo refuses the first command,
// nothing ran on the host, so the end of the run sends no release (which
// would only be refused again, after sudo's delay).
func TestLockSudoRefusedNeedsNoRelease(t *testing.T) {
	_, paths, _ := lockLab(t)
	h := &refusingHost{}
	l := testLocked(h, &inventory.Host{Name: "h1", Become: true}, testHolder("deploy.hcl"), paths)
	_, err := l.Run(context.Background(), transport.Cmd{Argv: []string{"true"}, Become: true})
	var be *transport.BecomeError
	if !errors.As(err, &be) {
		t.Fatalf("got %v, want the sudo refusal", err)
	}
	if err := l.finish(context.Background(), "audit"); err != nil {
		t.Fatal(err)
	}
	if h.runs != 1 {
		t.Errorf("%d commands sent, want only the refused one", h.runs)
	}
}

// TestLockReleaseWithoutLineLogsConnectionLost: omsrun killed or its
// connection lost ends the release session's input without an audit line.
// The lock still goes, and the audit log still gets a line for the run:
// the lock's own (who, pid, playbook) with result=connection-lost. A run
// whose lock was not (or no longer) ours logs nothing there.
func TestLockReleaseWithoutLineLogsConnectionLost(t *testing.T) {
	local, paths, _ := lockLab(t)
	me := testHolder("deploy.hcl")
	l := testLocked(local, &inventory.Host{Name: "h1"}, me, paths)
	if _, err := l.Run(context.Background(), transport.Cmd{Argv: []string{"true"}}); err != nil {
		t.Fatal(err)
	}
	// What a dead control machine does: the input closes, nothing written.
	l.release.stdin.Close()
	if err := <-l.release.done; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(paths.File); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the lock outlived the lost connection: %v", err)
	}
	got := readFile(t, paths.AuditFile)
	if strings.Count(got, "\n") != 1 || !strings.Contains(got, " "+me.String()+" result=connection-lost changed=unknown\n") ||
		!regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ `).MatchString(got) {
		t.Errorf("audit log %q: want one dated line with the lock's line and result=connection-lost", got)
	}

	// Someone else's lock (taken after an `omsrun unlock`): left alone, no line.
	other := "holder=alice@laptop pid=4242 start=2026-01-01T00:00:00Z playbook=deploy.hcl"
	if err := os.WriteFile(paths.File, []byte(other+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := local.Run(context.Background(), transport.Cmd{Script: releaseScript(paths, me.String()), Stdin: strings.NewReader("")}); err != nil {
		t.Fatal(err)
	}
	if readFile(t, paths.File) != other+"\n" {
		t.Error("another run's lock was removed")
	}
	if after := readFile(t, paths.AuditFile); after != got {
		t.Errorf("audit log %q: a lost connection without our lock should add nothing", after)
	}
}
