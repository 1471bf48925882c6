package playbook

import (
	"errors"
	"io/fs"
	"os"
	pathpkg "path"
	"path/filepath"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/omsrun/omsrun/internal/diag"
)

// includeSchema is what an included file may hold: shared declarations, so
// that deploy.hcl, reconfigure.hcl and status.hcl take the same var file
// without repeating forty lines of variable blocks, and shared steps, so
// that a check both deploy.hcl and reconfigure.hcl run (oms-checks.hcl)
// is written once and cannot drift between them.
var includeSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
	{Type: "variable", LabelNames: []string{"name"}},
	{Type: "locals"},
	{Type: "step", LabelNames: []string{"name"}},
}}

// includeBlocks replaces each `include "file.hcl" {}` block with the
// variable, locals and step blocks of that file (relative to the playbook).
// The blocks take the include's place, so included steps run exactly where
// the include line stands among the playbook's own steps. Includes do not
// nest and hold no playbook block: an included file is a part, not a playbook.
func (p *Playbook) includeBlocks(blocks hcl.Blocks) (hcl.Blocks, hcl.Diagnostics) {
	var out hcl.Blocks
	var diags hcl.Diagnostics
	for _, blk := range blocks {
		if blk.Type != "include" {
			out = append(out, blk)
			continue
		}
		name := blk.Labels[0]
		path := name
		switch {
		case p.fsys != nil:
			// Inside the binary's files: slash-separated, relative to the playbook.
			path = pathpkg.Join(pathpkg.Dir(p.Path), name)
		case !filepath.IsAbs(path):
			path = filepath.Join(p.Dir, name)
		}
		if _, seen := p.Files[path]; seen {
			diags = append(diags, diag.Errorf(diag.Ptr(blk.LabelRanges[0]), "Duplicate include",
				"%q is already included; include each file once.", name))
			continue
		}
		// A file that cannot be opened is the include line's problem: point there.
		if st, err := p.stat(path); err != nil || st.IsDir() {
			why := "is a directory"
			if err != nil {
				why = "does not exist or cannot be read"
				if errors.Is(err, fs.ErrPermission) {
					why = "cannot be read (permission denied)"
				}
			}
			diags = append(diags, diag.Errorf(diag.Ptr(blk.LabelRanges[0]), "Cannot read included file",
				"include %q: %s %s. The path is relative to the playbook's folder (%s).", name, path, why, p.Dir))
			continue
		}
		src, d := readSource(p.fsys, path)
		if d.HasErrors() {
			diags = append(diags, d...)
			continue
		}
		f, d := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		p.Files[path] = f
		c, d := f.Body.Content(includeSchema)
		diags = append(diags, d...)
		out = append(out, c.Blocks...)
	}
	return out, diags
}

// stat is os.Stat, or fs.Stat in the playbook's FS when it has one.
func (p *Playbook) stat(path string) (fs.FileInfo, error) {
	if p.fsys != nil {
		return fs.Stat(p.fsys, path)
	}
	return os.Stat(path)
}
