package transport

import (
	"os/exec"
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

// TestGroupWrapRunsArgvLiterally checks the process-group wrappers locally,
// in a new session as sshd would start them: the marker comes first on
// stderr with the group id, and argv reaches the command unchanged.
func TestGroupWrapRunsArgvLiterally(t *testing.T) {
	argv := []string{"printf", "%s|", "a b", "$(id)", "it's", "x\ny"}
	for _, sudo := range []bool{false, true} {
		cmd := exec.Command("sh", "-c", groupWrap(argv, sudo))
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		pg := newPgidWriter(&discard{})
		cmd.Stderr = pg
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		if want := "a b|$(id)|it's|x\ny|"; string(out) != want {
			t.Fatalf("sudo=%v: got %q want %q", sudo, out, want)
		}
		if !pg.seen() || pg.pgid() != cmd.Process.Pid {
			t.Fatalf("sudo=%v: reported group %d, want %d (preamble %q)", sudo, pg.pgid(), cmd.Process.Pid, pg.preamble())
		}
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
