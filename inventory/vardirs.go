package inventory

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/omsrun/omsrun/internal/diag"
	"github.com/omsrun/omsrun/internal/yamlvars"
)

// varExts are the endings Ansible reads in group_vars/ and host_vars/ (and
// a file with no ending), in the order it tries them.
var varExts = []string{"", ".yml", ".yaml", ".json"}

// loadVarDirs reads group_vars/ and host_vars/ beside each inventory
// source (in the folder given with -i, or the folder of the file given), as
// Ansible does: for each group and host, the first of NAME, NAME.yml,
// NAME.yaml and NAME.json, or every file in a folder NAME/. An entry that
// names no group or host is warned about: Ansible ignores it silently,
// and it is most likely a typo.
func (b *builder) loadVarDirs(paths []string) {
	seen := map[string]bool{}
	for _, p := range paths {
		base := p
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			base = filepath.Dir(p)
		}
		if seen[base] {
			continue
		}
		seen[base] = true
		var groups, hosts []string
		for n, g := range b.groups {
			if g.declared {
				groups = append(groups, n)
			}
		}
		groups = append(groups, "all", "ungrouped")
		for _, d := range b.hosts {
			hosts = append(hosts, d.host.Name)
		}
		b.loadVarDir(filepath.Join(base, "group_vars"), groups, b.groupFiles, "group")
		b.loadVarDir(filepath.Join(base, "host_vars"), hosts, b.hostFiles, "host")
	}
}

func (b *builder) loadVarDir(dir string, names []string, into map[string]map[string]setting, what string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return // no such folder: nothing to read
	}
	used := map[string]bool{}
	sort.Strings(names)
	for _, name := range names {
		for _, ext := range varExts {
			p := filepath.Join(dir, name+ext)
			st, err := os.Stat(p)
			if err != nil {
				continue
			}
			used[name+ext] = true
			files := []string{p}
			if st.IsDir() {
				files = varDirFiles(p)
			}
			for _, f := range files {
				b.loadVarFile(f, name, into)
			}
			break
		}
	}
	for _, e := range ents {
		n := e.Name()
		if used[n] || strings.HasPrefix(n, ".") || strings.HasSuffix(n, "~") {
			continue
		}
		stem := n
		if ext := filepath.Ext(n); ext == ".yml" || ext == ".yaml" || ext == ".json" {
			stem = strings.TrimSuffix(n, ext)
		}
		b.diags = append(b.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Subject: diag.FileStart(filepath.Join(dir, n)),
			Summary: "Variables for no " + what,
			Detail: fmt.Sprintf("%s holds %s, but the inventory has no %s %q, so its variables apply to nothing (Ansible ignores it too). %s",
				dir, n, what, stem, diag.Hint(stem, names, what+"s"))})
	}
}

// varDirFiles lists a NAME/ folder's variable files, recursively, in name
// order, as Ansible does (hidden files and backups~ skipped).
func varDirFiles(dir string) []string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		n := e.Name()
		if strings.HasPrefix(n, ".") || strings.HasSuffix(n, "~") {
			continue
		}
		p, ext := filepath.Join(dir, n), filepath.Ext(n)
		switch {
		case e.IsDir() && ext == "":
			out = append(out, varDirFiles(p)...)
		case !e.IsDir() && (ext == "" || ext == ".yml" || ext == ".yaml" || ext == ".json"):
			out = append(out, p)
		}
	}
	return out
}

func (b *builder) loadVarFile(path, name string, into map[string]map[string]setting) {
	st, err := os.Stat(path)
	if err == nil && st.Size() > diag.MaxFileSize {
		b.diags = append(b.diags, diag.Errorf(diag.FileStart(path), "File too large",
			"The file is larger than %d MiB, which no vars file should be; check that the right file is there.", diag.MaxFileSize>>20))
		return
	}
	src, err := os.ReadFile(path)
	if err != nil {
		b.diags = append(b.diags, diag.Errorf(diag.FileStart(path), "Cannot read file", "%v. Check its permissions.", err))
		return
	}
	if len(bytes.TrimSpace(src)) == 0 {
		return // an empty vars file is allowed, as in Ansible
	}
	b.files[path] = &hcl.File{Bytes: src}
	if diags := diag.CheckSource(path, src); diags.HasErrors() {
		b.diags = append(b.diags, diags...)
		return
	}
	vars, diags := yamlvars.Parse(path, src)
	b.diags = append(b.diags, diags...)
	if into[name] == nil {
		into[name] = map[string]setting{}
	}
	for _, v := range vars {
		into[name][v.Name] = setting{val: v.Value, rng: v.Range}
	}
}
