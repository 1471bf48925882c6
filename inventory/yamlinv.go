package inventory

import (
	"regexp"

	"github.com/hashicorp/hcl/v2"
	"gopkg.in/yaml.v3"

	"github.com/omsrun/omsrun/internal/diag"
	"github.com/omsrun/omsrun/internal/yamlvars"
)

// yamlStart is the first meaningful line of a YAML inventory: a document
// marker or "group:" alone on its line (an INI host line never ends in ':').
var yamlStart = regexp.MustCompile(`^(---.*|[A-Za-z0-9_.-]+:\s*(#.*)?)$`)

// loadYAML reads an Ansible YAML inventory: top-level groups, each with
// optional hosts (name or pattern → vars or nothing), vars and children
// (name → group, recursively). Values are typed as Ansible's YAML is.
func (b *builder) loadYAML(path string, src []byte) {
	b.files[path] = &hcl.File{Bytes: src}
	if yamlvars.IsVault(src) {
		_, d := yamlvars.Parse(path, src)
		b.diags = append(b.diags, d...)
		return
	}
	root, diags := yamlvars.ParseNode(path, src)
	b.diags = append(b.diags, diags...)
	if diags.HasErrors() || root == nil {
		return
	}
	if root.Kind != yaml.MappingNode {
		b.diags = append(b.diags, diag.Errorf(diag.Ptr(yamlvars.Range(path, src, root)), "Invalid YAML inventory",
			"A YAML inventory is a mapping of group names (usually all:) to their hosts, vars and children."))
		return
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		b.yamlGroup(path, src, root.Content[i], root.Content[i+1], 0)
	}
}

// yamlGroup reads one group's hosts, vars and children.
func (b *builder) yamlGroup(path string, src []byte, key, body *yaml.Node, depth int) {
	name := key.Value
	r := yamlvars.Range(path, src, key)
	if !validName(name) {
		b.diags = append(b.diags, diag.Errorf(&r, "Invalid group name",
			"Group name %q may hold only letters, digits, '_', '.' and '-'; rename it.", name))
		return
	}
	if depth > maxGroups {
		b.diags = append(b.diags, diag.Errorf(&r, "Groups nested too deep", "Group %q is nested more than %d levels deep.", name, maxGroups))
		return
	}
	g := b.group(name, r, true)
	if body == nil || body.Kind == yaml.ScalarNode && body.Value == "" {
		return
	}
	if body.Kind != yaml.MappingNode {
		b.diags = append(b.diags, diag.Errorf(diag.Ptr(yamlvars.Range(path, src, body)), "Invalid group",
			"Group %q must be a mapping with hosts:, vars: and children:.", name))
		return
	}
	for i := 0; i+1 < len(body.Content); i += 2 {
		k, v := body.Content[i], body.Content[i+1]
		kr := yamlvars.Range(path, src, k)
		empty := v.Kind == yaml.ScalarNode && yamlvars.Plain(v.Value).IsNull() && v.Style == 0
		if !empty && v.Kind != yaml.MappingNode {
			b.diags = append(b.diags, diag.Errorf(diag.Ptr(yamlvars.Range(path, src, v)), "Invalid group entry",
				"%s: of group %q must be a mapping: write each name followed by a colon (oms1:), with its vars or nothing after it.", k.Value, name))
			continue
		}
		switch k.Value {
		case "hosts":
			if !empty {
				b.yamlHosts(path, src, name, v)
			}
		case "vars":
			if empty {
				continue
			}
			vars, d := yamlvars.Mapping(path, src, v)
			b.diags = append(b.diags, d...)
			for _, x := range vars {
				g.vars[x.Name] = setting{val: x.Value, rng: x.Range}
			}
		case "children":
			for j := 0; !empty && j+1 < len(v.Content); j += 2 {
				c := v.Content[j]
				g.children[c.Value] = yamlvars.Range(path, src, c)
				b.yamlGroup(path, src, c, v.Content[j+1], depth+1)
			}
		default:
			b.diags = append(b.diags, diag.Errorf(&kr, "Unknown group entry",
				"Group %q has %q; a group holds only hosts:, vars: and children:. %s", name, k.Value, diag.Hint(k.Value, []string{"hosts", "vars", "children"}, "entries")))
		}
	}
}

// yamlHosts reads "hosts:" entries: a name or pattern (web[1:3], h:2222)
// mapped to its vars, or to nothing.
func (b *builder) yamlHosts(path string, src []byte, group string, hosts *yaml.Node) {
	if group == "all" {
		group = "" // hosts directly under all are ungrouped, as in INI
	}
	for i := 0; i+1 < len(hosts.Content); i += 2 {
		k, v := hosts.Content[i], hosts.Content[i+1]
		hr := yamlvars.Range(path, src, k)
		conn, vars := map[string]setting{}, map[string]setting{}
		if !(v.Kind == yaml.ScalarNode && yamlvars.Plain(v.Value).IsNull()) {
			list, d := yamlvars.Mapping(path, src, v)
			b.diags = append(b.diags, d...)
			for _, x := range list {
				s := setting{val: x.Value, rng: x.Range}
				if ck, ok := ansibleVars[x.Name]; ok {
					conn[ck] = s
				} else {
					vars[x.Name] = s
				}
			}
		}
		b.addPattern(k.Value, hr, group, conn, vars)
	}
}
