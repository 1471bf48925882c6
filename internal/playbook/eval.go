package playbook

import (
	"sort"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/omsrun/omsrun/inventory"
)

// EvalContext is what expressions see when evaluated for s.Host: var,
// local, host (when s.Host is set), hosts (every group of the whole
// inventory → its hosts, never narrowed by --limit), result (when s.Result
// is set), the cty stdlib functions plus file, templatefile, env and
// changed. Marks carried by sensitive values propagate through every
// expression, so a value built from a secret stays secret.
func (p *Playbook) EvalContext(s Scope) *hcl.EvalContext {
	return p.evalContext(s, nil)
}

// evalContext is EvalContext with `steps` holding only the steps refs
// names (nil: every step). An expression cannot read any other step, and
// building the object of every earlier step's outputs for every host and
// step made a run quadratic in hosts × steps.
func (p *Playbook) evalContext(s Scope, refs *stepRefs) *hcl.EvalContext {
	c := p.cache()
	vars := map[string]cty.Value{"var": c.vars, "local": c.locals}
	if c.vars.Type() == cty.NilType {
		// Still loading (locals are being evaluated), or built by hand.
		vars["var"], vars["local"] = objectOf(p.Vars), objectOf(p.Locals)
	}
	inv := s.Inv
	if inv == nil {
		inv = p.inv
	}
	if inv != nil {
		vars["hosts"] = c.hostsObject(inv)
	}
	if s.Host != nil {
		vars["host"] = c.hostObject(s.Host)
		if hs := p.hostScopeFor(c, s.Host); hs != nil && hs.vars.Type() != cty.NilType {
			vars["var"], vars["local"] = hs.vars, hs.locals
		}
	}
	if s.Result.Type() != cty.NilType {
		vars["result"] = s.Result
	}
	// steps["name"]["host"] are earlier steps' outputs. Before the run (validate)
	// they are unknown, so expressions built on them are checked for syntax and
	// names only.
	if s.Outputs != nil {
		steps := map[string]cty.Value{}
		for step, hosts := range s.Outputs {
			if refs.has(step) {
				steps[step] = cty.ObjectVal(hosts)
			}
		}
		vars["steps"] = cty.ObjectVal(steps)
	} else {
		vars["steps"] = cty.DynamicVal
	}
	base := c.functions(p)
	funcs := make(map[string]function.Function, len(base)+1)
	for k, f := range base {
		funcs[k] = f
	}
	funcs["changed"] = changedFunc(p, s.Changed)
	if inv != nil {
		funcs["hosts_matching"] = hostsMatchingFunc(c, inv)
	}
	return &hcl.EvalContext{Variables: vars, Functions: funcs}
}

// staticContext is the load-time context: no host, and changed() is false.
func (p *Playbook) staticContext() *hcl.EvalContext {
	return p.EvalContext(Scope{})
}

func (p *Playbook) cache() *objectCache {
	p.objectsOnce.Do(func() {
		if p.objects == nil {
			// A Playbook built by hand (in a test) rather than by Load.
			p.objects = &objectCache{}
		}
	})
	return p.objects
}

func objectOf(m map[string]cty.Value) cty.Value {
	if len(m) == 0 {
		return cty.EmptyObjectVal
	}
	return cty.ObjectVal(m)
}

// objectCache builds the cty views of the inventory once per run: every
// host's EvalContext shares them, and building hosts for each host and step
// would be quadratic in the number of hosts.
type objectCache struct {
	mu      sync.Mutex
	inv     *inventory.Inventory
	hosts   cty.Value
	byHost  map[*inventory.Host]cty.Value
	funcMap map[string]function.Function
	// vars and locals are var and local, set once Load has them all
	// (cty.NilVal before, and for a Playbook built by hand).
	vars, locals cty.Value
	// scopes are the var and local of hosts with their own values (nil
	// for a host that shares the run's).
	scopes map[*inventory.Host]*hostScope
	// split is which element of each split variable a host is in.
	split *splitting
}

