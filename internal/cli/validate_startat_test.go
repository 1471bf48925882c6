package cli

import (
	"regexp"
	"strings"
	"testing"
)

// TestValidateRefusesUnknownStartAtStep: a --start-at-step naming no step
// made a run skip every step and exit 0, and --check predict nothing;
// validate and the run now refuse it before any connection, naming the
// playbook's steps, and one of the names it lists is accepted (issue #14
// point 8).
func TestValidateRefusesUnknownStartAtStep(t *testing.T) {
	img := tinyArchive(t)
	base := []string{"../../playbooks/deploy.hcl", "-i", "../../testdata/inventory/lab.hcl", "-e", "@../../testdata/cli/vars.hcl", "-e", "image_file=" + img}
	for _, cmd := range [][]string{{"validate"}, {"--check"}} {
		_, errOut, code := run(append(append(cmd, base...), "--start-at-step", "load imagee")...)
		if code != ExitInvalid || !strings.Contains(errOut, `--start-at-step "load imagee": ../../playbooks/deploy.hcl has no step of that name`) {
			t.Fatalf("%v: exit %d\n%s", cmd, code, errOut)
		}
		m := regexp.MustCompile(`its steps are "([^"]+)"`).FindStringSubmatch(errOut)
		if m == nil {
			t.Fatalf("the refusal lists no step:\n%s", errOut)
		}
		if cmd[0] == "validate" {
			if out, errOut, code := run(append(append(cmd, base...), "--start-at-step", m[1])...); code != 0 {
				t.Fatalf("--start-at-step %q as listed: exit %d\n%s%s", m[1], code, out, errOut)
			}
		}
	}
}
