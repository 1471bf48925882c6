package transport

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/omsrun/omsrun/inventory"
)

// authorize adds a public key file to the test sshd's authorized keys.
func (d *testSSHD) authorize(t *testing.T, pubFile string) {
	t.Helper()
	pub, err := os.ReadFile(pubFile)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(d.dir, "authorized_keys"), os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(pub); err != nil {
		t.Fatal(err)
	}
}

func TestPassphraseKeyAskedOnce(t *testing.T) {
	d := startSSHD(t)
	t.Setenv("HOME", t.TempDir())
	t.Setenv("SSH_AUTH_SOCK", "")
	key := filepath.Join(t.TempDir(), "locked")
	if out, err := runLocal("ssh-keygen", "-q", "-t", "ed25519", "-N", "s3cret pass", "-f", key); err != nil {
		t.Fatalf("ssh-keygen: %v %s", err, out)
	}
	d.authorize(t, key+".pub")
	var asked atomic.Int32
	cfg := d.config()
	cfg.Passphrase = func(file string) ([]byte, error) {
		asked.Add(1)
		if file != key {
			t.Errorf("asked for %s", file)
		}
		return []byte("s3cret pass"), nil
	}
	p := NewPool(cfg)
	defer p.Close()
	for _, name := range []string{"a", "b"} {
		hi := d.host(name)
		hi.KeyFile = key
		if _, err := p.Get(testCtx(t), hi); err != nil {
			t.Fatal(err)
		}
	}
	if asked.Load() != 1 {
		t.Fatalf("passphrase asked %d times", asked.Load())
	}

	// Without a way to ask, the explicit key is an error that names it.
	cfg.Passphrase = nil
	p2 := NewPool(cfg)
	defer p2.Close()
	hi := d.host("c")
	hi.KeyFile = key
	_, err := p2.Get(testCtx(t), hi)
	if !IsUnreachable(err) || !strings.Contains(err.Error(), key) {
		t.Fatalf("want an error naming the encrypted key, got %v", err)
	}
}

func TestAgentAuth(t *testing.T) {
	d := startSSHD(t)
	t.Setenv("HOME", t.TempDir())
	runAgent(t, "ssh-agent", d.clientKey, nil)
	p := NewPool(d.config())
	defer p.Close()
	hi := d.host("agent")
	hi.KeyFile = ""
	h, err := p.Get(testCtx(t), hi)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := h.Run(testCtx(t), Cmd{Argv: []string{"true"}}); err != nil || res.ExitCode != 0 {
		t.Fatalf("run over agent-authenticated connection: %v", err)
	}
}

// TestProxyJump reaches hosts named only in ~/.ssh/config through a jump
// host (the same sshd, which forwards to itself), sharing the jump connection.
func TestProxyJump(t *testing.T) {
	d := startSSHD(t)
	t.Setenv("HOME", t.TempDir())
	t.Setenv("SSH_AUTH_SOCK", "")
	port := strconv.Itoa(d.port)
	cfgText := "Host target-*\n  HostName 127.0.0.1\n  Port " + port + "\n  User root\n  IdentityFile " + d.clientKey +
		"\n  ProxyJump jumpbox\nHost jumpbox\n  HostName 127.0.0.1\n  Port " + port + "\n  User root\n  IdentityFile " + d.clientKey + "\n"
	sshCfg := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(sshCfg, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := d.config()
	cfg.SSHConfigFile = sshCfg
	p := NewPool(cfg)
	defer p.Close()
	for _, name := range []string{"target-1", "target-2"} {
		h, err := p.Get(testCtx(t), &inventory.Host{Name: name, Address: name, Port: 22})
		if err != nil {
			t.Fatal(err)
		}
		res, err := h.Run(testCtx(t), Cmd{Script: "echo $SSH_CONNECTION"})
		if err != nil {
			t.Fatal(err)
		}
		// Through the jump, the target sees a connection from the sshd's own address.
		if !strings.HasPrefix(string(res.Stdout), "127.0.0.1 ") {
			t.Fatalf("SSH_CONNECTION %q", res.Stdout)
		}
	}
	if p.Dials() != 3 {
		t.Fatalf("want 3 dials (one jump, two targets), got %d", p.Dials())
	}
	if n := d.connections(t); n != 3 {
		t.Fatalf("sshd accepted %d connections, want 3", n)
	}
}
