package cli

import (
	"strings"
	"testing"

	"github.com/omsrun/omsrun/internal/secret"
)

// TestAskVar: -e name=@ask (what a printed rollback puts in place of a
// password given on the command line) reads the value at the terminal as a
// secret; with no terminal it says how else to give it.
func TestAskVar(t *testing.T) {
	var prompts []string
	g := &globals{extraVars: []string{"oms_meta_password=@ask", "image=oms:x"}, ask: func(p string) (string, error) {
		prompts = append(prompts, p)
		return "typed", nil
	}}
	preset, args, diags := varSources(g)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	v := preset["oms_meta_password"]
	plain, _ := v.Unmark()
	if !v.HasMark(secret.Mark) || plain.AsString() != "typed" || len(args) != 1 || args[0] != "image=oms:x" {
		t.Fatalf("preset %#v, args %q", preset, args)
	}
	if len(prompts) != 1 || prompts[0] != "oms_meta_password: " {
		t.Fatalf("prompts %q", prompts)
	}
	g.ask = nil
	_, _, diags = varSources(g)
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "oms_meta_password=@env:VAR") {
		t.Fatalf("without a terminal: %v", diags)
	}
}
