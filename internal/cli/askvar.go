package cli

import (
	"fmt"
	"os"
	"regexp"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/secret"
)

// askRef matches `-e name=@ask`: the value is typed at the terminal, without
// echo, and treated as a secret. Commands omsrun prints for the operator to
// run (a failed upgrade's rollback) use it in place of a password given on
// the command line: the printed command then works as printed without ever
// showing the password.
var askRef = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_-]*)=@ask$`)

// askRefVar resolves one `-e name=@ask` with ask (nil: no terminal); ok is
// false for other forms.
func askRefVar(arg string, ask func(string) (string, error)) (name string, v cty.Value, diags hcl.Diagnostics, ok bool) {
	m := askRef.FindStringSubmatch(arg)
	if m == nil {
		return "", cty.NilVal, nil, false
	}
	name = m[1]
	fail := func(why string) hcl.Diagnostics {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Cannot ask for %s", name),
			Detail: fmt.Sprintf("-e %s asks for %s's value at the terminal, and %s. Give it another way: -e %s=@env:VAR after read -rs VAR && export VAR, or in a var file (-e @FILE).",
				arg, name, why, name),
		}}
	}
	if ask == nil {
		return name, cty.NilVal, fail("there is none"), true
	}
	val, err := ask(name + ": ")
	if err != nil {
		return name, cty.NilVal, fail(err.Error()), true
	}
	if val == "" {
		return name, cty.NilVal, fail("nothing was typed"), true
	}
	return name, cty.StringVal(val).Mark(secret.Mark), nil, true
}

// hasTerminal reports whether omsrun has a terminal to ask on.
func hasTerminal() bool {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return false
	}
	tty.Close()
	return true
}
