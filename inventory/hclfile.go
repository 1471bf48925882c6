package inventory

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"maps"
	"slices"

	"github.com/omsrun/omsrun/internal/diag"
)

var fileSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
	{Type: "defaults"},
	{Type: "group", LabelNames: []string{"name"}},
	{Type: "host", LabelNames: []string{"name"}},
}}

var groupSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "vars"}, {Name: "children"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "host", LabelNames: []string{"name"}}},
}

// hostSchema is the connection settings plus vars; defaults takes the same
// attributes except address, which only makes sense per host.
var hostSchema = func() *hcl.BodySchema {
	s := &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "vars"}}}
	for _, k := range connKeys {
		s.Attributes = append(s.Attributes, hcl.AttributeSchema{Name: k})
	}
	return s
}()

var defaultsSchema = func() *hcl.BodySchema {
	s := &hcl.BodySchema{}
	for _, a := range hostSchema.Attributes {
		if a.Name != "address" {
			s.Attributes = append(s.Attributes, a)
		}
	}
	return s
}()

func (b *builder) loadHCL(path string, src []byte) {
	f, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	b.diags = append(b.diags, diags...)
	if diags.HasErrors() {
		return
	}
	b.files[path] = f
	content, diags := f.Body.Content(fileSchema)
	b.diags = append(b.diags, diags...)
	for _, blk := range content.Blocks {
		switch blk.Type {
		case "defaults":
			if b.defRange != nil {
				b.diags = append(b.diags, diag.Errorf(diag.Ptr(blk.DefRange), "Duplicate defaults block",
					"A defaults block is already declared at %s; merge the two into one.", diag.Pos(*b.defRange)))
				continue
			}
			b.defRange = diag.Ptr(blk.DefRange)
			c, diags := blk.Body.Content(defaultsSchema)
			b.diags = append(b.diags, diags...)
			conn, vars := b.hostAttrs(c.Attributes)
			b.defaults, b.defVars = conn, vars
		case "group":
			b.hclGroup(blk)
		case "host":
			b.hclHost(blk, "")
		}
	}
}

func (b *builder) hclGroup(blk *hcl.Block) {
	name := blk.Labels[0]
	if !validName(name) {
		b.diags = append(b.diags, diag.Errorf(diag.Ptr(blk.LabelRanges[0]), "Invalid group name",
			"Group name %q may hold only letters, digits, '_' and '-'; rename it.", name))
		return
	}
	g := b.group(name, blk.DefRange, false)
	if g.hclBlock {
		b.diags = append(b.diags, diag.Errorf(diag.Ptr(blk.DefRange), "Duplicate group",
			"Group %q is already declared at %s; merge the two blocks into one.", name, diag.Pos(g.group.DeclRange)))
		return
	}
	b.group(name, blk.DefRange, true)
	g.hclBlock = true
	c, diags := blk.Body.Content(groupSchema)
	b.diags = append(b.diags, diags...)
	if a, ok := c.Attributes["vars"]; ok {
		for k, s := range b.varsAttr(a) {
			g.vars[k] = s
		}
	}
	if a, ok := c.Attributes["children"]; ok {
		b.childrenAttr(g, a)
	}
	for _, hb := range c.Blocks {
		b.hclHost(hb, name)
	}
}

func (b *builder) childrenAttr(g *groupDecl, a *hcl.Attribute) {
	exprs, diags := hcl.ExprList(a.Expr)
	if diags.HasErrors() {
		b.diags = append(b.diags, diag.Errorf(diag.Ptr(a.Expr.Range()), "Invalid children",
			"children must be a list of group names, such as [\"web\", \"db\"]."))
		return
	}
	for _, e := range exprs {
		v, diags := e.Value(nil)
		b.diags = append(b.diags, diags...)
		if diags.HasErrors() {
			continue
		}
		if v.IsNull() || v.Type() != cty.String {
			b.diags = append(b.diags, diag.Errorf(diag.Ptr(e.Range()), "Invalid child group",
				"Each child must be a group name in quotes, such as \"web\"."))
			continue
		}
		g.children[v.AsString()] = e.Range()
	}
}

