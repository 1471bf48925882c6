package cli

import (
	"strings"

	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/playbooks"
)

// bothFormsMsg refuses an exec given both a module and a command, with the
// two commands it could have meant, each ready to paste.
func bothFormsMsg(g *globals, pattern, module, moduleArgs string, command []string) string {
	base := []string{"omsrun", "exec"}
	for _, i := range g.inventories {
		base = append(base, "-i", transport.Quote(i))
	}
	base = append(base, transport.Quote(pattern))
	withModule := append(append([]string{}, base...), "-m", transport.Quote(module), "-a", transport.Quote(moduleArgs))
	withCommand := append(append([]string{}, base...), "--")
	for _, w := range command {
		withCommand = append(withCommand, transport.Quote(w))
	}
	return "give either -m MODULE -a ARGS or -- COMMAND, not both: run `" + strings.Join(withModule, " ") +
		"` or `" + strings.Join(withCommand, " ") + "`"
}

// noPlaybookMsg says what to run when no playbook was named: the shipped
// status.hcl with the -i and -e @file arguments given, a command that can be
// pasted as it is (issue #14 point 7: a remedy must work as printed). An
// -e NAME=VALUE is not echoed, since its value may be a secret.
func noPlaybookMsg(g *globals) string {
	cmd := []string{"omsrun", "status.hcl"}
	inv := g.inventories
	if len(inv) == 0 {
		inv = []string{"FILE"}
	}
	for _, i := range inv {
		cmd = append(cmd, "-i", transport.Quote(i))
	}
	valued := false
	for _, e := range g.extraVars {
		if strings.HasPrefix(e, "@") {
			cmd = append(cmd, "-e", transport.Quote(e))
		} else {
			valued = true
		}
	}
	msg := "no playbook given: name one, e.g. `" + strings.Join(cmd, " ") + "`"
	if valued {
		msg += " with your -e NAME=VALUE arguments"
	}
	if len(g.inventories) == 0 {
		msg += ", FILE being your inventory"
	}
	return msg + "; the shipped playbooks are " + strings.Join(playbooks.Names(), ", ") + ", or give the path of your own .hcl (see `omsrun --help`)"
}
