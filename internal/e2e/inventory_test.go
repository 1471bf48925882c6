package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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

// TestDeployPerHostMountDir: a node whose data disk is elsewhere gets its
// own mount_dir from the inventory, while the others keep the var file's:
// its config.yaml and the container's mounts are there, and the cluster is
// healthy.
func TestDeployPerHostMountDir(t *testing.T) {
	l := labtest.Require(t)
	l.Reset(t)
	l.DropMetaDatabases(t)
	var b strings.Builder
	fmt.Fprintf(&b, "defaults {\n  user = \"root\"\n  key_file = %q\n  known_hosts_file = %q\n}\ngroup \"oms\" {\n", l.Key, l.KnownHosts)
	for i, h := range l.Hosts {
		vars := ""
		if i == 1 {
			vars = ` vars = { mount_dir = "/data/oms-alt" }`
		}
		fmt.Fprintf(&b, "  host %q {\n    address = %q\n   %s\n  }\n", h.Name, h.Address, vars)
	}
	b.WriteString("}\n")
	inv := filepath.Join(t.TempDir(), "inventory.hcl")
	if err := os.WriteFile(inv, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	run := deploy(t, l, "deploy.hcl", inv)
	expectCode(t, run, 0)
	for i, h := range l.Hosts {
		dir, other := "/data/oms", "/data/oms-alt"
		if i == 1 {
			dir, other = other, dir
		}
		got := l.Exec(t, h.Name, fmt.Sprintf("test -f %s/config.yaml && echo config; test -e %s && echo other; docker inspect -f '{{range .Mounts}}{{.Source}} {{end}}' oms", dir, other))
		f := strings.Fields(got)
		if len(f) < 2 || f[0] != "config" || slices.Contains(f, "other") || !strings.Contains(got, dir+"/") {
			t.Errorf("%s: want %s/config.yaml, no %s and mounts under %s; got %q", h.Name, dir, other, dir, got)
		}
	}
	vipAnswers(t, l, 8088)
}
