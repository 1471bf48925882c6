package playbook

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/secret"
)

func testVars() map[string]*Variable {
	mk := func(name string, ty cty.Type) *Variable {
		return &Variable{Name: name, Type: ty, Nullable: true, DeclRange: hcl.Range{Filename: "p.hcl", Start: hcl.Pos{Line: 1, Column: 1}}}
	}
	return map[string]*Variable{
		"name":  mk("name", cty.String),
		"any":   mk("any", cty.DynamicPseudoType),
		"n":     mk("n", cty.Number),
		"on":    mk("on", cty.Bool),
		"ports": mk("ports", cty.List(cty.Number)),
		"tags":  mk("tags", cty.Map(cty.String)),
		"obj":   mk("obj", cty.Object(map[string]cty.Type{"host": cty.String, "port": cty.Number})),
	}
}

func TestParseExtraVars(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	hclFile := write("v.hcl", "n = 7\nports = [1, 2]\n")
	jsonFile := write("v.json", `{"name": "from json", "obj": {"host": "h", "port": 5}}`)
	for _, tc := range []struct {
		name string
		args []string
		want map[string]cty.Value
		err  string
	}{
		{name: "string keeps text", args: []string{"name=a b=c [1]"}, want: map[string]cty.Value{"name": cty.StringVal("a b=c [1]")}},
		{name: "untyped is a string", args: []string{"any=[1]"}, want: map[string]cty.Value{"any": cty.StringVal("[1]")}},
		{name: "empty string", args: []string{"name="}, want: map[string]cty.Value{"name": cty.StringVal("")}},
		{name: "number", args: []string{"n=42"}, want: map[string]cty.Value{"n": cty.NumberIntVal(42)}},
		{name: "bool", args: []string{"on=true"}, want: map[string]cty.Value{"on": cty.True}},
		{name: "list as HCL", args: []string{"ports=[80, 443]"}, want: map[string]cty.Value{"ports": cty.ListVal([]cty.Value{cty.NumberIntVal(80), cty.NumberIntVal(443)})}},
		{name: "map as HCL", args: []string{`tags={env="lab"}`}, want: map[string]cty.Value{"tags": cty.MapVal(map[string]cty.Value{"env": cty.StringVal("lab")})}},
		{name: "later wins", args: []string{"n=1", "n=2"}, want: map[string]cty.Value{"n": cty.NumberIntVal(2)}},
		{name: "hcl file", args: []string{"@" + hclFile}, want: map[string]cty.Value{"n": cty.NumberIntVal(7), "ports": cty.ListVal([]cty.Value{cty.NumberIntVal(1), cty.NumberIntVal(2)})}},
		{name: "json file", args: []string{"@" + jsonFile}, want: map[string]cty.Value{"name": cty.StringVal("from json"), "obj": cty.ObjectVal(map[string]cty.Value{"host": cty.StringVal("h"), "port": cty.NumberIntVal(5)})}},
		{name: "unknown name", args: []string{"nmae=x"}, err: `No variable named "nmae" is declared`},
		{name: "no equals", args: []string{"name"}, err: "must be name=value or @file"},
		{name: "bad number", args: []string{"n=ten"}, err: "a number is required"},
		{name: "bad list", args: []string{"ports=[1,"}, err: "read as an HCL expression"},
		{name: "wrong element", args: []string{`ports=["x"]`}, err: "ports[0]: a number is required"},
		{name: "missing file", args: []string{"@" + filepath.Join(dir, "nope.hcl")}, err: "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _, diags := ParseExtraVars(tc.args, testVars())
			if tc.err != "" {
				if !diags.HasErrors() || !strings.Contains(diags.Error(), tc.err) {
					t.Fatalf("want error containing %q, got %v", tc.err, diags)
				}
				for _, d := range diags {
					if d.Subject == nil {
						t.Errorf("no position: %s", d.Error())
					}
				}
				return
			}
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d values, want %d: %#v", len(got), len(tc.want), got)
			}
			for k, w := range tc.want {
				if !got[k].RawEquals(w) {
					t.Errorf("%s = %#v, want %#v", k, got[k], w)
				}
			}
		})
	}
}

