package engine

import (
	"regexp"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/playbook"
)

// TestLateConfirmationRemedy: a confirm step that its `when` ruled out
// before the run but that the run ruled in is refused, saying to re-run
// with --yes; doing so as printed runs it (docs/remedies.md).
func TestLateConfirmationRemedy(t *testing.T) {
	steps := func() []*playbook.Step {
		first := step(t, "first", ``) // changes nothing
		late := step(t, "late", `change = true`)
		late.Confirm = "delete things"
		// Before the run changed() counts as true, so this looks ruled out.
		late.When = when(t, `!changed("first")`)
		return []*playbook.Step{first, late}
	}
	rec, _, _ := runWithVars(t, steps(), map[string]cty.Value{}, Options{})
	var msg string
	for _, r := range rec.results {
		if r.Step == "late" && r.Status == StatusFailed {
			msg = r.Error
		}
	}
	m := regexp.MustCompile(`re-run with (--yes) to confirm`).FindStringSubmatch(msg)
	if m == nil {
		t.Fatalf("want the late confirmation refused with its remedy, got %+v", rec.results)
	}
	rec, _, _ = runWithVars(t, steps(), map[string]cty.Value{}, Options{Yes: m[1] == "--yes"})
	if got := rec.status("late", "h1"); got != StatusChanged {
		t.Fatalf("after %s the late step is %q", m[1], got)
	}
}
