package playbook

import (
	"fmt"
	"maps"
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/omsrun/omsrun/internal/diag"
	"github.com/omsrun/omsrun/internal/secret"
)

var variableSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "type"}, {Name: "default"}, {Name: "description"}, {Name: "sensitive"}, {Name: "nullable"}, {Name: "per_host"},
		{Name: "split_group"}, {Name: "split_overrides"}, {Name: "split_no_hosts"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "validation"}},
}

var validationSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "condition", Required: true},
	{Name: "error_message", Required: true},
}}

// reserved names cannot be variables: they would be confusing in messages
// and some are keywords in expressions.
var reserved = map[string]bool{"var": true, "local": true, "host": true, "hosts": true, "result": true}

func (p *Playbook) declareVariable(blk *hcl.Block) hcl.Diagnostics {
	name := blk.Labels[0]
	var diags hcl.Diagnostics
	if !hclIdent(name) || reserved[name] {
		return append(diags, diag.Errorf(diag.Ptr(blk.LabelRanges[0]), "Invalid variable name",
			"%q cannot be a variable name: use letters, digits and '_', starting with a letter, and none of var, local, host, hosts, result.", name))
	}
	if prev, ok := p.Variables[name]; ok {
		return append(diags, diag.Errorf(diag.Ptr(blk.LabelRanges[0]), "Duplicate variable",
			"Variable %q is already declared at %s; remove one of them.", name, diag.Pos(prev.DeclRange)))
	}
	v := &Variable{Name: name, Type: cty.DynamicPseudoType, Nullable: true, DeclRange: blk.DefRange}
	c, diags := content(blk.Body, variableSchema, "arguments")
	if a, ok := c.Attributes["type"]; ok {
		ty, defs, d := typeexpr.TypeConstraintWithDefaults(a.Expr)
		for _, x := range d {
			x.Detail += " Write a type such as string, number, bool, list(string), map(number) or object({ name = string, port = optional(number, 22) })."
		}
		diags = append(diags, d...)
		if !d.HasErrors() {
			v.Type, v.Defaults = ty, defs
		}
	}
	if a, ok := c.Attributes["description"]; ok {
		s, d := evalString(a.Expr, nil, "description")
		diags = append(diags, d...)
		v.Description = s
	}
	if a, ok := c.Attributes["sensitive"]; ok {
		b, d := evalBool(a.Expr, nil, "sensitive")
		diags = append(diags, d...)
		v.Sensitive = b
	}
	// A name that says secret is enough, as it is for a value given with -e,
	// in a var file or an inventory: without it a validation message quoting
	// the default would print it, while the same value given with -e is masked.
	v.Sensitive = v.Sensitive || secret.IsSecretName(name)
	if a, ok := c.Attributes["per_host"]; ok {
		b, d := evalBool(a.Expr, nil, "per_host")
		diags = append(diags, d...)
		v.PerHost = b
	}
	if a, ok := c.Attributes["split_group"]; ok {
		g, d := evalString(a.Expr, nil, "split_group")
		diags = append(diags, d...)
		v.SplitGroup = g
	}
	if a, ok := c.Attributes["split_overrides"]; ok {
		val, d := evalAs(a.Expr, nil, cty.List(cty.String), "split_overrides", `["cm_url", "cm_location"]`)
		diags = append(diags, d...)
		if !d.HasErrors() && !val.IsNull() {
			for it := val.ElementIterator(); it.Next(); {
				_, e := it.Element()
				v.SplitOverrides = append(v.SplitOverrides, e.AsString())
			}
		}
	}
	if a, ok := c.Attributes["split_no_hosts"]; ok {
		v.SplitNoHosts = a.Expr
	}
	if a, ok := c.Attributes["nullable"]; ok {
		b, d := evalBool(a.Expr, nil, "nullable")
		diags = append(diags, d...)
		v.Nullable = b
	}
	if a, ok := c.Attributes["default"]; ok {
		val, d := a.Expr.Value(nil)
		diags = append(diags, d...)
		if !d.HasErrors() {
			cv, err := convertVar(v, val)
			if err != nil {
				diags = append(diags, diag.Errorf(diag.Ptr(a.Expr.Range()), "Invalid default value for variable",
					"The default does not match the type %s: %s%v. Fix the default or the type.", typeexpr.TypeString(v.Type), name, err))
			} else {
				v.Default = cv
			}
		}
	}
	for _, vb := range c.Blocks {
		vc, d := content(vb.Body, validationSchema, "arguments")
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		v.Validations = append(v.Validations, &Validation{
			Condition:    vc.Attributes["condition"].Expr,
			ErrorMessage: vc.Attributes["error_message"].Expr,
			DeclRange:    vb.DefRange,
		})
	}
	if diags.HasErrors() {
		// The error is reported; a "no value" error on top would only add noise.
		v.Default = cty.DynamicVal
	}
	p.Variables[name] = v
	return diags
}

