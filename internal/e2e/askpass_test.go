package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/omsrun/omsrun/internal/lab/labtest"
)

// openPTY opens a pseudo-terminal pair: the terminal omsrun asks its
// passwords on (/dev/tty in the child), and the side the test types on.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal("unlockpt:", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal("ptsname:", err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	return m, s
}

// omsrunAtTerminal runs omsrun with a pseudo-terminal as its controlling
// terminal, typing answers[prompt] each time the prompt appears there, with
// no SSH agent and an empty home (so no default key is found).
func omsrunAtTerminal(t *testing.T, answers map[string]string, args ...string) (cliResult, string) {
	t.Helper()
	cmd := exec.Command(omsrunBin(t), args...)
	cmd.Env = append(os.Environ(), "NO_COLOR=1", "SSH_AUTH_SOCK=", "HOME="+t.TempDir())
	return atTerminal(t, answers, cmd)
}

// atTerminal runs cmd in the repository with a pseudo-terminal as its
// controlling terminal, typing answers[prompt] each time the prompt
// appears there; it returns the result and what the terminal showed.
func atTerminal(t *testing.T, answers map[string]string, cmd *exec.Cmd) (cliResult, string) {
	t.Helper()
	m, s := openPTY(t)
	defer m.Close()
	cmd.Dir = repoDir(t)
	var out, errb bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = s, &out, &errb
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	var tty strings.Builder
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		answered := map[string]int{}
		buf := make([]byte, 4096)
		for {
			n, err := m.Read(buf)
			tty.Write(buf[:n])
			for prompt, answer := range answers {
				if c := strings.Count(tty.String(), prompt); c > answered[prompt] {
					answered[prompt] = c
					m.Write([]byte(answer + "\n"))
				}
			}
			if err != nil {
				return // EIO once omsrun closed the terminal
			}
		}
	}()
	err := cmd.Wait()
	m.Close()
	wg.Wait()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return cliResult{out.String(), errb.String(), code}, tty.String()
}

// TestAskPassRemedies follows "pass --ask-pass" and "pass --ask-become-pass"
// as printed (issue #14 point 7, docs/remedies.md): the lab's non-root user
// with neither password nor key in the inventory is refused with the first,
// the flag read out of the refusal is added and the password typed at the
// prompt; sudo then asks for its password and the second flag, read out of
// that refusal, lets the command run as root.
func TestAskPassRemedies(t *testing.T) {
	l := labtest.Require(t)
	h := l.Hosts[0]
	inv := filepath.Join(t.TempDir(), "askpass.hcl")
	src := "group \"oms\" {\n  host " + strconv.Quote(h.Name) + " {\n    address = " + strconv.Quote(h.Address) +
		"\n    user = " + strconv.Quote(l.DeployUser) + "\n    become = true\n    known_hosts_file = " + strconv.Quote(l.KnownHosts) + "\n  }\n}\n"
	if err := os.WriteFile(inv, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"exec", "-i", inv, h.Name, "--become", "--", "id", "-u"}
	pw := map[string]string{"SSH password: ": l.DeployPassword, "BECOME (sudo) password: ": l.DeployPassword}

	r, _ := omsrunAtTerminal(t, nil, args...)
	m := regexp.MustCompile(`no SSH credentials: .* or pass (--ask-pass)`).FindStringSubmatch(r.stdout + r.stderr)
	if r.code == 0 || m == nil {
		t.Fatalf("want the no-credentials refusal, exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	args = append(args[:len(args)-3:len(args)-3], append([]string{m[1]}, args[len(args)-3:]...)...)
	r, tty := omsrunAtTerminal(t, pw, args...)
	if !strings.Contains(tty, "SSH password: ") {
		t.Fatalf("%s asked nothing at the terminal: %q", m[1], tty)
	}
	m = regexp.MustCompile(`sudo needs a password .* pass (--ask-become-pass)`).FindStringSubmatch(r.stdout + r.stderr)
	if r.code == 0 || m == nil {
		t.Fatalf("with %s: want sudo's refusal, exit %d:\n%s%s", args, r.code, r.stdout, r.stderr)
	}
	args = append(args[:len(args)-3:len(args)-3], append([]string{m[1]}, args[len(args)-3:]...)...)
	r, tty = omsrunAtTerminal(t, pw, args...)
	if r.code != 0 || !strings.Contains(r.stdout, h.Name+" | 0") {
		t.Fatalf("with %s: exit %d:\n%s%s\nterminal: %q", args, r.code, r.stdout, r.stderr, tty)
	}
	if !strings.Contains(tty, "BECOME (sudo) password: ") {
		t.Fatalf("%s asked nothing at the terminal: %q", m[1], tty)
	}
	// The terminal itself may echo a password typed before omsrun turned
	// echo off; what omsrun printed must not hold it.
	if strings.Contains(r.stdout+r.stderr, l.DeployPassword) {
		t.Fatal("a typed password was printed")
	}
}

// TestPasswordInInventoryRemedy follows the no-credentials refusal's
// "set … password in the inventory" as printed (issue #14 point 7,
// docs/remedies.md): the lab's non-root user, whose sshd takes passwords,
// with no key, agent or password is refused; the host's block then gets
// `password = "…"` and the same command logs on with it (no key anywhere:
// an empty home, no agent, no key_file).
func TestPasswordInInventoryRemedy(t *testing.T) {
	l := labtest.Require(t)
	t.Setenv("HOME", t.TempDir())
	t.Setenv("SSH_AUTH_SOCK", "")
	h := l.Hosts[0]
	inv := filepath.Join(t.TempDir(), "password.hcl")
	write := func(extra string) {
		src := "group \"oms\" {\n  host " + strconv.Quote(h.Name) + " {\n    address = " + strconv.Quote(h.Address) +
			"\n    user = " + strconv.Quote(l.DeployUser) + "\n    known_hosts_file = " + strconv.Quote(l.KnownHosts) + "\n" + extra + "  }\n}\n"
		if err := os.WriteFile(inv, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("")
	args := []string{"exec", "-i", inv, h.Name, "--", "id", "-un"}
	r := omsrun(t, args...)
	m := regexp.MustCompile(`no SSH credentials: set key_file or (password) in the inventory`).FindStringSubmatch(r.stdout + r.stderr)
	if r.code == 0 || m == nil {
		t.Fatalf("want the no-credentials refusal, exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	write("    " + m[1] + " = " + strconv.Quote(l.DeployPassword) + "\n")
	r = omsrun(t, args...)
	if r.code != 0 || !strings.Contains(r.stdout, h.Name+" | "+l.DeployUser) {
		t.Fatalf("with %s in the inventory: exit %d:\n%s%s", m[1], r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, l.DeployPassword) {
		t.Fatal("the inventory's password was printed")
	}
}
