package playbook

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/diag"
	"github.com/omsrun/omsrun/internal/hclx"
	"github.com/omsrun/omsrun/inventory"
)

// DecodeStep decodes the step's module block into args (a pointer to the
// module's argument struct) for the scope's host. Marks are stripped (the
// argument structs hold plain Go values); onMarked, if not nil, sees every
// sensitive value first so it can be registered for redaction.
func DecodeStep(p *Playbook, st *Step, s Scope, args any, onMarked func(cty.Value)) hcl.Diagnostics {
	diags := dropEchoes(hclx.Decode(st.Body, p.evalContext(s, st.bodySteps), args, onMarked))
	if t := reflect.TypeOf(args); t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return diags
	}
	if !diags.HasErrors() {
		// The schema only names the arguments in a hint: no need to build it per host.
		return diags
	}
	schema, _ := gohcl.ImpliedBodySchema(args)
	var names []string
	for _, a := range schema.Attributes {
		names = append(names, a.Name)
	}
	for _, b := range schema.Blocks {
		names = append(names, b.Type)
	}
	diag.ExplainUnsupported(diags, st.Body, names, "arguments of "+st.Module)
	return diags
}

// dropEchoes removes the "value must be known" errors the decoder adds
// after an expression failed: they point at the same attribute and say
// less. (Their range is only the expression's first token, so they cannot
// be matched to the failure by position.)
func dropEchoes(diags hcl.Diagnostics) hcl.Diagnostics {
	other := false
	for _, d := range diags {
		if d.Severity == hcl.DiagError && !isEcho(d) {
			other = true
		}
	}
	if !other {
		return diags
	}
	var out hcl.Diagnostics
	for _, d := range diags {
		if !isEcho(d) {
			out = append(out, d)
		}
	}
	return out
}

// splitUnknown drops the "value must be known" errors and says whether there were any.
func splitUnknown(diags hcl.Diagnostics) (hcl.Diagnostics, bool) {
	var out hcl.Diagnostics
	unknown := false
	for _, d := range diags {
		if isEcho(d) {
			unknown = true
			continue
		}
		out = append(out, d)
	}
	return out, unknown
}

// isEcho: the decoder's "value must be known" error, told by its type.
func isEcho(d *hcl.Diagnostic) bool { return hclx.IsUnknownValue(d) }

// sentence ends s with a full stop unless it already ends a sentence.
func sentence(s string) string {
	if strings.HasSuffix(s, ".") || strings.HasSuffix(s, "?") || strings.HasSuffix(s, "!") {
		return s
	}
	return s + "."
}

// EvalWhen evaluates the step's `when` for the scope's host; a step without
// one always runs. A value that is not a known bool is an error.
func EvalWhen(p *Playbook, st *Step, s Scope, onMarked func(cty.Value)) (bool, hcl.Diagnostics) {
	if st.When == nil {
		return true, nil
	}
	v, diags := hclx.Value(st.When, p.evalContext(s, st.whenSteps), onMarked)
	if diags.HasErrors() {
		return false, diags
	}
	if !v.IsWhollyKnown() {
		// Only before the run (validate), where earlier steps' outputs are
		// unknown: check the module block as if the step ran.
		return true, diags
	}
	if v.IsNull() || !v.IsKnown() || v.Type() != cty.Bool {
		got := "null"
		if !v.IsNull() {
			got = v.Type().FriendlyName()
		}
		return false, append(diags, diag.Errorf(diag.Ptr(st.When.Range()), "Invalid when",
			"when must be true or false for each host; here it is %s. Compare explicitly, as in host.vars.role == \"primary\".", got))
	}
	return v.True(), diags
}

// Validate runs every static check that needs the inventory and the
// modules' schemas, before any connection: each step's host pattern must
// match, and for every host it matches `when` is evaluated (changed() is
// false) and, when true, the module block is decoded with newArgs' struct
// and checked by validateArgs (nil skips it). Problems that repeat across
// hosts are reported once, naming the hosts.
func Validate(p *Playbook, inv *inventory.Inventory, newArgs func(module string) (any, bool), validateArgs func(module string, args any) error) hcl.Diagnostics {
	out := p.HostValueDiags(inv)
	for _, st := range p.Steps {
		col := &collector{}
		pattern := st.Hosts
		if pattern == "" {
			pattern = "all"
		}
		hosts, err := inv.Match(pattern)
		if err != nil {
			out = append(out, diag.Errorf(diag.Ptr(st.HostsRange), "Invalid hosts pattern",
				"Step %q: %s Fix the pattern or the inventory.", st.Name, sentence(err.Error())))
			continue
		}
		if len(hosts) == 0 {
			out = append(out, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Step matches no hosts",
				Detail:  fmt.Sprintf("Step %q selects no host of the inventory with %q, so it will never run.", st.Name, pattern),
				Subject: diag.Ptr(st.HostsRange)})
		}
		if _, ok := newArgs(st.Module); !ok {
			out = append(out, diag.Errorf(diag.Ptr(st.ModuleRange), "Unknown module",
				"There is no module named %q. Run `omsrun modules` for the list.", st.Module))
			continue
		}
		for _, h := range hosts {
			s := Scope{Host: h, Inv: inv}
			run, diags := EvalWhen(p, st, s, nil)
			col.add(h.Name, diags)
			if diags.HasErrors() {
				continue
			}
			if !run {
				// A step gated on changed() must still be checked: try the
				// condition again as if every earlier step had changed the host.
				s.Changed = func(string) bool { return true }
				run, _ = EvalWhen(p, st, s, nil)
				s.Changed = nil
			}
			if !run {
				continue
			}
			args, _ := newArgs(st.Module)
			diags = DecodeStep(p, st, s, args, nil)
			// Values built on earlier steps' outputs (steps[…]) are unknown
			// until the run; such an argument cannot be checked yet, nor can
			// the module's own rules on a half-decoded block.
			known, unknown := splitUnknown(diags)
			col.add(h.Name, known)
			if known.HasErrors() || unknown || validateArgs == nil {
				continue
			}
			if err := validateArgs(st.Module, args); err != nil {
				col.add(h.Name, p.argErrors(st, h, err))
			}
		}
		out = append(out, col.diags(len(hosts))...)
	}
	scrubDiags(out, p.redactor(inv))
	return out
}

