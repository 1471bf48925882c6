package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// TestKeyFileRemediesFollowed follows an unusable key_file's remedy as
// printed (docs/remedies.md): "Set key_file to the path of the private key
// …" (missing file) and "Set key_file to the private key itself (not the
// .pub file)" (a public key, a directory) by pointing key_file at the
// private key, and "or remove it to use ssh-agent, ~/.ssh/id_* or a
// password" by deleting the line; validate then passes each time. (That the
// connection then uses ssh-agent or a password is followed against a real
// sshd in the transport tests and e2e TestPasswordInInventoryRemedy.)
func TestKeyFileRemediesFollowed(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "id_ed25519")
	if err := writeTestKey(key); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key+".pub", []byte("ssh-ed25519 AAAA test\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	inv := filepath.Join(dir, "inv.hcl")
	writeInv := func(keyLine string) {
		body := fmt.Sprintf("defaults {\n  user = \"root\"\n%s}\ngroup \"oms\" {\n  host \"h1\" { address = \"127.0.0.1\" }\n}\n", keyLine)
		if err := os.WriteFile(inv, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	validate := func() (string, int) {
		_, errOut, code := run("validate", "../../testdata/playbook/minimal.hcl", "-i", inv)
		return errOut, code
	}
	set := regexp.MustCompile(`Set (key_file) to (the path of the private key|the private key itself)`)
	remove := regexp.MustCompile(`or (remove it) to use ssh-agent`)
	for _, bad := range []struct{ name, path string }{
		{"missing", filepath.Join(dir, "id_typo")},
		{"public key", key + ".pub"},
		{"directory", dir},
	} {
		for _, way := range []string{"set", "remove"} {
			t.Run(bad.name+"/"+way, func(t *testing.T) {
				writeInv(fmt.Sprintf("  key_file = %q\n", bad.path))
				errOut, code := validate()
				ms, mr := set.FindStringSubmatch(errOut), remove.FindStringSubmatch(errOut)
				if code != ExitInvalid || ms == nil || mr == nil {
					t.Fatalf("exit %d, want the refusal with both remedies:\n%s", code, errOut)
				}
				if way == "set" {
					// The private key itself, at its path.
					writeInv(fmt.Sprintf("  %s = %q\n", ms[1], key))
				} else {
					writeInv("")
				}
				if errOut, code := validate(); code != 0 {
					t.Fatalf("after %q: exit %d\n%s", map[string]string{"set": ms[0], "remove": mr[1]}[way], code, errOut)
				}
			})
		}
	}
}
