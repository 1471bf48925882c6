package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/omsrun/omsrun/internal/secret"
	"github.com/omsrun/omsrun/inventory"
)

// endpoint is a host's connection settings after merging the inventory,
// ~/.ssh/config and the run's defaults.
type endpoint struct {
	alias      string // name used in errors and ~/.ssh/config lookups
	addr       string // host:port dialled and checked against known_hosts
	user       string
	keyFiles   []string // tried in order; the first is required when explicit
	explicit   bool     // keyFiles[0] came from the inventory and must load
	password   secret.String
	knownHosts string
	proxyJump  string
}

// resolve merges the inventory entry with ~/.ssh/config: the inventory wins
// where it says something, ~/.ssh/config fills the rest.
func (p *Pool) resolve(h *inventory.Host) (endpoint, error) {
	alias := h.Address
	if alias == "" {
		alias = h.Name
	}
	ep, err := p.resolveAlias(alias, h.User, h.Port)
	if err != nil {
		return ep, err
	}
	ep.alias = h.Name
	// The inventory's paths may start with ~/ as the README shows; ssh
	// expands them, so omsrun does too.
	if h.KeyFile != "" {
		ep.keyFiles = append([]string{HomePath(h.KeyFile)}, ep.keyFiles...)
		ep.explicit = true
	}
	if h.Password != "" {
		ep.password = h.Password
	}
	if h.KnownHostsFile != "" {
		ep.knownHosts = HomePath(h.KnownHostsFile)
	}
	if h.ProxyJump != "" {
		ep.proxyJump = h.ProxyJump // the inventory's, over ~/.ssh/config's
	}
	return ep, nil
}

func (p *Pool) resolveAlias(alias, userName string, port int) (endpoint, error) {
	home, _ := os.UserHomeDir()
	cfgFile := p.cfg.SSHConfigFile
	if cfgFile == "" {
		cfgFile = filepath.Join(home, ".ssh", "config")
	}
	sc, err := lookupSSHConfig(cfgFile, alias)
	if err != nil {
		return endpoint{}, fmt.Errorf("reading %s: %w", cfgFile, err)
	}
	host := alias
	if sc.HostName != "" {
		host = sc.HostName
	}
	// The inventory fills in port 22 by default, so only another value there
	// overrides a Port from ~/.ssh/config.
	if port == 0 || port == 22 && sc.Port != 0 {
		port = sc.Port
	}
	if port == 0 {
		port = 22
	}
	if userName == "" {
		userName = sc.User
	}
	if userName == "" {
		userName = localUser()
	}
	ep := endpoint{
		alias:     alias,
		addr:      net.JoinHostPort(host, strconv.Itoa(port)),
		user:      userName,
		keyFiles:  sc.IdentityFiles,
		password:  p.cfg.Password,
		proxyJump: sc.ProxyJump,
	}
	if ep.proxyJump == "none" {
		ep.proxyJump = ""
	}
	for _, n := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
		ep.keyFiles = append(ep.keyFiles, filepath.Join(home, ".ssh", n))
	}
	ep.knownHosts = p.cfg.KnownHostsFile
	if ep.knownHosts == "" {
		ep.knownHosts = expandHome(DefaultKnownHostsFile, home)
	}
	return ep, nil
}

func localUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "root"
}

// dial connects to h, through its ProxyJump hosts if any, within ConnectTimeout.
func (p *Pool) dial(ctx context.Context, h *inventory.Host) (*sshHost, error) {
	ep, err := p.resolve(h)
	if err != nil {
		return nil, &UnreachableError{Host: h.Name, Err: err}
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, p.cfg.ConnectTimeout)
	defer cancel()
	var via *sshHost
	if ep.proxyJump != "" {
		if via, err = p.jumpHost(ctx, ep.proxyJump); err != nil {
			if parent.Err() != nil {
				return nil, parent.Err()
			}
			return nil, &UnreachableError{Host: h.Name, Err: fmt.Errorf("via ProxyJump %s: %w", ep.proxyJump, err)}
		}
	}
	start := time.Now()
	client, err := p.connect(ctx, ep, via)
	if err != nil {
		// Ctrl-C or a step timeout is not the host's fault; only our own
		// connect timeout makes it unreachable.
		if parent.Err() != nil {
			return nil, parent.Err()
		}
		return nil, &UnreachableError{Host: h.Name, Err: err}
	}
	p.cfg.logf("%s: connected to %s@%s in %s", h.Name, ep.user, ep.addr, time.Since(start).Round(time.Millisecond))
	bp := h.BecomePassword
	if bp == "" {
		bp = p.cfg.BecomePassword
	}
	return newSSHHost(h.Name, ep.user, bp, client, p.cfg), nil
}

