// Package playbooks holds the shipped OMS playbooks, embedded in the binary
// so `omsrun deploy.hcl` works on a control machine that has only omsrun.
package playbooks

import (
	"embed"
	"io/fs"
	"strings"
)

//go:embed *.hcl
var files embed.FS

// Names lists the shipped playbooks (the include-only oms-variables.hcl too).
func Names() []string {
	entries, _ := fs.ReadDir(files, ".")
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// FS is the shipped playbooks, for playbook.Options.FS: they load straight
// from the binary, includes too, with nothing written to disk.
func FS() fs.FS { return files }

// Has reports whether name is a shipped playbook (or included file).
func Has(name string) bool {
	_, err := fs.Stat(files, name)
	return err == nil && strings.HasSuffix(name, ".hcl")
}
