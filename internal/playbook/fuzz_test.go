package playbook

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/omsrun/omsrun/internal/diag"
	"github.com/omsrun/omsrun/inventory"
)

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// FuzzPlaybookLoad loads arbitrary playbook text, then validates and dumps
// it like `omsrun validate` would; any panic fails.
func FuzzPlaybookLoad(f *testing.F) {
	for _, dir := range []string{"../../testdata/playbook", "../../testdata/bad/playbook"} {
		paths, _ := filepath.Glob(filepath.Join(dir, "*.hcl"))
		for _, p := range paths {
			if src, err := os.ReadFile(p); err == nil {
				f.Add(src)
			}
		}
	}
	inv, diags := inventory.Load([]string{"../../testdata/inventory/lab.hcl"})
	if diags.HasErrors() {
		f.Fatal(diags.Error())
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, src []byte) {
		if diag.CheckSource("fuzz.hcl", src).HasErrors() {
			return
		}
		// The path sits in a temp dir so that file() and templatefile() read nothing real.
		p, diags := load(filepath.Join(dir, "fuzz.hcl"), src, Options{
			Modules: fakeModules, Inventory: inv,
		})
		if diags.HasErrors() {
			_ = diag.Render(discard{}, nil, diags, false)
			return
		}
		vd := Validate(p, inv, newArgs, validateArgs)
		_ = diag.Render(discard{}, p.Files, vd, false)
		dump(discard{}, p, inv)
	})
}

// FuzzVarFile reads arbitrary var file text as HCL, JSON and YAML (-e
// @file) and as an -e argument, against the variables of
// testdata/bad/vars/_playbook.hcl, and renders the problems; any panic or
// stack overflow fails.
func FuzzVarFile(f *testing.F) {
	dir := "../../testdata/bad/vars"
	paths, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, p := range paths {
		if src, err := os.ReadFile(p); err == nil && filepath.Base(p)[0] != '_' {
			f.Add(src)
		}
	}
	f.Add([]byte("name: oms\nports: [80, 0x1bb]\nmetadb: {host: h, port: 2883}\n"))
	f.Add([]byte(`{"name": "oms", "ports": [80]}`))
	tmp := f.TempDir()
	f.Fuzz(func(t *testing.T, src []byte) {
		if diag.CheckSource("fuzz", src).HasErrors() {
			return
		}
		files := map[string]*hcl.File{}
		for _, name := range []string{"v.hcl", "v.json", "v.yml"} {
			p := filepath.Join(tmp, name)
			if err := os.WriteFile(p, src, 0o600); err != nil {
				t.Fatal(err)
			}
			_, diags := Load(filepath.Join(dir, "_playbook.hcl"), Options{ExtraVars: []string{"@" + p}, Modules: fakeModules, Sources: files})
			_ = diag.Render(discard{}, files, diags, false)
		}
		_, diags := Load(filepath.Join(dir, "_playbook.hcl"), Options{ExtraVars: []string{"ports=" + string(src)}, Modules: fakeModules, Sources: files})
		_ = diag.Render(discard{}, files, diags, false)
	})
}
