package cli

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/omsrun/omsrun/internal/engine"
	"github.com/omsrun/omsrun/internal/history"
)

// ptyRun is omsrun (this test binary, see TestMain) at a terminal of its own.
type ptyRun struct {
	t      *testing.T
	master *os.File
	cmd    *exec.Cmd
	mu     sync.Mutex
	buf    bytes.Buffer
	done   chan struct{}
}

// startAtTerminal runs omsrun args from the repository's root on a new pty
// that is its controlling terminal (/dev/tty), with state as its state folder.
func startAtTerminal(t *testing.T, state string, args ...string) *ptyRun {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pty on this machine: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetUint32(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "OMSRUN_TEST_AS_OMSRUN=1", "NO_COLOR=1", "TERM=dumb", "XDG_STATE_HOME="+state)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = s, s, s
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	p := &ptyRun{t: t, master: m, cmd: cmd, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		b := make([]byte, 4096)
		for {
			n, err := m.Read(b)
			p.mu.Lock()
			p.buf.Write(b[:n])
			p.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		m.Close()
	})
	return p
}

func (p *ptyRun) transcript() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.buf.String()
}

// expect waits until the terminal shows s.
func (p *ptyRun) expect(s string) {
	p.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if strings.Contains(p.transcript(), s) {
			return
		}
		select {
		case <-p.done: // omsrun ended without showing it
			deadline = time.Now()
		default:
		}
	}
	p.t.Fatalf("no %q at the terminal; transcript:\n%s", s, p.transcript())
}

// waitEcho waits until the terminal's echo is on (want) or off.
func (p *ptyRun) waitEcho(want bool) {
	p.t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		st, err := unix.IoctlGetTermios(int(p.master.Fd()), unix.TCGETS)
		if err == nil && (st.Lflag&unix.ECHO != 0) == want {
			return
		}
	}
	p.t.Fatalf("terminal echo is not %v; transcript:\n%s", want, p.transcript())
}

// type_ writes keys to the terminal as a person would.
func (p *ptyRun) type_(keys string) {
	p.t.Helper()
	if _, err := io.WriteString(p.master, keys); err != nil {
		p.t.Fatal(err)
	}
}

// exitWithin waits for omsrun to end within d and returns its exit code.
func (p *ptyRun) exitWithin(d time.Duration) int {
	p.t.Helper()
	ended := make(chan error, 1)
	go func() { ended <- p.cmd.Wait() }()
	var err error
	select {
	case err = <-ended:
	case <-time.After(d):
		p.t.Fatalf("omsrun still running %s after the key; transcript:\n%s", d, p.transcript())
	}
	select {
	case <-p.done:
	case <-time.After(2 * time.Second):
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		p.t.Fatal(err)
	}
	return 0
}

// lastRecord is the newest run in the state folder's history.
func lastRecord(t *testing.T, state string) *history.Record {
	t.Helper()
	recs, err := history.List(filepath.Join(state, "omsrun"))
	if err != nil || len(recs) == 0 {
		t.Fatalf("no run recorded in %s: %v", state, err)
	}
	last := recs[0]
	for _, r := range recs {
		if r.Number > last.Number {
			last = r
		}
	}
	return last
}

// purgeArgs run the shipped uninstall.hcl with purge = true, whose
// question comes before any host is contacted (the inventory's hosts do
// not exist).
func purgeArgs(t *testing.T) []string {
	return []string{"playbooks/uninstall.hcl", "-i", "testdata/inventory/lab.hcl", "-e", "@testdata/cli/vars.hcl", "-e", "image_file=" + tinyArchive(t), "-e", "purge=true"}
}

