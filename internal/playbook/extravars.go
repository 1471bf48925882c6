package playbook

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	hcljson "github.com/hashicorp/hcl/v2/json"
	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/diag"
	"github.com/omsrun/omsrun/internal/secret"
)

// ParseExtraVars turns -e arguments into variable values converted to each
// variable's declared type. "name=value" takes the text as is for a string
// (or untyped) variable and parses it as an HCL expression otherwise
// (-e 'ports=[80, 443]'); "@file" reads HCL attributes like a tfvars file,
// JSON when the name ends in .json, or YAML (Ansible's vars files) when it
// ends in .yml or .yaml or starts as YAML does. A later argument wins. Naming a
// variable that is not declared is an error, so a typo is never ignored.
// files holds the sources read (real and synthetic "-e #N" ones), for
// rendering the diagnostics with snippets.
func ParseExtraVars(args []string, vars map[string]*Variable) (values map[string]cty.Value, files map[string]*hcl.File, diags hcl.Diagnostics) {
	values, files, _, _, diags = parseExtraVars(args, vars)
	return values, files, diags
}

// parseExtraVars is ParseExtraVars that also says where each value was
// written, and which came from -e name=value (cmdline) rather than a file.
func parseExtraVars(args []string, vars map[string]*Variable) (values map[string]cty.Value, files map[string]*hcl.File, origins map[string]hcl.Range, cmdline map[string]bool, diags hcl.Diagnostics) {
	values, files, origins, cmdline = map[string]cty.Value{}, map[string]*hcl.File{}, map[string]hcl.Range{}, map[string]bool{}
	for i, arg := range args {
		if path, ok := strings.CutPrefix(arg, "@"); ok {
			before := maps.Clone(origins)
			diags = append(diags, varFile(path, vars, values, files, origins)...)
			for k, r := range origins {
				if b, ok := before[k]; !ok || b != r {
					cmdline[k] = false // a later file wins over an earlier -e k=v
				}
			}
			continue
		}
		name := fmt.Sprintf("-e #%d", i+1)
		files[name] = &hcl.File{Bytes: []byte(arg)}
		whole := lineRange(name, 0, len(arg))
		k, text, ok := strings.Cut(arg, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			diags = append(diags, diag.Errorf(whole, "Invalid extra variable",
				"-e %q must be name=value or @file (a file of name = value lines, or JSON).", arg))
			continue
		}
		v, known := vars[k]
		if !known {
			d := unknownVar(lineRange(name, 0, len(k)), k, vars)
			d.Detail = fmt.Sprintf("In -e %s: %s", shownArg(arg), d.Detail)
			diags = append(diags, d)
			continue
		}
		valRange := lineRange(name, len(arg)-len(text), len(arg))
		var val cty.Value
		// Primitive types convert from text ("3", "true"); only collections
		// and objects need the HCL syntax.
		if v.Type.IsPrimitiveType() || v.Type == cty.DynamicPseudoType {
			val = cty.StringVal(text)
		} else {
			if d := diag.CheckNesting(name, []byte(arg)); d.HasErrors() {
				diags = append(diags, d...)
				continue
			}
			expr, d := hclsyntax.ParseExpression([]byte(text), name, valRange.Start)
			if d.HasErrors() {
				diags = append(diags, hintType(d, shownArg(arg), v)...)
				continue
			}
			val, d = expr.Value(nil)
			if d.HasErrors() {
				diags = append(diags, hintType(d, shownArg(arg), v)...)
				continue
			}
		}
		cv, err := convertVar(v, val)
		if err != nil {
			diags = append(diags, diag.Errorf(valRange, "Invalid value for variable",
				"-e %s: %s%v. Variable %q is declared at %s with type %s.", shownArg(arg), k, err, k, diag.Pos(v.DeclRange), typeexpr.TypeString(v.Type)))
			continue
		}
		values[k] = cv
		origins[k] = *valRange
		cmdline[k] = true
	}
	return values, files, origins, cmdline, diags
}

func varFile(path string, vars map[string]*Variable, values map[string]cty.Value, files map[string]*hcl.File, origins map[string]hcl.Range) hcl.Diagnostics {
	src, diags := diag.ReadFile(path)
	if diags.HasErrors() {
		return diags
	}
	if looksYAML(path, src) {
		return yamlVarFile(path, src, vars, values, files, origins)
	}
	var f *hcl.File
	if strings.HasSuffix(strings.ToLower(path), ".json") {
		f, diags = hcljson.Parse(src, path)
	} else {
		f, diags = hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	}
	if f != nil {
		files[path] = f
	}
	if diags.HasErrors() {
		return diags
	}
	attrs, d := f.Body.JustAttributes()
	// A block in a var file: found by where HCL's error points, not its words.
	blocks := map[hcl.Range]bool{}
	if sb, ok := f.Body.(*hclsyntax.Body); ok {
		for _, blk := range sb.Blocks {
			blocks[blk.TypeRange], blocks[blk.DefRange()] = true, true
		}
	}
	for _, x := range d {
		if x.Subject != nil && blocks[*x.Subject] {
			x.Detail += " A var file holds only name = value lines, one per variable."
		}
	}
	diags = append(diags, d...)
	for _, k := range slices.Sorted(maps.Keys(attrs)) {
		a := attrs[k]
		v, known := vars[k]
		if !known {
			diags = append(diags, unknownVar(diag.Ptr(a.NameRange), k, vars))
			continue
		}
		val, d := a.Expr.Value(nil)
		if d.HasErrors() {
			diags = append(diags, d...)
			continue
		}
		cv, err := convertVar(v, val)
		if err != nil {
			diags = append(diags, diag.Errorf(diag.Ptr(a.Expr.Range()), "Invalid value for variable",
				"%s%v. Variable %q is declared at %s with type %s.", k, err, k, diag.Pos(v.DeclRange), typeexpr.TypeString(v.Type)))
			continue
		}
		values[k] = cv
		origins[k] = a.Expr.Range()
	}
	return diags
}

func unknownVar(r *hcl.Range, name string, vars map[string]*Variable) *hcl.Diagnostic {
	return diag.Errorf(r, "Undeclared variable",
		"No variable named %q is declared in the playbook, so the value would be ignored. %s",
		name, diag.Hint(name, slices.Sorted(maps.Keys(vars)), "variables"))
}

func hintType(diags hcl.Diagnostics, arg string, v *Variable) hcl.Diagnostics {
	for _, d := range diags {
		d.Detail = fmt.Sprintf("In -e %s: %s", arg, d.Detail) + fmt.Sprintf(" Variable %q has type %s, so its -e value is read as an HCL expression: quote strings and write lists as [\"a\", \"b\"].", v.Name, typeexpr.TypeString(v.Type))
	}
	return diags
}

// lineRange is a range on a one-line synthetic source.
func lineRange(name string, from, to int) *hcl.Range {
	return &hcl.Range{Filename: name,
		Start: hcl.Pos{Line: 1, Column: from + 1, Byte: from},
		End:   hcl.Pos{Line: 1, Column: to + 1, Byte: to}}
}

// shownArg is an -e argument as a message may quote it: the value of a
// secret-named variable is masked, declared or not, so that a typo in the
// name of a password variable does not print the password.
func shownArg(arg string) string {
	k, _, ok := strings.Cut(arg, "=")
	if ok && secret.IsSecretName(strings.TrimSpace(k)) {
		return strconv.Quote(k + "=" + secret.Mask)
	}
	return strconv.Quote(arg)
}
