package cli

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/ssh"
)

// TestMain gives the tests a home of their own holding ~/.ssh/id_ed25519,
// the key_file testdata/inventory/lab.hcl names as the README's example
// does, and ~/.ssh/known_hosts, which that inventory's hosts are checked
// against: validate checks that the one is a private key and that the other
// exists, and the machine running the tests need not have them (CI's has
// neither).
//
// With OMSRUN_TEST_AS_OMSRUN=1 the test binary is omsrun itself, for the
// tests that run it at a terminal of its own (a pty, see pty_test.go).
func TestMain(m *testing.M) {
	if os.Getenv("OMSRUN_TEST_AS_OMSRUN") == "1" {
		app := &App{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Build: Build{Version: "test", Commit: "test"}}
		os.Exit(app.Main(os.Args[1:]))
	}
	home, err := os.MkdirTemp("", "omsrun-cli-home")
	if err == nil {
		err = writeTestKey(filepath.Join(home, ".ssh", "id_ed25519"))
	}
	if err == nil {
		// And ~/.ssh/known_hosts, which validate checks exists for the
		// inventories that name none (TestDefaultKnownHostsChecked).
		err = os.WriteFile(filepath.Join(home, ".ssh", "known_hosts"), nil, 0o600)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "test home:", err)
		os.Exit(1)
	}
	os.Setenv("HOME", home)
	code := m.Run()
	os.RemoveAll(home)
	os.Exit(code)
}

// writeTestKey writes a fresh unencrypted ed25519 private key in OpenSSH's format.
func writeTestKey(path string) error {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return os.WriteFile(path, pem.EncodeToMemory(block), 0o600)
}
