package e2e

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/omsrun/omsrun/internal/lab/labtest"
)

// The bad-input corpus (testdata/bad) through the real binary: every file
// is refused with exit code 4, the same headers as its golden file
// ("Error: file:line:col: summary"), and no connection attempted to any host.

var diagHeader = regexp.MustCompile(`(?m)^(Error|Warning): .+?:\d+:\d+: .*$`)

// goldenHeaders returns the header lines of a golden file.
func goldenHeaders(t *testing.T, golden string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoDir(t), golden))
	if err != nil {
		t.Fatal(err)
	}
	return diagHeader.FindAllString(string(b), -1)
}

type badCase struct {
	name   string
	golden string
	args   []string // omsrun arguments, with the playbook/inventory in place
	run    bool     // a real run (-C) against the lab, not only validate
}

// badCases lists the corpus. Bad playbooks and var files are checked
// against testdata/inventory/lab.hcl (what their goldens were made with) in
// validate mode, then run in check mode against the lab's inventory and
// against trapInv, whose hosts are local listeners that count connection
// attempts. Bad inventories are only validated: were one accepted by
// mistake, a run would dial addresses outside the lab.
func badCases(t *testing.T, l *labtest.Lab, trapInv string) []badCase {
	root := repoDir(t)
	var out []badCase
	glob := func(p string) []string {
		m, err := filepath.Glob(filepath.Join(root, p))
		if err != nil {
			t.Fatal(err)
		}
		for i := range m {
			m[i], _ = filepath.Rel(root, m[i])
		}
		return m
	}
	const testInv = "testdata/inventory/lab.hcl"
	for _, p := range glob("testdata/bad/playbook/*.hcl") {
		extra := extraArgFlags(t, p)
		out = append(out,
			badCase{name: p, golden: p + ".golden", args: append([]string{"validate", p, "-i", testInv}, extra...)},
			badCase{name: p + " (run)", args: append([]string{p, "-C", "-i", l.InventoryHCL}, extra...), run: true},
			badCase{name: p + " (trap)", args: append([]string{p, "-C", "-i", trapInv}, extra...), run: true})
	}
	for _, p := range glob("testdata/bad/inventory/*") {
		if strings.HasSuffix(p, ".golden") {
			continue
		}
		out = append(out, badCase{name: p, golden: p + ".golden", args: []string{"validate", "testdata/playbook/minimal.hcl", "-i", p}})
	}
	for _, p := range glob("testdata/bad/vars/*") {
		base := filepath.Base(p)
		if strings.HasSuffix(p, ".golden") || strings.HasPrefix(base, "_") {
			continue
		}
		extra := []string{"-e", "@" + p}
		if strings.HasSuffix(p, ".args") {
			extra = extraArgFlags(t, strings.TrimSuffix(p, ".args"))
		}
		const pb = "testdata/bad/vars/_playbook.hcl"
		out = append(out,
			badCase{name: p, golden: p + ".golden", args: append([]string{"validate", pb, "-i", testInv}, extra...)},
			badCase{name: p + " (run)", args: append([]string{pb, "-C", "-i", l.InventoryHCL}, extra...), run: true},
			badCase{name: p + " (trap)", args: append([]string{pb, "-C", "-i", trapInv}, extra...), run: true})
	}
	return out
}

// trap is a set of local TCP listeners standing in for hosts: any
// connection omsrun makes to them is counted. Unlike the lab's sshd logs,
// nothing else connects to them, so the count is exact even while other
// tests use the lab.
type trap struct {
	mu    sync.Mutex
	hits  int
	lns   []net.Listener
	ports []int
}

func newTrap(t *testing.T, n int) *trap {
	tr := &trap{}
	for i := 0; i < n; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		tr.lns = append(tr.lns, ln)
		tr.ports = append(tr.ports, ln.Addr().(*net.TCPAddr).Port)
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				tr.mu.Lock()
				tr.hits++
				tr.mu.Unlock()
				c.Close()
			}
		}()
	}
	t.Cleanup(func() {
		for _, ln := range tr.lns {
			ln.Close()
		}
	})
	return tr
}

func (tr *trap) count() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.hits
}

