package cli

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/crypto/ssh"
)

// countingListener stands in for a host's sshd and counts the connections
// made to it, so a test sees that a refusal came before any was attempted.
func countingListener(t *testing.T) (port int, hits *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	hits = &atomic.Int32{}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			hits.Add(1)
			c.Close()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port, hits
}

// TestConnectionFilesCheckedBeforeAnyHost: a key_file that is missing, a
// directory or not a private key, and a known_hosts file that does not parse
// or (without --accept-new-host-keys) does not exist, would fail every
// connection; validate, a run and exec refuse them before connecting,
// at the inventory line that set the value (HCL, INI host line, INI
// ssh_common_args), saying what to do. An encrypted key, and a missing
// known_hosts file with --accept-new-host-keys (the dial creates it), pass.
func TestConnectionFilesCheckedBeforeAnyHost(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	key := filepath.Join(dir, "id_ed25519")
	if err := writeTestKey(key); err != nil {
		t.Fatal(err)
	}
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	block, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte("pass phrase"))
	if err != nil {
		t.Fatal(err)
	}
	encrypted := write("id_encrypted", string(pem.EncodeToMemory(block)))
	signer, _ := ssh.NewSignerFromKey(priv)
	pubLine := string(ssh.MarshalAuthorizedKey(signer.PublicKey()))
	pub := write("id_ed25519.pub", pubLine)
	goodKH := write("known_hosts", "127.0.0.1 "+pubLine)
	badKH := write("bad_known_hosts", "127.0.0.1 "+pubLine+"this line is no host key\n")
	missingKH := filepath.Join(dir, "nowhere", "known_hosts")
	port, hits := countingListener(t)

	hcl := func(keyFile, kh string) string {
		return write("inv.hcl", fmt.Sprintf("defaults {\n  user = \"root\"\n  port = %d\n  key_file = %q\n  known_hosts_file = %q\n}\ngroup \"oms\" {\n  host \"h1\" { address = \"127.0.0.1\" }\n}\n", port, keyFile, kh))
	}
	cases := []struct {
		name  string
		inv   func() string
		extra []string
		want  []string // in stderr; none: valid
	}{
		{"good key and known_hosts", func() string { return hcl(key, goodKH) }, nil, nil},
		{"encrypted key: its passphrase is asked when connecting", func() string { return hcl(encrypted, goodKH) }, nil, nil},
		{"missing key", func() string { return hcl(filepath.Join(dir, "id_typo"), goodKH) },
			nil, []string{"inv.hcl:4:14: Unusable key_file", filepath.Join(dir, "id_typo") + " does not exist", "(for host h1)", "Set key_file to the path of the private key"}},
		{"key_file is a directory", func() string { return hcl(dir, goodKH) },
			nil, []string{"inv.hcl:4:14: Unusable key_file", "is a directory", "Set key_file to the private key itself"}},
		{"key_file is the public key", func() string { return hcl(pub, goodKH) },
			nil, []string{"inv.hcl:4:14: Unusable key_file", "is not a private key", "(not the .pub file)"}},
		{"known_hosts line that does not parse", func() string { return hcl(key, badKH) },
			nil, []string{"inv.hcl:5:22: Unusable known_hosts_file", badKH + ":2", "Fix or delete the line it names"}},
		{"known_hosts missing", func() string { return hcl(key, missingKH) },
			nil, []string{"inv.hcl:5:22: Unusable known_hosts_file", missingKH + " does not exist", "pass --accept-new-host-keys"}},
		{"known_hosts missing, new keys accepted", func() string { return hcl(key, missingKH) }, []string{"--accept-new-host-keys"}, nil},
		{"INI host line", func() string {
			return write("hosts.ini", fmt.Sprintf("[oms]\nh1 ansible_host=127.0.0.1 ansible_port=%d ansible_ssh_private_key_file=%s\n", port, pub))
		}, []string{"--known-hosts", goodKH}, []string{"hosts.ini:2:", "Unusable key_file", "(not the .pub file)"}},
		{"INI ssh_common_args", func() string {
			return write("hosts.ini", fmt.Sprintf("[oms]\nh1 ansible_host=127.0.0.1 ansible_port=%d ansible_ssh_private_key_file=%s\n[oms:vars]\nansible_ssh_common_args='-o UserKnownHostsFile=%s'\n", port, key, badKH))
		}, nil, []string{"hosts.ini:4:", "Unusable known_hosts_file", badKH + ":2"}},
		{"--known-hosts that does not parse", func() string {
			return write("hosts.ini", fmt.Sprintf("[oms]\nh1 ansible_host=127.0.0.1 ansible_port=%d ansible_ssh_private_key_file=%s\n", port, key))
		}, []string{"--known-hosts", badKH}, []string{"Unusable --known-hosts", badKH + ":2", "point --known-hosts at another file"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			inv := tc.inv()
			before := hits.Load()
			for _, cmd := range [][]string{
				{"validate", "../../testdata/playbook/minimal.hcl"},
				{"../../testdata/playbook/minimal.hcl", "--check"},
				{"exec"},
				{"unlock"},
			} {
				args := append(append(cmd, "-i", inv), tc.extra...)
				switch cmd[0] {
				case "exec":
					args = append(args, "all", "--", "true")
				case "unlock":
					if len(tc.extra) > 0 && tc.extra[0] == "--accept-new-host-keys" {
						continue // unlock has no such flag
					}
					args = append(args, "all")
				}
				_, errOut, code := run(args...)
				if tc.want == nil {
					if cmd[0] == "validate" && code != 0 {
						t.Errorf("%v: exit %d\n%s", cmd, code, errOut)
					}
					continue
				}
				if code != ExitInvalid {
					t.Errorf("%v: exit %d, want %d\n%s", cmd, code, ExitInvalid, errOut)
				}
				for _, w := range tc.want {
					if !strings.Contains(errOut, w) {
						t.Errorf("%v: no %q in:\n%s", cmd, w, errOut)
					}
				}
			}
			if n := hits.Load() - before; tc.want != nil && n != 0 {
				t.Errorf("%d connection(s) made before the refusal", n)
			}
		})
	}
}
