package transport

import (
	"time"

	"github.com/omsrun/omsrun/internal/secret"
)

// Config holds the SSH settings shared by every host of a run. Zero values
// pick the defaults documented on each field.
type Config struct {
	// KnownHostsFile overrides ~/.ssh/known_hosts (a host's own KnownHostsFile wins over both).
	KnownHostsFile string
	// AcceptNewHostKeys records keys of hosts not yet in the file; a changed key is still refused.
	AcceptNewHostKeys bool
	// ConnectTimeout bounds the TCP dial plus the SSH handshake (default 10s).
	ConnectTimeout time.Duration
	// KeepaliveInterval is the time between keepalive@openssh.com probes (default 5s).
	KeepaliveInterval time.Duration
	// KeepaliveMax is how many probes in a row may go unanswered before the
	// connection is declared dead (default 3).
	KeepaliveMax int
	// MaxSessions bounds concurrent sessions per connection (default 8; sshd allows 10,
	// and the spare two are kept for killing cancelled commands).
	MaxSessions int
	// Password and BecomePassword apply to hosts whose inventory entry has none.
	Password, BecomePassword secret.String
	// Passphrase is asked for the passphrase of an encrypted key file; nil skips such keys.
	Passphrase func(file string) ([]byte, error)
	// SSHConfigFile overrides ~/.ssh/config; "none" disables reading it.
	SSHConfigFile string
	// Logf receives SSH events for -vv; nil is silent. Secrets are never passed to it.
	Logf func(format string, args ...any)
}

func (c Config) withDefaults() Config {
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = 10 * time.Second
	}
	if c.KeepaliveInterval <= 0 {
		c.KeepaliveInterval = 5 * time.Second
	}
	if c.KeepaliveMax <= 0 {
		c.KeepaliveMax = 3
	}
	if c.MaxSessions <= 0 {
		c.MaxSessions = 8
	}
	return c
}

func (c Config) logf(format string, args ...any) {
	if c.Logf != nil {
		c.Logf(format, args...)
	}
}
