package playbook

import (
	"maps"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/diag"
)

// evalLocals evaluates every local once, in dependency order, so a local
// may use locals declared after it; a cycle is an error naming its path.
func (p *Playbook) evalLocals(blocks []*hcl.Block) hcl.Diagnostics {
	var diags hcl.Diagnostics
	attrs := map[string]*hcl.Attribute{}
	for _, blk := range blocks {
		as, d := blk.Body.JustAttributes()
		diags = append(diags, d...)
		for name, a := range as {
			if prev, ok := attrs[name]; ok {
				diags = append(diags, diag.Errorf(diag.Ptr(a.NameRange), "Duplicate local",
					"Local %q is already defined at %s; remove one.", name, diag.Pos(prev.NameRange)))
				continue
			}
			attrs[name] = a
		}
	}
	p.localExprs = map[string]hcl.Expression{}
	for name, a := range attrs {
		p.localExprs[name] = a.Expr
	}
	const (
		todo = iota
		busy
		done
	)
	state := map[string]int{}
	var stack []string
	var eval func(name string) bool
	eval = func(name string) bool {
		switch state[name] {
		case done:
			return true
		case busy:
			i := 0
			for i < len(stack) && stack[i] != name {
				i++
			}
			cycle := append(append([]string(nil), stack[i:]...), name)
			diags = append(diags, diag.Errorf(diag.Ptr(attrs[name].NameRange), "Cyclic locals",
				"The locals refer to each other in a cycle: %s. Break the cycle by computing one of them without the others.",
				"local."+strings.Join(cycle, " → local.")))
			return false
		}
		state[name] = busy
		stack = append(stack, name)
		defer func() { stack = stack[:len(stack)-1]; state[name] = done }()
		a := attrs[name]
		ok := true
		for _, tr := range a.Expr.Variables() {
			switch tr.RootName() {
			case "local":
				dep := attrName(tr)
				if _, exists := attrs[dep]; exists && !eval(dep) {
					ok = false
				}
			case "host", "result":
				diags = append(diags, diag.Errorf(diag.Ptr(tr.SourceRange()), "Per-host value in a local",
					"Locals are evaluated once for the whole run, so they cannot use %q. Move this expression into the step that needs it.", tr.RootName()))
				ok = false
			}
		}
		if !ok {
			p.Locals[name] = cty.DynamicVal
			return false
		}
		v, d := a.Expr.Value(p.staticContext())
		diags = append(diags, d...)
		if d.HasErrors() {
			v = cty.DynamicVal
		}
		p.Locals[name] = v
		p.localOrder = append(p.localOrder, name)
		return !d.HasErrors()
	}
	for _, name := range slices.Sorted(maps.Keys(attrs)) {
		eval(name)
	}
	return diags
}

// attrName is the attribute a traversal like local.x reads ("" when none).
func attrName(tr hcl.Traversal) string {
	if len(tr) < 2 {
		return ""
	}
	switch s := tr[1].(type) {
	case hcl.TraverseAttr:
		return s.Name
	case hcl.TraverseIndex:
		if s.Key.Type() == cty.String {
			return s.Key.AsString()
		}
	}
	return ""
}
