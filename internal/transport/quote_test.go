package transport

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// TestQuoteArrivesLiterally runs every quoted value through a real sh -c, the
// same way the remote side parses our command lines.
func TestQuoteArrivesLiterally(t *testing.T) {
	cases := map[string]string{
		"empty":         "",
		"plain":         "abc-1.2_x/y",
		"space":         "a b  c",
		"single quote":  "it's",
		"double quote":  `say "hi"`,
		"dollar paren":  "$(touch /tmp/omsrun-quote-pwned)",
		"backticks":     "`id`",
		"semicolon":     "a; rm -rf /tmp/nothing",
		"newline":       "line1\nline2\n",
		"glob":          "*",
		"variable":      "$HOME ${PATH}",
		"backslash":     `a\b\\c\`,
		"ampersand":     "a && b || c &",
		"redirect":      "> /tmp/x < /etc/passwd",
		"dash":          "-n",
		"tab and cr":    "a\tb\rc",
		"utf8":          "héllo wörld ✓",
		"only quotes":   `'"'"'`,
		"hash":          "# not a comment",
		"tilde":         "~root",
		"equals prefix": "A=b",
	}
	for name, v := range cases {
		t.Run(name, func(t *testing.T) {
			out, err := exec.Command("sh", "-c", "printf %s "+Quote(v)).Output()
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != v {
				t.Fatalf("sent %q, shell saw %q", v, out)
			}
		})
	}
	t.Run("join keeps words apart", func(t *testing.T) {
		argv := []string{"a b", "", "c'd", "$(x)", "e\nf"}
		out, err := exec.Command("sh", "-c", Join(append([]string{"sh", "-c", `for a in "$@"; do printf '[%s]' "$a"; done`, "sh"}, argv...))).Output()
		if err != nil {
			t.Fatal(err)
		}
		if want := "[a b][][c'd][$(x)][e\nf]"; string(out) != want {
			t.Fatalf("got %q want %q", out, want)
		}
	})
}

// TestGroupWrapRunsArgvLiterally checks the sudo process-group wrapper
// locally, in a new session as sshd would start it: the marker comes first on
// stderr with the group id, and argv reaches the command unchanged.
func TestGroupWrapRunsArgvLiterally(t *testing.T) {
	argv := []string{"printf", "%s|", "a b", "$(id)", "it's", "x\ny"}
	cmd := exec.Command("sh", "-c", groupWrap(argv))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	pg := newPgidWriter(&discard{})
	cmd.Stderr = pg
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := "a b|$(id)|it's|x\ny|"; string(out) != want {
		t.Fatalf("got %q want %q", out, want)
	}
	if !pg.seen() || pg.pgid() != cmd.Process.Pid {
		t.Fatalf("reported group %d, want %d (preamble %q)", pg.pgid(), cmd.Process.Pid, pg.preamble())
	}
}

// TestTaggedRunsArgvLiterally checks the plain command line: argv arrives
// unchanged, the program sees the tag in its environment (what the kill
// session looks for), and reserved words still name programs.
func TestTaggedRunsArgvLiterally(t *testing.T) {
	for _, shell := range []string{"sh", "bash"} {
		if _, err := exec.LookPath(shell); err != nil {
			t.Fatalf("%s: %v", shell, err)
		}
		argv := []string{"sh", "-c", `printf '%s|' "$@"; printf '%s' "$OMSRUN_CMD"`, "sh", "a b", "$(id)", "it's", "x\ny", ""}
		out, err := exec.Command(shell, "-c", tagged(argv, "t-1")).Output()
		if err != nil {
			t.Fatal(err)
		}
		if want := "a b|$(id)|it's|x\ny||t-1"; string(out) != want {
			t.Fatalf("%s: got %q want %q", shell, out, want)
		}
		// A program named like a reserved word (here a script in a temp dir).
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "if"), []byte("#!/bin/sh\necho ran \"$OMSRUN_CMD\"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		c := exec.Command(shell, "-c", tagged([]string{"if"}, "t-2"))
		c.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"))
		if out, err := c.Output(); err != nil || string(out) != "ran t-2\n" {
			t.Fatalf("%s: a program called if: %q %v", shell, out, err)
		}
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
