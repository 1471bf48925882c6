package transport

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/omsrun/omsrun/inventory"
)

// silentListener accepts TCP connections and never speaks SSH, like a host
// whose sshd hangs.
func silentListener(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestConnectTimeoutAndCallerCancel(t *testing.T) {
	port := silentListener(t)
	key := startKeyOnly(t)
	p := NewPool(Config{ConnectTimeout: time.Second, SSHConfigFile: "none", KnownHostsFile: t.TempDir() + "/kh"})
	defer p.Close()
	hi := &inventory.Host{Name: "silent", Address: "127.0.0.1", Port: port, User: "root", KeyFile: key}

	// A caller whose own context ends gets its context error, not "unreachable",
	// and a second caller waiting on the same dial then dials for itself.
	short, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	first := make(chan error, 1)
	go func() { _, err := p.Get(short, hi); first <- err }()
	waitFor(t, 5*time.Second, func() bool { return p.Dials() == 1 }) // the first caller's dial is under way
	start := time.Now()
	_, err := p.Get(context.Background(), hi)
	if !IsUnreachable(err) {
		t.Fatalf("second caller: want unreachable after the connect timeout, got %v", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("connect timeout of 1s took %s", took)
	}
	if err := <-first; !errors.Is(err, context.DeadlineExceeded) || IsUnreachable(err) {
		t.Fatalf("first caller: want its own deadline, got %v", err)
	}
}

// startKeyOnly makes a client key file for dials that never get to auth.
func startKeyOnly(t *testing.T) string {
	file := t.TempDir() + "/key"
	if out, err := runLocal("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", file); err != nil {
		t.Fatalf("ssh-keygen: %v %s", err, out)
	}
	return file
}
