package transport

import (
	"bytes"
	"strings"
	"sync"
	"testing"
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
