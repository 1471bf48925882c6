package inventory

import (
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/diag"
	"github.com/omsrun/omsrun/internal/secret"
)

// Load reads every inventory source and merges them into one inventory.
// A path is a file or a directory (the union of its regular, non-hidden
// files in name order). Each file is HCL or Ansible INI, detected from its
// extension (.hcl, .ini) or else from its first meaningful line.
//
// Variables merge with this precedence, lowest first: the HCL defaults
// block's vars, the "all" group, then every other group of the host ordered
// by depth (a parent before its children; groups of equal depth by name),
// then the host's own vars. Connection settings come from, highest first:
// the host's own declaration (HCL attributes or ansible_* on its INI line),
// the merged vars' ansible_* keys, then the HCL defaults block.
//
// Every problem is returned as a diagnostic; the inventory is nil when any is an error.
func Load(paths []string) (*Inventory, hcl.Diagnostics) {
	b := newBuilder()
	if len(paths) == 0 {
		b.diags = append(b.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "No inventory",
			Detail: "Give an inventory file or directory with -i."})
		return nil, b.diags
	}
	for _, p := range paths {
		for _, f := range b.expand(p) {
			b.loadFile(f)
		}
	}
	if !b.diags.HasErrors() {
		b.loadVarDirs(paths)
	}
	if b.diags.HasErrors() {
		return nil, b.diags
	}
	inv := b.finish()
	if b.diags.HasErrors() {
		return nil, b.diags
	}
	return inv, b.diags
}

// LoadSource reads one inventory held in memory, as Load reads a file: name
// gives its format (.hcl or .ini, else its first line decides) and is what
// messages cite. Nothing beside it is read (no group_vars/host_vars).
func LoadSource(name string, src []byte) (*Inventory, hcl.Diagnostics) {
	b := newBuilder()
	b.files[name] = &hcl.File{Bytes: src}
	if d := diag.CheckSource(name, src); d.HasErrors() {
		return nil, d
	}
	b.loadSource(name, src)
	if b.diags.HasErrors() {
		return nil, b.diags
	}
	inv := b.finish()
	if b.diags.HasErrors() {
		return nil, b.diags
	}
	return inv, b.diags
}

// expand turns a directory into its files.
func (b *builder) expand(p string) []string {
	st, err := os.Stat(p)
	if err != nil {
		b.diags = append(b.diags, diag.Errorf(diag.FileStart(p), "Cannot read inventory",
			"%v. Check the path given with -i.", err))
		return nil
	}
	if !st.IsDir() {
		return []string{p}
	}
	ents, err := os.ReadDir(p)
	if err != nil {
		b.diags = append(b.diags, diag.Errorf(diag.FileStart(p), "Cannot read inventory directory", "%v.", err))
		return nil
	}
	var out []string
	for _, e := range ents {
		n := e.Name()
		if ignoredInDir(n) || !e.Type().IsRegular() {
			continue
		}
		out = append(out, filepath.Join(p, n))
	}
	sort.Strings(out)
	if len(out) == 0 {
		b.diags = append(b.diags, diag.Errorf(diag.FileStart(p), "Empty inventory directory",
			"The directory %s holds no inventory files; add one or give a file with -i.", p))
	}
	return out
}

// ignoredExts are the file endings a directory given with -i may hold that are
// never inventory: Ansible's own ignore list (inventory_ignore_extensions, less
// .ini and .cfg, which omsrun reads) plus what sits beside the inventory
// package in this repository's inventory/ folder (Go sources, golden files).
var ignoredExts = []string{
	".go", ".golden", ".md", ".txt", ".rst", ".orig", ".bak", ".swp", ".retry",
	".pyc", ".pyo", ".rpm", "~", ".mod", ".sum",
}

// ignoredInDir says whether a file found in an inventory directory is skipped:
// hidden files, editors' backups and the endings above.
func ignoredInDir(name string) bool {
	if strings.HasPrefix(name, ".") {
		return true
	}
	for _, ext := range ignoredExts {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

func (b *builder) loadFile(path string) {
	src, diags := diag.ReadFile(path)
	b.files[path] = &hcl.File{Bytes: src}
	b.diags = append(b.diags, diags...)
	if diags.HasErrors() {
		return
	}
	b.loadSource(path, src)
}

func (b *builder) loadSource(path string, src []byte) {
	switch {
	case isYAML(path, src):
		b.loadYAML(path, src)
	case isHCL(path, src):
		b.loadHCL(path, src)
	default:
		b.loadINI(path, src)
	}
}

// isYAML: a .yml or .yaml file, or one whose first meaningful line is a
// document marker or a lone "group:".
func isYAML(path string, src []byte) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yml", ".yaml":
		return true
	case ".hcl", ".ini", ".cfg":
		return false
	}
	for _, line := range strings.Split(string(src), "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		return yamlStart.MatchString(t)
	}
	return false
}

var hclBlockStart = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*(\s+("[^"]*"|[A-Za-z_][A-Za-z0-9_-]*))*\s*\{`)

// isHCL decides the format: the extension when it says, else the first line
// that is not blank or a comment (an INI file starts with a section or a
// host line, an HCL inventory with a block).
func isHCL(path string, src []byte) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".hcl":
		return true
	case ".ini", ".cfg":
		return false
	}
	for _, line := range strings.Split(string(src), "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "#") || strings.HasPrefix(t, ";") || strings.HasPrefix(t, "//") {
			continue
		}
		return hclBlockStart.MatchString(t) || strings.HasPrefix(t, "/*")
	}
	return false
}

