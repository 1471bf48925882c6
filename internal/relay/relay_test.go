package relay

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func secret(t *testing.T) []byte {
	t.Helper()
	s, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// node is one relay node on loopback: it accepts its upstream, dials next
// (when given) and tees the stream into its sink.
type node struct {
	ln      net.Listener
	sink    lockedBuf
	n       int64
	nextErr error
	err     error
	done    chan struct{}
	up      net.Conn // set once accepted, so a test can kill the node
	mu      sync.Mutex
}

// lockedBuf is a sink the test may watch while the node writes it.
type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuf) Len() int       { l.mu.Lock(); defer l.mu.Unlock(); return l.b.Len() }
func (l *lockedBuf) Bytes() []byte  { l.mu.Lock(); defer l.mu.Unlock(); return l.b.Bytes() }
func (l *lockedBuf) String() string { return string(l.Bytes()) }

func startNode(t *testing.T, s []byte, next string) *node {
	t.Helper()
	nd := &node{ln: listen(t), done: make(chan struct{})}
	go func() {
		defer close(nd.done)
		up, err := Accept(nd.ln, s, time.Now().Add(10*time.Second))
		if err != nil {
			nd.err = err
			return
		}
		nd.mu.Lock()
		nd.up = up
		nd.mu.Unlock()
		defer up.Close()
		var down net.Conn
		if next != "" {
			if down, err = Dial(next, s, 5*time.Second); err != nil {
				nd.nextErr = err
			} else {
				defer down.Close()
			}
		}
		var w io.Writer
		if down != nil {
			w = down
		}
		nd.n, nd.nextErr, nd.err = Relay(up, &nd.sink, w)
	}()
	return nd
}

// payload is n random bytes that open like a gzip file, as the package
// does: a relay carries nothing else.
func payload(t *testing.T, n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	copy(b, []byte{0x1f, 0x8b, 8})
	return b
}

func TestChainDeliversTheSameBytesToEveryNode(t *testing.T) {
	s := secret(t)
	n3 := startNode(t, s, "")
	n2 := startNode(t, s, n3.ln.Addr().String())
	n1 := startNode(t, s, n2.ln.Addr().String())
	data := payload(t, 5<<20+123)
	c, err := Dial(n1.ln.Addr().String(), s, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := Send(c, bytes.NewReader(data)); err != nil || n != int64(len(data)) {
		t.Fatalf("sent %d, %v", n, err)
	}
	c.Close()
	for i, nd := range []*node{n1, n2, n3} {
		<-nd.done
		if nd.err != nil || nd.nextErr != nil || !bytes.Equal(nd.sink.Bytes(), data) {
			t.Errorf("node %d: err %v, next %v, %d of %d bytes", i+1, nd.err, nd.nextErr, nd.sink.Len(), len(data))
		}
	}
}

// Only a peer with the secret gets in; the others are turned away while the
// node keeps waiting, and the impostor learns nothing of the stream.
func TestOnlyThePeerWithTheSecretIsAccepted(t *testing.T) {
	s := secret(t)
	nd := startNode(t, s, "")
	addr := nd.ln.Addr().String()
	if _, err := Dial(addr, secret(t), 5*time.Second); !errors.Is(err, ErrAuth) {
		t.Fatalf("a wrong secret: %v, want ErrAuth", err)
	}
	// A peer that says nothing is dropped after the handshake timeout and
	// does not block the right one for longer.
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	start := time.Now()
	c, err := Dial(addr, s, 5*time.Second)
	if err != nil {
		t.Fatalf("the right secret after two impostors: %v", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("the silent peer delayed the right one by %s", took)
	}
	img := string(payload(t, 100))
	Send(c, strings.NewReader(img))
	c.Close()
	<-nd.done
	if nd.err != nil || nd.sink.String() != img {
		t.Errorf("err %v, sink %q", nd.err, nd.sink.String())
	}
	// A server without the secret cannot pass as a node either.
	fake := listen(t)
	go func() {
		c, err := fake.Accept()
		if err == nil {
			handshake(c, secret(t), true)
			c.Close()
		}
	}()
	if _, err := Dial(fake.Addr().String(), s, 5*time.Second); !errors.Is(err, ErrAuth) {
		t.Errorf("a node without the secret: %v, want ErrAuth", err)
	}
}

// Nothing listens once the peer is in, nor after the deadline passed with
// no peer at all.
func TestNothingListensAfterwards(t *testing.T) {
	s := secret(t)
	nd := startNode(t, s, "")
	addr := nd.ln.Addr().String()
	c, err := Dial(addr, s, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	time.Sleep(50 * time.Millisecond)
	if x, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		x.Close()
		t.Error("the node still listens after accepting its peer")
	}

	ln := listen(t)
	start := time.Now()
	if _, err := Accept(ln, s, time.Now().Add(200*time.Millisecond)); err == nil {
		t.Fatal("accepted with no peer")
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("gave up after %s, want the 200 ms deadline", took)
	}
	if x, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		x.Close()
		t.Error("the listener is still open after the deadline")
	}
}

// A node dying mid-stream: the node before it still loads the whole image
// and reports the failure against the next node only; the node after it
// sees a truncated stream, not a short image it would take as complete.
func TestNodeDyingMidStream(t *testing.T) {
	s := secret(t)
	n3 := startNode(t, s, "")
	n2 := startNode(t, s, n3.ln.Addr().String())
	n1 := startNode(t, s, n2.ln.Addr().String())
	c, err := Dial(n1.ln.Addr().String(), s, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	data := payload(t, 8<<20)
	pr, pw := io.Pipe()
	go func() {
		pw.Write(data[:2<<20])
		// Kill node 2 once it is streaming: close both of its connections.
		for {
			n2.mu.Lock()
			up := n2.up
			n2.mu.Unlock()
			if up != nil && n2.sink.Len() > 0 {
				up.Close()
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		pw.Write(data[2<<20:])
		pw.Close()
	}()
	if _, err := Send(c, pr); err != nil {
		t.Fatal(err)
	}
	c.Close()
	<-n1.done
	<-n2.done
	<-n3.done
	if n1.err != nil || !bytes.Equal(n1.sink.Bytes(), data) {
		t.Errorf("node 1: %v, %d of %d bytes", n1.err, n1.sink.Len(), len(data))
	}
	if n1.nextErr == nil {
		t.Error("node 1 did not report that node 2 stopped taking the stream")
	}
	if !errors.Is(n3.err, ErrTruncated) {
		t.Errorf("node 3: %v, want ErrTruncated", n3.err)
	}
}

func TestOversizedFrameIsRefused(t *testing.T) {
	frame := []byte{0x7f, 0xff, 0xff, 0xff}
	if _, _, err := Relay(bytes.NewReader(frame), io.Discard, nil); err == nil || errors.Is(err, ErrTruncated) {
		t.Errorf("err %v", err)
	}
}
