// Package playbooks holds the shipped OMS playbooks, embedded in the binary
// so `omsrun deploy.hcl` works on a control machine that has only omsrun.
package playbooks

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
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

// Resolve returns a path the loader can read for arg: arg itself when it
// exists on disk, otherwise, when arg is the bare name (no folder) of a
// shipped playbook, that playbook written (with the files it includes)
// under dir. ok is false when arg is neither.
func Resolve(arg, dir string) (path string, ok bool, err error) {
	if _, err := os.Stat(arg); err == nil {
		return arg, true, nil
	}
	// Only a bare name falls back: a path with a folder is the user's file,
	// and a typo in it must not silently validate or run a shipped playbook.
	if strings.ContainsRune(arg, '/') {
		return "", false, nil
	}
	base := arg
	if _, err := fs.Stat(files, base); err != nil || !strings.HasSuffix(base, ".hcl") {
		return "", false, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", false, fmt.Errorf("unpack shipped playbooks: %w", err)
	}
	// All of them, since one may include another.
	for _, name := range Names() {
		b, err := files.ReadFile(name)
		if err != nil {
			return "", false, err
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return "", false, fmt.Errorf("unpack shipped playbooks: %w", err)
		}
	}
	return filepath.Join(dir, base), true, nil
}
