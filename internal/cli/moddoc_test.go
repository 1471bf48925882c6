package cli

import (
	"os"
	"testing"
)

// TestModulesDocIsCurrent keeps docs/modules.md in step with the modules'
// schemas; `make docs` regenerates it.
func TestModulesDocIsCurrent(t *testing.T) {
	want, err := os.ReadFile("../../docs/modules.md")
	if err != nil {
		t.Fatal(err)
	}
	if got := ModulesMarkdown(); got != string(want) {
		t.Fatal("docs/modules.md is stale: run `make docs`")
	}
}
