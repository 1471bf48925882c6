package transport

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/omsrun/omsrun/internal/secret"
)

// sshHost is one live SSH connection; every Run is a session on it.
type sshHost struct {
	name       string
	user       string
	becomePass secret.String
	client     *ssh.Client
	cfg        Config

	sessions chan struct{} // MaxSessions slots for commands
	kills    chan struct{} // slots beyond MaxSessions, kept for killing cancelled commands

	tagBase string        // random, per connection: tags are unique across runs
	tagSeq  atomic.Uint64 // numbers this connection's commands

	closeOnce sync.Once
	dead      chan struct{}
	deadErr   error
}

var _ Host = (*sshHost)(nil)

func newSSHHost(name, user string, becomePass secret.String, client *ssh.Client, cfg Config) *sshHost {
	h := &sshHost{
		name: name, user: user, becomePass: becomePass, client: client, cfg: cfg,
		sessions: make(chan struct{}, cfg.MaxSessions),
		kills:    make(chan struct{}, 2),
		dead:     make(chan struct{}),
		tagBase:  randomHex(6),
	}
	go func() {
		err := client.Wait()
		if err == nil {
			err = errors.New("connection closed by the host")
		}
		h.close(fmt.Errorf("connection lost: %w", err))
	}()
	go h.keepalive()
	return h
}

// nextTag returns a tag no other command of any run shares.
func (h *sshHost) nextTag() string {
	return h.tagBase + "-" + strconv.FormatUint(h.tagSeq.Add(1), 10)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails on Linux; a zero tag base would still work within one run
	return hex.EncodeToString(b)
}

// Name implements Host.
func (h *sshHost) Name() string { return h.name }

func (h *sshHost) alive() bool {
	select {
	case <-h.dead:
		return false
	default:
		return true
	}
}

// close marks the connection dead with why and closes it; the first reason wins.
func (h *sshHost) close(why error) error {
	var err error
	h.closeOnce.Do(func() {
		h.deadErr = why
		close(h.dead)
		err = h.client.Close()
		h.cfg.logf("%s: connection closed: %v", h.name, why)
	})
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// unreachable is the error for a Run or Dial that the dead connection broke.
func (h *sshHost) unreachable(err error) error {
	if !h.alive() {
		err = h.deadErr
	}
	return &UnreachableError{Host: h.name, Err: err}
}

// keepalive probes the peer with keepalive@openssh.com. A probe runs in its
// own goroutine because SendRequest blocks until the reply, which never comes
// over a cut link; KeepaliveMax unanswered intervals in a row close the
// connection, which fails every session on it at once.
func (h *sshHost) keepalive() {
	t := time.NewTicker(h.cfg.KeepaliveInterval)
	defer t.Stop()
	replies := make(chan error, 1)
	pending, misses := false, 0
	for {
		select {
		case <-h.dead:
			return
		case err := <-replies:
			pending = false
			misses = 0
			if err != nil {
				h.close(fmt.Errorf("connection lost: %w", err))
				return
			}
			continue
		case <-t.C:
		}
		if pending {
			misses++
			h.cfg.logf("%s: keepalive unanswered (%d/%d)", h.name, misses, h.cfg.KeepaliveMax)
			if misses >= h.cfg.KeepaliveMax {
				h.close(fmt.Errorf("no reply to %d keepalives in %s", misses, time.Duration(misses)*h.cfg.KeepaliveInterval))
				return
			}
			continue
		}
		pending = true
		go func() {
			_, _, err := h.client.SendRequest("keepalive@openssh.com", true, nil)
			replies <- err
		}()
	}
}

// Dial implements Host with an SSH direct-tcpip channel.
func (h *sshHost) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if !h.alive() {
		return nil, h.unreachable(nil)
	}
	c, err := h.client.DialContext(ctx, network, addr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !h.alive() {
			return nil, h.unreachable(err)
		}
		return nil, fmt.Errorf("%s: dial %s via ssh: %w", h.name, addr, err)
	}
	return c, nil
}

// acquire takes a session slot, giving up when ctx ends or the connection dies.
func (h *sshHost) acquire(ctx context.Context, slots chan struct{}) error {
	select {
	case slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-h.dead:
		return h.unreachable(nil)
	}
}
