package relay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strings"
	"time"
)

var imageID = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// NodeConfig is what the control machine hands a node, as JSON on the SSH
// session's stdin: the secret must never appear in argv, where any user of
// the host could read it in ps.
type NodeConfig struct {
	Secret   []byte    `json:"secret"` // SecretSize bytes (base64 in JSON)
	Listen   string    `json:"listen"` // the node's cluster address and the relay port
	Next     string    `json:"next,omitempty"`
	Deadline time.Time `json:"deadline"` // stop listening then if no peer came
	// Stdin: the stream follows the configuration on the session's stdin
	// (the first node of the chain, fed by the control machine); Listen
	// is then unused.
	Stdin bool `json:"stdin,omitempty"`
	// Save names the image ID this node sends with docker save (a node that
	// already has the image is the chain's source); it loads nothing.
	Save string `json:"save,omitempty"`
	// Idle bounds how long a peer may stay silent (reading) or stuck
	// (writing): a peer whose host died sends no FIN.
	Idle time.Duration `json:"idle,omitempty"`
}

// Report is what a node tells the control machine when it is done.
type Report struct {
	Bytes   int64  `json:"bytes"`              // written to the sink
	NextErr string `json:"next_err,omitempty"` // the next node stopped taking the stream
	Err     string `json:"err,omitempty"`      // this node did not get the whole stream
	// LoadFailed: the stream arrived whole and the node's docker load
	// refused it (a partial archive whose layers went missing, say).
	LoadFailed bool `json:"load_failed,omitempty"`
}

// ReadConfig reads the node's configuration from r (the session's stdin)
// and checks it.
func ReadConfig(r io.Reader) (NodeConfig, error) {
	var cfg NodeConfig
	dec := json.NewDecoder(r)
	if err := dec.Decode(&cfg); err != nil {
		return cfg, fmt.Errorf("relay: configuration on stdin: %w", err)
	}
	if len(cfg.Secret) != SecretSize {
		return cfg, fmt.Errorf("relay: the secret has %d bytes, want %d", len(cfg.Secret), SecretSize)
	}
	if cfg.Save != "" && !imageID.MatchString(cfg.Save) {
		// Only an image ID: nothing else from the configuration reaches a command line.
		return cfg, fmt.Errorf("relay: save %q is not an image ID", cfg.Save)
	}
	if cfg.Stdin || cfg.Save != "" {
		if cfg.Deadline.IsZero() {
			return cfg, errors.New("relay: no deadline")
		}
		return cfg, nil
	}
	if host, _, err := net.SplitHostPort(cfg.Listen); err != nil || net.ParseIP(host) == nil || net.ParseIP(host).IsUnspecified() {
		// A wildcard address would open the door on every interface.
		return cfg, fmt.Errorf("relay: listen %q: want the node's cluster IP and a port", cfg.Listen)
	}
	if cfg.Deadline.IsZero() {
		return cfg, errors.New("relay: no deadline")
	}
	return cfg, nil
}

// RunNode listens on cfg.Listen for the upstream peer, forwards to cfg.Next
// and writes the stream to sink. Everything it opened is closed when it
// returns, and it returns when ctx ends (the control machine's session went
// away: the run was interrupted) however far the stream got. It tells the
// control machine on stderr when it listens (ListeningLine), how much it has
// received (ReceivedLine) and when its next node cannot be reached
// (NextUnreachableLine).
func RunNode(ctx context.Context, cfg NodeConfig, sink io.Writer, stderr io.Writer) Report {
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return Report{Err: err.Error()}
	}
	fmt.Fprintln(stderr, ListeningLine)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Closing the listener and the connections is what unblocks every read
	// and write below when the run is interrupted.
	stop := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
		case <-stop:
		}
		ln.Close()
	}()
	up, err := Accept(ln, cfg.Secret, cfg.Deadline)
	close(stop)
	if err != nil {
		return Report{Err: err.Error()}
	}
	var down net.Conn
	var rep Report
	if cfg.Next != "" {
		if down, err = dialNext(cfg, stderr); err != nil {
			rep.NextErr = err.Error()
		}
	}
	go func() {
		<-ctx.Done()
		up.Close()
		if down != nil {
			down.Close()
		}
	}()
	var next io.Writer
	if down != nil {
		next = idleConn{down, cfg.idle()}
	}
	recv := &receivedWriter{sink: sink, stderr: stderr}
	n, nextErr, err := Relay(idleConn{up, cfg.idle()}, recv, next)
	recv.end()
	rep.Bytes = n
	if nextErr != nil && rep.NextErr == "" {
		rep.NextErr = nextErr.Error()
	}
	if err != nil {
		rep.Err = err.Error()
	}
	if ctx.Err() != nil && rep.Err == "" {
		rep.Err = "relay: interrupted"
	}
	up.Close()
	if down != nil {
		down.Close()
	}
	return rep
}

func (cfg NodeConfig) idle() time.Duration {
	if cfg.Idle > 0 {
		return cfg.Idle
	}
	return 30 * time.Second
}

// idleConn gives every read and write on a connection its own deadline, so
// a peer whose host vanished (no FIN, no RST) is given up after d instead of
// holding the chain for ever.
type idleConn struct {
	net.Conn
	d time.Duration
}

func (c idleConn) Read(p []byte) (int, error) {
	c.Conn.SetReadDeadline(time.Now().Add(c.d))
	return c.Conn.Read(p)
}

func (c idleConn) Write(p []byte) (int, error) {
	c.Conn.SetWriteDeadline(time.Now().Add(c.d))
	return c.Conn.Write(p)
}

// dialNext connects to the next node and, when it cannot, says so on
// stderr at once: the control machine then gives the nodes after this one
// the file itself instead of letting them wait for their deadline.
func dialNext(cfg NodeConfig, stderr io.Writer) (net.Conn, error) {
	c, err := Dial(cfg.Next, cfg.Secret, cfg.dialTimeout())
	if err != nil {
		fmt.Fprintln(stderr, NextUnreachableLine+oneLine(err.Error()))
	}
	return c, err
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }

// dialTimeout bounds the wait for the next node: the control machine
// starts a node only once every node after it listens, so a next node that
// does not answer soon is dead, and this node must not hold its own load
// for it.
func (cfg NodeConfig) dialTimeout() time.Duration {
	return min(cfg.idle(), time.Until(cfg.Deadline))
}
