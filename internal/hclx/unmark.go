// Package hclx holds small HCL helpers shared by the loader and the engine.
package hclx

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/omsrun/omsrun/internal/diag"
	"github.com/zclconf/go-cty/cty"
)

// Decode decodes body into target (a pointer to a struct with `hcl` tags)
// like gohcl.DecodeBody, but first evaluates every attribute and strips cty
// marks: gocty refuses marked values, and sensitivity is tracked by value
// (onMarked sees each marked value before it is stripped, to register it as a secret).
//
// An argument whose value is not known yet (it depends on a step's output,
// or its expression failed) makes the decoder add an error of its own; such
// errors carry UnknownValue in Extra, so callers tell them apart by type.
func Decode(body hcl.Body, ctx *hcl.EvalContext, target any, onMarked func(cty.Value)) hcl.Diagnostics {
	unknown := map[hcl.Pos]bool{}
	diags := gohcl.DecodeBody(&unmarkBody{inner: body, ctx: ctx, onMarked: onMarked, unknown: unknown}, nil, target)
	for _, d := range diags {
		if d.Subject != nil && d.Extra == nil && unknown[d.Subject.Start] {
			d.Extra = UnknownValue{}
		}
	}
	return diags
}

// UnknownValue is the Extra of a Decode error that only says an argument's
// value is not known: it follows a failed expression, or comes before the
// run when the value depends on one.
type UnknownValue struct{}

// IsUnknownValue reports whether d is such an error.
func IsUnknownValue(d *hcl.Diagnostic) bool {
	_, ok := d.Extra.(UnknownValue)
	return ok
}

// Value evaluates expr and strips its marks, reporting marked values to onMarked.
func Value(expr hcl.Expression, ctx *hcl.EvalContext, onMarked func(cty.Value)) (cty.Value, hcl.Diagnostics) {
	v, diags := expr.Value(ctx)
	if onMarked != nil && v.ContainsMarked() {
		onMarked(v)
	}
	v, _ = v.UnmarkDeep()
	return v, diags
}

// unmarkBody wraps a body so that its attributes become constant,
// already-evaluated, unmarked expressions.
type unmarkBody struct {
	inner    hcl.Body
	ctx      *hcl.EvalContext
	onMarked func(cty.Value)
	// unknown collects where the arguments whose value is not wholly known
	// start: the decoder's error about such a value points there.
	unknown map[hcl.Pos]bool
}

// WithAttr is the argument every module block accepts besides its own: an
// object whose keys fill the arguments the block does not set, so playbooks
// can share one argument set (`render_config { with = local.oms_config }`).
const WithAttr = "with"

func (b *unmarkBody) Content(s *hcl.BodySchema) (*hcl.BodyContent, hcl.Diagnostics) {
	// Decode with every argument optional and `with` allowed, then fill from
	// `with` and only then insist on the required ones.
	loose := &hcl.BodySchema{Blocks: s.Blocks, Attributes: []hcl.AttributeSchema{{Name: WithAttr}}}
	for _, a := range s.Attributes {
		if a.Name != WithAttr {
			loose.Attributes = append(loose.Attributes, hcl.AttributeSchema{Name: a.Name})
		}
	}
	c, diags := b.inner.Content(loose)
	if c == nil {
		return nil, diags
	}
	if w, ok := c.Attributes[WithAttr]; ok {
		delete(c.Attributes, WithAttr)
		diags = append(diags, b.fillWith(w, s, c)...)
	}
	var missing hcl.Diagnostics
	for _, a := range s.Attributes {
		if _, ok := c.Attributes[a.Name]; a.Required && !ok && a.Name != WithAttr {
			missing = append(missing, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Missing required argument",
				Detail:  fmt.Sprintf("The argument %q is required, but no definition was found.", a.Name),
				Subject: c.MissingItemRange.Ptr()})
		}
	}
	// Missing arguments first, as HCL itself reports them.
	return b.wrap(c), append(missing, diags...)
}

