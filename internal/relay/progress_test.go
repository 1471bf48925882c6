package relay

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// A node fed by the node before it says how much it has received while the
// stream crosses: a first line with the first bytes, before the end, and
// none that counts more than it loaded.
func TestRunNodeSaysReceived(t *testing.T) {
	s := secret(t)
	a := freeAddr(t)
	var sink, stderr lockedBuf
	rep := make(chan Report, 1)
	go func() {
		rep <- RunNode(context.Background(), NodeConfig{Secret: s, Listen: a, Deadline: time.Now().Add(10 * time.Second)}, &sink, &stderr)
	}()
	for !strings.Contains(stderr.String(), ListeningLine) {
		time.Sleep(5 * time.Millisecond)
	}
	c, err := Dial(a, s, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	data := payload(t, 3<<20)
	// The first frame alone: the node must say so before the rest comes.
	first := data[:maxFrame]
	pr, pw := newGate(first, data[maxFrame:])
	go Send(c, pr)
	var said int64
	for start := time.Now(); said == 0; time.Sleep(5 * time.Millisecond) {
		if time.Since(start) > 5*time.Second {
			t.Fatalf("no %q on stderr within 5s: %q", ReceivedLine, stderr.String())
		}
		for _, l := range strings.Split(stderr.String(), "\n") {
			if n, ok := ParseReceived(l); ok {
				said = n
			}
		}
	}
	if said != maxFrame {
		t.Errorf("first count %d, want the first frame's %d", said, maxFrame)
	}
	close(pw)
	if r := <-rep; r.Err != "" || !bytes.Equal(sink.Bytes(), data) {
		t.Fatalf("report %+v, %d of %d bytes loaded", r, sink.Len(), len(data))
	}
	for _, l := range strings.Split(stderr.String(), "\n") {
		if n, ok := ParseReceived(l); ok && n > int64(len(data)) {
			t.Errorf("%q counts more than the %d bytes sent", l, len(data))
		}
	}
}

func TestParseReceived(t *testing.T) {
	for _, tc := range []struct {
		line string
		n    int64
		ok   bool
	}{
		{ReceivedLine + "1048576", 1 << 20, true},
		{ReceivedLine + " 12 ", 12, true},
		{ReceivedLine + "-1", 0, false},
		{ReceivedLine + "lots", 0, false},
		{ListeningLine, 0, false},
		{"docker load: received 12", 0, false},
	} {
		if n, ok := ParseReceived(tc.line); n != tc.n || ok != tc.ok {
			t.Errorf("ParseReceived(%q) = %d, %v; want %d, %v", tc.line, n, ok, tc.n, tc.ok)
		}
	}
}

// gate is a reader that gives first, then waits for its channel to close
// before it gives the rest.
type gate struct {
	parts [][]byte
	open  chan struct{}
}

func newGate(first, rest []byte) (*gate, chan struct{}) {
	g := &gate{parts: [][]byte{first, rest}, open: make(chan struct{})}
	return g, g.open
}

func (g *gate) Read(p []byte) (int, error) {
	for len(g.parts) > 0 && len(g.parts[0]) == 0 {
		g.parts = g.parts[1:]
		if len(g.parts) == 1 {
			<-g.open
		}
	}
	if len(g.parts) == 0 {
		return 0, io.EOF
	}
	n := copy(p, g.parts[0])
	g.parts[0] = g.parts[0][n:]
	return n, nil
}