// inventory writes an inventory with the group names of
// testdata/inventory/lab.hcl, every host one of the trap's listeners.
func (tr *trap) inventory(t *testing.T) string {
	host := func(name string, port int) string {
		return fmt.Sprintf("  host %q {\n    address = \"127.0.0.1\"\n    port    = %d\n  }\n", name, port)
	}
	// A password, so that a run has credentials and really dials.
	src := "defaults {\n  user     = \"trap\"\n  password = \"trap-password\"\n}\n" +
		"group \"oms\" {\n  children = [\"oms_hz\", \"oms_sh\"]\n}\n" +
		"group \"oms_hz\" {\n" + host("oms1", tr.ports[0]) + host("oms2", tr.ports[1]) + "}\n" +
		"group \"oms_sh\" {\n" + host("oms3", tr.ports[2]) + "}\n" +
		"group \"metadb\" {\n" + host("meta1", tr.ports[3]) + "}\n"
	p := filepath.Join(t.TempDir(), "trap.hcl")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// extraArgFlags turns NAME.args (one -e value per line) into -e flags.
func extraArgFlags(t *testing.T, path string) []string {
	b, err := os.ReadFile(filepath.Join(repoDir(t), path+".args"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		out = append(out, "-e", l)
	}
	return out
}

func TestBadInputCorpusRefused(t *testing.T) {
	l := labtest.Require(t)
	// testdata/inventory/lab.hcl logs on with ~/.ssh/id_ed25519, which
	// validate checks is a private key: a home holding one keeps the
	// refusals below those of the bad file alone, on any machine.
	t.Setenv("HOME", homeWithKey(t))
	// The trap, not the lab's sshd logs, proves that no connection is
	// attempted: other tests may use the lab hosts meanwhile.
	tr := newTrap(t, 4)
	cases := badCases(t, l, tr.inventory(t))
	if len(cases) < 40 {
		t.Fatalf("the corpus has only %d cases", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := omsrun(t, tc.args...)
			expectCode(t, r, 4)
			got := diagHeader.FindAllString(r.stderr, -1)
			if len(got) == 0 {
				t.Fatalf("no \"Error: file:line:col: …\" line in:\n%s", r.stderr)
			}
			if tc.golden == "" {
				return
			}
			have := strings.Join(got, "\n")
			for _, want := range goldenHeaders(t, tc.golden) {
				if !strings.Contains(have, want) {
					t.Errorf("missing %q in:\n%s", want, r.stderr)
				}
			}
		})
	}
	if n := tr.count(); n != 0 {
		t.Errorf("bad input made %d connection(s) to the trap hosts", n)
	}
	// Control: a valid playbook does dial the trap (and finds no SSH there),
	// so a zero above means no attempt, not a blind trap.
	r := omsrun(t, "testdata/playbook/minimal.hcl", "-C", "-i", tr.inventory(t))
	if r.code == 0 || r.code == 4 || tr.count() == 0 {
		t.Errorf("control run: exit %d, %d trap connections; want unreachable hosts and connections\n%s", r.code, tr.count(), r.stderr)
	}
}

// TestBadInputHugeFile: a file over the 10 MiB limit is refused by size,
// as a playbook, an inventory and a var file; generated here, not checked in.
func TestBadInputHugeFile(t *testing.T) {
	l := labtest.Require(t)
	tr := newTrap(t, 4)
	trapInv := tr.inventory(t)
	dir := t.TempDir()
	huge := filepath.Join(dir, "huge.hcl")
	line := []byte("# padding padding padding padding padding padding padding padding\n")
	if err := os.WriteFile(huge, bytes.Repeat(line, (11<<20)/len(line)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{huge, "-C", "-i", l.InventoryHCL},
		{huge, "-C", "-i", trapInv},
		{"testdata/playbook/minimal.hcl", "-C", "-i", huge},
		{"testdata/bad/vars/_playbook.hcl", "-C", "-i", trapInv, "-e", "@" + huge},
	} {
		r := omsrun(t, args...)
		expectCode(t, r, 4)
		if !strings.Contains(r.stderr, huge+":1:1: File too large") {
			t.Errorf("%v: no size error naming the file:\n%s", args, r.stderr)
		}
	}
	if n := tr.count(); n != 0 {
		t.Errorf("a huge file still led to %d connection(s)", n)
	}
}

// homeWithKey is a home directory holding a fresh ~/.ssh/id_ed25519 and an
// empty ~/.ssh/known_hosts.
func homeWithKey(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(home, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".ssh", "id_ed25519"), pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	// validate checks that ~/.ssh/known_hosts exists for the hosts that
	// name no known_hosts_file (testdata/inventory/lab.hcl's, the trap's).
	if err := os.WriteFile(filepath.Join(home, ".ssh", "known_hosts"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return home
}
