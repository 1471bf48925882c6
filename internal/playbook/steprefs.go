package playbook

import (
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/diag"
)

// checkStepRefs checks every steps["name"] (or steps.name) of step i: the
// name must be a step that runs before it, since only earlier steps have
// outputs. A typo in a step name is the likeliest mistake in a playbook
// that reads earlier results, and would otherwise fail only at run time.
func (p *Playbook) checkStepRefs(i int) hcl.Diagnostics {
	st := p.Steps[i]
	var earlier, all []string
	for j, s := range p.Steps {
		all = append(all, s.Name)
		if j < i {
			earlier = append(earlier, s.Name)
		}
	}
	var exprs []hcl.Expression
	for _, e := range []hcl.Expression{st.When, st.Until} {
		if e != nil {
			exprs = append(exprs, e)
		}
	}
	if b, ok := st.Body.(*hclsyntax.Body); ok {
		var walk func(b *hclsyntax.Body)
		walk = func(b *hclsyntax.Body) {
			for _, a := range b.Attributes {
				exprs = append(exprs, a.Expr)
			}
			for _, blk := range b.Blocks {
				walk(blk.Body)
			}
		}
		walk(b)
	}
	var diags hcl.Diagnostics
	for _, e := range exprs {
		for _, tr := range e.Variables() {
			name, r, ok := stepRefName(tr)
			if !ok || slices.Contains(earlier, name) {
				continue
			}
			switch {
			case name == st.Name:
				diags = append(diags, diag.Errorf(&r, "Step reads its own outputs",
					"Step %q reads steps[%q], its own outputs, which do not exist while it runs. Read an earlier step's, or use result in until.", st.Name, name))
			case slices.Contains(all, name):
				diags = append(diags, diag.Errorf(&r, "Step runs later",
					"Step %q reads steps[%q], but that step runs after it, so it has no outputs yet. Move %q before %q.", st.Name, name, name, st.Name))
			default:
				diags = append(diags, diag.Errorf(&r, "Unknown step",
					"Step %q reads steps[%q], but no step has that name. %s", st.Name, name, diag.Hint(name, earlier, "earlier steps")))
			}
		}
	}
	slices.SortStableFunc(diags, func(a, b *hcl.Diagnostic) int { return a.Subject.Start.Byte - b.Subject.Start.Byte })
	return diags
}

// stepRefName is the step a traversal names (steps["x"] or steps.x) and the
// range of that name; ok is false for steps read otherwise (steps[var.x]).
func stepRefName(tr hcl.Traversal) (string, hcl.Range, bool) {
	if tr.RootName() != "steps" || len(tr) < 2 {
		return "", hcl.Range{}, false
	}
	switch t := tr[1].(type) {
	case hcl.TraverseAttr:
		return t.Name, t.SrcRange, true
	case hcl.TraverseIndex:
		if t.Key.IsKnown() && !t.Key.IsNull() && t.Key.Type() == cty.String {
			return t.Key.AsString(), t.SrcRange, true
		}
	}
	return "", hcl.Range{}, false
}

// ReadsStep reports whether the step's when or its module's arguments read
// the named step's outputs (steps["name"]); a step built by hand, whose
// references were never collected, reads every step.
func (st *Step) ReadsStep(name string) bool {
	if st.When != nil && st.whenSteps.has(name) {
		return true
	}
	return st.bodySteps.has(name)
}
