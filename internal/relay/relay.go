// Package relay carries one image stream from node to node: the control
// machine sends it once to the first node, and every node tees it into its
// own sink (docker load) while it forwards it to the next one (issue 19).
//
// The door it opens is as small as we could make it:
//   - a node listens on one address (the cluster address it is given) and
//     only until one peer has authenticated, or until a deadline;
//   - a peer must prove it holds the run's one-time secret (HMAC-SHA256 over
//     a fresh nonce, both ways, so neither side talks to an impostor); the
//     secret reaches the node over SSH stdin, never argv;
//   - what is carried is one framed byte stream and nothing else: no
//     command, no path, no option comes from the wire, and a stream that
//     does not open as a docker archive is refused before any byte of it
//     is loaded or forwarded;
//   - the listener is closed as soon as the peer is accepted, and every
//     connection when the stream ends or the context is cancelled.
//
// This package is the protocol and the tee; placing the binary on the
// nodes and choosing the chain is the caller's.
package relay

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// SecretSize is the length of a run's secret.
const SecretSize = 32

const (
	nonceSize = 32
	tagServer = "omsrun-relay-1 server"
	tagClient = "omsrun-relay-1 client"
	// maxFrame bounds a frame so a peer cannot make a node allocate at will.
	maxFrame = 1 << 20
	// handshakeTimeout bounds how long an unauthenticated peer may hold the
	// listener's attention.
	handshakeTimeout = 5 * time.Second
)

// ErrAuth is a peer that did not prove it holds the secret.
var ErrAuth = errors.New("relay: peer does not hold this run's secret")

// NewSecret returns a fresh one-time secret.
func NewSecret() ([]byte, error) {
	s := make([]byte, SecretSize)
	_, err := rand.Read(s)
	return s, err
}

func mac(secret []byte, tag string, nonce []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(tag))
	m.Write(nonce)
	return m.Sum(nil)
}

// handshake proves to the peer that this side holds secret and checks that
// the peer does; server says which side of the exchange this is.
func handshake(c net.Conn, secret []byte, server bool) error {
	c.SetDeadline(time.Now().Add(handshakeTimeout))
	defer c.SetDeadline(time.Time{})
	mine := make([]byte, nonceSize)
	if _, err := rand.Read(mine); err != nil {
		return err
	}
	if _, err := c.Write(mine); err != nil {
		return err
	}
	theirs := make([]byte, nonceSize)
	if _, err := io.ReadFull(c, theirs); err != nil {
		return err
	}
	myTag, theirTag := tagClient, tagServer
	if server {
		myTag, theirTag = tagServer, tagClient
	}
	if _, err := c.Write(mac(secret, myTag, theirs)); err != nil {
		return err
	}
	got := make([]byte, sha256.Size)
	if _, err := io.ReadFull(c, got); err != nil {
		return err
	}
	if !hmac.Equal(got, mac(secret, theirTag, mine)) {
		return ErrAuth
	}
	return nil
}

// Accept waits on ln for the one peer holding secret, until deadline, and
// closes ln before it returns: whoever else connects meanwhile is turned
// away, and nothing listens once the peer is in. Handshakes run side by
// side, so a peer that connects and stays silent delays nobody.
func Accept(ln net.Listener, secret []byte, deadline time.Time) (net.Conn, error) {
	if d, ok := ln.(interface{ SetDeadline(time.Time) error }); ok {
		d.SetDeadline(deadline)
	}
	var mu sync.Mutex
	var winner net.Conn
	var pending []net.Conn
	closed := false
	won := make(chan struct{})
	acceptErr := make(chan error, 1)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				acceptErr <- err
				return
			}
			mu.Lock()
			if closed {
				mu.Unlock()
				c.Close()
				continue
			}
			pending = append(pending, c)
			mu.Unlock()
			go func() {
				err := handshake(c, secret, true)
				mu.Lock()
				defer mu.Unlock()
				if err != nil || closed {
					c.Close()
					return
				}
				closed, winner = true, c
				close(won)
			}()
		}
	}()
	var err error
	select {
	case <-won:
	case err = <-acceptErr:
	}
	ln.Close()
	mu.Lock()
	closed = true
	c := winner
	for _, p := range pending {
		if p != c {
			p.Close()
		}
	}
	mu.Unlock()
	if c == nil {
		return nil, fmt.Errorf("relay: no peer with the secret: %w", err)
	}
	return c, nil
}

