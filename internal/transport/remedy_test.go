package transport

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// TestNoCredentialsRemedy: with no key, password or agent the dial names
// what to set; following the first remedy as printed — key_file in the
// inventory — connects (issue #14 point 7, docs/remedies.md).
func TestNoCredentialsRemedy(t *testing.T) {
	d := startSSHD(t)
	t.Setenv("HOME", t.TempDir())
	t.Setenv("SSH_AUTH_SOCK", "")
	p := NewPool(d.config())
	defer p.Close()
	hi := d.host("bare")
	key := hi.KeyFile
	hi.KeyFile = ""
	_, err := p.Get(testCtx(t), hi)
	m := regexp.MustCompile(`no SSH credentials: set (key_file) or password in the inventory`).FindStringSubmatch(errText(err))
	if m == nil {
		t.Fatalf("want the no-credentials remedy, got %v", err)
	}
	follow := d.host("keyed")
	follow.KeyFile = "" // the remedy: set key_file
	if m[1] == "key_file" {
		follow.KeyFile = key
	}
	if _, err := p.Get(testCtx(t), follow); err != nil {
		t.Fatalf("after setting %s as printed: %v", m[1], err)
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestNoCredentialsAgentRemedy follows the third remedy as printed: run
// ssh-agent (holding the key, as `ssh-add` puts it there) and the same host
// with no key_file or password connects through it.
func TestNoCredentialsAgentRemedy(t *testing.T) {
	d := startSSHD(t)
	t.Setenv("HOME", t.TempDir())
	t.Setenv("SSH_AUTH_SOCK", "")
	p := NewPool(d.config())
	defer p.Close()
	hi := d.host("bare")
	key := hi.KeyFile
	hi.KeyFile = ""
	_, err := p.Get(testCtx(t), hi)
	m := regexp.MustCompile(`, run (ssh-agent), or pass`).FindStringSubmatch(errText(err))
	if m == nil {
		t.Fatalf("want the no-credentials remedy naming ssh-agent, got %v", err)
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	agent := exec.Command(m[1], "-D", "-a", sock)
	if err := agent.Start(); err != nil {
		t.Fatalf("%s: %v", m[1], err)
	}
	t.Cleanup(func() { _ = agent.Process.Kill(); _ = agent.Wait() })
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("ssh-agent made no socket")
		}
		time.Sleep(20 * time.Millisecond)
	}
	add := exec.Command("ssh-add", key)
	add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v: %s", err, out)
	}
	t.Setenv("SSH_AUTH_SOCK", sock)
	follow := d.host("agent")
	follow.KeyFile = ""
	if _, err := p.Get(testCtx(t), follow); err != nil {
		t.Fatalf("after running %s as printed: %v", m[1], err)
	}
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
