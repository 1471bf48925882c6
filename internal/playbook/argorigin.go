package playbook

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/diag"
	"github.com/omsrun/omsrun/internal/hclx"
	"github.com/omsrun/omsrun/inventory"
)

// attributeError is a module's complaint about one of its arguments (an
// omsconfig.Problem names the key it is about).
type attributeError interface {
	error
	Attribute() string
}

// elementError is a complaint about one element of a list argument (one
// region of regions): its index and the attribute ("" for the whole
// element), so the diagnostic points at that element in the var file.
type elementError interface {
	error
	Element() (int, string)
}

// splitOrigin is where h's value of variable name was written when an
// element of a split variable gave it.
func (p *Playbook) splitOrigin(h *inventory.Host, name string) (hcl.Range, bool) {
	if h == nil {
		return hcl.Range{}, false
	}
	if hs := p.hostScopeFor(p.cache(), h); hs != nil {
		r, ok := hs.splitAt[name]
		return r, ok
	}
	return hcl.Range{}, false
}

// argErrors turns a module's Validate error into diagnostics. A problem
// with one argument is reported where the user wrote its value — the var
// file, the -e argument — when the argument is a variable they set, with
// the playbook line that uses it as context; otherwise at the argument in
// the playbook; the rest at the module block.
func (p *Playbook) argErrors(st *Step, h *inventory.Host, err error) hcl.Diagnostics {
	var out hcl.Diagnostics
	var rest []error
	for _, e := range splitJoined(err) {
		var ae attributeError
		if errors.As(e, &ae) {
			if d := p.attrError(st, h, ae.Attribute(), e); d != nil {
				out = append(out, d)
				continue
			}
		}
		rest = append(rest, e)
	}
	if len(rest) > 0 {
		out = append(out, diag.Errorf(diag.Ptr(st.ModuleRange), "Invalid module arguments",
			"%s: %v.", st.Module, strings.TrimSuffix(errors.Join(rest...).Error(), ".")))
	}
	return out
}

func splitJoined(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, splitJoined(e)...)
		}
		return out
	}
	return []error{err}
}

func (p *Playbook) attrError(st *Step, h *inventory.Host, name string, e error) *hcl.Diagnostic {
	expr, at := p.argExpr(st, name)
	if expr == nil {
		return nil
	}
	msg := fmt.Sprintf("%s: %s.", st.Module, strings.TrimSuffix(e.Error(), "."))
	subject := expr.Range()
	if name, ok := p.varBehind(expr, 0); ok {
		if r, set := p.splitOrigin(h, name); set {
			subject = r
			msg += " " + describeSplit(h, name, r)
		} else if r, set := p.hostOrigin(h, name); set {
			subject = r
			msg += fmt.Sprintf(" This is host %q's own value of var.%s, set in the inventory, which step %q uses at %s.", h.Name, name, st.Name, diag.Pos(at))
		} else if r, set := p.origins[name]; set {
			subject = r
			var el elementError
			if errors.As(e, &el) {
				i, attr := el.Element()
				subject = p.originAt(name, i, attr)
			}
			msg += fmt.Sprintf(" This is the value given for var.%s, which step %q uses at %s.", name, st.Name, diag.Pos(at))
		} else if v := p.Variables[name]; v != nil && isVarRef(expr) {
			msg += fmt.Sprintf(" It is var.%s's default (declared at %s); set another with -e %s=… or in a var file.", name, diag.Pos(v.DeclRange), name)
		}
	}
	return diag.Errorf(&subject, "Invalid module arguments", "%s", msg)
}

// varBehind names the one variable an argument's value comes from: var.X
// itself, or a local whose expression reads only var.X (such as
// local.cm_nodes, var.cm_nodes or else the inventory's addresses), followed
// through locals. A value made of several variables is named by the one of
// them the user set, if exactly one; otherwise none is.
func (p *Playbook) varBehind(expr hcl.Expression, depth int) (string, bool) {
	if depth > 8 || expr == nil {
		return "", false
	}
	if tr, ok := expr.(*hclsyntax.ScopeTraversalExpr); ok && len(tr.Traversal) == 2 {
		if a, ok := tr.Traversal[1].(hcl.TraverseAttr); ok {
			switch tr.Traversal.RootName() {
			case "var":
				return a.Name, true
			case "local":
				return p.varBehind(p.localExprs[a.Name], depth+1)
			}
		}
		return "", false
	}
	if depth == 0 {
		// Only a local is followed into: an expression written in the step
		// itself is where the user should look.
		return "", false
	}
	var names []string
	for _, tr := range expr.Variables() {
		root := tr.RootName()
		if root == "local" {
			return "", false
		}
		if root != "var" || len(tr) < 2 {
			continue
		}
		a, ok := tr[1].(hcl.TraverseAttr)
		if !ok {
			return "", false
		}
		if !slices.Contains(names, a.Name) {
			names = append(names, a.Name)
		}
	}
	if len(names) > 1 {
		// local.rm_db reads drc_rm_db, else db_prefix: when the user set
		// exactly one of them, that one is where to look.
		names = slices.DeleteFunc(names, func(n string) bool { _, set := p.origins[n]; return !set })
	}
	if len(names) != 1 {
		return "", false
	}
	return names[0], true
}

// isVarRef reports whether expr is var.X itself, whose value is the default
// when the user did not set it.
func isVarRef(expr hcl.Expression) bool {
	tr, ok := expr.(*hclsyntax.ScopeTraversalExpr)
	return ok && tr.Traversal.RootName() == "var"
}

// argExpr finds the expression that gives the step's argument name: in the
// module block, or in the object its `with` names (a local's object), and
// the range of the step's own attribute that leads there.
func (p *Playbook) argExpr(st *Step, name string) (hcl.Expression, hcl.Range) {
	b, ok := st.Body.(*hclsyntax.Body)
	if !ok {
		return nil, hcl.Range{}
	}
	if a, ok := b.Attributes[name]; ok {
		return a.Expr, a.SrcRange
	}
	w, ok := b.Attributes[hclx.WithAttr]
	if !ok {
		return nil, hcl.Range{}
	}
	expr := hcl.Expression(w.Expr)
	if tr, ok := expr.(*hclsyntax.ScopeTraversalExpr); ok && tr.Traversal.RootName() == "local" && len(tr.Traversal) == 2 {
		if a, ok := tr.Traversal[1].(hcl.TraverseAttr); ok && p.localExprs[a.Name] != nil {
			expr = p.localExprs[a.Name]
		}
	}
	obj, ok := expr.(*hclsyntax.ObjectConsExpr)
	if !ok {
		return nil, hcl.Range{}
	}
	for _, item := range obj.Items {
		k, d := item.KeyExpr.Value(nil)
		if kw := hcl.ExprAsKeyword(item.KeyExpr); kw != "" {
			k, d = cty.StringVal(kw), nil
		}
		if !d.HasErrors() && k.Type() == cty.String && k.IsKnown() && !k.IsNull() && k.AsString() == name {
			return item.ValueExpr, w.SrcRange
		}
	}
	return nil, hcl.Range{}
}