// evalIn evaluates src in the scope of the deploy playbook for host oms1.
func evalIn(t *testing.T, p *Playbook, s Scope, src string) (cty.Value, hcl.Diagnostics) {
	t.Helper()
	expr, diags := hclsyntax.ParseExpression([]byte(src), "test.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return expr.Value(p.EvalContext(s))
}

func TestEvalContext(t *testing.T) {
	t.Chdir("../..")
	inv := loadLab(t)
	p, diags := Load("testdata/playbook/deploy.hcl", Options{Modules: fakeModules, Inventory: inv})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	t.Setenv("OMSRUN_TEST_ENV", "from-env")
	changed := map[string]bool{"render config": true}
	s := Scope{Host: inv.Host("oms1"), Inv: inv, Changed: func(n string) bool { return changed[n] }}
	for _, tc := range []struct {
		expr, want string
		marked     bool
	}{
		{expr: `host.name`, want: "oms1"},
		{expr: `"${host.address}:${host.port}"`, want: "10.0.0.11:22"},
		{expr: `join(",", host.groups)`, want: "all,oms,oms_hz"},
		{expr: `tostring(host.vars.cm_port)`, want: "8088"},
		{expr: `join(",", [for h in hosts.oms : h.name])`, want: "oms1,oms2,oms3"},
		{expr: `tostring(length(hosts.all))`, want: "4"},
		{expr: `upper(var.oms_image)`, want: "OCEANBASE/OMS:4.2.5-CE"},
		{expr: `local.cm_url`, want: "http://10.0.0.11:8088"},
		{expr: `tostring(changed("render config"))`, want: "true"},
		{expr: `tostring(changed("motd"))`, want: "false"},
		{expr: `env("OMSRUN_TEST_ENV")`, want: "from-env"},
		{expr: `trimspace(file("files/motd.txt"))`, want: "Managed by omsrun."},
		{expr: `jsonencode(merge({a = 1}, {b = true}))`, want: `{"a":1,"b":true}`},
		{expr: `format("%s-%03d", "n", 7)`, want: "n-007"},
		{expr: `try(host.vars.missing, "fallback")`, want: "fallback"},
		{expr: `"pw=${var.metadb_password}"`, want: "pw=Meta-Pa55word", marked: true},
		{expr: `upper(var.metadb_password)`, want: "META-PA55WORD", marked: true},
		{expr: `local.metadb_dsn`, want: "root@oms:Meta-Pa55word@tcp(10.0.2.20:2881)/", marked: true},
		{expr: `templatefile("files/config.yaml.tmpl", { nodes = [], region = "r", metadb = var.metadb, password = var.metadb_password })`,
			want: "region: r\ncm_nodes:\nmetadb:\n  host: 10.0.2.20\n  port: 2881\n  password: Meta-Pa55word\n", marked: true},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			v, diags := evalIn(t, p, s, tc.expr)
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			if got := v.HasMark(secret.Mark); got != tc.marked {
				t.Errorf("marked = %v, want %v", got, tc.marked)
			}
			v, _ = v.Unmark()
			if v.AsString() != tc.want {
				t.Errorf("got %q, want %q", v.AsString(), tc.want)
			}
		})
	}
	for _, bad := range []string{`changed("no such step")`, `file("../../../etc/nonexistent-file")`, `result.rc`, `host.vars.missing`} {
		if _, diags := evalIn(t, p, s, bad); !diags.HasErrors() {
			t.Errorf("%s: want an error", bad)
		}
	}
	// result is in scope only when the engine sets it (for until).
	s.Result = cty.ObjectVal(map[string]cty.Value{"rc": cty.NumberIntVal(0)})
	if v, diags := evalIn(t, p, s, `result.rc == 0`); diags.HasErrors() || !v.True() {
		t.Errorf("result.rc == 0: %v %v", v, diags)
	}
}

// TestHostsNotNarrowed: hosts lists the whole inventory whatever the scope's host.
func TestHostsNotNarrowed(t *testing.T) {
	t.Chdir("../..")
	inv := loadLab(t)
	p, diags := Load("testdata/playbook/minimal.hcl", Options{Inventory: inv})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	v, diags := evalIn(t, p, Scope{Host: inv.Host("meta1")}, `length(hosts.oms)`)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if n, _ := v.AsBigFloat().Int64(); n != 3 {
		t.Errorf("hosts.oms has %d hosts, want 3", n)
	}
}

func TestPresetPrecedence(t *testing.T) {
	t.Chdir("../..")
	preset := map[string]cty.Value{
		"replicas": cty.StringVal("5"), // converted to the declared number
		"name":     cty.StringVal("preset"),
		"unknown":  cty.StringVal("ignored"),
		"token":    cty.StringVal("tok"),
		"ports":    cty.TupleVal([]cty.Value{cty.NumberIntVal(1)}),
	}
	p, diags := Load("testdata/playbook/extra-vars.hcl", Options{Preset: preset, ExtraVars: []string{"name=cli"}})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if got := p.Vars["name"].AsString(); got != "cli" {
		t.Errorf("name = %q: -e must win over a preset", got)
	}
	if n, _ := p.Vars["replicas"].AsBigFloat().Int64(); n != 5 {
		t.Errorf("replicas = %d, want the preset 5", n)
	}
	if !p.Vars["token"].HasMark(secret.Mark) {
		t.Errorf("a sensitive variable's preset value is not marked")
	}
}

func TestLocalsOrderAndSteps(t *testing.T) {
	t.Chdir("../..")
	inv := loadLab(t)
	p, diags := Load("testdata/playbook/deploy.hcl", Options{Inventory: inv})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	// cm_url uses cm_port, declared after it.
	if got := p.Locals["cm_url"].AsString(); got != "http://10.0.0.11:8088" {
		t.Errorf("cm_url = %q", got)
	}
	var names []string
	for _, st := range p.Steps {
		names = append(names, st.Name)
	}
	if strings.Join(names, "|") != "render config|motd|restart oms|wait for cm|check metadb" {
		t.Errorf("steps out of file order: %v", names)
	}
}
