package engine

import (
	"regexp"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/playbook"
)

// TestLateConfirmationRemedy follows confirmLate's "re-run with --yes to
// confirm" as printed (docs/remedies.md): a confirm step that its `when`
// ruled out before the run, but that the run ruled in, is refused rather
// than asked after other steps changed hosts, and nothing of it runs; the
// same run again with the flag read out of the refusal runs it.
func TestLateConfirmationRemedy(t *testing.T) {
	steps := func() []*playbook.Step {
		first := step(t, "first", ``) // changes nothing
		late := step(t, "late", `change = true`)
		late.Confirm = "delete things"
		// Before the run changed() counts as true, so this looks ruled out.
		late.When = when(t, `!changed("first")`)
		return []*playbook.Step{first, late}
	}
	asked := 0
	confirm := func(string) (bool, error) { asked++; return true, nil }
	rec, _, _ := runWithVars(t, steps(), map[string]cty.Value{}, Options{Confirm: confirm})
	var msg string
	for _, r := range rec.results {
		if r.Step == "late" && r.Status == StatusFailed {
			msg = r.Error + r.Msg
		}
		if r.Step == "late" && r.Status == StatusChanged {
			t.Fatalf("the late step ran without its confirmation: %+v", rec.results)
		}
	}
	if asked != 0 {
		t.Errorf("the question was asked %d time(s) during the run", asked)
	}
	m := regexp.MustCompile(`re-run with (--\S+) to confirm`).FindStringSubmatch(msg)
	if m == nil {
		t.Fatalf("want the late confirmation refused with its remedy, got %q (%+v)", msg, rec.results)
	}
	if m[1] != "--yes" {
		t.Fatalf("the remedy names %s, which this test cannot follow", m[1])
	}
	rec, _, recap := runWithVars(t, steps(), map[string]cty.Value{}, Options{Yes: true})
	if got := rec.status("late", "h1"); got != StatusChanged {
		t.Fatalf("after %s the late step is %q (%+v)", m[1], got, rec.results)
	}
	if recap.Failed() || recap.Declined != "" || recap.Error != "" {
		t.Fatalf("the re-run with %s did not end well: %+v", m[1], recap)
	}
}
