package cli

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// TestDefaultKnownHostsChecked: hosts that name no known_hosts_file, with
// no --known-hosts, are checked against ~/.ssh/known_hosts; when it does not
// exist (and new keys are not accepted) validate, a run, exec and unlock
// refuse before any connection, naming the file, the hosts and the ways
// out. Each way out is then followed as printed and validate accepts: the
// flag, the inventory setting, --known-hosts, and the printed mkdir +
// ssh-keyscan command (its mkdir run as printed; ssh-keyscan, which needs
// an sshd, stood in for by writing the key line it would).
func TestDefaultKnownHostsChecked(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home) // no ~/.ssh at all
	dir := t.TempDir()
	key := filepath.Join(dir, "id_ed25519")
	if err := writeTestKey(key); err != nil {
		t.Fatal(err)
	}
	port, hits := countingListener(t)
	inv := filepath.Join(dir, "inv.hcl")
	writeInv := func(extra string) {
		src := fmt.Sprintf("defaults {\n  user = \"root\"\n  port = %d\n  key_file = %q\n%s}\ngroup \"oms\" {\n  host \"h1\" { address = \"127.0.0.1\" }\n  host \"h2\" { address = \"127.0.0.2\" }\n}\n", port, key, extra)
		if err := os.WriteFile(inv, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeInv("")
	const pb = "../../testdata/playbook/minimal.hcl"
	var refusal string
	for _, args := range [][]string{
		{"validate", pb, "-i", inv},
		{pb, "-i", inv, "--check"},
		{"exec", "-i", inv, "all", "--", "true"},
		{"unlock", "-i", inv, "all"},
	} {
		_, errOut, code := run(args...)
		if code != ExitInvalid {
			t.Errorf("%v: exit %d, want %d\n%s", args, code, ExitInvalid, errOut)
		}
		flat := strings.Join(strings.Fields(errOut), " ")
		for _, w := range []string{"No ~/.ssh/known_hosts", filepath.Join(home, ".ssh", "known_hosts") + " does not exist", "hosts h1, h2", "--accept-new-host-keys", "known_hosts_file", "--known-hosts FILE"} {
			if !strings.Contains(flat, w) {
				t.Errorf("%v: no %q in:\n%s", args, w, errOut)
			}
		}
		refusal = flat
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("%d connection(s) made before the refusal", n)
	}
	valid := func(how string, args ...string) {
		t.Helper()
		if _, errOut, code := run(append([]string{"validate", pb, "-i", inv}, args...)...); code != 0 {
			t.Errorf("%s: validate exits %d:\n%s", how, code, errOut)
		}
	}
	valid("--accept-new-host-keys", "--accept-new-host-keys")
	good := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(good, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	valid("--known-hosts", "--known-hosts", good)
	writeInv(fmt.Sprintf("  known_hosts_file = %q\n", good))
	valid("known_hosts_file")
	writeInv("")

	// The printed command: one ssh-keyscan for both hosts on their port.
	m := regexp.MustCompile(`(mkdir -p ~/\.ssh) && (ssh-keyscan -p (\d+) 127\.0\.0\.1 127\.0\.0\.2 >> ~/\.ssh/known_hosts);`).FindStringSubmatch(refusal)
	if m == nil || m[3] != fmt.Sprint(port) {
		t.Fatalf("no mkdir + ssh-keyscan command for port %d in:\n%s", port, refusal)
	}
	sh := exec.Command("sh", "-c", m[1])
	sh.Env = append(os.Environ(), "HOME="+home)
	if out, err := sh.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", m[1], err, out)
	}
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := ssh.NewSignerFromKey(priv)
	line := fmt.Sprintf("[127.0.0.1]:%d %s", port, ssh.MarshalAuthorizedKey(signer.PublicKey()))
	if err := os.WriteFile(filepath.Join(home, ".ssh", "known_hosts"), []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	valid(m[2])
	if n := hits.Load(); n != 0 {
		t.Errorf("%d connection(s) made by validate", n)
	}
}
