package secret

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

func TestScrub(t *testing.T) {
	r := NewRedactor()
	r.Add("hunter2-long", "ab", "hunter2")
	r.AddValue(cty.ObjectVal(map[string]cty.Value{"pw": cty.StringVal("from-a-mark").Mark(Mark), "user": cty.StringVal("oms")}))
	cases := []struct{ name, in, want string }{
		{"known value", "login with hunter2-long now", "login with ******** now"},
		{"longest first", "hunter2 and hunter2-long", "******** and ********"},
		{"short values ignored", "ab cd", "ab cd"},
		{"marked value", "x=from-a-mark", "x=********"},
		{"unmarked value kept", "user oms", "user oms"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := r.Scrub(c.in); got != c.want {
				t.Fatalf("Scrub(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestScrubOutputMasksSecretKeys(t *testing.T) {
	r := NewRedactor()
	cases := []struct{ name, in, want string }{
		{"yaml", "oms_meta_host: 10.0.0.1\noms_meta_password: \"not-known\"\n", "oms_meta_host: 10.0.0.1\noms_meta_password: ********\n"},
		{"env file", "TSDB_PASSWORD=abc def", "TSDB_PASSWORD=********"},
		{"diff line", "+tsdb_password: 'x y'", "+tsdb_password: ********"},
		{"other keys kept", "cm_url: http://vip:8088", "cm_url: http://vip:8088"},
		{"empty value kept", "password:", "password:"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := r.ScrubOutput(c.in); got != c.want {
				t.Fatalf("ScrubOutput(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
	var nilR *Redactor
	if got := nilR.Scrub("x"); got != "x" {
		t.Fatal("a nil redactor must pass text through")
	}
}

// TestScrubEscapedForms: output encoded as JSON or with %q escapes a
// secret's quotes, backslashes, <, >, & and newlines; those forms are masked
// too, and the JSON stays valid.
func TestScrubEscapedForms(t *testing.T) {
	pw := "p<a>&\"s\\s'\nw"
	r := NewRedactor()
	r.Add(pw)
	b, err := json.Marshal(map[string]string{"msg": "login failed for " + pw})
	if err != nil {
		t.Fatal(err)
	}
	out := r.Scrub(string(b))
	var back map[string]string
	if err := json.Unmarshal([]byte(out), &back); err != nil {
		t.Fatalf("scrubbed JSON is no longer valid: %v: %s", err, out)
	}
	if back["msg"] != "login failed for "+Mask {
		t.Fatalf("JSON form not masked: %s", out)
	}
	if got := r.Scrub(fmt.Sprintf("bad password %q", pw)); got != `bad password "`+Mask+`"` {
		t.Fatalf("%%q form not masked: %s", got)
	}
}
