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

// followUpCommand is the command a message tells the operator to run next,
// pasteable as printed: this run's command line (args, os.Args while omsrun
// runs) with its playbook replaced by playbook beside it and extra (-e
// assignments) added. Only the command line knows the inventory and var
// files the operator gave, so it is the base. Left out, because they belong
// to this run and not to the next: --yes (the next playbook asks its own
// questions), --check and --start-at-step. A secret given as -e name=value
// is masked in any printed text, so it would not work as printed: it
// becomes name=@ask, typed at the terminal (askForSecret).
func followUpCommand(args []string, playbook string, extra ...string) string {
	var tail []string
	for _, kv := range extra {
		tail = append(tail, "-e", kv)
	}
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
			a, found = a[:strings.LastIndex(a, "/")+1]+playbook, true
		}
		out = append(out, a)
	}
	if !found {
		return strings.Join(append([]string{"omsrun playbooks/" + playbook + " -i <this run's inventory> -e <this run's variables>"}, tail...), " ")
	}
	return transport.Join(append(out, tail...))
}

// scaleInCommand scales ip in (the remedy for a registered node missing
// from the inventory).
func scaleInCommand(args []string, ip string) string {
	return followUpCommand(args, "scale-in.hcl", "remove_node="+ip)
}

// restoreCommand rolls an upgrade back, backup named so that restore.hcl's
// question names the dump.
func restoreCommand(args []string, backup string) string {
	// A restore's own command line may give backup_file already (a
	// partial restore prints its re-run): once is enough.
	if backup == "" || givesVar(args, "backup_file") {
		return followUpCommand(args, "restore.hcl")
	}
	return followUpCommand(args, "restore.hcl", "backup_file="+backup)
}

// givesVar reports whether args set variable name with -e (in any of its
// spellings).
func givesVar(args []string, name string) bool {
	for i, a := range args {
		v, ok := "", false
		switch {
		case (a == "-e" || a == "--extra-vars") && i+1 < len(args):
			v, ok = args[i+1], true
		case strings.HasPrefix(a, "--extra-vars="):
			v, ok = strings.TrimPrefix(a, "--extra-vars="), true
		case strings.HasPrefix(a, "-e") && !strings.HasPrefix(a, "--") && len(a) > 2:
			v, ok = strings.TrimPrefix(a[2:], "="), true
		}
		if ok && strings.HasPrefix(v, name+"=") {
			return true
		}
	}
	return false
}
