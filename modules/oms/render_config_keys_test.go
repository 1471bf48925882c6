package oms

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/omsrun/omsrun/internal/omsconfig"
)

// TestVariablesMatchKeyTable holds the playbooks' variables against
// omsconfig's table of config.yaml keys: each key is a variable of the
// table's type, sensitive exactly when the key is secret, with the table's
// default, and passed to render_config through local.oms_config; each
// retired key is a variable that refuses any value.
func TestVariablesMatchKeyTable(t *testing.T) {
	path := filepath.Join("..", "..", "playbooks", "oms-variables.hcl")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	text := func(e hcl.Expression) string {
		return strings.Join(strings.Fields(string(e.Range().SliceBytes(src))), " ")
	}
	vars := map[string]*hclsyntax.Block{}
	var ossConfig hclsyntax.Attributes
	for _, b := range f.Body.(*hclsyntax.Body).Blocks {
		switch b.Type {
		case "variable":
			vars[b.Labels[0]] = b
		case "locals":
			if a, ok := b.Body.Attributes["oms_config"]; ok {
				obj, _ := a.Expr.(*hclsyntax.ObjectConsExpr)
				ossConfig = hclsyntax.Attributes{}
				for _, it := range obj.Items {
					k := hcl.ExprAsKeyword(it.KeyExpr)
					ossConfig[k] = &hclsyntax.Attribute{Name: k, Expr: it.ValueExpr}
				}
			}
		}
	}
	for _, k := range omsconfig.Table {
		t.Run(k.Name, func(t *testing.T) {
			b, ok := vars[k.Name]
			if !ok {
				t.Fatalf("no variable %q in %s", k.Name, path)
			}
			attrs := b.Body.Attributes
			if a, ok := attrs["type"]; !ok || text(a.Expr) != k.Kind.HCLType() {
				t.Errorf("type is not %s", k.Kind.HCLType())
			}
			sens := false
			if a, ok := attrs["sensitive"]; ok {
				sens = text(a.Expr) == "true"
			}
			if sens != k.Secret() {
				t.Errorf("sensitive = %v; the key is secret: %v", sens, k.Secret())
			}
			def := ""
			if a, ok := attrs["default"]; ok {
				def = text(a.Expr)
			}
			if def != k.VarDefault {
				t.Errorf("default = %q; the table says %q", def, k.VarDefault)
			}
			if _, ok := ossConfig[k.Name]; !ok && k.Name != omsconfig.KeyRMDB && k.Name != omsconfig.KeyCMDB && k.Name != omsconfig.KeyCMHeartbeatDB {
				t.Errorf("local.oms_config does not pass it to render_config")
			}
		})
	}
	for _, old := range []string{"sls_enabled", "sls_endpoint", "sls_project", "sls_logstore", "sls_access_key_id", "sls_access_key_secret"} {
		msg, retired := omsconfig.Retired(old)
		b, ok := vars[old]
		if !retired || !ok || len(b.Body.Blocks) != 1 || !strings.Contains(string(src), `"`+msg+`."`) {
			t.Errorf("retired %s: not refused with %q", old, msg)
		}
	}
}

// TestRenderConfigArgsMatchKeyTable: render_config takes every key of the
// table as an argument of its kind (required exactly when the variable has
// no default), so Config() can map them by name.
func TestRenderConfigArgsMatchKeyTable(t *testing.T) {
	fields := map[string]reflect.StructField{}
	rt := reflect.TypeOf(RenderConfigArgs{})
	for i := 0; i < rt.NumField(); i++ {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("hcl"), ",")
		fields[name] = rt.Field(i)
	}
	kinds := map[omsconfig.Kind]reflect.Type{omsconfig.String: reflect.TypeOf(""), omsconfig.Int: reflect.TypeOf(0),
		omsconfig.Bool: reflect.TypeOf(false), omsconfig.List: reflect.TypeOf([]string{})}
	for _, k := range omsconfig.Table {
		f, ok := fields[k.Name]
		if !ok {
			t.Errorf("render_config has no argument %s", k.Name)
			continue
		}
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft != kinds[k.Kind] {
			t.Errorf("%s: field of type %s, the table says %s", k.Name, f.Type, k.Kind.HCLType())
		}
		if doc := (&RenderConfig{}).Doc().Args[k.Name]; !strings.Contains(doc, k.Doc) {
			t.Errorf("%s: doc %q does not come from the table", k.Name, doc)
		}
	}
}

// TestRegionsVariableMatchesKeyTable: the regions variable's attributes are
// omsconfig.RegionAttrs (the hosts pattern and the table's Region keys but
// cm_nodes), as are omsconfig.Region's, and what a region replaces on its
// hosts is among them.
func TestRegionsVariableMatchesKeyTable(t *testing.T) {
	path := filepath.Join("..", "..", "playbooks", "oms-variables.hcl")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var regions *hclsyntax.Block
	for _, b := range f.Body.(*hclsyntax.Body).Blocks {
		if b.Type == "variable" && b.Labels[0] == "regions" {
			regions = b
		}
	}
	if regions == nil {
		t.Fatal("no variable regions")
	}
	ty := string(regions.Body.Attributes["type"].Expr.Range().SliceBytes(src))
	var attrs []string
	for _, line := range strings.Split(ty, "\n") {
		if name, _, ok := strings.Cut(strings.TrimSpace(line), " "); ok && strings.Contains(line, "=") {
			attrs = append(attrs, name)
		}
	}
	want := slices.Sorted(slices.Values(omsconfig.RegionAttrs))
	slices.Sort(attrs)
	if !reflect.DeepEqual(attrs, want) {
		t.Errorf("regions' attributes %v, the table's %v", attrs, omsconfig.RegionAttrs)
	}
	var tags []string
	rt := reflect.TypeOf(omsconfig.Region{})
	for i := 0; i < rt.NumField(); i++ {
		tags = append(tags, rt.Field(i).Tag.Get("cty"))
	}
	slices.Sort(tags)
	if !reflect.DeepEqual(tags, want) {
		t.Errorf("omsconfig.Region's attributes %v, the table's %v", tags, omsconfig.RegionAttrs)
	}
	over := string(regions.Body.Attributes["split_overrides"].Expr.Range().SliceBytes(src))
	for _, name := range strings.Split(strings.Trim(over, "[]"), ",") {
		name = strings.Trim(strings.TrimSpace(name), `"`)
		if name == "region_hosts=hosts" {
			continue // the pattern, for local.cm_nodes
		}
		if k, ok := omsconfig.Lookup(name); !ok || !k.Region {
			t.Errorf("split_overrides names %q, which is no Region key of the table", name)
		}
	}
}
