package cli

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omsrun/omsrun/internal/engine"
)

// run runs the CLI in-process and returns its output and exit code.
func run(args ...string) (string, string, int) {
	var out, errb bytes.Buffer
	app := &App{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Build: Build{Version: "v9.9.9", Commit: "abc1234"}}
	code := app.Main(args)
	return out.String(), errb.String(), code
}

// TestExitErrorInJoined: an exit code and "already printed" are found
// inside joined errors too.
func TestExitErrorInJoined(t *testing.T) {
	err := fmt.Errorf("run: %w", errors.Join(errors.New("other"), withCode(ExitUnreachable, errors.New("h1 down"), true)))
	if Code(err) != ExitUnreachable {
		t.Fatalf("Code = %d", Code(err))
	}
	var e *ExitError
	if !errors.As(err, &e) || !e.Printed {
		t.Fatal("the ExitError inside a joined error was not found")
	}
}

func TestCommandsWithoutHosts(t *testing.T) {
	cases := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"version", []string{"version"}, 0, "omsrun v9.9.9 (commit abc1234)", ""},
		{"completion", []string{"completion", "bash"}, 0, "bash completion", ""},
		{"modules list", []string{"modules"}, 0, "render_config", ""},
		{"module reference", []string{"modules", "docker_load"}, 0, "| `file` | string | yes |", ""},
		{"unknown module", []string{"modules", "nope"}, 4, "", "unknown module"},
		{"did you mean", []string{"valdate"}, 4, "", `did you mean "validate"`},
		{"no playbook", []string{}, 4, "", "no playbook"},
		{"no inventory", []string{"../../playbooks/deploy.hcl"}, 4, "", "no inventory"},
		{"unknown flag", []string{"--bogus"}, 4, "", "unknown flag"},
		{"unknown flag of a command", []string{"validate", "--bogus"}, 4, "", "unknown flag"},
		{"flag value", []string{"--forks=many", "x"}, 4, "", `invalid argument "many"`},
		{"flag without value", []string{"-i"}, 4, "", "flag needs an argument"},
		{"too many args", []string{"validate", "a", "b"}, 4, "", "accepts 1 arg(s)"},
		{"too few args", []string{"exec"}, 4, "", "requires at least 1 arg(s)"},
		{"exec without command", []string{"exec", "-i", "../../testdata/inventory/lab.hcl", "all"}, 4, "", "nothing to run"},
		{"exec module checked like a step", []string{"exec", "-i", "../../testdata/inventory/lab.hcl", "all", "-m", "copy", "-a", "content=x dest=relative/path"}, 4, "", "Invalid module arguments"},
		{"exec module missing argument", []string{"exec", "-i", "../../testdata/inventory/lab.hcl", "all", "-m", "copy", "-a", "content=x"}, 4, "", "dest"},
		{"exec module unknown argument", []string{"exec", "-i", "../../testdata/inventory/lab.hcl", "all", "-m", "wait_for", "-a", "urll=http://x"}, 4, "", "urll"},
		{"playbook path with a folder never falls back", []string{"validate", "/nonexistent/typo/deploy.hcl", "-i", "../../testdata/inventory/lab.hcl"}, 4, "", "no playbook file /nonexistent/typo/deploy.hcl"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, code := run(c.args...)
			if code != c.code || !strings.Contains(out, c.stdout) || !strings.Contains(errOut, c.stderr) {
				t.Fatalf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, c.code, out, errOut)
			}
		})
	}
}

