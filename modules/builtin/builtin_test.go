package builtin_test

import (
	"testing"

	"github.com/omsrun/omsrun/modules/builtin"
)

// Every module in the table answers to its own name and documents itself
// under that name.
func TestEveryModuleNamesItself(t *testing.T) {
	names := builtin.Names()
	if len(names) < 17 {
		t.Fatalf("only %d modules registered: %v", len(names), names)
	}
	for _, n := range names {
		m, ok := builtin.Lookup(n)
		if !ok || m == nil {
			t.Fatalf("%s: Lookup failed", n)
		}
		if got := m.Doc().Name; got != n {
			t.Errorf("%s: Doc().Name = %q", n, got)
		}
	}
	if _, ok := builtin.Lookup("no_such_module"); ok {
		t.Error("an unknown name was found")
	}
}
