// Package hclx holds small HCL helpers shared by the loader and the engine.
package hclx

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/zclconf/go-cty/cty"
)

// Decode decodes body into target (a pointer to a struct with `hcl` tags)
// like gohcl.DecodeBody, but first evaluates every attribute and strips cty
// marks: gocty refuses marked values, and sensitivity is tracked by value
// (onMarked sees each marked value before it is stripped, to register it as a secret).
func Decode(body hcl.Body, ctx *hcl.EvalContext, target any, onMarked func(cty.Value)) hcl.Diagnostics {
	return gohcl.DecodeBody(&unmarkBody{inner: body, ctx: ctx, onMarked: onMarked}, nil, target)
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
}

func (b *unmarkBody) Content(s *hcl.BodySchema) (*hcl.BodyContent, hcl.Diagnostics) {
	c, diags := b.inner.Content(s)
	return b.wrap(c), diags
}

func (b *unmarkBody) PartialContent(s *hcl.BodySchema) (*hcl.BodyContent, hcl.Body, hcl.Diagnostics) {
	c, rest, diags := b.inner.PartialContent(s)
	return b.wrap(c), &unmarkBody{inner: rest, ctx: b.ctx, onMarked: b.onMarked}, diags
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
		nb.Body = &unmarkBody{inner: blk.Body, ctx: b.ctx, onMarked: b.onMarked}
		out.Blocks = append(out.Blocks, &nb)
	}
	return out
}

func (b *unmarkBody) wrapAttrs(attrs hcl.Attributes) hcl.Attributes {
	out := make(hcl.Attributes, len(attrs))
	for name, a := range attrs {
		na := *a
		na.Expr = &evaluated{inner: a.Expr, ctx: b.ctx, onMarked: b.onMarked}
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
}

func (e *evaluated) Value(*hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	return Value(e.inner, e.ctx, e.onMarked)
}
func (e *evaluated) Variables() []hcl.Traversal { return e.inner.Variables() }
func (e *evaluated) Range() hcl.Range           { return e.inner.Range() }
func (e *evaluated) StartRange() hcl.Range      { return e.inner.StartRange() }
