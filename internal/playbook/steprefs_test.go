package playbook

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

func TestStepRefs(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want string // sorted names, "*" for every step
	}{
		{`host.name == "oms1"`, ""},
		{`steps["read existing deployment"][host.name].exists`, "read existing deployment"},
		{`length([for n, o in steps["x"] : n if o.ok]) > 0 && steps.z.rc == 0`, "x,z"},
		{`"${steps["a"][host.name].stdout}-${steps["b"]["oms1"].rc}"`, "a,b"},
		{`steps[var.which][host.name].rc == 0`, "*"},
		{`length(keys(steps)) > 0`, "*"},
		{`[for s in steps : s]`, "*"},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			expr, diags := hclsyntax.ParseExpression([]byte(tc.expr), "t.hcl", hcl.InitialPos)
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			if got := refsString(exprStepRefs(expr)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	f, diags := hclsyntax.ParseConfig([]byte(`m {
  a = steps["one"]["h"].rc
  nested {
    b = <<-EOT
      ${steps.two["h"].stdout}
    EOT
  }
}`), "t.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	body := f.Body.(*hclsyntax.Body).Blocks[0].Body
	if got := refsString(bodyStepRefs(body)); got != "one,two" {
		t.Errorf("body: got %q, want one,two", got)
	}
	if (*stepRefs)(nil).has("anything") != true {
		t.Error("nil refs must mean every step")
	}
}

func refsString(r *stepRefs) string {
	if r == nil || r.all {
		return "*"
	}
	var names []string
	for n := range r.names {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}

// TestStepsSeenAsBefore: `when` and module blocks see in steps exactly the
// earlier outputs they read, whatever else the run has recorded, and read
// them as through the full EvalContext.
func TestStepsSeenAsBefore(t *testing.T) {
	t.Chdir("../..")
	inv := loadLab(t)
	path := filepath.Join(t.TempDir(), "p.hcl")
	src := `variable "which" {
  type    = string
  default = "probe"
}
step "probe" {
  shell { cmd = "true" }
}
step "other" {
  shell { cmd = "true" }
}
step "static" {
  when = steps["probe"][host.name].rc == 0
  shell { cmd = "echo ${steps.probe[host.name].stdout} ${length([for h, o in steps["other"] : h if o.rc == 1])}" }
}
step "dynamic" {
  when = steps[var.which][host.name].rc == 0
  shell { cmd = "echo ${length(keys(steps))}" }
}
step "never ran" {
  shell { cmd = "true" }
}
step "missing" {
  when = steps["never ran"][host.name].rc == 0
  shell { cmd = "true" }
}
`
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	p, diags := Load(path, Options{Modules: fakeModules, Inventory: inv})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	out := func(rc int, stdout string) cty.Value {
		return cty.ObjectVal(map[string]cty.Value{"rc": cty.NumberIntVal(int64(rc)), "stdout": cty.StringVal(stdout)})
	}
	s := Scope{Host: inv.Host("oms1"), Inv: inv, Outputs: map[string]map[string]cty.Value{
		"probe": {"oms1": out(0, "hello"), "oms2": out(1, "")},
		"other": {"oms1": out(1, ""), "oms2": out(1, ""), "oms3": out(0, "")},
	}}
	step := func(name string) *Step {
		for _, st := range p.Steps {
			if st.Name == name {
				return st
			}
		}
		t.Fatalf("no step %q", name)
		return nil
	}
	for _, tc := range []struct {
		step, cmd string
	}{{"static", "echo hello 2"}, {"dynamic", "echo 2"}} {
		st := step(tc.step)
		if st.whenSteps == nil || st.bodySteps == nil {
			t.Fatalf("%s: references not found at load", tc.step)
		}
		run, diags := EvalWhen(p, st, s, nil)
		if diags.HasErrors() || !run {
			t.Fatalf("%s: when = %v, %v", tc.step, run, diags)
		}
		full, diags := st.When.Value(p.EvalContext(s))
		if diags.HasErrors() || !full.True() {
			t.Fatalf("%s: when in the full context = %v, %v", tc.step, full, diags)
		}
		var args shellArgs
		if diags := DecodeStep(p, st, s, &args, nil); diags.HasErrors() {
			t.Fatalf("%s: %s", tc.step, diags.Error())
		}
		if args.Cmd != tc.cmd {
			t.Errorf("%s: cmd = %q, want %q", tc.step, args.Cmd, tc.cmd)
		}
	}
	// A step that never ran is missing from steps, with the same error as before.
	st := step("missing")
	_, narrow := EvalWhen(p, st, s, nil)
	_, full := st.When.Value(p.EvalContext(s))
	if !narrow.HasErrors() || !full.HasErrors() || narrow[0].Summary != full[0].Summary || narrow[0].Detail != full[0].Detail {
		t.Errorf("missing step: got %v, want %v", narrow, full)
	}
}

// TestStepRefsChecked: validate refuses steps["name"] for a step that does
// not exist (with did-you-mean), that runs later, or that is the step itself.
func TestStepRefsChecked(t *testing.T) {
	for _, tc := range []struct{ ref, want string }{
		{`steps["read existng deployment"][host.name].rc == 0`, `Did you mean "read existing deployment"?`},
		{`steps.later[host.name].rc == 0`, `Step runs later`},
		{`steps["check"][host.name].rc == 0`, `its own outputs`},
		{`steps["zzz"][host.name].rc == 0`, `Valid earlier steps: read existing deployment.`},
	} {
		t.Run(tc.ref, func(t *testing.T) {
			src := `step "read existing deployment" {
  shell { cmd = "true" }
}
step "check" {
  shell { cmd = "echo ${` + tc.ref + `}" }
}
step "later" {
  shell { cmd = "true" }
}
`
			path := filepath.Join(t.TempDir(), "p.hcl")
			if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			_, diags := Load(path, Options{Modules: fakeModules})
			if !diags.HasErrors() || !strings.Contains(diags.Error(), tc.want) || !strings.Contains(diags.Error(), "p.hcl:5,") {
				t.Fatalf("want %q at line 5, got %v", tc.want, diags)
			}
		})
	}
}