func TestValidateShippedPlaybooks(t *testing.T) {
	img := tinyArchive(t)
	for _, pb := range []string{"deploy.hcl", "reconfigure.hcl", "status.hcl", "uninstall.hcl", "upgrade.hcl", "restore.hcl"} {
		out, errOut, code := run("validate", "../../playbooks/"+pb, "-i", "../../testdata/inventory/lab.hcl", "-e", "@../../testdata/cli/vars.hcl", "-e", "image_file="+img)
		if code != 0 {
			t.Errorf("%s: exit %d\n%s%s", pb, code, out, errOut)
		}
	}
	// A bad value is refused with the playbook's file and line, before any connection.
	_, errOut, code := run("validate", "../../playbooks/deploy.hcl", "-i", "../../testdata/inventory/lab.hcl", "-e", "@../../testdata/cli/vars.hcl", "-e", "image_file="+img, "-e", "cm_location=128")
	if code != 4 || !strings.Contains(errOut, "Error: -e #3:1:13: Invalid module arguments") || !strings.Contains(errOut, `step "config.yaml" uses at ../../playbooks/deploy.hcl:`) {
		t.Fatalf("cm_location=128: exit %d\n%s", code, errOut)
	}
	// Set in a var file, the error points at the file's line, the playbook's as context.
	vars := filepath.Join(t.TempDir(), "vars.hcl")
	src, err := os.ReadFile("../../testdata/cli/vars.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(vars, append(src, "\ncm_location = 300\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	line := strings.Count(string(src), "\n") + 2
	_, errOut, code = run("validate", "../../playbooks/deploy.hcl", "-i", "../../testdata/inventory/lab.hcl", "-e", "@"+vars, "-e", "image_file="+img)
	if want := fmt.Sprintf("Error: %s:%d:15: Invalid module arguments", vars, line); code != 4 || !strings.Contains(errOut, want) || !strings.Contains(errOut, "cm_location = 300") {
		t.Fatalf("cm_location = 300 in a var file: exit %d, want %q in\n%s", code, want, errOut)
	}
}

// tinyArchive writes the smallest docker-archive validate accepts: a manifest
// and an image config named by its digest.
func tinyArchive(t *testing.T) string {
	t.Helper()
	config := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	sum := sha256.Sum256(config)
	name := hex.EncodeToString(sum[:]) + ".json"
	manifest := []byte(`[{"Config":"` + name + `","RepoTags":["oms:feature_4.2.5-ce"],"Layers":[]}]`)
	path := filepath.Join(t.TempDir(), "oms.tar")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	for _, e := range []struct {
		name string
		data []byte
	}{{name, config}, {"manifest.json", manifest}} {
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.data))}); err != nil {
			t.Fatal(err)
		}
		tw.Write(e.data)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestBareNameFallsBack: a bare name that is no file here is the shipped
// playbook, and the output says so.
func TestBareNameFallsBack(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	img := tinyArchive(t)
	out, errOut, code := run("validate", "status.hcl", "-i", "../../testdata/inventory/lab.hcl", "-e", "@../../testdata/cli/vars.hcl", "-e", "image_file="+img)
	if code != 0 || !strings.Contains(errOut, "using the playbook shipped in omsrun") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
}

// Under --json, an error that ends the command before any recap is one JSON
// event on stdout with its exit code, so a script reading stdout sees it.
func TestUsageErrorsAsJSON(t *testing.T) {
	for _, args := range [][]string{
		{"--json", "--bogus"},
		{"--json"},
		{"--json", "../../playbooks/deploy.hcl"},
		{"exec", "--json", "-i", "../../testdata/inventory/lab.hcl", "all"},
	} {
		out, _, code := run(args...)
		var ev struct {
			Type     string `json:"type"`
			ExitCode int    `json:"exit_code"`
			Error    string `json:"error"`
		}
		if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &ev); err != nil {
			t.Fatalf("%q: stdout is not one JSON event: %q", args, out)
		}
		if code != 4 || ev.Type != "error" || ev.ExitCode != 4 || ev.Error == "" {
			t.Fatalf("%q: exit %d, event %+v", args, code, ev)
		}
	}
	if out, _, _ := run("--bogus"); out != "" {
		t.Fatalf("without --json, stdout stays empty: %q", out)
	}
}

// One recap, one code: the order in which the codes win.
func TestRecapCodes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		recap engine.Recap
		code  int
	}{
		{"ok", engine.Recap{}, 0},
		{"unhealthy node", engine.Recap{Unhealthy: []string{"oms2: container absent"}}, 6},
		{"failure wins over unhealthy", engine.Recap{Unhealthy: []string{"x"}, Hosts: []engine.HostTally{{Host: "a", Failed: 1}}}, 2},
		{"declined", engine.Recap{Declined: "not confirmed: nothing was changed"}, 5},
		{"error after start", engine.Recap{Error: "step \"x\": bad pattern", Declined: "x"}, 7},
		{"interrupted", engine.Recap{Interrupted: true, Hosts: []engine.HostTally{{Host: "a", Failed: 1}}}, 130},
	} {
		if got := Code(recapCode(&tc.recap)); got != tc.code {
			t.Errorf("%s: exit %d, want %d", tc.name, got, tc.code)
		}
	}
}
