package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/omsrun/omsrun/internal/lab/labtest"
)

// TestDefaultKnownHostsRemedies follows, on the lab, the two ways out that
// the refusal of a missing ~/.ssh/known_hosts prints (an inventory naming
// no known_hosts_file, no --known-hosts, a home without ~/.ssh): the
// mkdir + ssh-keyscan command, run as printed, and --accept-new-host-keys;
// after each, the same exec logs on. The refusal comes before any
// connection: the host's sshd counts none.
func TestDefaultKnownHostsRemedies(t *testing.T) {
	l := labtest.Require(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	h := l.Hosts[0]
	inv := filepath.Join(t.TempDir(), "inventory.hcl")
	src := fmt.Sprintf("defaults {\n  user = \"root\"\n  key_file = %q\n}\ngroup \"oms\" {\n  host %q { address = %q }\n}\n", l.Key, h.Name, h.Address)
	if err := os.WriteFile(inv, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"exec", "-i", inv, h.Name, "--", "true"}

	before := l.SSHDConnections(t, h.Name)
	r := omsrun(t, args...)
	expectCode(t, r, 4)
	refusal := strings.Join(strings.Fields(r.stderr), " ")
	if !strings.Contains(refusal, "No ~/.ssh/known_hosts") || !strings.Contains(refusal, "host "+h.Name) {
		t.Fatalf("want the missing known_hosts refusal naming %s:\n%s", h.Name, r.stderr)
	}
	if n := l.SSHDConnections(t, h.Name) - before; n != 0 {
		t.Errorf("%d connection(s) to %s before the refusal", n, h.Name)
	}

	// The command as printed, in a shell whose home is the operator's.
	cmd := regexp.MustCompile(`mkdir -p ~/\.ssh && ssh-keyscan [^;]*known_hosts`).FindString(refusal)
	if cmd == "" {
		t.Fatalf("no mkdir + ssh-keyscan command in:\n%s", r.stderr)
	}
	sh := exec.Command("sh", "-c", cmd)
	sh.Env = append(os.Environ(), "HOME="+home)
	if out, err := sh.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, out)
	}
	expectCode(t, omsrun(t, args...), 0)

	// --accept-new-host-keys, from a home without ~/.ssh again.
	if err := os.RemoveAll(filepath.Join(home, ".ssh")); err != nil {
		t.Fatal(err)
	}
	expectCode(t, omsrun(t, "exec", "-i", inv, "--accept-new-host-keys", h.Name, "--", "true"), 0)
	if b, _ := os.ReadFile(filepath.Join(home, ".ssh", "known_hosts")); !strings.Contains(string(b), h.Address) {
		t.Errorf("--accept-new-host-keys recorded no key for %s: %q", h.Address, b)
	}
	expectCode(t, omsrun(t, args...), 0)
}
