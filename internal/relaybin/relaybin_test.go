package relaybin

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"testing/fstest"
)

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestLookup(t *testing.T) {
	prog := []byte("\x7fELF a relay node program")
	sum := sha256.Sum256(prog)
	good := hex.EncodeToString(sum[:])
	other := hex.EncodeToString(make([]byte, 32))
	fsys := fstest.MapFS{
		"helpers/README.md":                       {Data: []byte("placeholder")},
		"helpers/" + FileName("linux", "amd64"):   {Data: gzipped(t, prog)},
		"helpers/" + FileName("linux", "arm64"):   {Data: gzipped(t, prog)},
		"helpers/" + FileName("linux", "riscv64"): {Data: []byte("not gzip")},
	}
	for _, tc := range []struct {
		name, sums, goarch string
		ok                 bool
	}{
		{"stamped and matching", "linux/amd64=" + good + ",linux/arm64=" + good, "amd64", true},
		{"the other platform of the stamp", "linux/amd64=" + other + ",linux/arm64=" + good, "arm64", true},
		// A plain go build: files may be there from an earlier make build,
		// but nothing stamped them for this binary.
		{"not stamped", "", "amd64", false},
		{"stamped for another program", "linux/amd64=" + other, "amd64", false},
		{"no file for the platform", "linux/s390x=" + good, "s390x", false},
		{"file is not gzip", "linux/riscv64=" + good, "riscv64", false},
		{"platform not stamped", "linux/arm64=" + good, "amd64", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gz, got, ok := lookup(fsys, tc.sums, "linux", tc.goarch)
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			if !ok {
				if gz != nil || got != "" {
					t.Errorf("not ok, yet returned %d bytes and sum %q", len(gz), got)
				}
				return
			}
			if got != good || !bytes.Equal(gz, fsys["helpers/"+FileName("linux", tc.goarch)].Data) {
				t.Errorf("got sum %s and %d bytes, want the stamped file", got, len(gz))
			}
		})
	}
}

// TestPlainBuildHasNoHelper: this test binary, like any go build or go
// test, was not linked by make build, so the embedded directory is never
// trusted, whatever make build left in it.
func TestPlainBuildHasNoHelper(t *testing.T) {
	if _, _, ok := Helper("linux", "amd64"); ok {
		t.Fatal("a binary built without make build's stamp reports a helper")
	}
	if _, err := helpers.ReadFile("helpers/README.md"); err != nil {
		t.Fatalf("the placeholder that lets a fresh clone build is not embedded: %v", err)
	}
}