func (b *builder) hclHost(blk *hcl.Block, group string) {
	if name := blk.Labels[0]; !validName(name) && !validAddr(name) {
		b.diags = append(b.diags, diag.Errorf(diag.Ptr(blk.LabelRanges[0]), "Invalid host name",
			"%q is not a valid host name: use letters, digits, '_', '.' and '-', and put the address in address = \"…\".", name))
		return
	}
	c, diags := blk.Body.Content(hostSchema)
	b.diags = append(b.diags, diags...)
	conn, vars := b.hostAttrs(c.Attributes)
	b.addHost(blk.Labels[0], blk.DefRange, group, conn, vars)
}

// hostAttrs evaluates connection attributes and vars. No variables or
// functions are in scope: an inventory is data.
func (b *builder) hostAttrs(attrs hcl.Attributes) (conn, vars map[string]setting) {
	conn, vars = map[string]setting{}, map[string]setting{}
	for _, name := range slices.Sorted(maps.Keys(attrs)) {
		a := attrs[name]
		if name == "vars" {
			vars = b.varsAttr(a)
			continue
		}
		v, diags := a.Expr.Value(nil)
		b.diags = append(b.diags, plainData(a.Expr, diags)...)
		if diags.HasErrors() {
			continue
		}
		if !v.IsWhollyKnown() || !v.Type().IsPrimitiveType() {
			b.diags = append(b.diags, diag.Errorf(diag.Ptr(a.Expr.Range()), "Invalid "+name,
				"%s must be a single value (a string, number or bool), not %s.", name, v.Type().FriendlyName()))
			continue
		}
		conn[name] = setting{val: v, rng: a.Expr.Range()}
	}
	return conn, vars
}

func (b *builder) varsAttr(a *hcl.Attribute) map[string]setting {
	out := map[string]setting{}
	// An object constructor gives each variable its own range for messages.
	if oc, ok := a.Expr.(*hclsyntax.ObjectConsExpr); ok {
		for _, item := range oc.Items {
			k, diags := item.KeyExpr.Value(nil)
			b.diags = append(b.diags, diags...)
			if diags.HasErrors() {
				continue
			}
			if k.IsNull() || k.Type() != cty.String {
				b.diags = append(b.diags, diag.Errorf(diag.Ptr(item.KeyExpr.Range()), "Invalid variable name",
					"A variable name must be a string."))
				continue
			}
			v, diags := item.ValueExpr.Value(nil)
			b.diags = append(b.diags, plainData(item.ValueExpr, diags)...)
			if !diags.HasErrors() {
				out[k.AsString()] = setting{val: v, rng: item.ValueExpr.Range()}
			}
		}
		return out
	}
	v, diags := a.Expr.Value(nil)
	b.diags = append(b.diags, plainData(a.Expr, diags)...)
	if diags.HasErrors() {
		return out
	}
	if v.IsNull() || !(v.Type().IsObjectType() || v.Type().IsMapType()) {
		b.diags = append(b.diags, diag.Errorf(diag.Ptr(a.Expr.Range()), "Invalid vars",
			"vars must be an object, such as { oms_port = 8088 }."))
		return out
	}
	for it := v.ElementIterator(); it.Next(); {
		k, ev := it.Element()
		out[k.AsString()] = setting{val: ev, rng: a.Expr.Range()}
	}
	return out
}

// plainData explains the errors of evaluating expr when it refers to
// variables or calls functions: there are none in an inventory. It looks at
// the expression itself, not at the wording of HCL's messages.
func plainData(expr hcl.Expression, diags hcl.Diagnostics) hcl.Diagnostics {
	if !diags.HasErrors() || (len(expr.Variables()) == 0 && !callsFunction(expr)) {
		return diags
	}
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			d.Detail += " An inventory is plain data: write the value itself, or use a playbook variable in the step instead."
		}
	}
	return diags
}

func callsFunction(expr hcl.Expression) bool {
	e, ok := expr.(hclsyntax.Expression)
	if !ok {
		return false
	}
	found := false
	hclsyntax.VisitAll(e, func(n hclsyntax.Node) hcl.Diagnostics {
		if _, ok := n.(*hclsyntax.FunctionCallExpr); ok {
			found = true
		}
		return nil
	})
	return found
}
