package playbook

import (
	"strings"
	"testing"
	"testing/fstest"
)

// TestLoadFromFS: a playbook and the file it includes load from an fs.FS
// (the shipped playbooks are embedded), nothing read from the disk.
func TestLoadFromFS(t *testing.T) {
	fsys := fstest.MapFS{
		"pb/main.hcl": {Data: []byte(`include "shared.hcl" {}
step "s" {
  hosts = "all"
  note { msg = var.greeting }
}
`)},
		"pb/shared.hcl": {Data: []byte(`variable "greeting" {
  type    = string
  default = "hi"
}
`)},
	}
	p, diags := Load("pb/main.hcl", Options{FS: fsys})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if p.Vars["greeting"].AsString() != "hi" || p.Files["pb/shared.hcl"] == nil || p.Dir != "pb" {
		t.Fatalf("vars %v, files %v, dir %q", p.Vars, p.Files, p.Dir)
	}
	_, diags = Load("pb/missing.hcl", Options{FS: fsys})
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "pb/missing.hcl") {
		t.Fatalf("a missing file: %v", diags)
	}
}
