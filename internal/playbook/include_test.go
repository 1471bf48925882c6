package playbook

import (
	"strings"
	"testing"
	"testing/fstest"
)

// TestIncludeSteps: an included file's steps run where the include line
// stands among the playbook's own steps, may refer to the steps before it,
// and a playbook block in an included file is refused (it is a part, not a
// playbook).
func TestIncludeSteps(t *testing.T) {
	fsys := fstest.MapFS{
		"pb/main.hcl": {Data: []byte(`step "first" {
  note { text = "a" }
}
include "checks.hcl" {}
step "last" {
  note { text = "d" }
}
`)},
		"pb/checks.hcl": {Data: []byte(`step "second" {
  when = can(steps["first"])
  note { text = "b" }
}
step "third" {
  note { text = "c" }
}
`)},
		"pb/bad.hcl": {Data: []byte(`include "withplaybook.hcl" {}
step "s" {
  note { text = "a" }
}
`)},
		"pb/withplaybook.hcl": {Data: []byte(`playbook {
  any_errors_fatal = true
}
`)},
	}
	p, diags := Load("pb/main.hcl", Options{FS: fsys})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var names []string
	for _, s := range p.Steps {
		names = append(names, s.Name)
	}
	if got := strings.Join(names, ","); got != "first,second,third,last" {
		t.Fatalf("step order %s", got)
	}
	_, diags = Load("pb/bad.hcl", Options{FS: fsys})
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "withplaybook.hcl:1") {
		t.Fatalf("a playbook block in an include: %v", diags)
	}
}
