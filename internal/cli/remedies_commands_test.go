package cli

import (
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/mattn/go-shellwords"
)

// closedPortInventory is an inventory of one OMS host on 127.0.0.1 at a
// port nothing listens on: a run that gets past its static checks reaches
// it and finds it unreachable at once, without waiting for a timeout.
func closedPortInventory(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	inv := filepath.Join(t.TempDir(), "local.hcl")
	src := "group \"oms\" {\n  host \"oms1\" {\n    address  = \"127.0.0.1\"\n    port     = " + strconv.Itoa(port) +
		"\n    user     = \"root\"\n    password = \"x\"\n  }\n}\n"
	if err := os.WriteFile(inv, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return inv
}

// printedCommand parses the one command a message quotes between backticks
// (the first that starts with "omsrun") into omsrun's arguments.
func printedCommand(t *testing.T, msg string, nth int) []string {
	t.Helper()
	var cmds []string
	for _, m := range regexp.MustCompile("`(omsrun [^`]*)`").FindAllStringSubmatch(msg, -1) {
		cmds = append(cmds, m[1])
	}
	if len(cmds) <= nth {
		t.Fatalf("want %d omsrun command(s) in the message, got %q", nth+1, msg)
	}
	w, err := shellwords.Parse(cmds[nth])
	if err != nil {
		t.Fatalf("the printed command %q does not parse: %v", cmds[nth], err)
	}
	return w[1:]
}

// TestNoPlaybookRemedy follows "no playbook given: name one, e.g. `omsrun
// status.hcl -i … -e @…`" by running that command as printed: it loads the
// shipped playbook with the operator's inventory and variables and reaches
// the host (issue #14 point 7, docs/remedies.md).
func TestNoPlaybookRemedy(t *testing.T) {
	inv := closedPortInventory(t)
	src, err := os.ReadFile("../../testdata/cli/vars.hcl")
	if err != nil {
		t.Fatal(err)
	}
	vars := filepath.Join(t.TempDir(), "vars.hcl")
	if err := os.WriteFile(vars, append(src, "image_file = \""+tinyArchive(t)+"\"\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := run("-i", inv, "-e", "@"+vars, "-e", "oms_meta_password=hidden-value", "--known-hosts", filepath.Join(t.TempDir(), "kh"))
	if code != ExitInvalid || !strings.Contains(errOut, "no playbook given") {
		t.Fatalf("no playbook: exit %d\n%s", code, errOut)
	}
	if strings.Contains(errOut, "hidden-value") {
		t.Fatalf("the remedy printed an -e value:\n%s", errOut)
	}
	args := printedCommand(t, errOut, 0)
	out, errOut, code := run(args...)
	if code == ExitInvalid || code == 0 {
		t.Fatalf("following %q: exit %d\n%s%s", args, code, out, errOut)
	}
	if code != ExitUnreachable || !strings.Contains(out, "oms1") {
		t.Fatalf("following %q did not reach the host: exit %d\n%s%s", args, code, out, errOut)
	}
}

// TestExecBothFormsRemedy follows each of the two commands exec's refusal
// of "-m … and -- …" prints: each runs (and reaches the host).
func TestExecBothFormsRemedy(t *testing.T) {
	inv := closedPortInventory(t)
	_, errOut, code := run("exec", "-i", inv, "oms1", "-m", "shell", "-a", "cmd='echo it'\\''s'", "--", "echo", "a b")
	if code != ExitInvalid || !strings.Contains(errOut, "not both") {
		t.Fatalf("both forms: exit %d\n%s", code, errOut)
	}
	for i, form := range []string{"-m", "--"} {
		args := printedCommand(t, errOut, i)
		if !strings.Contains(strings.Join(args, " "), " "+form+" ") {
			t.Fatalf("command %d %q lacks %s", i, args, form)
		}
		out, errOut2, code := run(args...)
		if code != ExitUnreachable || !strings.Contains(out+errOut2, "oms1") {
			t.Fatalf("following %q: exit %d\n%s%s", args, code, out, errOut2)
		}
	}
}
