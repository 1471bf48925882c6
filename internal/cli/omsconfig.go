package cli

import (
	"fmt"
	"os"
	"regexp"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/diag"
	"github.com/omsrun/omsrun/internal/omsconfig"
	"github.com/omsrun/omsrun/internal/secret"
	"github.com/omsrun/omsrun/internal/wizard"
	"github.com/omsrun/omsrun/inventory"
)

// omsConfigVars reads --oms-config, an OMS config.yaml written from the
// seed's template, and maps it onto deploy.hcl's variables. It is checked
// by omsconfig — the code render_config uses — so a file refused here would
// have been refused by the run, only later; and cm_nodes is checked against
// the inventory's OMS hosts, which the run would otherwise find out about
// only when rendering config.yaml on them.
func omsConfigVars(g *globals) (map[string]cty.Value, hcl.Diagnostics) {
	src, diags := diag.ReadFile(g.omsConfig)
	if diags.HasErrors() {
		return nil, diags
	}
	c, d := omsconfig.Parse(src, g.omsConfig)
	for _, x := range d {
		if u, ok := x.Extra.(omsconfig.UnknownKey); ok {
			// Parse keeps unknown keys in Config.Extra, but the playbook's
			// variables are omsconfig's table of keys only: say where this one stops.
			x.Detail = u.Detail("The playbook's variables are the config.yaml keys omsrun knows only, so this key does not reach the config.yaml rendered on the nodes; add it there by a template (render_config's template_file) if OMS needs it.")
		}
	}
	diags = append(diags, d...)
	if d.HasErrors() {
		return nil, diags
	}
	if hosts := deploymentAddrs(g); len(hosts) > 0 {
		// Parse already reported what Validate finds without the hosts;
		// only the problems the hosts add are new.
		seen := map[string]bool{}
		for _, p := range omsconfig.Validate(c, nil) {
			seen[p.Error()] = true
		}
		var extra []omsconfig.Problem
		for _, p := range omsconfig.Validate(c, hosts) {
			if !seen[p.Error()] {
				extra = append(extra, p)
			}
		}
		diags = append(diags, omsconfig.Diagnostics(extra, c, *diag.FileStart(g.omsConfig))...)
		if len(extra) > 0 {
			return nil, diags
		}
	}
	// The seed lets cm_url be a bare VIP; the playbook also uses it as a URL
	// (the VIP health checks), so it gets the canonical form render_config
	// would write anyway.
	return omsconfig.ToVars(c.Normalized()), diags
}

// deploymentAddrs are the addresses deploy.hcl deploys to: its `oms` group,
// or every host when the inventory has no such group. The inventory is
// loaded again here rather than passed in because load reports its own
// problems; a broken inventory simply gives no addresses.
func deploymentAddrs(g *globals) []string {
	if !g.hasInventory() {
		return nil
	}
	inv, diags := g.loadInventory()
	if diags.HasErrors() || inv == nil {
		return nil
	}
	hosts := inv.Hosts
	if _, ok := inv.Groups["oms"]; ok {
		if m, err := inv.Match("oms"); err == nil {
			hosts = m
		}
	}
	var out []string
	for _, h := range hosts {
		out = append(out, h.Address)
	}
	return out
}

