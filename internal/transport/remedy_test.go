package transport

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/omsrun/omsrun/inventory"
)

// TestNoCredentialsRemedies: with no key, password or agent the dial names
// what to do; following each remedy read out of the message as printed
// against a real sshd connects (issue #14 point 7, docs/remedies.md):
// key_file in the inventory, and running ssh-agent (holding the key, as
// `ssh-add` puts it there) for the same host with no key_file or password.
func TestNoCredentialsRemedies(t *testing.T) {
	cases := []struct {
		name   string
		remedy *regexp.Regexp // its first group is what the test does
		follow func(t *testing.T, remedy, key string, h *inventory.Host)
	}{
		{"key_file", regexp.MustCompile(`no SSH credentials: set (key_file) or password in the inventory`),
			func(t *testing.T, _, key string, h *inventory.Host) { h.KeyFile = key }},
		{"ssh-agent", regexp.MustCompile(`, run (ssh-agent), or pass`), runAgent},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := startSSHD(t)
			t.Setenv("HOME", t.TempDir())
			t.Setenv("SSH_AUTH_SOCK", "")
			p := NewPool(d.config())
			defer p.Close()
			hi := d.host("bare")
			key := hi.KeyFile
			hi.KeyFile = ""
			_, err := p.Get(testCtx(t), hi)
			m := tc.remedy.FindStringSubmatch(errText(err))
			if m == nil {
				t.Fatalf("want the no-credentials remedy naming %s, got %v", tc.name, err)
			}
			follow := d.host("followed")
			follow.KeyFile = ""
			tc.follow(t, m[1], key, follow)
			if _, err := p.Get(testCtx(t), follow); err != nil {
				t.Fatalf("after following %q as printed: %v", m[1], err)
			}
		})
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// runAgent runs the agent the remedy names, adds key to it with ssh-add
// and points SSH_AUTH_SOCK at it.
func runAgent(t *testing.T, agentCmd, key string, _ *inventory.Host) {
	sock := filepath.Join(t.TempDir(), "agent.sock")
	agent := exec.Command(agentCmd, "-D", "-a", sock)
	if err := agent.Start(); err != nil {
		t.Fatalf("%s: %v", agentCmd, err)
	}
	t.Cleanup(func() { _ = agent.Process.Kill(); _ = agent.Wait() })
	// The socket file appears at bind, before the agent listens: wait until
	// it accepts (a stat alone let ssh-add meet "Connection refused" in CI).
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("unix", sock)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ssh-agent does not accept on its socket: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	add := exec.Command("ssh-add", key)
	add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v: %s", err, out)
	}
	t.Setenv("SSH_AUTH_SOCK", sock)
}

// TestKeyFileUnderHome: key_file = "~/.ssh/…", as the README's inventory
// writes it, is the file under the user's home (it was read literally, and
// every host failed with "open ~/.ssh/…: no such file").
func TestKeyFileUnderHome(t *testing.T) {
	d := startSSHD(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("SSH_AUTH_SOCK", "")
	key, err := os.ReadFile(d.clientKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(home, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".ssh", "omsrun_key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	p := NewPool(d.config())
	defer p.Close()
	hi := d.host("tilde")
	hi.KeyFile = "~/.ssh/omsrun_key"
	if _, err := p.Get(testCtx(t), hi); err != nil {
		t.Fatalf("key_file %s: %v", hi.KeyFile, err)
	}
}