// convertVar applies optional() defaults then converts to the variable's type.
func convertVar(v *Variable, val cty.Value) (cty.Value, error) {
	if val.IsNull() {
		if !v.Nullable {
			return cty.NilVal, fmt.Errorf(": the variable is not nullable, so null is not allowed")
		}
		return cty.NullVal(v.Type), nil
	}
	if v.Defaults != nil {
		val = v.Defaults.Apply(val)
	}
	out, err := convert.Convert(val, v.Type)
	if err != nil {
		return cty.NilVal, fmt.Errorf("%s", convertMessage(err))
	}
	return out, nil
}

// convertMessage renders a conversion error with where in the value it
// happened: "[0]: a number is required", ".host: …", or just the message.
func convertMessage(err error) string {
	if pe, ok := err.(cty.PathError); ok && len(pe.Path) > 0 {
		return pathString(pe.Path) + ": " + pe.Error()
	}
	return ": " + err.Error()
}

func pathString(path cty.Path) string {
	s := ""
	for _, step := range path {
		switch st := step.(type) {
		case cty.GetAttrStep:
			s += "." + st.Name
		case cty.IndexStep:
			if st.Key.Type() == cty.String {
				s += fmt.Sprintf("[%q]", st.Key.AsString())
			} else if st.Key.Type() == cty.Number {
				s += "[" + st.Key.AsBigFloat().Text('f', -1) + "]"
			}
		}
	}
	return s
}

// resolveVariables gives every variable its final value and runs its validations.
func (p *Playbook) resolveVariables(extra map[string]cty.Value) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, name := range slices.Sorted(maps.Keys(p.Variables)) {
		v := p.Variables[name]
		val, ok := extra[name]
		if !ok {
			if v.Default.Type() == cty.NilType {
				diags = append(diags, diag.Errorf(diag.Ptr(v.DeclRange), "No value for required variable",
					"Variable %q has no default and was not given. Pass it with -e %s=VALUE or in a var file (-e @vars.hcl), or give it a default.", name, name))
				continue
			}
			val = v.Default
		}
		if v.Sensitive {
			val = markDeep(val)
		}
		p.Vars[name] = val
	}
	if diags.HasErrors() {
		return diags
	}
	ctx := p.staticContext()
	for _, name := range slices.Sorted(maps.Keys(p.Variables)) {
		for _, vd := range p.Variables[name].Validations {
			diags = append(diags, p.runValidation(name, vd, ctx)...)
		}
	}
	return diags
}

func (p *Playbook) runValidation(name string, vd *Validation, ctx *hcl.EvalContext) hcl.Diagnostics {
	ok, diags := evalBool(vd.Condition, ctx, "condition")
	if diags.HasErrors() || ok {
		return diags
	}
	msg, d := evalString(vd.ErrorMessage, ctx, "error_message")
	if d.HasErrors() {
		return append(diags, d...)
	}
	// A message built from a sensitive value would print the secret.
	if raw, _ := vd.ErrorMessage.Value(ctx); raw.ContainsMarked() {
		msg = "The value is not valid (the error message is hidden because it uses a sensitive value)."
	}
	return append(diags, diag.Errorf(diag.Ptr(vd.Condition.Range()), "Invalid value for variable",
		"%s\n\nThis was checked by the validation rule of variable %q; give it a value that passes (with -e %s=… or in a var file).", msg, name, name))
}

// markDeep marks a value and every value inside it as sensitive, so that a
// string taken out of a sensitive object is still known to be secret.
func markDeep(v cty.Value) cty.Value {
	v, _ = v.Unmark()
	if !v.IsKnown() || v.IsNull() {
		return v.Mark(secret.Mark)
	}
	ty := v.Type()
	switch {
	case ty.IsObjectType():
		m := map[string]cty.Value{}
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			m[k.AsString()] = markDeep(e)
		}
		return cty.ObjectVal(m).Mark(secret.Mark)
	case ty.IsTupleType():
		var l []cty.Value
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			l = append(l, markDeep(e))
		}
		return cty.TupleVal(l).Mark(secret.Mark)
	case ty.IsListType() || ty.IsSetType() || ty.IsMapType():
		if v.LengthInt() == 0 {
			return v.Mark(secret.Mark)
		}
		var l []cty.Value
		m := map[string]cty.Value{}
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			e = markDeep(e)
			l = append(l, e)
			if ty.IsMapType() {
				m[k.AsString()] = e
			}
		}
		switch {
		case ty.IsListType():
			return cty.ListVal(l).Mark(secret.Mark)
		case ty.IsSetType():
			return cty.SetVal(l).Mark(secret.Mark)
		default:
			return cty.MapVal(m).Mark(secret.Mark)
		}
	}
	return v.Mark(secret.Mark)
}
