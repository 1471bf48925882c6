package transport

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRunCapturesOutputAndExitCode(t *testing.T) {
	d := startSSHD(t)
	p := NewPool(d.config())
	defer p.Close()
	h, err := p.Get(testCtx(t), d.host("local"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.Run(testCtx(t), Cmd{Script: "echo out; echo err >&2; exit 3"})
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != 3 || string(res.Stdout) != "out\n" || string(res.Stderr) != "err\n" {
		t.Fatalf("got exit %d stdout %q stderr %q", res.ExitCode, res.Stdout, res.Stderr)
	}
	var in bytes.Buffer
	in.WriteString(strings.Repeat("x", 3<<20))
	res, err = h.Run(testCtx(t), Cmd{Argv: []string{"wc", "-c"}, Stdin: &in})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(res.Stdout)); got != "3145728" {
		t.Fatalf("wc -c got %q, stderr %q", got, res.Stderr)
	}
}

func TestPoolDialsOncePerHost(t *testing.T) {
	d := startSSHD(t)
	p := NewPool(d.config())
	defer p.Close()
	var wg sync.WaitGroup
	// More callers than MaxSessions, so the session semaphore is exercised too.
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h, err := p.Get(testCtx(t), d.host("local"))
			if err != nil {
				errs <- err
				return
			}
			if _, err := h.Run(testCtx(t), Cmd{Argv: []string{"true"}}); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if p.Dials() != 1 {
		t.Fatalf("pool dialled %d times", p.Dials())
	}
	if n := d.connections(t); n != 1 {
		t.Fatalf("sshd accepted %d connections", n)
	}
}

func TestRunStreamsAndStdinEOF(t *testing.T) {
	d := startSSHD(t)
	p := NewPool(d.config())
	defer p.Close()
	h, err := p.Get(testCtx(t), d.host("local"))
	if err != nil {
		t.Fatal(err)
	}
	// No Stdin: the command sees EOF at once instead of waiting forever.
	res, err := h.Run(testCtx(t), Cmd{Argv: []string{"cat"}})
	if err != nil || res.ExitCode != 0 || len(res.Stdout) != 0 {
		t.Fatalf("cat without stdin: %+v %v", res, err)
	}
	// Writers get the output as it comes; the group marker never reaches them.
	var out, errOut bytes.Buffer
	res, err = h.Run(testCtx(t), Cmd{Script: "echo one; echo two >&2", Stdout: &out, Stderr: &errOut, Become: true})
	if err != nil || res.Stdout != nil || res.Stderr != nil {
		t.Fatalf("with writers: %+v %v", res, err)
	}
	if out.String() != "one\n" || errOut.String() != "two\n" {
		t.Fatalf("stdout %q stderr %q", out.String(), errOut.String())
	}
}

func TestCloseFailsRunsInFlight(t *testing.T) {
	d := startSSHD(t)
	p := NewPool(d.config())
	h, err := p.Get(testCtx(t), d.host("local"))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	// A duration no other process uses, so the wait below finds this one.
	tag := fmt.Sprintf("3.%06d", time.Now().UnixNano()%1000000)
	go func() {
		_, err := h.Run(testCtx(t), Cmd{Argv: []string{"sleep", tag}})
		done <- err
	}()
	waitFor(t, 10*time.Second, func() bool { return sleepers(tag) == 1 })
	p.Close()
	select {
	case err := <-done:
		if !IsUnreachable(err) {
			t.Fatalf("want unreachable after Close, got %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after Close")
	}
	if _, err := p.Get(testCtx(t), d.host("local")); !IsUnreachable(err) {
		t.Fatalf("Get after Close: %v", err)
	}
}

// TestBecomeWithoutPromptKeepsPasswordOut covers sudoers that need no
// password (NOPASSWD): sudo never prompts, and the password must not end up
// in the command's stdin. Root's own sudo never prompts, so the local sshd's
// root login, treated as a non-root user, stands in for such a host.
func TestBecomeWithoutPromptKeepsPasswordOut(t *testing.T) {
	if _, err := exec.LookPath("sudo"); err != nil {
		t.Skip("no sudo")
	}
	d := startSSHD(t)
	cfg := d.config()
	cfg.BecomePassword = "never-asked-for"
	p := NewPool(cfg)
	defer p.Close()
	h, err := p.Get(testCtx(t), d.host("local"))
	if err != nil {
		t.Fatal(err)
	}
	sh := h.(*sshHost)
	sh.user = "not-root"
	if sh.becomeMode(true) != becomeSudoPassword {
		t.Fatal("test setup: expected the sudo-with-password mode")
	}
	res, err := h.Run(testCtx(t), Cmd{Argv: []string{"cat"}, Become: true, Stdin: strings.NewReader("payload\n")})
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Stdout) != "payload\n" || strings.Contains(string(res.Stderr), "never-asked-for") {
		t.Fatalf("stdout %q stderr %q", res.Stdout, res.Stderr)
	}
}
