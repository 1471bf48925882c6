package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omsrun/omsrun/internal/relay"
)

// build compiles the program as make build does, into a fresh directory
// named like the one the control machine makes on a node.
func build(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), relay.DirPrefix+"test")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "omsrun")
	cmd := exec.Command("go", "build", "-trimpath", "-o", exe, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return exe
}

// TestRelayNodeOnly: the program is a relay node and nothing else. Any
// other command line is refused before anything is read; run as a node it
// unlinks itself and its directory first (nothing stays on disk), then
// reads its configuration from stdin and reports on stdout as one JSON line.
func TestRelayNodeOnly(t *testing.T) {
	exe := build(t)
	for _, args := range [][]string{nil, {"--help"}, {relay.NodeArg, "extra"}} {
		cmd := exec.Command(exe, args...)
		cmd.Stdin = strings.NewReader("unread")
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(out), "started only by omsrun") {
			t.Errorf("%q: %v, %s; want exit 2 and why", args, err, out)
		}
	}
	cfg, err := relay.FrameConfig(relay.NodeConfig{Secret: []byte("short")})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, relay.NodeArg)
	cmd.Stdin = strings.NewReader(string(cfg))
	out, err := cmd.Output()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("a bad configuration: %v, want exit 1", err)
	}
	var rep relay.Report
	if err := json.Unmarshal(out, &rep); err != nil || !strings.Contains(rep.Err, "secret") {
		t.Errorf("report %q (%v), want one JSON line saying the secret is wrong", out, err)
	}
	if _, err := os.Stat(filepath.Dir(exe)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the program's directory is still there after it ran: %v", err)
	}
}
