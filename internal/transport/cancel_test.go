package transport

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestCancelKillsRemoteGroup cancels a command whose shell has a background
// child and checks, on this machine (the sshd is local), that no process of
// the group is left.
func TestCancelKillsRemoteGroup(t *testing.T) {
	d := startSSHD(t)
	p := NewPool(d.config())
	defer p.Close()
	h, err := p.Get(testCtx(t), d.host("local"))
	if err != nil {
		t.Fatal(err)
	}
	tag := strconv.Itoa(1000000 + int(time.Now().UnixNano()%1000000))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := h.Run(ctx, Cmd{Script: "sleep " + tag + " & sleep " + tag + "1; echo not reached", Become: true})
		done <- err
	}()
	waitFor(t, 20*time.Second, func() bool { return sleepers(tag) == 2 })
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run returned %v, want context.Canceled", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	t.Logf("cancel took %s", time.Since(start))
	waitFor(t, 2*time.Second, func() bool { return sleepers(tag) == 0 })
}

// sleepers counts the processes whose argv is exactly `sleep TAG` or
// `sleep TAG1`. Matching the command line as text (pgrep -f) also counted
// the parent `sh -c` whose script names both, so the count flickered.
func sleepers(tag string) int {
	dirs, _ := os.ReadDir("/proc")
	n := 0
	for _, d := range dirs {
		if _, err := strconv.Atoi(d.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline"))
		if err != nil {
			continue // gone meanwhile
		}
		switch string(b) {
		case "sleep\x00" + tag + "\x00", "sleep\x00" + tag + "1\x00":
			n++
		}
	}
	return n
}

func waitFor(t *testing.T, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s", limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// freezer is a TCP proxy whose forwarding can be stopped without closing
// anything, like a cable pulled out mid-stream.
type freezer struct {
	ln     net.Listener
	mu     sync.Mutex
	frozen bool
	conns  []net.Conn
}

func newFreezer(t *testing.T, target string) *freezer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &freezer{ln: ln}
	t.Cleanup(func() {
		ln.Close()
		f.mu.Lock()
		for _, c := range f.conns {
			c.Close()
		}
		f.mu.Unlock()
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			f.mu.Lock()
			f.conns = append(f.conns, c, u)
			f.mu.Unlock()
			go f.pipe(u, c)
			go f.pipe(c, u)
		}
	}()
	return f
}

func (f *freezer) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		for f.isFrozen() {
			time.Sleep(10 * time.Millisecond)
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (f *freezer) freeze() { f.mu.Lock(); f.frozen = true; f.mu.Unlock() }
func (f *freezer) isFrozen() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.frozen
}

// endless yields zeros forever and calls onMB once a megabyte has been read.
type endless struct {
	n    int
	at   int
	fire func()
}

func (e *endless) Read(p []byte) (int, error) {
	clear(p)
	e.n += len(p)
	if e.fire != nil && e.n >= e.at {
		e.fire()
		e.fire = nil
	}
	return len(p), nil
}

var _ io.Reader = (*endless)(nil)

// TestKeepaliveDetectsCutLink freezes the link during a stdin stream: the
// Run in flight must fail as unreachable within the keepalive budget.
func TestKeepaliveDetectsCutLink(t *testing.T) {
	d := startSSHD(t)
	fz := newFreezer(t, net.JoinHostPort("127.0.0.1", strconv.Itoa(d.port)))
	cfg := d.config()
	cfg.KeepaliveInterval = 500 * time.Millisecond
	cfg.KeepaliveMax = 3
	p := NewPool(cfg)
	defer p.Close()
	hi := d.host("cut")
	hi.Port = fz.ln.Addr().(*net.TCPAddr).Port
	// The proxy listens on another port than the one in known_hosts.
	hi.KnownHostsFile = d.knownHostsFor(t, hi.Port)
	h, err := p.Get(testCtx(t), hi)
	if err != nil {
		t.Fatal(err)
	}
	cut := make(chan time.Time, 1)
	in := &endless{at: 4 << 20, fire: func() { fz.freeze(); cut <- time.Now() }}
	done := make(chan error, 1)
	go func() {
		_, err := h.Run(context.Background(), Cmd{Argv: []string{"cat"}, Stdin: in, Stdout: io.Discard})
		done <- err
	}()
	select {
	case err := <-done:
		if !IsUnreachable(err) {
			t.Fatalf("want unreachable, got %v", err)
		}
		var cutAt time.Time
		select {
		case cutAt = <-cut:
		default:
			t.Fatalf("the connection died before the cut: %v", err)
		}
		took := time.Since(cutAt)
		t.Logf("detected after %s: %v", took, err)
		if budget := time.Duration(cfg.KeepaliveMax+1)*cfg.KeepaliveInterval + time.Second; took > budget {
			t.Fatalf("detection took %s, budget is %s", took, budget)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run hung after the link was cut")
	}
}
