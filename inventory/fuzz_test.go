package inventory

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/omsrun/omsrun/internal/diag"
)

// fuzzLoad runs the whole loader on one source and uses the result the way
// the CLI does; any panic fails the fuzz target.
func fuzzLoad(t *testing.T, src []byte, name string) {
	b := newBuilder()
	if diag.CheckSource(name, src).HasErrors() {
		return
	}
	b.loadSource(name, src)
	if b.diags.HasErrors() {
		_ = diag.Render(discard{}, b.files, b.diags, false)
		return
	}
	inv := b.finish()
	if b.diags.HasErrors() {
		_ = diag.Render(discard{}, b.files, b.diags, false)
		return
	}
	inv.Dump(discard{})
	for _, p := range []string{"all", "!all", "web*", "web,&db", "~.*"} {
		_, _ = inv.Match(p)
	}
	for _, h := range inv.Hosts {
		if h.Port < 1 || h.Port > 65535 || h.Address == "" {
			t.Fatalf("host %q accepted with %s:%d", h.Name, h.Address, h.Port)
		}
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func addSeeds(f *testing.F, glob string) {
	for _, dir := range []string{"../testdata/inventory", "../testdata/bad/inventory"} {
		paths, _ := filepath.Glob(filepath.Join(dir, glob))
		for _, p := range paths {
			if src, err := os.ReadFile(p); err == nil {
				f.Add(src)
			}
		}
	}
}

func FuzzInventoryHCL(f *testing.F) {
	addSeeds(f, "*.hcl")
	f.Fuzz(func(t *testing.T, src []byte) { fuzzLoad(t, src, "fuzz.hcl") })
}

func FuzzInventoryINI(f *testing.F) {
	addSeeds(f, "*.ini")
	f.Fuzz(func(t *testing.T, src []byte) { fuzzLoad(t, src, "fuzz.ini") })
}

func FuzzInventoryYAML(f *testing.F) {
	addSeeds(f, "*.yml")
	f.Add([]byte("all:\n  hosts:\n    h1: {ansible_port: 2222}\n  children:\n    web:\n      hosts:\n        w[1:3]:\n      vars: {x: 1}\n"))
	f.Fuzz(func(t *testing.T, src []byte) { fuzzLoad(t, src, "fuzz.yml") })
}
