package modules

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// Template writes a file rendered on the control machine from an HCL
// template (the syntax of Terraform's templatefile: ${var}, %{ if }, %{ for }).
// HCL rather than Go's text/template because playbooks are HCL already: an
// operator writes one expression language, and a template error names the
// template's file:line:column the same way a playbook error does. The
// rendered text is then written exactly as copy writes content, so template
// shares copy's in-place writer and its diff, backup, mode and owner rules.
type Template struct{}

var _ Module = (*Template)(nil)
var _ Validator = (*Template)(nil)

// TemplateArgs are the arguments of template.
type TemplateArgs struct {
	Src    string    `hcl:"src"`
	Dest   string    `hcl:"dest"`
	Vars   cty.Value `hcl:"vars,optional"`
	Mode   *string   `hcl:"mode,optional"`
	Owner  *string   `hcl:"owner,optional"`
	Backup *bool     `hcl:"backup,optional"`
}

// maxTemplateSize bounds a template read into memory.
const maxTemplateSize = 4 << 20

// Doc describes the module.
func (*Template) Doc() Doc {
	return Doc{
		Name:    "template",
		Summary: "Render an HCL template (${var}, %{ if }, %{ for }) from the control machine and write it like copy: in place, only when checksum, mode or owner differ.",
		Args: map[string]string{
			"src":    "string, required: the template file on the control machine (at most 4 MiB)",
			"dest":   "string, required: absolute path on the host; its directory must exist",
			"vars":   "object: the values the template refers to by name (host facts such as inventory_hostname are not implied: pass them)",
			"mode":   `string: octal mode, e.g. "0644" (default: kept; new files 0600)`,
			"owner":  `string: "user" or "user:group" (default: left alone)`,
			"backup": "bool: keep the previous file as <dest>.<YYYYmmddHHMMSS>.bak (default false)",
		},
	}
}

// NewArgs returns empty arguments.
func (*Template) NewArgs() any { return &TemplateArgs{} }

// Validate renders the template, so a missing variable or a syntax error is
// reported with the template's own file:line before any host is touched.
func (*Template) Validate(args any) error {
	a := args.(*TemplateArgs)
	var errs []error
	if _, err := a.render(); err != nil {
		errs = append(errs, err)
	}
	if err := (&Copy{}).Validate(a.copyArgs("")); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// render reads src and evaluates it with vars.
func (a *TemplateArgs) render() (string, error) {
	fi, err := os.Stat(a.Src)
	if err != nil {
		return "", fmt.Errorf("src: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("src: %s is not a regular file", a.Src)
	}
	if fi.Size() > maxTemplateSize {
		return "", fmt.Errorf("src: %s is %d MiB; templates are at most 4 MiB", a.Src, fi.Size()>>20)
	}
	b, err := os.ReadFile(a.Src)
	if err != nil {
		return "", fmt.Errorf("src: %w", err)
	}
	vars, err := templateVars(a.Vars)
	if err != nil {
		return "", err
	}
	expr, diags := hclsyntax.ParseTemplate(b, a.Src, hcl.InitialPos)
	if diags.HasErrors() {
		return "", fmt.Errorf("src: %s", diags.Error())
	}
	v, diags := expr.Value(&hcl.EvalContext{Variables: vars})
	if diags.HasErrors() {
		return "", fmt.Errorf("src: %s%s", diags.Error(), knownVars(vars))
	}
	if v, err = convert.Convert(v, cty.String); err != nil || v.IsNull() || !v.IsWhollyKnown() {
		return "", fmt.Errorf("src: %s does not render to text", a.Src)
	}
	s, _ := v.Unmark()
	return s.AsString(), nil
}

// templateVars turns vars (an object or a map) into template variables.
func templateVars(v cty.Value) (map[string]cty.Value, error) {
	if v == cty.NilVal || v.IsNull() {
		return map[string]cty.Value{}, nil
	}
	t := v.Type()
	if !t.IsObjectType() && !t.IsMapType() {
		return nil, fmt.Errorf("vars: must be an object such as { port = 8086 }, not %s", t.FriendlyName())
	}
	if !v.IsWhollyKnown() {
		return nil, errors.New("vars: some values are not known yet")
	}
	out := map[string]cty.Value{}
	for it := v.ElementIterator(); it.Next(); {
		k, val := it.Element()
		name := k.AsString()
		if !hclsyntax.ValidIdentifier(name) {
			return nil, fmt.Errorf("vars: %q is not a name a template can refer to", name)
		}
		out[name] = val
	}
	return out, nil
}

// knownVars lists the names given, to help with a misspelt one.
func knownVars(vars map[string]cty.Value) string {
	names := make([]string, 0, len(vars))
	for n := range vars {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return " (vars is empty)"
	}
	return fmt.Sprintf(" (vars has: %v)", names)
}

// copyArgs is the copy that writes the rendered content.
func (a *TemplateArgs) copyArgs(content string) *CopyArgs {
	return &CopyArgs{Content: &content, Dest: a.Dest, Mode: a.Mode, Owner: a.Owner, Backup: a.Backup}
}

// Check renders and compares like copy.
func (*Template) Check(ctx context.Context, env *Env, args any) (*Plan, error) {
	a := args.(*TemplateArgs)
	s, err := a.render()
	if err != nil {
		return nil, err
	}
	return (&Copy{}).Check(ctx, env, a.copyArgs(s))
}

// Apply writes what Check rendered.
func (*Template) Apply(ctx context.Context, env *Env, args any, plan *Plan) (*Result, error) {
	a := args.(*TemplateArgs)
	content, ok := plan.Data.([]byte)
	if !ok {
		s, err := a.render()
		if err != nil {
			return nil, err
		}
		content = []byte(s)
	}
	if !path.IsAbs(a.Dest) {
		return nil, fmt.Errorf("dest: %q must be an absolute file path", a.Dest)
	}
	return (&Copy{}).Apply(ctx, env, a.copyArgs(string(content)), plan)
}