// fillWith adds to c the attributes the block leaves unset, from the `with` object.
func (b *unmarkBody) fillWith(w *hcl.Attribute, s *hcl.BodySchema, c *hcl.BodyContent) hcl.Diagnostics {
	v, diags := w.Expr.Value(b.ctx)
	if diags.HasErrors() || !v.IsWhollyKnown() {
		// Unknown before the run (validate): the module's arguments are
		// checked once the values are known.
		if !diags.HasErrors() {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unsuitable value type",
				Detail: "Unsuitable value: value must be known", Subject: w.Expr.Range().Ptr(), Extra: UnknownValue{}})
		}
		return diags
	}
	ty := v.Type()
	if v.IsNull() || !(ty.IsObjectType() || ty.IsMapType()) {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid with",
			Detail: "with must be an object of this module's arguments, such as local.oms_config.", Subject: w.Expr.Range().Ptr()}}
	}
	known := map[string]bool{}
	names := make([]string, 0, len(s.Attributes))
	for _, a := range s.Attributes {
		known[a.Name] = true
		names = append(names, a.Name)
	}
	for it := v.ElementIterator(); it.Next(); {
		k, val := it.Element()
		name := k.AsString()
		if !known[name] {
			diags = append(diags, diag.UnsupportedArgument(name, "The with object", names, w.Expr.Range().Ptr()))
			continue
		}
		if _, set := c.Attributes[name]; set {
			continue // the block's own value wins
		}
		c.Attributes[name] = &hcl.Attribute{Name: name, Expr: hcl.StaticExpr(val, w.Expr.Range()), Range: w.Range, NameRange: w.NameRange}
	}
	return diags
}

func (b *unmarkBody) PartialContent(s *hcl.BodySchema) (*hcl.BodyContent, hcl.Body, hcl.Diagnostics) {
	c, rest, diags := b.inner.PartialContent(s)
	return b.wrap(c), &unmarkBody{inner: rest, ctx: b.ctx, onMarked: b.onMarked, unknown: b.unknown}, diags
}

func (b *unmarkBody) JustAttributes() (hcl.Attributes, hcl.Diagnostics) {
	attrs, diags := b.inner.JustAttributes()
	return b.wrapAttrs(attrs), diags
}

func (b *unmarkBody) MissingItemRange() hcl.Range { return b.inner.MissingItemRange() }

func (b *unmarkBody) wrap(c *hcl.BodyContent) *hcl.BodyContent {
	if c == nil {
		return nil
	}
	out := &hcl.BodyContent{Attributes: b.wrapAttrs(c.Attributes), MissingItemRange: c.MissingItemRange}
	for _, blk := range c.Blocks {
		nb := *blk
		nb.Body = &unmarkBody{inner: blk.Body, ctx: b.ctx, onMarked: b.onMarked, unknown: b.unknown}
		out.Blocks = append(out.Blocks, &nb)
	}
	return out
}

func (b *unmarkBody) wrapAttrs(attrs hcl.Attributes) hcl.Attributes {
	out := make(hcl.Attributes, len(attrs))
	for name, a := range attrs {
		na := *a
		na.Expr = &evaluated{inner: a.Expr, ctx: b.ctx, onMarked: b.onMarked, unknown: b.unknown}
		out[name] = &na
	}
	return out
}

// evaluated is an expression evaluated in its captured context, marks stripped;
// the decoder's own (nil) context is ignored.
type evaluated struct {
	inner    hcl.Expression
	ctx      *hcl.EvalContext
	onMarked func(cty.Value)
	unknown  map[hcl.Pos]bool
}

func (e *evaluated) Value(*hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	v, diags := Value(e.inner, e.ctx, e.onMarked)
	if !v.IsWhollyKnown() && e.unknown != nil {
		e.unknown[e.inner.StartRange().Start] = true
	}
	return v, diags
}
func (e *evaluated) Variables() []hcl.Traversal { return e.inner.Variables() }
func (e *evaluated) Range() hcl.Range           { return e.inner.Range() }
func (e *evaluated) StartRange() hcl.Range      { return e.inner.StartRange() }