// connectWithin bounds Dial's connecting, refusals tried again included.
// The control machine starts a node only once the node after it listens, so
// a connection that neither opens nor is refused within a few SYN
// retransmits is a filtered port, and a refusal that lasts is a dead node
// or a firewall's reject, not one still starting: waiting for the whole
// timeout would only delay the fallback.
const connectWithin = 3 * time.Second

// Dial connects to a node at addr and authenticates both ways.
func Dial(addr string, secret []byte, timeout time.Duration) (net.Conn, error) {
	until := time.Now().Add(timeout)
	if g := time.Now().Add(connectWithin); g.Before(until) {
		until = g
	}
	var c net.Conn
	var err error
	for {
		c, err = net.DialTimeout("tcp", addr, time.Until(until))
		if err == nil || time.Now().Add(100*time.Millisecond).After(until) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return nil, err
	}
	if err := handshake(c, secret, false); err != nil {
		c.Close()
		return nil, fmt.Errorf("relay: %s: %w", addr, err)
	}
	return c, nil
}

// Send frames r onto c and ends it with the empty frame that marks a
// complete stream, so a receiver can tell a finished stream from a sender
// that died.
func Send(c io.Writer, r io.Reader) (int64, error) {
	buf := make([]byte, 4+maxFrame)
	var n int64
	for {
		k, err := io.ReadFull(r, buf[4:])
		if k > 0 {
			binary.BigEndian.PutUint32(buf, uint32(k))
			if _, werr := c.Write(buf[:4+k]); werr != nil {
				return n, werr
			}
			n += int64(k)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			binary.BigEndian.PutUint32(buf, 0)
			_, werr := c.Write(buf[:4])
			return n, werr
		}
		if err != nil {
			return n, err
		}
	}
}

// ErrTruncated is a stream whose sender stopped before its end mark.
var ErrTruncated = errors.New("relay: the stream ended before its end mark (the sender died)")

// ErrNotImage is a stream that does not open as a docker archive.
var ErrNotImage = errors.New("relay: the stream is not a docker image archive (gzip or tar); refused")

// IsImageArchive says whether head, the start of a stream, opens what
// docker load is given here: the package's gzip file, or the plain tar that
// docker save writes. Send fills every frame but the last, so the first
// frame holds the tar's first header whole.
func IsImageArchive(head []byte) bool {
	if len(head) >= 3 && head[0] == 0x1f && head[1] == 0x8b && head[2] == 8 {
		return true // gzip, deflate
	}
	return len(head) >= 512 && bytes.Equal(head[257:262], []byte("ustar"))
}

// Relay reads the framed stream from up, writes its bytes to sink and, while
// it works, forwards the frames unchanged to next (nil for the last node).
// A next node that fails stops being fed and is reported in nextErr; the
// sink still gets the whole stream. err is the upstream's or the sink's.
func Relay(up io.Reader, sink io.Writer, next io.Writer) (n int64, nextErr, err error) {
	br := bufio.NewReaderSize(up, 4+maxFrame)
	frame := make([]byte, 4+maxFrame)
	for {
		if _, err := io.ReadFull(br, frame[:4]); err != nil {
			return n, nextErr, ErrTruncated
		}
		k := binary.BigEndian.Uint32(frame)
		if k > maxFrame {
			return n, nextErr, fmt.Errorf("relay: frame of %d bytes (at most %d)", k, maxFrame)
		}
		if _, err := io.ReadFull(br, frame[4:4+k]); err != nil {
			return n, nextErr, ErrTruncated
		}
		// The first frame must open a docker archive before any of it is
		// forwarded or loaded: a peer holding the secret still cannot use
		// the chain to carry anything else.
		if first := n == 0 && k > 0; first && !IsImageArchive(frame[4:4+k]) {
			return n, nextErr, ErrNotImage
		}
		// Forwarded before the sink gets it: the next node's download then
		// overlaps this node's docker load instead of waiting for it.
		if next != nil && nextErr == nil {
			if _, werr := next.Write(frame[:4+k]); werr != nil {
				nextErr = werr
			}
		}
		if k == 0 {
			return n, nextErr, nil
		}
		if _, err := sink.Write(frame[4 : 4+k]); err != nil {
			return n, nextErr, err
		}
		n += int64(k)
	}
}
