package oms

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// TestNodeBinary: the relay places the embedded program when make build
// put one in for this platform, and this executable otherwise, each with
// the checksum the node verifies before running it.
func TestNodeBinary(t *testing.T) {
	self := filepath.Join(t.TempDir(), "omsrun")
	raw := bytes.Repeat([]byte("omsrun itself "), 1000)
	if err := os.WriteFile(self, raw, 0o700); err != nil {
		t.Fatal(err)
	}
	exe := func() (string, error) { return self, nil }
	none := func(string, string) ([]byte, string, bool) { return nil, "", false }

	t.Run("embedded program", func(t *testing.T) {
		var asked string
		helper := func(goos, goarch string) ([]byte, string, bool) {
			asked = goos + "/" + goarch
			return []byte("gzipped program"), "program-sum", true
		}
		b, err := nodeBinary(helper, func() (string, error) { t.Error("read this executable though a program is embedded"); return self, nil })
		if err != nil {
			t.Fatal(err)
		}
		if string(b.gz) != "gzipped program" || b.sum != "program-sum" {
			t.Errorf("got %q, %q; want the embedded program and its sum", b.gz, b.sum)
		}
		if asked != runtime.GOOS+"/"+runtime.GOARCH {
			t.Errorf("asked for %s, want this platform (the nodes match it)", asked)
		}
	})
	t.Run("no embedded program: this executable", func(t *testing.T) {
		b, err := nodeBinary(none, exe)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(b.gz))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(got, raw) {
			t.Fatalf("the gzip does not hold this executable (%v)", err)
		}
		sum := sha256.Sum256(raw)
		if b.sum != hex.EncodeToString(sum[:]) {
			t.Errorf("sum %s, want the executable's SHA-256", b.sum)
		}
	})
	t.Run("executable unreadable", func(t *testing.T) {
		if _, err := nodeBinary(none, func() (string, error) { return "", errors.New("no /proc") }); err == nil {
			t.Error("no error when the executable cannot be found")
		}
		if _, err := nodeBinary(none, func() (string, error) { return filepath.Join(t.TempDir(), "gone"), nil }); err == nil {
			t.Error("no error when the executable cannot be read")
		}
	})
}
