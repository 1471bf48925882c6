package playbook

import (
	"github.com/hashicorp/hcl/v2"

	"github.com/omsrun/omsrun/internal/secret"
	"github.com/omsrun/omsrun/inventory"
)

// redactor knows every sensitive value the playbook and inventory hold:
// marked variables and locals, host passwords and marked host variables.
func (p *Playbook) redactor(inv *inventory.Inventory) *secret.Redactor {
	r := secret.NewRedactor()
	for _, v := range p.Vars {
		r.AddValue(v)
	}
	for _, v := range p.Locals {
		r.AddValue(v)
	}
	if inv != nil {
		for _, h := range inv.Hosts {
			r.Add(h.Password.Reveal(), h.BecomePassword.Reveal())
			for _, v := range h.Vars {
				r.AddValue(v)
			}
		}
	}
	return r
}

// scrubDiags removes secrets from diagnostics by value. Marks cannot help
// here: HCL's own messages (a function's "cannot parse %q") quote argument
// values without knowing they are sensitive.
func scrubDiags(diags hcl.Diagnostics, r *secret.Redactor) {
	for _, d := range diags {
		d.Summary = r.Scrub(d.Summary)
		d.Detail = r.Scrub(d.Detail)
	}
}
