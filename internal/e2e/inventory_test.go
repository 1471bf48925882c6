package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omsrun/omsrun/internal/lab/labtest"
)

// TestInventoryProxyJumpFromAnsibleArgs: a ProxyJump given the Ansible way,
// in ansible_ssh_common_args of an INI inventory, is honoured: the target
// sees the jump host as its SSH client. The jump host's own key comes from
// ~/.ssh/config, as with ssh -J.
func TestInventoryProxyJumpFromAnsibleArgs(t *testing.T) {
	l := labtest.Require(t)
	jump, target := l.Hosts[0], l.Hosts[1]
	home := t.TempDir()
	sshDir := filepath.Join(home, ".ssh")
	kh, err := os.ReadFile(l.KnownHosts)
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"config":      fmt.Sprintf("Host %s\n  IdentityFile %s\n", jump.Address, l.Key),
		"known_hosts": string(kh),
	} {
		if err := os.MkdirAll(sshDir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sshDir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	inv := filepath.Join(t.TempDir(), "hosts.ini")
	src := fmt.Sprintf("[oms]\nbehind ansible_host=%s ansible_user=root ansible_ssh_private_key_file=%s\n[oms:vars]\nansible_ssh_common_args='-o ProxyJump=root@%s -o UserKnownHostsFile=%s'\n",
		target.Address, l.Key, jump.Address, l.KnownHosts)
	if err := os.WriteFile(inv, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(omsrunBin(t), "exec", "-i", inv, "all", "--", "sh", "-c", "echo via $SSH_CONNECTION")
	cmd.Dir = repoDir(t)
	cmd.Env = append(os.Environ(), "NO_COLOR=1", "HOME="+home)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\nstdout:\n%s\nstderr:\n%s", err, out.String(), errb.String())
	}
	if want := "behind | via " + jump.Address + " "; !strings.Contains(out.String(), want) {
		t.Fatalf("want %q (the jump host as the client) in:\n%s\n%s", want, out.String(), errb.String())
	}
	if strings.Contains(errb.String(), "not supported") {
		t.Fatalf("ProxyJump was warned about as unsupported:\n%s", errb.String())
	}
}
