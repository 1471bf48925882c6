package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/omsrun/omsrun/internal/relaybin"
)

// TestPlacedSize: the bench subtracts the program the relay really places,
// the embedded one when the measured omsrun holds it, else omsrun gzipped.
func TestPlacedSize(t *testing.T) {
	repo := t.TempDir()
	dir := filepath.Join(repo, "internal", "relaybin", "helpers")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	prog := []byte("\x1f\x8b\x08 the gzipped node program")
	if err := os.WriteFile(filepath.Join(dir, relaybin.FileName("linux", runtime.GOARCH)), prog, 0o644); err != nil {
		t.Fatal(err)
	}
	with := filepath.Join(repo, "with")
	without := filepath.Join(repo, "without")
	os.WriteFile(with, append(append(bytes.Repeat([]byte{1}, 4096), prog...), 2, 3), 0o755)
	os.WriteFile(without, bytes.Repeat([]byte("omsrun "), 4096), 0o755)

	n, what, err := placedSize(repo, with)
	if err != nil || n != int64(len(prog)) || what != "the relay's node program" {
		t.Errorf("embedding omsrun: %d, %q, %v; want the program's %d bytes", n, what, err, len(prog))
	}
	want, _ := gzSize(without)
	n, what, err = placedSize(repo, without)
	if err != nil || n != want || what != "omsrun's binary" {
		t.Errorf("plain omsrun: %d, %q, %v; want omsrun gzipped, %d bytes", n, what, err, want)
	}
}
