package modules_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/transport/transporttest"
	"github.com/omsrun/omsrun/modules"
	"github.com/omsrun/omsrun/modules/modtest"
)

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTemplateValidate(t *testing.T) {
	good := writeTemp(t, "ok.tpl", "port = ${port}\n")
	bad := writeTemp(t, "bad.tpl", "line one\nport = ${port +}\n")
	tests := []struct {
		name string
		args modules.TemplateArgs
		want []string
	}{
		{name: "ok", args: modules.TemplateArgs{Src: good, Dest: "/etc/x", Vars: cty.ObjectVal(map[string]cty.Value{"port": cty.NumberIntVal(8086)})}},
		{name: "missing var names the template line", args: modules.TemplateArgs{Src: good, Dest: "/etc/x"}, want: []string{"ok.tpl:1", "vars is empty"}},
		{name: "syntax error names the line", args: modules.TemplateArgs{Src: bad, Dest: "/etc/x", Vars: cty.ObjectVal(map[string]cty.Value{"port": cty.NumberIntVal(1)})}, want: []string{"bad.tpl:2"}},
		{name: "missing src", args: modules.TemplateArgs{Src: "/nonexistent/x.tpl", Dest: "/etc/x"}, want: []string{"src:"}},
		{name: "vars not an object", args: modules.TemplateArgs{Src: good, Dest: "/etc/x", Vars: cty.StringVal("x")}, want: []string{"vars:"}},
		{name: "relative dest, bad mode", args: modules.TemplateArgs{Src: good, Dest: "x", Mode: cfgPtr("9"), Vars: cty.ObjectVal(map[string]cty.Value{"port": cty.NumberIntVal(1)})}, want: []string{"dest:", "mode:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := (&modules.Template{}).Validate(&tt.args)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			for _, w := range tt.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v; want %q", err, w)
				}
			}
		})
	}
}

func TestTemplateCheckApply(t *testing.T) {
	h := transporttest.NewLocal(t)
	src := writeTemp(t, "k.conf.tpl", "vrrp ${name}\n%{ for p in peers ~}\npeer ${p}\n%{ endfor ~}\n")
	vars := func(name string) cty.Value {
		return cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal(name),
			"peers": cty.TupleVal([]cty.Value{cty.StringVal("10.0.0.1"), cty.StringVal("10.0.0.2")})})
	}
	a := &modules.TemplateArgs{Src: src, Dest: filepath.Join(h.Dir, "k.conf"), Vars: vars("a"), Mode: cfgPtr("0640"), Backup: cfgPtr(true)}
	env := modtest.LocalEnv(h, "10.0.0.2")
	m := &modules.Template{}
	ctx := context.Background()
	p, err := m.Check(ctx, env, a)
	if err != nil || !p.Change || !strings.Contains(p.Diff, "+peer 10.0.0.2") {
		t.Fatalf("plan = %+v, %v", p, err)
	}
	if _, err := os.Stat(a.Dest); err == nil {
		t.Fatal("check wrote the file")
	}
	if res, err := m.Apply(ctx, env, a, p); err != nil || !res.Changed {
		t.Fatalf("apply = %+v, %v", res, err)
	}
	if b, _ := os.ReadFile(a.Dest); string(b) != "vrrp a\npeer 10.0.0.1\npeer 10.0.0.2\n" {
		t.Fatalf("rendered %q", b)
	}
	if fi, _ := os.Stat(a.Dest); fi.Mode().Perm() != 0o640 {
		t.Fatalf("mode %v", fi.Mode())
	}
	if p, err := m.Check(ctx, env, a); err != nil || p.Change {
		t.Fatalf("converged: %+v %v", p, err)
	}
	a.Vars = vars("b")
	p, _ = m.Check(ctx, env, a)
	if !strings.Contains(p.Diff, "-vrrp a\n+vrrp b") {
		t.Fatalf("diff %q", p.Diff)
	}
	res, err := m.Apply(ctx, env, a, p)
	if err != nil || res.Outputs["backup"].AsString() == "" {
		t.Fatalf("apply = %+v, %v", res, err)
	}
}
