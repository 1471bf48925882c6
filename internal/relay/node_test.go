package relay

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln := listen(t)
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestReadConfigRefusesAWildcardAndABadSecret(t *testing.T) {
	s := secret(t)
	ok := NodeConfig{Secret: s, Listen: "10.77.0.11:7070", Deadline: time.Now().Add(time.Minute)}
	for name, tc := range map[string]struct {
		mut  func(*NodeConfig)
		want string
	}{
		"valid":           {func(*NodeConfig) {}, ""},
		"every interface": {func(c *NodeConfig) { c.Listen = "0.0.0.0:7070" }, "cluster IP"},
		"no address":      {func(c *NodeConfig) { c.Listen = ":7070" }, "cluster IP"},
		"a name":          {func(c *NodeConfig) { c.Listen = "oms1:7070" }, "cluster IP"},
		"short secret":    {func(c *NodeConfig) { c.Secret = s[:8] }, "secret"},
		"no deadline":     {func(c *NodeConfig) { c.Deadline = time.Time{} }, "deadline"},
		// A source node runs docker save of an image ID and of nothing else.
		"save an image ID": {func(c *NodeConfig) { c.Save = "sha256:" + strings.Repeat("ab", 32) }, ""},
		"save a name":      {func(c *NodeConfig) { c.Save = "oms:latest" }, "not an image ID"},
		"save an option":   {func(c *NodeConfig) { c.Save = "--output=/etc/passwd" }, "not an image ID"},
		"save two things":  {func(c *NodeConfig) { c.Save = "sha256:" + strings.Repeat("ab", 32) + " /etc" }, "not an image ID"},
		"save a short ID":  {func(c *NodeConfig) { c.Save = "sha256:abcd" }, "not an image ID"},
	} {
		t.Run(name, func(t *testing.T) {
			c := ok
			tc.mut(&c)
			b, _ := json.Marshal(c)
			_, err := ReadConfig(bytes.NewReader(b))
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("err %v, want %q", err, tc.want)
			}
		})
	}
}

// Two nodes as the control machine would run them; the first is
// interrupted mid-stream (its SSH session gone): it returns at once and
// nothing of it listens or stays connected.
func TestRunNodeInterrupted(t *testing.T) {
	s := secret(t)
	a1, a2 := freeAddr(t), freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	reps := make(chan Report, 2)
	var sink1, sink2 lockedBuf
	go func() {
		reps <- RunNode(context.Background(), NodeConfig{Secret: s, Listen: a2, Deadline: time.Now().Add(10 * time.Second)}, &sink2, io.Discard)
	}()
	time.Sleep(50 * time.Millisecond)
	go func() {
		reps <- RunNode(ctx, NodeConfig{Secret: s, Listen: a1, Next: a2, Deadline: time.Now().Add(10 * time.Second)}, &sink1, io.Discard)
	}()
	time.Sleep(50 * time.Millisecond)
	c, err := Dial(a1, s, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	frame := make([]byte, 4+1000)
	frame[2], frame[3] = 0x03, 0xe8 // 1000 bytes, then no end mark
	copy(frame[4:], []byte{0x1f, 0x8b, 8})
	c.Write(frame)
	for sink1.Len() == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	cancel()
	r1, r2 := <-reps, <-reps
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the interrupted node took %s to stop", took)
	}
	if r1.Err == "" || r2.Err == "" {
		t.Errorf("reports %+v %+v: both nodes must say they lack the end", r1, r2)
	}
	for _, a := range []string{a1, a2} {
		if x, err := net.DialTimeout("tcp", a, time.Second); err == nil {
			x.Close()
			t.Errorf("%s still listens", a)
		}
	}
	// The node's connection to the sender is gone too.
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Error("the sender's connection is still open")
	}
}

// No peer before the deadline: the node gives up and closes its port.
func TestRunNodeDeadline(t *testing.T) {
	a := freeAddr(t)
	rep := RunNode(context.Background(), NodeConfig{Secret: secret(t), Listen: a, Deadline: time.Now().Add(200 * time.Millisecond)}, &lockedBuf{}, io.Discard)
	if rep.Err == "" {
		t.Error("no error without a peer")
	}
	if x, err := net.DialTimeout("tcp", a, time.Second); err == nil {
		x.Close()
		t.Error("still listening after the deadline")
	}
}

// The next node does not answer: the node says so on stderr within a few
// seconds (the control machine then serves the nodes after it) and still
// loads the whole stream itself.
func TestRunNodeNextUnreachable(t *testing.T) {
	s := secret(t)
	a1, gone := freeAddr(t), freeAddr(t)
	var sink lockedBuf
	var stderr lockedBuf
	rep := make(chan Report, 1)
	go func() {
		rep <- RunNode(context.Background(), NodeConfig{Secret: s, Listen: a1, Next: gone, Deadline: time.Now().Add(10 * time.Second)}, &sink, &stderr)
	}()
	for !strings.Contains(stderr.String(), ListeningLine) {
		time.Sleep(5 * time.Millisecond)
	}
	c, err := Dial(a1, s, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	for !strings.Contains(stderr.String(), NextUnreachableLine) {
		if time.Since(start) > 5*time.Second {
			t.Fatalf("no %q on stderr: %q", NextUnreachableLine, stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("said after %s: %q", time.Since(start).Round(time.Millisecond), stderr.String())
	data := payload(t, 3<<20)
	if _, err := Send(c, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	r := <-rep
	if r.Err != "" || r.NextErr == "" || !bytes.Equal(sink.Bytes(), data) {
		t.Errorf("report %+v, %d of %d bytes loaded", r, sink.Len(), len(data))
	}
}
