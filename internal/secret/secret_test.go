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
		{"keepalived", "  authentication {\n    auth_type PASS\n    auth_pass 0123abcd\n", "  authentication {\n    auth_type PASS\n    auth_pass ********\n"},
		{"sentence kept", "the password was rejected", "the password was rejected"},
		{"inventory line", "oms1 ansible_host=10.0.0.11 ansible_ssh_pass=s1 ansible_become_pass='s 2' user=root", "oms1 ansible_host=10.0.0.11 ansible_ssh_pass=******** ansible_become_pass=******** user=root"},
		{"flag", "mysql --user=oms --password=s3 -h db", "mysql --user=oms --password=******** -h db"},
		{"docker env", `"Env": ["TSDB_PASSWORD=s4", "PATH=/bin"]`, `"Env": ["TSDB_PASSWORD=********", "PATH=/bin"]`},
		{"url query", "GET /x?user=a&password=s5&next=1", "GET /x?user=a&password=********&next=1"},
		{"json", `{"oms_meta_password": "s\"6", "port": 8088, "sls_access_secret":null}`, `{"oms_meta_password": "********", "port": 8088, "sls_access_secret":"********"}`},
		{"path kept", "key_file=/root/.ssh/id_rsa", "key_file=/root/.ssh/id_rsa"},
		{"pair in a value", "run cmd=MYSQL_PWD=s7 x='a TOKEN=s8'", "run cmd=MYSQL_PWD=******** x='a TOKEN=********'"},
		{"yaml list item", "users:\n- password: s9\n  - name: oms\n  - db_password: 's 10'\n", "users:\n- password: ********\n  - name: oms\n  - db_password: ********\n"},
		{"yaml list item in a diff", "+  - password: s11", "+  - password: ********"},
		{"yaml list item kept", "  - name: oms", "  - name: oms"},
		{"url user", "redis://:s12@10.0.0.1:6379/0 http://u:s13@h/x", "redis://:********@10.0.0.1:6379/0 http://u:********@h/x"},
		{"url port kept", "http://10.0.0.1:8088/a@b", "http://10.0.0.1:8088/a@b"},
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

// TestScrubOutputValue: a module's outputs are scrubbed at any depth, a
// string under a secret key is masked whatever it says, and the rest (types,
// marks, numbers) is kept.
func TestScrubOutputValue(t *testing.T) {
	r := NewRedactor()
	r.Add("known-Kq1")
	in := cty.ObjectVal(map[string]cty.Value{
		"stdout": cty.StringVal("a: 1\noms_meta_password: s1\n"),
		"rc":     cty.NumberIntVal(0),
		"nested": cty.ObjectVal(map[string]cty.Value{
			"list":          cty.ListVal([]cty.Value{cty.StringVal("echo known-Kq1"), cty.StringVal("TOKEN=s2")}),
			"tsdb_password": cty.StringVal("s3").Mark(Mark),
			"env":           cty.MapVal(map[string]cty.Value{"DB_PASSWD": cty.StringVal("s4"), "HOME": cty.StringVal("/root")}),
		}),
	})
	want := cty.ObjectVal(map[string]cty.Value{
		"stdout": cty.StringVal("a: 1\noms_meta_password: " + Mask + "\n"),
		"rc":     cty.NumberIntVal(0),
		"nested": cty.ObjectVal(map[string]cty.Value{
			"list":          cty.ListVal([]cty.Value{cty.StringVal("echo " + Mask), cty.StringVal("TOKEN=" + Mask)}),
			"tsdb_password": cty.StringVal(Mask).Mark(Mark),
			"env":           cty.MapVal(map[string]cty.Value{"DB_PASSWD": cty.StringVal(Mask), "HOME": cty.StringVal("/root")}),
		}),
	})
	if got := r.ScrubOutputValue(in); !got.RawEquals(want) {
		t.Fatalf("ScrubOutputValue =\n%#v\nwant\n%#v", got, want)
	}
}