// TestCtrlCAtQuestions: Ctrl-C at the purge's "Go ahead?" ends the run at
// once with 130, an interrupted recap and a record saying 130 (it was
// swallowed, and the record said 5 when Enter came later); Ctrl-C at an
// -e name=@ask prompt ends it before anything runs, echo back on.
func TestCtrlCAtQuestions(t *testing.T) {
	t.Run("go ahead", func(t *testing.T) {
		state := t.TempDir()
		p := startAtTerminal(t, state, purgeArgs(t)...)
		p.expect("Go ahead? [y/N] ")
		p.type_("\x03")
		if code := p.exitWithin(time.Second); code != ExitInterrupted {
			t.Fatalf("exit %d, want %d; transcript:\n%s", code, ExitInterrupted, p.transcript())
		}
		out := p.transcript()
		if !strings.Contains(out, "interrupted") || strings.Contains(out, "declined") {
			t.Errorf("the recap does not say interrupted (only):\n%s", out)
		}
		rec := lastRecord(t, state)
		if rec.ExitCode == nil || *rec.ExitCode != ExitInterrupted {
			t.Errorf("history records exit %v, want %d", rec.ExitCode, ExitInterrupted)
		}
		// Nothing ran: the run's events hold no step.
		ev, err := os.ReadFile(rec.EventsFile())
		if err != nil || bytes.Contains(ev, []byte(`"step_start"`)) {
			t.Errorf("a step started (err %v):\n%s", err, ev)
		}
	})
	t.Run("no at go ahead", func(t *testing.T) {
		state := t.TempDir()
		p := startAtTerminal(t, state, purgeArgs(t)...)
		p.expect("Go ahead? [y/N] ")
		p.type_("\r")
		if code := p.exitWithin(5 * time.Second); code != ExitDeclined {
			t.Fatalf("exit %d, want %d; transcript:\n%s", code, ExitDeclined, p.transcript())
		}
		if rec := lastRecord(t, state); rec.ExitCode == nil || *rec.ExitCode != ExitDeclined {
			t.Errorf("history records exit %v, want %d", rec.ExitCode, ExitDeclined)
		}
	})
	t.Run("ask", func(t *testing.T) {
		state := t.TempDir()
		p := startAtTerminal(t, state, append(purgeArgs(t), "-e", "oms_meta_password=@ask")...)
		p.expect("oms_meta_password: ")
		p.waitEcho(false)
		p.type_("\x03")
		if code := p.exitWithin(time.Second); code != ExitInterrupted {
			t.Fatalf("exit %d, want %d; transcript:\n%s", code, ExitInterrupted, p.transcript())
		}
		p.waitEcho(true)
		if strings.Contains(p.transcript(), "Go ahead") {
			t.Errorf("the run went on after Ctrl-C:\n%s", p.transcript())
		}
	})
}

// TestRunEndCtrlCWins: the code the recap and the record carry is 130
// whenever the run was interrupted, whatever the interrupt caused (a
// question left unanswered reads as declined, a step cut short as failed).
func TestRunEndCtrlCWins(t *testing.T) {
	cut, cancel := context.WithCancel(context.Background())
	cancel()
	for _, r := range []engine.Recap{{Declined: "confirmation could not be read"}, {Hosts: []engine.HostTally{{Host: "a", Failed: 1}}}, {}} {
		if got := Code(runEnd(cut, &r)); got != ExitInterrupted {
			t.Errorf("%+v after Ctrl-C: exit %d", r, got)
		}
	}
	if got := Code(runEnd(context.Background(), &engine.Recap{Declined: "not confirmed"})); got != ExitDeclined {
		t.Errorf("a no without Ctrl-C: exit %d", got)
	}
}

// TestExitCodeIsTheRecaps: Ctrl-C after the recap is out (while the run
// locks are given back) does not change the exit code: the process exits
// with the code the recap and the record carry.
func TestExitCodeIsTheRecaps(t *testing.T) {
	for _, tc := range []struct {
		name  string
		recap engine.Recap
		want  int
	}{
		{name: "ok", want: ExitOK},
		{name: "failed", recap: engine.Recap{Hosts: []engine.HostTally{{Host: "a", Failed: 1}}}, want: ExitFailed},
		{name: "declined", recap: engine.Recap{Declined: "not confirmed"}, want: ExitDeclined},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			e := &runEnding{ctx: ctx}
			if got := e.code(&tc.recap); got != tc.want {
				t.Fatalf("recap's code %d, want %d", got, tc.want)
			}
			cancel() // Ctrl-C while the locks are released
			if got := Code(e.result(&tc.recap)); got != tc.want {
				t.Errorf("exit %d after the recap said %d", got, tc.want)
			}
		})
	}
	// A run that never gave its recap a code still ends by runEnd.
	cut, cancel := context.WithCancel(context.Background())
	cancel()
	if got := Code((&runEnding{ctx: cut}).result(&engine.Recap{})); got != ExitInterrupted {
		t.Errorf("no recap code, interrupted: exit %d", got)
	}
}
