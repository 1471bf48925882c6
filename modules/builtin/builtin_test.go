package builtin_test

import (
	"reflect"
	"sort"
	"strings"
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

// TestEveryModuleDocumentsItsArguments: for every registered module, each
// argument its schema decodes is documented, and the docs name nothing else.
func TestEveryModuleDocumentsItsArguments(t *testing.T) {
	for _, n := range builtin.Names() {
		t.Run(n, func(t *testing.T) {
			m, _ := builtin.Lookup(n)
			doc := m.Doc()
			typ := reflect.TypeOf(m.NewArgs()).Elem()
			var schema []string
			for i := 0; i < typ.NumField(); i++ {
				name, kind, _ := strings.Cut(typ.Field(i).Tag.Get("hcl"), ",")
				if name == "" || kind == "remain" || kind == "label" {
					continue
				}
				schema = append(schema, name)
				if doc.Args[name] == "" {
					t.Errorf("argument %s undocumented", name)
				}
			}
			var documented []string
			for a := range doc.Args {
				documented = append(documented, a)
			}
			sort.Strings(schema)
			sort.Strings(documented)
			if !reflect.DeepEqual(schema, documented) {
				t.Errorf("the docs name %v, the schema has %v", documented, schema)
			}
		})
	}
}
