package playbook

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/diag"
)

// stepAttrs are the options the engine owns; everything else in a step is
// its one module block.
var stepAttrs = []string{"hosts", "when", "serial", "run_once", "timeout", "retries", "delay", "until", "ignore_errors", "check_mode", "confirm"}

func (p *Playbook) decodeStep(blk *hcl.Block, modules []string) (*Step, hcl.Diagnostics) {
	st := &Step{Name: blk.Labels[0], DeclRange: blk.DefRange, HostsRange: blk.DefRange}
	var diags hcl.Diagnostics
	if strings.TrimSpace(st.Name) == "" {
		diags = append(diags, diag.Errorf(diag.Ptr(blk.LabelRanges[0]), "Empty step name",
			"Give the step a name that says what it does, such as step \"install docker\" { … }."))
	}
	body, ok := blk.Body.(*hclsyntax.Body)
	if !ok {
		return nil, append(diags, diag.Errorf(diag.Ptr(blk.DefRange), "Unsupported step syntax",
			"Steps must be written in HCL native syntax."))
	}
	ctx := p.staticContext()
	for _, name := range slices.Sorted(maps.Keys(body.Attributes)) {
		diags = append(diags, st.option(name, body.Attributes[name], ctx, modules)...)
	}
	diags = append(diags, st.moduleBlock(blk, body, modules)...)
	return st, diags
}

// option decodes one of the step options core owns (hosts, when, serial, …);
// any other attribute is an error, with a hint when it names a module.
func (st *Step) option(name string, a *hclsyntax.Attribute, ctx *hcl.EvalContext, modules []string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	expr := a.Expr
	switch name {
	case "hosts":
		st.HostsRange = expr.Range()
		st.Hosts, diags = hostsAttr(expr, ctx, diags)
	case "when":
		st.When = expr
		st.whenSteps = exprStepRefs(expr)
	case "until":
		st.Until = expr
	case "serial":
		s, d := serialAttr(expr, ctx)
		diags = append(diags, d...)
		st.Serial = s
	case "run_once":
		b, d := evalBool(expr, ctx, name)
		diags = append(diags, d...)
		st.RunOnce = b
	case "ignore_errors":
		b, d := evalBool(expr, ctx, name)
		diags = append(diags, d...)
		st.IgnoreErrors = b
	case "confirm":
		text, d := evalString(expr, ctx, name)
		diags = append(diags, d...)
		st.Confirm = text
	case "check_mode":
		b, d := evalBool(expr, ctx, name)
		diags = append(diags, d...)
		st.CheckMode = b
	case "timeout", "delay":
		dur, d := durationAttr(expr, ctx, name)
		diags = append(diags, d...)
		if name == "timeout" {
			st.Timeout = dur
		} else {
			st.Delay = dur
		}
	case "retries":
		n, d := evalInt(expr, ctx, name)
		diags = append(diags, d...)
		if !d.HasErrors() && (n < 0 || n > 1000) {
			diags = append(diags, diag.Errorf(diag.Ptr(expr.Range()), "Invalid retries",
				"retries is how many more times to try after a failure, from 0 to 1000; got %d.", n))
		}
		st.Retries = n
	default:
		hint := diag.Hint(name, stepAttrs, "step options")
		if contains(modules, name) {
			hint = fmt.Sprintf("%q is a module: write it as a block, %s { … }.", name, name)
		}
		diags = append(diags, diag.Errorf(diag.Ptr(a.NameRange), "Unsupported argument",
			"An argument named %q is not expected in a step. %s", name, hint))
	}
	return diags
}