// setting is one connection setting or variable with where it was set.
type setting struct {
	val cty.Value
	rng hcl.Range
}

// hostDecl gathers everything said about one host across its declarations.
type hostDecl struct {
	host *Host
	conn map[string]setting // explicit connection settings, by HCL attribute name
	vars map[string]setting
}

type groupDecl struct {
	group    *Group
	members  map[string]bool // group.Hosts as a set: inventories may hold many hosts
	children map[string]hcl.Range
	vars     map[string]setting
	// hclBlock is set once an HCL block declared the group: a second one is an error.
	hclBlock bool
	// declared is false for a group only mentioned (in [x:vars]), which is an error if nothing declares it.
	declared bool
	mention  hcl.Range
}

type builder struct {
	files    map[string]*hcl.File
	hosts    []*hostDecl
	byName   map[string]*hostDecl
	groups   map[string]*groupDecl
	defaults map[string]setting // HCL defaults block connection settings
	defVars  map[string]setting
	// groupFiles and hostFiles are group_vars/ and host_vars/, by group or host name.
	groupFiles, hostFiles map[string]map[string]setting
	defRange              *hcl.Range
	diags                 hcl.Diagnostics
	tooBig                bool // the size limit was reported; say it once
	// unsupported lists, per setting omsrun cannot honour, the hosts it applies to.
	unsupported map[warnKey][]string
}

// The limits bound the work a malformed or hostile inventory can cause
// (every INI line may expand a range); real inventories are far smaller.
const (
	maxHosts  = 20000
	maxGroups = 2000
)

func (b *builder) tooMany(what string, limit int, rng hcl.Range) {
	if b.tooBig {
		return
	}
	b.tooBig = true
	b.diags = append(b.diags, diag.Errorf(diag.Ptr(rng), "Inventory too large",
		"The inventory declares more than %d %s, which is more than omsrun handles; check the ranges (web[1:N]) and split the inventory.", limit, what))
}

func newBuilder() *builder {
	return &builder{
		files:    map[string]*hcl.File{},
		byName:   map[string]*hostDecl{},
		groups:   map[string]*groupDecl{},
		defaults: map[string]setting{},
		defVars:  map[string]setting{},

		groupFiles: map[string]map[string]setting{},
		hostFiles:  map[string]map[string]setting{},
	}
}

// group returns the group, creating it; declare marks it as really declared.
func (b *builder) group(name string, rng hcl.Range, declare bool) *groupDecl {
	g, ok := b.groups[name]
	if !ok {
		if len(b.groups) >= maxGroups {
			b.tooMany("groups", maxGroups, rng)
			return &groupDecl{group: &Group{Name: name}, children: map[string]hcl.Range{}, vars: map[string]setting{}, members: map[string]bool{}}
		}
		g = &groupDecl{
			members:  map[string]bool{},
			group:    &Group{Name: name, DeclRange: rng, Vars: map[string]cty.Value{}},
			children: map[string]hcl.Range{},
			vars:     map[string]setting{},
			mention:  rng,
		}
		b.groups[name] = g
	}
	if declare && !g.declared {
		g.declared = true
		g.group.DeclRange = rng
	}
	return g
}

// addHost records one declaration of a host, in a group or not (group == "").
// A host may be declared in several groups; its settings must then agree.
func (b *builder) addHost(name string, rng hcl.Range, group string, conn, vars map[string]setting) {
	d, ok := b.byName[name]
	if !ok {
		if len(b.hosts) >= maxHosts {
			b.tooMany("hosts", maxHosts, rng)
			return
		}
		d = &hostDecl{
			host: &Host{Name: name, DeclRange: rng},
			conn: map[string]setting{},
			vars: map[string]setting{},
		}
		b.byName[name] = d
		b.hosts = append(b.hosts, d)
	}
	for _, k := range slices.Sorted(maps.Keys(conn)) {
		s := conn[k]
		if prev, ok := d.conn[k]; ok && !prev.val.RawEquals(s.val) {
			b.diags = append(b.diags, diag.Errorf(diag.Ptr(s.rng), "Conflicting host declaration",
				"Host %q is already declared at %s with %s = %s, and here with %s. A host may be listed in several groups, but its settings must agree: keep the setting in one place, or give the second host another name.",
				name, diag.Pos(prev.rng), k, show(k, prev.val), show(k, s.val)))
			continue
		}
		d.conn[k] = s
	}
	for k, s := range vars {
		d.vars[k] = s
	}
	if group != "" {
		g := b.group(group, rng, true)
		if !g.members[name] {
			g.members[name] = true
			g.group.Hosts = append(g.group.Hosts, name)
		}
	}
}

// show prints a setting's value for a message, hiding passwords.
func show(key string, v cty.Value) string {
	if secret.IsSecretName(key) {
		return "(a password)"
	}
	if v.Type() == cty.String {
		return `"` + v.AsString() + `"`
	}
	return renderValue(v)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func suggestName(given string, names []string) string { return diag.Suggest(given, names) }