// stepRefs are the steps an expression reads as steps["name"] (or
// steps.name); all is set when it reads steps otherwise (steps[var.x],
// keys(steps)), so which steps it sees cannot be known before evaluating it.
type stepRefs struct {
	all   bool
	names map[string]bool
}

// has reports whether the step must be in `steps`; a nil *stepRefs means every step.
func (r *stepRefs) has(step string) bool {
	return r == nil || r.all || r.names[step]
}

func (r *stepRefs) add(exprs ...hcl.Expression) {
	for _, e := range exprs {
		for _, tr := range e.Variables() {
			if tr.RootName() != "steps" {
				continue
			}
			name, ok := "", false
			if len(tr) > 1 {
				switch t := tr[1].(type) {
				case hcl.TraverseAttr:
					name, ok = t.Name, true
				case hcl.TraverseIndex:
					if t.Key.IsKnown() && !t.Key.IsNull() && t.Key.Type() == cty.String {
						name, ok = t.Key.AsString(), true
					}
				}
			}
			if !ok {
				r.all = true
				continue
			}
			if r.names == nil {
				r.names = map[string]bool{}
			}
			r.names[name] = true
		}
	}
}

// exprStepRefs finds the steps expr reads.
func exprStepRefs(expr hcl.Expression) *stepRefs {
	r := &stepRefs{}
	r.add(expr)
	return r
}

// bodyStepRefs finds the steps a module block reads, in its attributes and
// nested blocks; nil (every step) for a body not in native syntax.
func bodyStepRefs(body hcl.Body) *stepRefs {
	b, ok := body.(*hclsyntax.Body)
	if !ok {
		return nil
	}
	r := &stepRefs{}
	var walk func(b *hclsyntax.Body)
	walk = func(b *hclsyntax.Body) {
		for _, a := range b.Attributes {
			r.add(a.Expr)
		}
		for _, blk := range b.Blocks {
			walk(blk.Body)
		}
	}
	walk(b)
	return r
}

func (c *objectCache) hostObject(h *inventory.Host) cty.Value {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hostLocked(h)
}

func (c *objectCache) hostLocked(h *inventory.Host) cty.Value {
	if c.byHost == nil {
		c.byHost = map[*inventory.Host]cty.Value{}
	}
	if v, ok := c.byHost[h]; ok {
		return v
	}
	groups := make([]cty.Value, 0, len(h.Groups))
	for _, g := range h.Groups {
		groups = append(groups, cty.StringVal(g))
	}
	gl := cty.ListValEmpty(cty.String)
	if len(groups) > 0 {
		gl = cty.ListVal(groups)
	}
	v := cty.ObjectVal(map[string]cty.Value{
		"name":    cty.StringVal(h.Name),
		"address": cty.StringVal(h.Address),
		"port":    cty.NumberIntVal(int64(h.Port)),
		"user":    cty.StringVal(h.User),
		"become":  cty.BoolVal(h.Become),
		"groups":  gl,
		"vars":    objectOf(h.Vars),
	})
	c.byHost[h] = v
	return v
}

func (c *objectCache) hostsObject(inv *inventory.Inventory) cty.Value {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inv == inv && c.hosts.Type() != cty.NilType {
		return c.hosts
	}
	names := make([]string, 0, len(inv.Groups))
	for g := range inv.Groups {
		names = append(names, g)
	}
	sort.Strings(names)
	groups := map[string]cty.Value{}
	for _, g := range names {
		var list []cty.Value
		for _, h := range inv.GroupHosts(g) {
			list = append(list, c.hostLocked(h))
		}
		// A tuple, not a list: hosts' vars differ in shape.
		groups[g] = cty.TupleVal(list)
	}
	c.inv, c.hosts = inv, objectOf(groups)
	return c.hosts
}

// WhenReadsSteps reports whether the step's `when` reads earlier steps'
// results (steps["name"]): it can be decided only once they ran.
func (s *Step) WhenReadsSteps() bool {
	if s.When == nil {
		return false
	}
	r := s.whenSteps
	if r == nil {
		r = exprStepRefs(s.When)
	}
	return r.all || len(r.names) > 0
}
