package playbook

import (
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/omsrun/omsrun/internal/diag"
	"github.com/omsrun/omsrun/inventory"
)

// Split variables: a variable declared with split_group is a list of
// objects that divides the hosts of that group among its elements, each
// naming its hosts with a `hosts` pattern (OMS's regions). On a host, the
// attributes of its element listed in split_overrides replace, when not
// null, the variables of the same name ("name=attr" names another
// variable), so every local built on them (config.yaml's content, the
// VIP) is that element's on that host.

// splitHostsAttr is the attribute of an element that names its hosts.
const splitHostsAttr = "hosts"

// splitPick is one host's element of one split variable.
type splitPick struct {
	variable string
	index    int
}

// splitting is which element each host belongs to, and what is wrong with
// the split; computed once per inventory.
type splitting struct {
	inv   *inventory.Inventory
	picks map[string][]splitPick // host name → its elements
	diags hcl.Diagnostics
}

// splitVarNames lists the split variables with a non-empty list value.
func (p *Playbook) splitVarNames() []string {
	var out []string
	for _, name := range sortedVarNames(p.Variables) {
		v := p.Variables[name]
		if v.SplitGroup == "" {
			continue
		}
		val := p.Vars[name]
		if val.IsKnown() && !val.IsNull() && val.CanIterateElements() && val.LengthInt() > 0 {
			out = append(out, name)
		}
	}
	return out
}

// split assigns the hosts of inv to the split variables' elements.
func (p *Playbook) split(inv *inventory.Inventory) *splitting {
	c := p.cache()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.split != nil && c.split.inv == inv {
		return c.split
	}
	s := &splitting{inv: inv, picks: map[string][]splitPick{}}
	c.split = s
	if inv == nil {
		return s
	}
	for _, name := range p.splitVarNames() {
		v := p.Variables[name]
		first := map[string]int{} // host name → the element that took it
		val, _ := p.Vars[name].UnmarkDeep()
		for i, it := 0, val.ElementIterator(); it.Next(); i++ {
			_, el := it.Element()
			at := p.originAt(name, i, splitHostsAttr)
			pattern := ""
			if el.Type().IsObjectType() && el.Type().HasAttribute(splitHostsAttr) {
				if hv := el.GetAttr(splitHostsAttr); hv.Type() == cty.String && !hv.IsNull() {
					pattern = hv.AsString()
				}
			}
			hosts, err := inv.Match(pattern)
			var noMatch *inventory.NoMatchError
			if err != nil && !errors.As(err, &noMatch) {
				s.diags = append(s.diags, diag.Errorf(&at, "Invalid hosts pattern",
					"%s[%d].%s: %s Name the element's hosts with a pattern of the inventory (a group, host names, oms[1:2]).", name, i, splitHostsAttr, sentence(err.Error())))
				continue
			}
			if len(hosts) == 0 {
				// Most often the element's hosts have left the inventory
				// (a pattern naming them then matches nothing at all).
				why := "selects no host of the inventory"
				switch {
				case noMatch != nil && v.SplitNoHosts != nil:
					// The nearest name ("oms" for a region's "oms3") would
					// mislead: the variable's hint says what to do.
					why = "matches no host or group of the inventory"
				case noMatch != nil:
					why = noMatch.Why()
				}
				s.diags = append(s.diags, diag.Errorf(&at, "Element with no hosts",
					"%s %s", sentence(fmt.Sprintf("%s[%d].%s = %q %s", name, i, splitHostsAttr, pattern, why)), p.splitNoHostsHint(v, el)))
			}
			for _, h := range hosts {
				if prev, dup := first[h.Name]; dup {
					s.diags = append(s.diags, diag.Errorf(&at, "Host in two elements",
						"Host %q is in %s[%d] (its hosts at %s) and again in %s[%d]; a host belongs to one element only.",
						h.Name, name, prev, diag.Pos(p.originAt(name, prev, splitHostsAttr)), name, i))
					continue
				}
				first[h.Name] = i
				s.picks[h.Name] = append(s.picks[h.Name], splitPick{variable: name, index: i})
			}
		}
		var missing []string
		for _, h := range inv.GroupHosts(v.SplitGroup) {
			if _, ok := first[h.Name]; !ok {
				missing = append(missing, h.Name)
			}
		}
		if len(missing) > 0 {
			at := p.originAt(name)
			s.diags = append(s.diags, diag.Errorf(&at, "Hosts in no element",
				"%s is given, so every host of group %q must be in one of its elements; %s in none. Add them to an element's hosts pattern.",
				name, v.SplitGroup, strings.Join(missing, ", ")+map[bool]string{true: " is", false: " are"}[len(missing) == 1]))
		}
	}
	return s
}