// moduleBlock takes the step's one module block, whose body is decoded per
// host later against the module's own schema.
func (st *Step) moduleBlock(blk *hcl.Block, body *hclsyntax.Body, modules []string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	switch len(body.Blocks) {
	case 0:
		diags = append(diags, diag.Errorf(diag.Ptr(blk.DefRange), "Missing module block",
			"Step %q says nothing to do: add exactly one module block, such as shell { cmd = \"…\" }. %s",
			st.Name, diag.List(modules, "modules")))
	case 1:
	default:
		second := body.Blocks[1]
		diags = append(diags, diag.Errorf(diag.Ptr(second.DefRange()), "More than one module block",
			"A step runs exactly one module, and this step already has a %q block at %s. Split it into two steps.",
			body.Blocks[0].Type, diag.Pos(body.Blocks[0].DefRange())))
	}
	if len(body.Blocks) > 0 {
		mb := body.Blocks[0]
		st.Module, st.ModuleRange, st.Body = mb.Type, mb.TypeRange, mb.Body
		st.bodySteps = bodyStepRefs(mb.Body)
		if len(mb.Labels) > 0 {
			diags = append(diags, diag.Errorf(diag.Ptr(mb.LabelRanges[0]), "Unexpected module label",
				"A module block takes no label: write %s { … }, and name the step instead.", mb.Type))
		}
		if modules != nil && !contains(modules, mb.Type) {
			diags = append(diags, diag.Errorf(diag.Ptr(mb.TypeRange), "Unknown module",
				"There is no module named %q. %s Run `omsrun modules` for the list.", mb.Type, diag.Hint(mb.Type, modules, "modules")))
		}
	}
	return diags
}

// hostsAttr accepts a pattern string or a list of patterns (joined with ",").
func hostsAttr(expr hcl.Expression, ctx *hcl.EvalContext, diags hcl.Diagnostics) (string, hcl.Diagnostics) {
	v, d := expr.Value(ctx)
	diags = append(diags, d...)
	if d.HasErrors() {
		return "", diags
	}
	v, _ = v.UnmarkDeep()
	if v.IsNull() || !v.IsWhollyKnown() {
		return "", append(diags, diag.Errorf(diag.Ptr(expr.Range()), "Invalid hosts",
			"hosts must be a host pattern such as \"oms\" or \"oms,!oms3\", or a list of them."))
	}
	if v.Type() == cty.String {
		return v.AsString(), diags
	}
	if v.Type().IsListType() || v.Type().IsTupleType() || v.Type().IsSetType() {
		var parts []string
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			if e.IsNull() || e.Type() != cty.String {
				return "", append(diags, diag.Errorf(diag.Ptr(expr.Range()), "Invalid hosts",
					"Every element of hosts must be a pattern string."))
			}
			parts = append(parts, e.AsString())
		}
		return strings.Join(parts, ","), diags
	}
	return "", append(diags, diag.Errorf(diag.Ptr(expr.Range()), "Invalid hosts",
		"hosts must be a host pattern such as \"oms\", or a list of them; got %s.", v.Type().FriendlyName()))
}

// serialAttr accepts a batch size (3 or "3") or a share of the hosts ("30%").
func serialAttr(expr hcl.Expression, ctx *hcl.EvalContext) (Serial, hcl.Diagnostics) {
	s, diags := evalString(expr, ctx, "serial")
	if diags.HasErrors() {
		return Serial{}, diags
	}
	v, err := ParseSerial(s)
	if err != nil {
		msg := err.Error()
		return Serial{}, append(diags, diag.Errorf(diag.Ptr(expr.Range()), "Invalid serial", "%s.", strings.ToUpper(msg[:1])+msg[1:]))
	}
	return v, diags
}

// durationAttr accepts Go durations ("30s", "5m", "1h30m") or seconds as a number.
func durationAttr(expr hcl.Expression, ctx *hcl.EvalContext, name string) (time.Duration, hcl.Diagnostics) {
	v, diags := expr.Value(ctx)
	if diags.HasErrors() {
		return 0, diags
	}
	v, _ = v.UnmarkDeep()
	bad := func(got string) (time.Duration, hcl.Diagnostics) {
		return 0, append(diags, diag.Errorf(diag.Ptr(expr.Range()), "Invalid "+name,
			"%s is a duration such as \"30s\", \"5m\" or \"1h30m\" (or a number of seconds); got %s.", name, got))
	}
	if v.IsNull() || !v.IsKnown() {
		return bad("no value")
	}
	switch v.Type() {
	case cty.Number:
		f, _ := v.AsBigFloat().Float64()
		if f < 0 {
			return bad(v.AsBigFloat().Text('f', -1))
		}
		return time.Duration(f * float64(time.Second)), diags
	case cty.String:
		d, err := time.ParseDuration(v.AsString())
		if err != nil || d < 0 {
			return bad(fmt.Sprintf("%q", v.AsString()))
		}
		return d, diags
	}
	return bad(v.Type().FriendlyName())
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
