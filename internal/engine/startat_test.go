package engine

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/omsrun/omsrun/internal/playbook"
	"github.com/omsrun/omsrun/modules/builtin"
)

// --start-at-step still runs the reads a later step decides from, and
// nothing else before the start.
func TestStepRunsKeepsTheReadsLaterStepsUse(t *testing.T) {
	src := `
step "read base" {
  note { text = "base" }
}
step "read" {
  when = can(steps["read base"])
  note { text = "read" }
}
step "check" {
  assert {
    that    = true
    message = "unused by later steps: skipped"
  }
}
step "change" {
  command { argv = ["true"] }
}
step "start" {
  when = can(steps["read"]) && can(steps["change"])
  command { argv = ["true"] }
}
step "after" {
  command { argv = ["true"] }
}
`
	path := filepath.Join(t.TempDir(), "p.hcl")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	pb, diags := playbook.Load(path, playbook.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for _, tc := range []struct {
		start string
		want  []bool
	}{
		{"", []bool{true, true, true, true, true, true}},
		// "read" is read by "start", "read base" by "read"; "change" is
		// read too but changes hosts, "check" is read by nothing that runs.
		{"start", []bool{true, true, false, false, true, true}},
		{"after", []bool{false, false, false, false, false, true}},
	} {
		r := &Runner{Playbook: pb, Modules: builtin.Lookup, Opts: Options{StartAt: tc.start}}
		got := r.stepRuns()
		for i, st := range pb.Steps {
			if got[i] != tc.want[i] {
				t.Errorf("start at %q: step %q runs %v, want %v", tc.start, st.Name, got[i], tc.want[i])
			}
		}
	}
}
