package playbook

import (
	"math/big"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/omsrun/omsrun/internal/diag"
)

// evalAs evaluates expr and converts it to ty; null and unknown are errors
// because every option decoded here needs a real value now.
func evalAs(expr hcl.Expression, ctx *hcl.EvalContext, ty cty.Type, name, example string) (cty.Value, hcl.Diagnostics) {
	v, diags := expr.Value(ctx)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	v, _ = v.UnmarkDeep()
	if v.IsNull() || !v.IsWhollyKnown() {
		return cty.NilVal, append(diags, diag.Errorf(diag.Ptr(expr.Range()), "Invalid "+name,
			"%s must have a value here, such as %s.", name, example))
	}
	out, err := convert.Convert(v, ty)
	if err != nil {
		return cty.NilVal, append(diags, diag.Errorf(diag.Ptr(expr.Range()), "Invalid "+name,
			"%s must be a %s, such as %s; got %s.", name, ty.FriendlyName(), example, v.Type().FriendlyName()))
	}
	return out, diags
}

func evalString(expr hcl.Expression, ctx *hcl.EvalContext, name string) (string, hcl.Diagnostics) {
	v, diags := evalAs(expr, ctx, cty.String, name, `"text"`)
	if diags.HasErrors() {
		return "", diags
	}
	return v.AsString(), diags
}

func evalBool(expr hcl.Expression, ctx *hcl.EvalContext, name string) (bool, hcl.Diagnostics) {
	v, diags := evalAs(expr, ctx, cty.Bool, name, "true or false")
	if diags.HasErrors() {
		return false, diags
	}
	return v.True(), diags
}

func evalInt(expr hcl.Expression, ctx *hcl.EvalContext, name string) (int, hcl.Diagnostics) {
	v, diags := evalAs(expr, ctx, cty.Number, name, "3")
	if diags.HasErrors() {
		return 0, diags
	}
	bf := v.AsBigFloat()
	n, acc := bf.Int64()
	if !bf.IsInt() || acc != big.Exact || n > 1<<31 || n < -(1<<31) {
		return 0, append(diags, diag.Errorf(diag.Ptr(expr.Range()), "Invalid "+name,
			"%s must be a whole number; got %s.", name, bf.Text('f', -1)))
	}
	return int(n), diags
}

func hclIdent(s string) bool { return hclsyntax.ValidIdentifier(s) }
