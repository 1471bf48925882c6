package oms

import (
	"slices"
	"strings"

	"github.com/omsrun/omsrun/internal/transport"
)

// valueFlags are omsrun's flags that take the next argument as their value,
// so that a value ending in .hcl (an inventory.hcl) is not the playbook.
var valueFlags = []string{"-i", "--inventory", "-e", "--extra-vars", "-l", "--limit", "-f", "--forks",
	"--start-at-step", "--oms-config", "--user", "--key", "--known-hosts", "--ssh-keepalive", "--connect-timeout"}

// scaleInCommand is the command that scales ip in, pasteable as printed:
// this run's command line (args, os.Args when omsrun runs) with its
// playbook replaced by scale-in.hcl beside it and remove_node=ip added.
// Dropped: --yes (scale-in asks its own question, about migration
// components), --check and --start-at-step (this run's, not scale-in's). A
// secret given as -e name=value is printed masked anywhere, so it becomes
// name=@ask, typed at the terminal (askForSecret, as the rollback command).
func scaleInCommand(args []string, ip string) string {
	out := []string{"omsrun"}
	if len(args) > 0 && strings.HasSuffix(args[0], "omsrun") {
		out[0] = args[0]
	}
	found := false
	for i := 1; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--yes" || a == "-y" || strings.HasPrefix(a, "--yes=") || a == "--check" || a == "-C" || strings.HasPrefix(a, "--check="):
			continue
		case a == "--start-at-step" && i+1 < len(args):
			i++
			continue
		case strings.HasPrefix(a, "--start-at-step="):
			continue
		case (a == "-e" || a == "--extra-vars") && i+1 < len(args):
			out = append(out, a, askForSecret(args[i+1]))
			i++
			continue
		case slices.Contains(valueFlags, a) && i+1 < len(args):
			out = append(out, a, args[i+1])
			i++
			continue
		case strings.HasPrefix(a, "--extra-vars="):
			a = "--extra-vars=" + askForSecret(strings.TrimPrefix(a, "--extra-vars="))
		case strings.HasPrefix(a, "-e") && !strings.HasPrefix(a, "--"):
			a = "-e" + askForSecret(strings.TrimPrefix(strings.TrimPrefix(a, "-e"), "="))
		case !found && !strings.HasPrefix(a, "-") && strings.HasSuffix(a, ".hcl"):
			dir, _ := splitLast(a)
			a, found = dir+"scale-in.hcl", true
		}
		out = append(out, a)
	}
	if !found {
		return "omsrun playbooks/scale-in.hcl -i <this run's inventory> -e <this run's variables> -e remove_node=" + ip
	}
	return transport.Join(append(out, "-e", "remove_node="+ip))
}

// splitLast splits a path after its last slash: "playbooks/", "deploy.hcl".
func splitLast(p string) (dir, file string) {
	i := strings.LastIndex(p, "/")
	return p[:i+1], p[i+1:]
}