// envRef matches `-e name=@env:VAR`: the value is read from the environment
// variable VAR and treated as a secret. It keeps passwords off the command
// line (where the process list shows them) and out of files; `omsrun init`
// prints it when the user keeps passwords in the environment. The value
// never becomes -e text, which the loader would quote in diagnostics.
var envRef = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_-]*)=@env:([A-Za-z_][A-Za-z0-9_]*)$`)

// envRefVar resolves one `-e name=@env:VAR`; ok is false for other forms.
func envRefVar(arg string) (name string, v cty.Value, diags hcl.Diagnostics, ok bool) {
	m := envRef.FindStringSubmatch(arg)
	if m == nil {
		return "", cty.NilVal, nil, false
	}
	name, env := m[1], m[2]
	val, set := os.LookupEnv(env)
	if !set || val == "" {
		state := "not set"
		if set {
			state = "empty"
		}
		return name, cty.NilVal, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Environment variable %s is %s", env, state),
			Detail:   fmt.Sprintf("-e %s takes %s's value from $%s; set it first, e.g. read -rs %s && export %s.", arg, name, env, env, env),
		}}, true
	}
	return name, cty.StringVal(val).Mark(secret.Mark), nil, true
}

// varSources splits the variable sources for playbook.Load. --oms-config
// values, `-e name=@env:VAR` references and `-e name=@ask` answers become Options.Preset: values
// rather than -e text, which the loader quotes in its diagnostics and a
// password must never be. Preset sits under every plain -e; among presets
// an @env reference wins over the config. The other -e arguments are passed
// on in order.
func varSources(g *globals) (preset map[string]cty.Value, args []string, diags hcl.Diagnostics) {
	preset = map[string]cty.Value{}
	if g.omsConfig != "" {
		vals, d := omsConfigVars(g)
		diags = append(diags, d...)
		for k, v := range vals {
			preset[k] = v
		}
	}
	for _, e := range g.extraVars {
		name, v, d, ok := envRefVar(e)
		if !ok {
			name, v, d, ok = askRefVar(e, g.ask)
		}
		if !ok {
			args = append(args, e)
			continue
		}
		diags = append(diags, d...)
		if !d.HasErrors() {
			preset[name] = v
		}
	}
	return preset, args, diags
}

// omsConfigInventory builds an inventory from the cm_nodes of an OMS
// config.yaml, for runs given --oms-config without -i: every node in group
// "oms", named oms1, oms2, … in cm_nodes order, logging on as user with
// keyFile (either may be empty: ~/.ssh/config and the agent decide, and
// --ask-pass supplies a password), with sudo unless the user is root. It is
// returned as HCL source, which the inventory loader reads from memory.
func omsConfigInventory(cfgPath, user, keyFile string) (src []byte, diags hcl.Diagnostics) {
	data, diags := diag.ReadFile(cfgPath)
	if diags.HasErrors() {
		return nil, diags
	}
	c, diags := omsconfig.Parse(data, cfgPath)
	if diags.HasErrors() {
		return nil, diags
	}
	// The seed: a user other than root must have sudo on the nodes.
	become := user != "" && user != "root"
	return wizard.Inventory(&wizard.Answers{Nodes: c.CMNodes, SSHUser: user, SSHKey: keyFile, Become: become, Secrets: wizard.SecretsEnv}), nil
}

// omsConfigInventoryName is what messages call that inventory (.hcl: its format).
const omsConfigInventoryName = "--oms-config cm_nodes.hcl"

// defaultOMSConfigInventory gives g an inventory built from --oms-config's
// cm_nodes when no -i was given (--user and --key say how to log on).
func (a *App) defaultOMSConfigInventory(g *globals) error {
	if len(g.inventories) > 0 || g.omsConfig == "" {
		return nil
	}
	src, diags := omsConfigInventory(g.omsConfig, g.user, g.keyFile)
	if diags.HasErrors() {
		return a.problems(g, nil, diags, fmt.Errorf("%d problem(s) in %s; nothing was run", countErrors(diags), g.omsConfig))
	}
	g.builtInventory = src
	return nil
}

// hasInventory says whether g names an inventory (-i, or one built from --oms-config).
func (g *globals) hasInventory() bool { return len(g.inventories) > 0 || g.builtInventory != nil }

// loadInventory loads g's inventory: the -i files, or the one built in memory.
func (g *globals) loadInventory() (*inventory.Inventory, hcl.Diagnostics) {
	if len(g.inventories) == 0 && g.builtInventory != nil {
		return inventory.LoadSource(omsConfigInventoryName, g.builtInventory)
	}
	return inventory.Load(g.inventories)
}
