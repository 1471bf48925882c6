package diag

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

func TestCheckSource(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"ok", "a = 1\n", ""},
		{"empty", "", "Empty file"},
		{"blank", " \n\t\n", "Empty file"},
		{"nul", "a = 1\nb\x00", "Binary file at x:2,2"},
		{"latin1", "a = \"caf\xe9\"\n", "Invalid UTF-8 at x:1,9"},
		{"utf8 before bad byte", "é\xff", "Invalid UTF-8 at x:1,2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			diags := CheckSource("x", []byte(tc.src))
			if tc.want == "" {
				if diags.HasErrors() {
					t.Fatal(diags.Error())
				}
				return
			}
			if len(diags) != 1 {
				t.Fatalf("got %v", diags)
			}
			d := diags[0]
			got := d.Summary + " at " + d.Subject.Filename + ":" + strconv.Itoa(d.Subject.Start.Line) + "," + strconv.Itoa(d.Subject.Start.Column)
			if !strings.HasPrefix(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSuggestAndHint(t *testing.T) {
	opts := []string{"hosts", "when", "serial", "timeout"}
	if got := Suggest("host", opts); got != "hosts" {
		t.Errorf("Suggest(host) = %q", got)
	}
	if got := Suggest("zzzzzz", opts); got != "" {
		t.Errorf("Suggest(zzzzzz) = %q", got)
	}
	if got := Hint("tiemout", opts, "options"); got != `Did you mean "timeout"?` {
		t.Errorf("Hint = %q", got)
	}
	if got := Hint("xyzzy", opts, "options"); got != "Valid options: hosts, serial, timeout, when." {
		t.Errorf("Hint = %q", got)
	}
}

func TestRender(t *testing.T) {
	src := []byte("step \"a\" {\n  bogus = 1\n}\n")
	r := hcl.Range{Filename: "p.hcl", Start: hcl.Pos{Line: 2, Column: 3, Byte: 13}, End: hcl.Pos{Line: 2, Column: 8, Byte: 18}}
	diags := hcl.Diagnostics{Errorf(&r, "Unsupported argument", "Remove it.")}
	var buf bytes.Buffer
	if err := Render(&buf, map[string]*hcl.File{"p.hcl": {Bytes: src}}, diags, false); err != nil {
		t.Fatal(err)
	}
	want := "Error: p.hcl:2:3: Unsupported argument\n\n  on p.hcl line 2:\n   2:   bogus = 1\n\nRemove it.\n\n"
	if buf.String() != want {
		t.Errorf("got:\n%q\nwant:\n%q", buf.String(), want)
	}
	if diags[0].Summary != "Unsupported argument" {
		t.Errorf("Render changed the caller's diagnostic")
	}
}

func TestMaskSecrets(t *testing.T) {
	for in, want := range map[string]string{
		"web1 ansible_host=10.0.0.1 ansible_password=s3cret ansible_port=x\n": "web1 ansible_host=10.0.0.1 ansible_password=****** ansible_port=x\n",
		`  become_password = "p@ss word"` + "\n":                              `  become_password = "*********"` + "\n",
		`vars = { metadb_password = "abc", port = 1 }`:                        `vars = { metadb_password = "***", port = 1 }`,
		"ansible_ssh_pass='x y'":                                              "ansible_ssh_pass='***'",
		`{"api_token": "tok"}`:                                                `{"api_token": "***"}`,
		"password = var.metadb_password":                                      "password = var.metadb_password",
		"user = \"root\"\nport = 22\n":                                        "user = \"root\"\nport = 22\n",
		"password = \"héé\"":                                                  "password = \"*****\"",
		"key_file = \"~/.ssh/id\" apsara_audit_sls_access_key = \"AK\"":       "key_file = \"~/.ssh/id\" apsara_audit_sls_access_key = \"**\"",
		"h ansible_ssh_private_key_file=/k ansible_become_pass=pw1":           "h ansible_ssh_private_key_file=/k ansible_become_pass=***",
		// Lines that do not parse are masked too, in each input language.
		"oms_meta_password = my secret value\nx = 1": "oms_meta_password = ***************\nx = 1",
		"h1 ansible_password=\"abc def\n":            "h1 ansible_password=********\n",
		"tsdb_password: a: b\n":                      "tsdb_password: ****\n",
		"ansible_password=ab cd\n":                   "ansible_password=*****\n",
		`"db_password": "x\"y", "port": 1`:           `"db_password": "****", "port": 1`,
		"when = var.password == \"x\"":               "when = var.password == \"x\"",
		"  - api_token: abc\n":                       "  - api_token: ***\n",
		"unknown_secret_thing = 'zz'":                "unknown_secret_thing = '**'",
		// Values on the lines below: a YAML block scalar, an HCL heredoc.
		"a:\n  tsdb_password: |\n    line one\n\n    two\n  port: 1\n": "a:\n  tsdb_password: *\n    **** ***\n\n    ***\n  port: 1\n",
		"db_password: >-\n  folded\nuser: x\n":                         "db_password: **\n  ******\nuser: x\n",
		"password = <<EOT\nsecret words\nEOT\nport = 1\n":              "password = *****\n****** *****\nEOT\nport = 1\n",
		"password = <<-EOT\n  abc\n  EOT\n":                            "password = ******\n  ***\n  EOT\n",
	} {
		if got := string(MaskSecrets([]byte(in))); got != want {
			t.Errorf("MaskSecrets(%q) = %q, want %q", in, got, want)
		}
	}
}
