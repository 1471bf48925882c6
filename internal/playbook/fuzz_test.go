package playbook

import (
	"os"
	"path/filepath"
	"testing"

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
