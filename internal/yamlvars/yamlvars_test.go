package yamlvars

import (
	"strings"
	"testing"
)

// TestPlain: plain scalars typed as PyYAML (YAML 1.1) types them, which is
// what Ansible users' group_vars mean (inventory's TestAnsibleOracle checks
// the same against ansible-inventory).
func TestPlain(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"yes", "cty.True"}, {"On", "cty.True"}, {"off", "cty.False"}, {"y", `cty.StringVal("y")`},
		{"~", "cty.NullVal(cty.DynamicPseudoType)"}, {"", "cty.NullVal(cty.DynamicPseudoType)"},
		{"0777", "cty.NumberIntVal(511)"}, {"0x1F", "cty.NumberIntVal(31)"}, {"0b101", "cty.NumberIntVal(5)"},
		{"1_000", "cty.NumberIntVal(1000)"}, {"12:30", "cty.NumberIntVal(750)"}, {"-7", "cty.NumberIntVal(-7)"},
		{"1e3", `cty.StringVal("1e3")`}, {"1.5", "cty.NumberFloatVal(1.5)"}, {"0o17", `cty.StringVal("0o17")`},
		{"1.2.3", `cty.StringVal("1.2.3")`},
	} {
		if got := Plain(tc.in).GoString(); got != tc.want {
			t.Errorf("Plain(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"mapping", "a: 1\nb: 'yes'\n", ""},
		{"empty document", "---\n", ""},
		{"list", "- a\n- b\n", "Not a mapping"},
		{"vault file", "$ANSIBLE_VAULT;1.1;AES256\n3132\n", "ansible-vault"},
		{"vault value", "pw: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n", "!vault"},
		{"bad indent", "a: 1\n  b: 2\n", "Invalid YAML"},
		{"deep", "a: " + strings.Repeat("[", 300) + strings.Repeat("]", 300), "nested more than"},
		{"secret not echoed", "db_password: \"s3cr3t-Value\n", "Invalid YAML"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := Parse("v.yml", []byte(tc.src))
			if tc.want == "" {
				if diags.HasErrors() {
					t.Fatal(diags)
				}
				return
			}
			if !strings.Contains(diags.Error(), tc.want) {
				t.Fatalf("want %q, got %v", tc.want, diags)
			}
			if strings.Contains(diags.Error(), "s3cr3t") {
				t.Fatalf("the message shows the value: %v", diags)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"a: 1\n", "a: &x {b: [1, 2]}\nc:\n  <<: *x\n", "- x\n", "a: !vault |\n  x\n", "a: 0777\nb: 12:30\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		Parse("f.yml", src)
	})
}

// TestHostile: self-referring anchors and alias bombs end with an error, not
// a stack overflow or an hour of work.
func TestHostile(t *testing.T) {
	bomb := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h"} {
		bomb += n + ": &" + n + " [*" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + "]\n"
		prev = n
	}
	for _, src := range []string{"a: &x {<<: *x}\n", "a: &x [*x]\n", "a: &x\n  b: *x\n", bomb} {
		Parse("f.yml", []byte(src))
	}
}
