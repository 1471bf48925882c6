package playbook

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/omsrun/omsrun/internal/diag"
)

// extraArgs reads the -e arguments of a test case from NAME.args, one per line.
func extraArgs(t *testing.T, path string) []string {
	b, err := os.ReadFile(path + ".args")
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		out = append(out, l)
	}
	return out
}

func TestLoadGolden(t *testing.T) {
	t.Chdir("../..")
	inv := loadLab(t)
	paths, _ := filepath.Glob("testdata/playbook/*.hcl")
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			p, diags := Load(path, Options{ExtraVars: extraArgs(t, path), Modules: fakeModules, Inventory: inv})
			if diags.HasErrors() {
				var buf bytes.Buffer
				_ = diag.Render(&buf, nil, diags, false)
				t.Fatalf("unexpected errors:\n%s", buf.String())
			}
			if vd := Validate(p, inv, newArgs, validateArgs); len(vd) > 0 {
				t.Fatalf("validate: %s", vd.Error())
			}
			var buf bytes.Buffer
			dump(&buf, p, inv)
			golden(t, path+".golden", buf.Bytes())
		})
	}
}

// TestLoadBadGolden loads each bad playbook, validates it when it loads,
// and compares the rendered diagnostics; each must name file:line:col and
// carry a hint.
func TestLoadBadGolden(t *testing.T) {
	t.Chdir("../..")
	inv := loadLab(t)
	paths, _ := filepath.Glob("testdata/bad/playbook/*.hcl")
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			p, diags := Load(path, Options{ExtraVars: extraArgs(t, path), Modules: fakeModules, Inventory: inv})
			if !diags.HasErrors() {
				diags = append(diags, Validate(p, inv, newArgs, validateArgs)...)
			} else if p != nil {
				t.Errorf("a playbook was returned along with errors")
			}
			checkBad(t, path, diags)
		})
	}
}

// TestExtraVarsBadGolden runs each bad -e case of testdata/bad/vars against
// the variables of _playbook.hcl: NAME.args lists -e arguments, any other
// file is passed as -e @file.
func TestExtraVarsBadGolden(t *testing.T) {
	t.Chdir("../..")
	ents, _ := os.ReadDir("testdata/bad/vars")
	for _, e := range ents {
		n := e.Name()
		if strings.HasSuffix(n, ".golden") || strings.HasPrefix(n, "_") {
			continue
		}
		path := filepath.Join("testdata/bad/vars", n)
		t.Run(n, func(t *testing.T) {
			args := []string{"@" + path}
			if strings.HasSuffix(n, ".args") {
				args = extraArgs(t, strings.TrimSuffix(path, ".args"))
			}
			_, diags := Load("testdata/bad/vars/_playbook.hcl", Options{ExtraVars: args, Modules: fakeModules})
			checkBad(t, path, diags)
		})
	}
}

func checkBad(t *testing.T, path string, diags hcl.Diagnostics) {
	t.Helper()
	if !diags.HasErrors() {
		t.Fatalf("no error for bad input %s", path)
	}
	for _, d := range diags {
		if d.Subject == nil || d.Subject.Filename == "" || d.Subject.Start.Line == 0 {
			t.Errorf("diagnostic without a position: %s", d.Error())
		}
		if strings.TrimSpace(d.Detail) == "" {
			t.Errorf("diagnostic without a hint: %s", d.Error())
		}
	}
	var buf bytes.Buffer
	if err := diag.Render(&buf, nil, diags, false); err != nil {
		t.Fatal(err)
	}
	golden(t, path+".golden", buf.Bytes())
}

// TestNoSecretsInGoldens: the distinctive passwords of the test inputs
// never reach a rendered message or a dump.
func TestNoSecretsInGoldens(t *testing.T) {
	t.Chdir("../..")
	var goldens []string
	for _, g := range []string{"testdata/playbook/*.golden", "testdata/bad/*/*.golden", "testdata/inventory/*.golden"} {
		m, _ := filepath.Glob(g)
		goldens = append(goldens, m...)
	}
	if len(goldens) < 30 {
		t.Fatalf("only %d golden files found", len(goldens))
	}
	for _, g := range goldens {
		b, err := os.ReadFile(g)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{"Do-Not-Print-Me", "Meta-Pa55word", "s3cret-pw", "s3cret-sudo", "sudo-secret", "tok-123456", "Tsdb-Secret-1", "tok-abcdef", "Ini-Secret-9"} {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s shows the secret %q", g, s)
			}
		}
	}
}
