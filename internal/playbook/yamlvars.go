package playbook

import (
	"path/filepath"
	"regexp"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/diag"
	"github.com/omsrun/omsrun/internal/yamlvars"
)

// yamlFirstLine is how a YAML vars file starts: "---" or "name: value"
// (an HCL var file has "name = value").
var yamlFirstLine = regexp.MustCompile(`^(---|[A-Za-z_][A-Za-z0-9_-]*:(\s|$))`)

// looksYAML: a .yml or .yaml file, or one without a known extension whose
// first meaningful line is YAML, so an Ansible vars file is never reported
// as broken HCL.
func looksYAML(path string, src []byte) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yml", ".yaml":
		return true
	case ".hcl", ".tfvars", ".json":
		return false
	}
	for _, line := range strings.Split(string(src), "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "#") || strings.HasPrefix(t, "//") {
			continue
		}
		return yamlFirstLine.MatchString(t)
	}
	return false
}

// yamlVarFile reads a YAML vars file (as Ansible's -e @vars.yml): each
// top-level name must be a declared variable, converted to its type.
func yamlVarFile(path string, src []byte, vars map[string]*Variable, values map[string]cty.Value, files map[string]*hcl.File, origins map[string]hcl.Range) hcl.Diagnostics {
	files[path] = &hcl.File{Bytes: src}
	list, diags := yamlvars.Parse(path, src)
	for _, x := range list {
		v, known := vars[x.Name]
		if !known {
			diags = append(diags, unknownVar(diag.Ptr(x.Range), x.Name, vars))
			continue
		}
		cv, err := convertVar(v, x.Value)
		if err != nil {
			diags = append(diags, diag.Errorf(diag.Ptr(x.ValueRange), "Invalid value for variable",
				"%s%v. Variable %q is declared at %s with type %s.", x.Name, err, x.Name, diag.Pos(v.DeclRange), typeexpr.TypeString(v.Type)))
			continue
		}
		values[x.Name] = cv
		origins[x.Name] = x.ValueRange
	}
	return diags
}