// connect does the TCP dial (direct or through via) and the SSH handshake,
// both bounded by ctx.
func (p *Pool) connect(ctx context.Context, ep endpoint, via *sshHost) (*ssh.Client, error) {
	check, algos, err := p.kh.verifier(ep.knownHosts, p.cfg.AcceptNewHostKeys, p.cfg.logf)
	if err != nil {
		return nil, err
	}
	auth, cleanup, err := p.authMethods(ep)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	cc := &ssh.ClientConfig{
		User:              ep.user,
		Auth:              auth,
		HostKeyCallback:   check,
		HostKeyAlgorithms: algos(ep.addr),
		Timeout:           p.cfg.ConnectTimeout,
	}
	var conn net.Conn
	if via == nil {
		d := net.Dialer{KeepAlive: 15 * time.Second}
		conn, err = d.DialContext(ctx, "tcp", ep.addr)
	} else {
		conn, err = via.client.DialContext(ctx, "tcp", ep.addr)
	}
	if err != nil {
		return nil, err
	}
	// The handshake has no context of its own: closing the socket is what
	// interrupts it when the connect timeout or Ctrl-C comes first.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	c, chans, reqs, err := ssh.NewClientConn(conn, ep.addr, cc)
	if !stop() {
		if err == nil {
			c.Close()
		}
		return nil, fmt.Errorf("ssh handshake with %s: %w", ep.addr, context.Cause(ctx))
	}
	if err != nil {
		conn.Close()
		var hk *HostKeyError
		if errors.As(err, &hk) {
			return nil, hk
		}
		return nil, err
	}
	return ssh.NewClient(c, chans, reqs), nil
}

// authMethods offers, in order: keys (agent, then files), password, and
// keyboard-interactive answered with the password.
func (p *Pool) authMethods(ep endpoint) ([]ssh.AuthMethod, func(), error) {
	cleanup := func() {}
	var signers []ssh.Signer
	if sock := os.Getenv("SSH_AUTH_SOCK"); sock != "" {
		if ac, err := net.Dial("unix", sock); err == nil {
			cleanup = func() { ac.Close() }
			if s, err := agent.NewClient(ac).Signers(); err == nil {
				signers = append(signers, s...)
			} else {
				p.cfg.logf("ssh-agent: %v", err)
			}
		} else {
			p.cfg.logf("ssh-agent: %v", err)
		}
	}
	for i, f := range ep.keyFiles {
		s, err := p.keys.signer(f, p.cfg.Passphrase)
		if err != nil {
			if i == 0 && ep.explicit {
				cleanup()
				return nil, nil, err
			}
			if !errors.Is(err, os.ErrNotExist) {
				p.cfg.logf("skipping key %s: %v", f, err)
			}
			continue
		}
		signers = append(signers, s)
	}
	var methods []ssh.AuthMethod
	if len(signers) > 0 {
		methods = append(methods, ssh.PublicKeys(signers...))
	}
	if pw := ep.password.Reveal(); pw != "" {
		methods = append(methods, ssh.Password(pw),
			ssh.KeyboardInteractive(func(_, _ string, questions []string, echos []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i := range questions {
					if !echos[i] {
						answers[i] = pw
					}
				}
				return answers, nil
			}))
	}
	if len(methods) == 0 {
		cleanup()
		return nil, nil, errors.New("no SSH credentials: set key_file or password in the inventory, run ssh-agent, or pass --ask-pass")
	}
	return methods, cleanup, nil
}
