package playbook

import (
	"github.com/hashicorp/hcl/v2"

	"github.com/omsrun/omsrun/internal/diag"
)

// A `host "group" { address = …, like = "oms" }` block adds to the run one
// host the inventory does not list, alone in group "group", reached at
// address with the connection settings of group like's hosts
// (inventory.AddHost). scale-in.hcl reaches the node being removed this
// way: the operator has already taken it out of the inventory, and only its
// address (its row in the CM database) is left. An empty address adds no
// host, and steps naming the group select nothing.

var extraHostSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "address", Required: true},
	{Name: "like", Required: true},
}}

// addExtraHost evaluates a host block (variables are known by now) and adds
// its host to the playbook's inventory.
func (p *Playbook) addExtraHost(blk *hcl.Block) hcl.Diagnostics {
	c, diags := content(blk.Body, extraHostSchema, "arguments")
	if diags.HasErrors() {
		return diags
	}
	ctx := p.staticContext()
	addr, d := evalString(c.Attributes["address"].Expr, ctx, "address")
	diags = append(diags, d...)
	like, d := evalString(c.Attributes["like"].Expr, ctx, "like")
	diags = append(diags, d...)
	if diags.HasErrors() || p.inv == nil {
		return diags
	}
	if err := p.inv.AddHost(blk.Labels[0], addr, like, blk.DefRange); err != nil {
		subject := c.Attributes["address"].Expr.Range()
		if tr, ok := c.Attributes["address"].Expr.(interface{ Variables() []hcl.Traversal }); ok {
			for _, t := range tr.Variables() {
				if t.RootName() == "var" && len(t) == 2 {
					if a, ok := t[1].(hcl.TraverseAttr); ok {
						if r, set := p.origins[a.Name]; set {
							subject = r
						}
					}
				}
			}
		}
		diags = append(diags, diag.Errorf(&subject, "Invalid host", "host %q (address %q): %s.", blk.Labels[0], addr, err.Error()))
	}
	return diags
}
