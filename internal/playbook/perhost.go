package playbook

import (
	"fmt"
	"maps"
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/diag"
	"github.com/omsrun/omsrun/inventory"
)

// Per-host values: a variable declared per_host = true takes, on a host
// whose inventory variables (its own or its groups', merged as the
// inventory merges them) name it, that value instead of the run's. The
// order, low to high: the playbook's default, --oms-config and -e @file,
// the inventory's group vars, its host vars, and -e name=value. A var file
// comes below the inventory so that one shared by the cluster does not
// override a host's own value; a value on the command line is meant for
// every host.

// hostScope is what a host with its own values sees as var and local.
type hostScope struct {
	vars, locals cty.Value
	diags        hcl.Diagnostics
	// splitAt are the variables a split variable's element replaced on
	// this host, and where that element's value was written.
	splitAt map[string]hcl.Range
}

// perHostNames are the variables an inventory may set per host (per_host,
// not given with -e name=value).
func (p *Playbook) perHostNames() []string {
	var out []string
	for _, name := range sortedVarNames(p.Variables) {
		if p.Variables[name].PerHost && !p.cmdline[name] {
			out = append(out, name)
		}
	}
	return out
}

// hostScopeFor returns h's own var and local, or nil when h has no value
// of its own (it then shares the run's objects).
func (p *Playbook) hostScopeFor(c *objectCache, h *inventory.Host) *hostScope {
	c.mu.Lock()
	if hs, ok := c.scopes[h]; ok {
		c.mu.Unlock()
		return hs
	}
	ready := c.vars.Type() != cty.NilType
	c.mu.Unlock()
	if !ready {
		return nil // still loading: locals are being evaluated
	}
	hs := p.buildHostScope(h)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.scopes == nil {
		c.scopes = map[*inventory.Host]*hostScope{}
	}
	c.scopes[h] = hs
	return hs
}

func (p *Playbook) buildHostScope(h *inventory.Host) *hostScope {
	vars := maps.Clone(p.Vars)
	hs := &hostScope{}
	own := false
	for _, name := range p.perHostNames() {
		raw, ok := h.Vars[name]
		if !ok {
			continue
		}
		v := p.Variables[name]
		r := h.VarRanges[name]
		val, err := convertVar(v, raw)
		if err != nil {
			hs.diags = append(hs.diags, diag.Errorf(&r, "Invalid value for variable",
				"Host %q sets %s in the inventory, but %s%v. Variable %q is declared at %s with type %s.",
				h.Name, name, name, err, name, diag.Pos(v.DeclRange), typeexpr.TypeString(v.Type)))
			continue
		}
		if v.Sensitive {
			val = markDeep(val)
		}
		vars[name], own = val, true
	}
	at, d := p.splitOverrides(h, vars)
	hs.diags = append(hs.diags, d...)
	if len(at) > 0 {
		hs.splitAt, own = at, true
	}
	if !own && len(hs.diags) == 0 {
		return nil
	}
	ctx := p.staticContext()
	ctx.Variables["var"] = objectOf(vars)
	for _, name := range p.perHostNames() {
		if _, ok := h.Vars[name]; !ok {
			continue
		}
		for _, vd := range p.Variables[name].Validations {
			for _, d := range p.runValidation(name, vd, ctx) {
				r := h.VarRanges[name]
				d.Detail += fmt.Sprintf(" (host %q's value, set in the inventory; the rule is at %s)", h.Name, diag.Pos(*d.Subject))
				d.Subject = &r
				hs.diags = append(hs.diags, d)
			}
		}
	}
	locals := maps.Clone(p.Locals)
	for _, name := range p.localOrder {
		ctx.Variables["local"] = objectOf(locals)
		v, d := p.localExprs[name].Value(ctx)
		hs.diags = append(hs.diags, d...)
		if !d.HasErrors() {
			locals[name] = v
		}
	}
	hs.vars, hs.locals = objectOf(vars), objectOf(locals)
	return hs
}

// HostValueDiags checks the per-host values of every host of inv: their
// types, the variables' validation rules and the locals built from them.
func (p *Playbook) HostValueDiags(inv *inventory.Inventory) hcl.Diagnostics {
	if inv == nil {
		return nil
	}
	split := len(p.splitVarNames()) > 0
	if len(p.perHostNames()) == 0 && !split {
		return nil
	}
	var out hcl.Diagnostics
	if split {
		out = append(out, p.split(inv).diags...)
	}
	c := p.cache()
	for _, h := range inv.Hosts {
		if hs := p.hostScopeFor(c, h); hs != nil {
			out = append(out, hs.diags...)
		}
	}
	return out
}

// hostOrigin is where h's own value of variable name was set, if it has one.
func (p *Playbook) hostOrigin(h *inventory.Host, name string) (hcl.Range, bool) {
	if h == nil {
		return hcl.Range{}, false
	}
	v := p.Variables[name]
	if v == nil || !v.PerHost || p.cmdline[name] {
		return hcl.Range{}, false
	}
	if _, ok := h.Vars[name]; !ok {
		return hcl.Range{}, false
	}
	return h.VarRanges[name], true
}

func sortedVarNames(m map[string]*Variable) []string { return slices.Sorted(maps.Keys(m)) }
