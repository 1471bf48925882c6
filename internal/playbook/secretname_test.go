package playbook

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omsrun/omsrun/internal/diag"
	"github.com/omsrun/omsrun/internal/secret"
)

// TestSecretNameIsSensitive: a variable whose name says secret
// (secret.IsSecretName) is treated as declared sensitive, wherever its value
// comes from, so its default is masked as a value given with -e or in a var
// file is: a validation message quoting it never shows it.
func TestSecretNameIsSensitive(t *testing.T) {
	const pw = "Sekr3tXY"
	dir := t.TempDir()
	play := filepath.Join(dir, "p.hcl")
	os.WriteFile(play, []byte(`
variable "db_password" {
  type    = string
  default = "`+pw+`"
  validation {
    condition     = length(var.db_password) >= 10
    error_message = "too short: ${var.db_password}"
  }
}
variable "greeting" {
  type    = string
  default = "hello"
}
step "a" {
  shell { cmd = "true" }
}
`), 0o600)
	vars := filepath.Join(dir, "v.hcl")
	os.WriteFile(vars, []byte(`db_password = "`+pw+`"`+"\n"), 0o600)
	for _, tc := range []struct {
		name  string
		extra []string
	}{
		{"default", nil},
		{"-e", []string{"db_password=" + pw}},
		{"var file", []string{"@" + vars}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, diags := Load(play, Options{ExtraVars: tc.extra})
			if !diags.HasErrors() {
				t.Fatal("the too-short password passed its validation")
			}
			var out bytes.Buffer
			if p != nil {
				diag.Render(&out, p.Files, diags, false)
			} else {
				diag.Render(&out, nil, diags, false)
			}
			if !strings.Contains(out.String(), "db_password") {
				t.Fatalf("the message does not name the variable:\n%s", out.String())
			}
			if strings.Contains(out.String(), pw) {
				t.Errorf("the message shows the password:\n%s", out.String())
			}
		})
	}
	// With a valid value the secret-named variable is marked, as a declared
	// sensitive one is, so every output masks it; another is not.
	p, diags := Load(play, Options{ExtraVars: []string{"db_password=long-enough-Kq7"}})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if !p.Vars["db_password"].HasMark(secret.Mark) || p.Vars["greeting"].HasMark(secret.Mark) {
		t.Errorf("marks: db_password %v, greeting %v; want only db_password marked",
			p.Vars["db_password"].HasMark(secret.Mark), p.Vars["greeting"].HasMark(secret.Mark))
	}
	if !p.Variables["db_password"].Sensitive {
		t.Error("db_password is not sensitive")
	}
}
