package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/omsrun/omsrun/internal/lab/labtest"
)

// The bad-input corpus (testdata/bad) through the real binary: every file
// is refused with exit code 4, the same headers as its golden file
// ("Error: file:line:col: summary"), and no SSH connection to any lab host.

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
// validate mode, and then run in check mode against the lab's inventory.
// Bad inventories are only validated: were one accepted by mistake, a run
// would dial addresses outside the lab.
func badCases(t *testing.T, l *labtest.Lab) []badCase {
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
			badCase{name: p + " (run)", args: append([]string{p, "-C", "-i", l.InventoryHCL}, extra...), run: true})
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
			badCase{name: p + " (run)", args: append([]string{pb, "-C", "-i", l.InventoryHCL}, extra...), run: true})
	}
	return out
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
	before := map[string]int{}
	for _, h := range l.Hosts {
		before[h.Name] = l.SSHDConnections(t, h.Name)
	}
	cases := badCases(t, l)
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
	for _, h := range l.Hosts {
		if after := l.SSHDConnections(t, h.Name); after != before[h.Name] {
			t.Errorf("bad input connected to %s (%d → %d sshd connections)", h.Name, before[h.Name], after)
		}
	}
}

// TestBadInputHugeFile: a file over the 10 MiB limit is refused by size,
// as a playbook, an inventory and a var file; generated here, not checked in.
func TestBadInputHugeFile(t *testing.T) {
	l := labtest.Require(t)
	dir := t.TempDir()
	huge := filepath.Join(dir, "huge.hcl")
	line := []byte("# padding padding padding padding padding padding padding padding\n")
	if err := os.WriteFile(huge, bytes.Repeat(line, (11<<20)/len(line)), 0o644); err != nil {
		t.Fatal(err)
	}
	before := l.SSHDConnections(t, l.Hosts[0].Name)
	for _, args := range [][]string{
		{huge, "-C", "-i", l.InventoryHCL},
		{"testdata/playbook/minimal.hcl", "-C", "-i", huge},
		{"testdata/bad/vars/_playbook.hcl", "-C", "-i", l.InventoryHCL, "-e", "@" + huge},
	} {
		r := omsrun(t, args...)
		expectCode(t, r, 4)
		if !strings.Contains(r.stderr, huge+":1:1: File too large") {
			t.Errorf("%v: no size error naming the file:\n%s", args, r.stderr)
		}
	}
	if after := l.SSHDConnections(t, l.Hosts[0].Name); after != before {
		t.Errorf("a huge file still led to an SSH connection (%d → %d)", before, after)
	}
}
