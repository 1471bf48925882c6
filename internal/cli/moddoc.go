package cli

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2/gohcl"

	"github.com/omsrun/omsrun/modules"
)

// ModuleReference renders a module's reference from its own argument schema,
// so the documentation cannot drift from what the decoder accepts.
func ModuleReference(m modules.Module) string {
	d := m.Doc()
	args := m.NewArgs()
	schema, _ := gohcl.ImpliedBodySchema(args)
	types := fieldTypes(args)
	var b strings.Builder
	fmt.Fprintf(&b, "## %s\n\n%s\n\n", d.Name, d.Summary)
	if len(schema.Attributes) == 0 {
		return b.String()
	}
	b.WriteString("| argument | type | required | description |\n|---|---|---|---|\n")
	attrs := schema.Attributes
	sort.SliceStable(attrs, func(i, j int) bool {
		if attrs[i].Required != attrs[j].Required {
			return attrs[i].Required
		}
		return attrs[i].Name < attrs[j].Name
	})
	for _, a := range attrs {
		req := "no"
		if a.Required {
			req = "yes"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", a.Name, types[a.Name], req, d.Args[a.Name])
	}
	return b.String()
}

// fieldTypes maps each hcl attribute name to a readable type of its Go field.
func fieldTypes(args any) map[string]string {
	out := map[string]string{}
	t := reflect.TypeOf(args)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return out
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("hcl")
		name, _, _ := strings.Cut(tag, ",")
		if name == "" {
			continue
		}
		out[name] = typeName(f.Type)
	}
	return out
}

func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Pointer:
		return typeName(t.Elem())
	case reflect.Slice:
		return "list(" + typeName(t.Elem()) + ")"
	case reflect.Map:
		return "map(" + typeName(t.Elem()) + ")"
	case reflect.Bool:
		return "bool"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float64:
		return "number"
	case reflect.String:
		return "string"
	}
	if t.String() == "cty.Value" {
		return "any"
	}
	return t.String()
}