// collector merges identical diagnostics raised for several hosts.
type collector struct {
	order []string
	seen  map[string]*hcl.Diagnostic
	hosts map[string][]string
}

func (c *collector) add(host string, diags hcl.Diagnostics) {
	if c.seen == nil {
		c.seen, c.hosts = map[string]*hcl.Diagnostic{}, map[string][]string{}
	}
	for _, d := range diags {
		key := fmt.Sprint(d.Severity, d.Summary, d.Detail, d.Subject)
		if _, ok := c.seen[key]; !ok {
			c.order = append(c.order, key)
			c.seen[key] = d
		}
		c.hosts[key] = append(c.hosts[key], host)
	}
}

func (c *collector) diags(total int) hcl.Diagnostics {
	var out hcl.Diagnostics
	for _, k := range c.order {
		d := *c.seen[k]
		hs := c.hosts[k]
		switch {
		case total > 1 && len(hs) == total:
			d.Detail += " (on every host of the step)"
		case len(hs) == 1:
			d.Detail += fmt.Sprintf(" (on host %s)", hs[0])
		default:
			d.Detail += fmt.Sprintf(" (on hosts %s)", strings.Join(hs, ", "))
		}
		out = append(out, &d)
	}
	return out
}

// checkReferences finds references to names that can never exist (an
// undeclared variable, a typo in host) at load time, so they are reported
// even for steps whose hosts are not in this inventory.
func (p *Playbook) checkReferences() hcl.Diagnostics {
	var diags hcl.Diagnostics
	for i, st := range p.Steps {
		diags = append(diags, p.checkStepRefs(i)...)
		roots := []string{"var", "local", "host", "hosts", "steps"}
		if st.When != nil {
			diags = append(diags, p.checkExpr(st.When, roots)...)
		}
		if st.Until != nil {
			diags = append(diags, p.checkExpr(st.Until, append(roots, "result"))...)
		}
		if b, ok := st.Body.(*hclsyntax.Body); ok {
			diags = append(diags, p.checkBody(b, roots)...)
		}
	}
	return diags
}

func (p *Playbook) checkBody(b *hclsyntax.Body, roots []string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, name := range slices.Sorted(maps.Keys(b.Attributes)) {
		diags = append(diags, p.checkExpr(b.Attributes[name].Expr, roots)...)
	}
	for _, blk := range b.Blocks {
		diags = append(diags, p.checkBody(blk.Body, roots)...)
	}
	return diags
}

func (p *Playbook) checkExpr(expr hcl.Expression, roots []string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, tr := range expr.Variables() {
		root := tr.RootName()
		r := tr.SourceRange()
		switch {
		case !contains(roots, root):
			diags = append(diags, diag.Errorf(&r, "Unknown name",
				"There is nothing named %q here. %s", root, diag.Hint(root, roots, "names")))
		case root == "var":
			if n := attrName(tr); n != "" && p.Variables[n] == nil {
				diags = append(diags, diag.Errorf(&r, "Undeclared variable",
					"No variable %q is declared. Declare it with variable %q { … } or fix the name. %s",
					n, n, diag.Hint(n, slices.Sorted(maps.Keys(p.Variables)), "variables")))
			}
		case root == "local":
			if n := attrName(tr); n != "" {
				if _, ok := p.Locals[n]; !ok {
					diags = append(diags, diag.Errorf(&r, "Undeclared local",
						"No local %q is defined. Define it in a locals { … } block or fix the name. %s",
						n, diag.Hint(n, slices.Sorted(maps.Keys(p.Locals)), "locals")))
				}
			}
		}
	}
	sort.SliceStable(diags, func(i, j int) bool { return diags[i].Subject.Start.Byte < diags[j].Subject.Start.Byte })
	return diags
}
