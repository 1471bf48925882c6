package playbook

import (
	"io/fs"
	"maps"
	"path/filepath"
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/diag"
	"github.com/omsrun/omsrun/inventory"
)

// Options are what Load needs besides the playbook file.
type Options struct {
	// ExtraVars are the -e arguments in command-line order ("name=value" or
	// "@file"); a later one wins.
	ExtraVars []string
	// Modules lists the known module names (builtin.Names()); a step whose
	// module is not listed is an error. Nil skips the check (Validate still
	// catches unknown modules).
	Modules []string
	// Preset holds values from other sources (--oms-config, the environment)
	// that sit between the defaults and -e: an -e value wins. Names the
	// playbook does not declare are ignored, because such sources carry
	// values for many playbooks.
	Preset map[string]cty.Value
	// Inventory, when set, lets locals use `hosts` (the whole inventory).
	Inventory *inventory.Inventory
	// Sources, when set, receives every source read (var files and each -e
	// argument as "-e #N"), even when Load fails, so that the caller can show
	// a problem in an -e value with its text.
	Sources map[string]*hcl.File
	// FS, when set, is where the playbook's path and its includes are read
	// (slash-separated names inside it), instead of the disk: the shipped
	// playbooks load straight from the binary. file() and templatefile()
	// paths are then relative to the working directory.
	FS fs.FS
}

var topSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
	{Type: "variable", LabelNames: []string{"name"}},
	{Type: "locals"},
	{Type: "playbook"},
	{Type: "step", LabelNames: []string{"name"}},
	{Type: "include", LabelNames: []string{"path"}},
	{Type: "host", LabelNames: []string{"group"}},
}}

var playbookSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "max_fail_percentage"},
	{Name: "any_errors_fatal"},
}}

// Load reads, decodes and statically checks a playbook: variables get their
// values (-e over defaults) and are validated, locals are evaluated, steps
// are decoded except for `when`, `until` and the module body, which are
// evaluated per host later (see EvalContext, DecodeStep, Validate). Every
// problem found is returned; the playbook is nil when any is an error.
func Load(path string, opts Options) (*Playbook, hcl.Diagnostics) {
	src, diags := readSource(opts.FS, path)
	if diags.HasErrors() {
		return nil, diags
	}
	return load(path, src, opts)
}

// readSource reads a playbook or an included file from fsys, or from the
// disk when fsys is nil, with the same checks (size, text) either way.
func readSource(fsys fs.FS, name string) ([]byte, hcl.Diagnostics) {
	if fsys == nil {
		return diag.ReadFile(name)
	}
	src, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, hcl.Diagnostics{diag.Errorf(diag.FileStart(name), "Cannot read file", "%v.", err)}
	}
	if len(src) > diag.MaxFileSize {
		return nil, hcl.Diagnostics{diag.Errorf(diag.FileStart(name), "File too large", "%s is larger than %d MiB.", name, diag.MaxFileSize>>20)}
	}
	return src, diag.CheckSource(name, src)
}

