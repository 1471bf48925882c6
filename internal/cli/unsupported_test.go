package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUnsupportedArgumentOneMessage: an argument a module does not take reads
// the same from exec's -a and from a step's with object — where it came
// from, the name, and a "did you mean" — because both use one helper.
func TestUnsupportedArgumentOneMessage(t *testing.T) {
	_, errOut, code := run("exec", "-i", "../../testdata/inventory/lab.hcl", "all", "-m", "wait_for", "-a", "urll=http://x")
	if want := `-a has "urll", which this module does not take. Did you mean "url"?`; code != 4 || !strings.Contains(errOut, want) {
		t.Fatalf("exec -a: exit %d, want %q in\n%s", code, want, errOut)
	}
	pb := filepath.Join(t.TempDir(), "pb.hcl")
	src := "step \"s\" {\n  wait_for {\n    with = { urll = \"http://x\" }\n  }\n}\n"
	if err := os.WriteFile(pb, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, code = run("validate", pb, "-i", "../../testdata/inventory/lab.hcl")
	if want := `The with object has "urll", which this module does not take. Did you mean "url"?`; code != 4 || !strings.Contains(errOut, want) || !strings.Contains(errOut, pb+":3:") {
		t.Fatalf("with: exit %d, want %q at %s:3 in\n%s", code, want, pb, errOut)
	}
}