// splitNoHostsHint is what the variable's split_no_hosts says about el, or
// the generic rule when it says nothing or cannot be evaluated.
func (p *Playbook) splitNoHostsHint(v *Variable, el cty.Value) string {
	const generic = "Every element needs its hosts: name them in this pattern, or remove the element."
	if v.SplitNoHosts == nil {
		return generic
	}
	// The plain functions (join, format…): the cache's lock is held here.
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{"element": el}, Functions: baseFunctions(p.Dir)}
	val, diags := v.SplitNoHosts.Value(ctx)
	if diags.HasErrors() || val.Type() != cty.String || val.IsNull() || !val.IsKnown() {
		return generic
	}
	return val.AsString()
}

// splitOverrides applies h's elements to vars (a copy of the run's), and
// returns where each replaced variable's value was written.
func (p *Playbook) splitOverrides(h *inventory.Host, vars map[string]cty.Value) (map[string]hcl.Range, hcl.Diagnostics) {
	s := p.split(p.inv)
	var diags hcl.Diagnostics
	at := map[string]hcl.Range{}
	for _, pick := range s.picks[h.Name] {
		list := p.Vars[pick.variable]
		el := list.Index(cty.NumberIntVal(int64(pick.index)))
		for _, entry := range p.Variables[pick.variable].SplitOverrides {
			// "name=attr" gives variable name the element's attribute attr.
			name, attr, renamed := strings.Cut(entry, "=")
			if !renamed {
				attr = name
			}
			ev, _ := el.Unmark()
			if !ev.Type().IsObjectType() || !ev.Type().HasAttribute(attr) {
				continue
			}
			val := el.GetAttr(attr)
			if val.IsNull() {
				continue
			}
			target := p.Variables[name]
			if target == nil {
				continue
			}
			r := p.originAt(pick.variable, pick.index, attr)
			cv, err := convertVar(target, val)
			if err != nil {
				diags = append(diags, diag.Errorf(&r, "Invalid value for variable",
					"%s[%d].%s: %s%v (variable %q is declared at %s).", pick.variable, pick.index, attr, attr, err, name, diag.Pos(target.DeclRange)))
				continue
			}
			if target.Sensitive {
				cv = markDeep(cv)
			}
			vars[name], at[name] = cv, r
		}
	}
	return at, diags
}

// originAt is where the user wrote the value of variable name, narrowed to
// the element and attribute that path names (ints index lists, strings
// name attributes) as far as the source allows; the variable's
// declaration when the user did not set it.
func (p *Playbook) originAt(name string, path ...any) hcl.Range {
	r, ok := p.origins[name]
	if !ok {
		if v := p.Variables[name]; v != nil {
			return v.DeclRange
		}
		return hcl.Range{}
	}
	f := p.Files[r.Filename]
	if f == nil {
		return r
	}
	body, ok := f.Body.(*hclsyntax.Body)
	if !ok {
		return r
	}
	a, ok := body.Attributes[name]
	if !ok || a.Expr.Range() != r {
		return r
	}
	expr := hclsyntax.Expression(a.Expr)
	for _, step := range path {
		next := exprStep(expr, step)
		if next == nil {
			break
		}
		expr = next
	}
	return expr.Range()
}

// exprStep is the sub-expression of a literal list or object for one path step.
func exprStep(expr hclsyntax.Expression, step any) hclsyntax.Expression {
	switch x := expr.(type) {
	case *hclsyntax.TupleConsExpr:
		if i, ok := step.(int); ok && i >= 0 && i < len(x.Exprs) {
			return x.Exprs[i]
		}
	case *hclsyntax.ObjectConsExpr:
		name, ok := step.(string)
		if !ok {
			return nil
		}
		for _, item := range x.Items {
			if hcl.ExprAsKeyword(item.KeyExpr) == name {
				return item.ValueExpr
			}
			if k, d := item.KeyExpr.Value(nil); !d.HasErrors() && k.Type() == cty.String && k.IsKnown() && k.AsString() == name {
				return item.ValueExpr
			}
		}
	}
	return nil
}

// describeSplit says, for a message, that a host's value came from an element.
func describeSplit(h *inventory.Host, name string, at hcl.Range) string {
	return fmt.Sprintf("This is host %q's value of var.%s, from its element at %s.", h.Name, name, diag.Pos(at))
}

// hostsMatchingFunc is hosts_matching(pattern): the hosts a step's hosts
// pattern would select, as host objects in inventory order, so a local can
// list the addresses of one split element's hosts.
func hostsMatchingFunc(c *objectCache, inv *inventory.Inventory) function.Function {
	return function.New(&function.Spec{
		Description: "The hosts of the inventory a hosts pattern selects, in inventory order.",
		Params:      []function.Parameter{{Name: "pattern", Type: cty.String}},
		Type:        function.StaticReturnType(cty.DynamicPseudoType),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			hosts, err := inv.Match(args[0].AsString())
			if err != nil {
				return cty.NilVal, err
			}
			list := make([]cty.Value, len(hosts))
			for i, h := range hosts {
				list[i] = c.hostObject(h)
			}
			return cty.TupleVal(list), nil
		},
	})
}