// load is Load on a source already read (the fuzz target's entry).
func load(path string, src []byte, opts Options) (*Playbook, hcl.Diagnostics) {
	f, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diags
	}
	p := &Playbook{
		Path:              path,
		Dir:               filepath.Dir(path),
		fsys:              opts.FS,
		Files:             map[string]*hcl.File{path: f},
		Vars:              map[string]cty.Value{},
		Locals:            map[string]cty.Value{},
		Variables:         map[string]*Variable{},
		MaxFailPercentage: -1,
		inv:               opts.Inventory,
		objects:           &objectCache{},
	}
	content, cd := content(f.Body, topSchema, "blocks")
	diags = append(diags, cd...)

	var localBlocks, stepBlocks, hostBlocks []*hcl.Block
	var pbBlock *hcl.Block
	blocks, id := p.includeBlocks(content.Blocks)
	diags = append(diags, id...)
	for _, blk := range blocks {
		switch blk.Type {
		case "variable":
			diags = append(diags, p.declareVariable(blk)...)
		case "locals":
			localBlocks = append(localBlocks, blk)
		case "playbook":
			if pbBlock != nil {
				diags = append(diags, diag.Errorf(diag.Ptr(blk.DefRange), "Duplicate playbook block",
					"The playbook block is already at %s; merge the two.", diag.Pos(pbBlock.DefRange)))
				continue
			}
			pbBlock = blk
		case "step":
			stepBlocks = append(stepBlocks, blk)
		case "host":
			hostBlocks = append(hostBlocks, blk)
		}
	}

	values, pd := presetValues(opts.Preset, p.Variables)
	diags = append(diags, pd...)
	extra, files, origins, cmdline, ed := parseExtraVars(opts.ExtraVars, p.Variables)
	p.origins, p.cmdline = origins, cmdline
	for k, v := range files {
		p.Files[k] = v
		if opts.Sources != nil {
			opts.Sources[k] = v
		}
	}
	diags = append(diags, ed...)
	for k, v := range extra {
		values[k] = v
	}
	extra = values
	diags = append(diags, p.resolveVariables(extra)...)
	// From here on a message may quote a value (a function's error does),
	// so every diagnostic is scrubbed of the sensitive values now known.
	defer func() { scrubDiags(diags, p.redactor(opts.Inventory)) }()
	if diags.HasErrors() {
		// Locals and steps would only repeat errors about missing variables.
		return nil, diags
	}
	for _, blk := range hostBlocks {
		diags = append(diags, p.addExtraHost(blk)...)
	}
	diags = append(diags, p.evalLocals(localBlocks)...)
	if pbBlock != nil {
		diags = append(diags, p.decodePlaybookBlock(pbBlock)...)
	}
	seen := map[string]*Step{}
	for _, blk := range stepBlocks {
		st, sd := p.decodeStep(blk, opts.Modules)
		diags = append(diags, sd...)
		if st == nil {
			continue
		}
		if prev, ok := seen[st.Name]; ok {
			diags = append(diags, diag.Errorf(diag.Ptr(blk.LabelRanges[0]), "Duplicate step name",
				"A step named %q is already declared at %s. Step names identify steps in changed(), --start-at-step and the output; give this one another name.",
				st.Name, diag.Pos(prev.DeclRange)))
			continue
		}
		seen[st.Name] = st
		p.Steps = append(p.Steps, st)
	}
	if len(stepBlocks) == 0 && !diags.HasErrors() {
		diags = append(diags, diag.Errorf(diag.FileStart(path), "No steps",
			"The playbook declares no steps, so it would do nothing. Add at least one step \"name\" { … } block."))
	}
	diags = append(diags, p.checkReferences()...)
	if diags.HasErrors() {
		return nil, diags
	}
	// Vars and locals are final now: every per-host context shares their objects.
	p.objects.vars, p.objects.locals = objectOf(p.Vars), objectOf(p.Locals)
	return p, diags
}

func (p *Playbook) decodePlaybookBlock(blk *hcl.Block) hcl.Diagnostics {
	c, diags := content(blk.Body, playbookSchema, "arguments")
	ctx := p.staticContext()
	if a, ok := c.Attributes["max_fail_percentage"]; ok {
		n, d := evalInt(a.Expr, ctx, "max_fail_percentage")
		diags = append(diags, d...)
		if !d.HasErrors() {
			if n < 0 || n > 100 {
				diags = append(diags, diag.Errorf(diag.Ptr(a.Expr.Range()), "Invalid max_fail_percentage",
					"max_fail_percentage is a percentage of hosts, from 0 to 100; got %d.", n))
			}
			p.MaxFailPercentage = n
		}
	}
	if a, ok := c.Attributes["any_errors_fatal"]; ok {
		b, d := evalBool(a.Expr, ctx, "any_errors_fatal")
		diags = append(diags, d...)
		p.AnyErrorsFatal = b
	}
	return diags
}

// content is Body.Content with a hint on every unexpected name: HCL offers
// "did you mean" only when a name is close, so otherwise the valid names are listed.
func content(body hcl.Body, schema *hcl.BodySchema, what string) (*hcl.BodyContent, hcl.Diagnostics) {
	c, diags := body.Content(schema)
	var names []string
	for _, a := range schema.Attributes {
		names = append(names, a.Name)
	}
	for _, b := range schema.Blocks {
		names = append(names, b.Type)
	}
	diag.ExplainUnsupported(diags, body, names, what+" here")
	return c, diags
}

// presetValues converts the preset values of declared variables to their types.
func presetValues(preset map[string]cty.Value, vars map[string]*Variable) (map[string]cty.Value, hcl.Diagnostics) {
	out := map[string]cty.Value{}
	var diags hcl.Diagnostics
	for _, k := range slices.Sorted(maps.Keys(preset)) {
		v, ok := vars[k]
		if !ok {
			continue
		}
		cv, err := convertVar(v, preset[k])
		if err != nil {
			diags = append(diags, diag.Errorf(diag.Ptr(v.DeclRange), "Invalid value for variable",
				"The value given for %q outside the playbook (--oms-config or the environment) does not fit its type %s: %s%v. Fix that value.",
				k, typeexpr.TypeString(v.Type), k, err))
			continue
		}
		out[k] = cv
	}
	return out, diags
}
