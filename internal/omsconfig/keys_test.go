package omsconfig

import (
	"bytes"
	"strings"
	"testing"

	"github.com/omsrun/omsrun/internal/secret"
)

// TestKeyTable: every row is complete and its field has the row's kind, so
// the table can drive parsing and rendering without a case per key.
func TestKeyTable(t *testing.T) {
	seen := map[string]bool{}
	var c Config
	for _, k := range Table {
		t.Run(k.Name, func(t *testing.T) {
			if seen[k.Name] {
				t.Fatal("listed twice")
			}
			seen[k.Name] = true
			if k.Doc == "" || strings.HasSuffix(k.Doc, ".") {
				t.Errorf("doc %q: want one line, no full stop", k.Doc)
			}
			var kind Kind
			switch k.field(&c).(type) {
			case *string, *secret.String:
				kind = String
			case *int:
				kind = Int
			case *bool:
				kind = Bool
			case *[]string:
				kind = List
			default:
				t.Fatalf("field of type %T", k.field(&c))
			}
			if kind != k.Kind {
				t.Errorf("kind %v, field of kind %v", k.Kind, kind)
			}
			// A secret's field is a secret.String, which never prints.
			if _, isSecret := k.field(&c).(*secret.String); isSecret != k.Secret() && k.Kind == String && k.Name != KeySLSAccessKey {
				t.Errorf("secret by name: %v; secret.String field: %v", k.Secret(), isSecret)
			}
			if _, retired := Retired(k.Name); retired {
				t.Error("both a key and retired")
			}
		})
	}
	for _, want := range []string{KeyMetaPassword, KeyTSDBPassword, KeySLSAccessSecret, KeySLSAccessKey} {
		if k, _ := Lookup(want); !k.Secret() {
			t.Errorf("%s is not secret", want)
		}
	}
}

func TestPorts(t *testing.T) {
	c := good()
	if out := Render(c); bytes.Contains(out, []byte("_server_port")) {
		t.Fatalf("unset ports written:\n%s", out)
	}
	c.NginxServerPort, c.SSHDServerPort = 18089, 12023
	out := Render(c)
	m := plain(t, out)
	if m[KeyNginxServerPort] != 18089 || m[KeySSHDServerPort] != 12023 {
		t.Errorf("ports rendered as %v %v", m[KeyNginxServerPort], m[KeySSHDServerPort])
	}
	if _, ok := m[KeyCMServerPort]; ok {
		t.Errorf("unset cm_server_port written:\n%s", out)
	}
	back, diags := Parse(out, "config.yaml")
	if len(diags) != 0 || back.NginxServerPort != 18089 || back.CMServerPort != 0 {
		t.Fatalf("round trip: %v %+v", diags, back)
	}
	if v := ToVars(back); v[KeyNginxServerPort].AsBigFloat().String() != "18089" || v[KeyCMServerPort] != (ToVars(good())[KeyCMServerPort]) {
		t.Errorf("ToVars: %#v", v)
	}

	bad := good()
	bad.NginxServerPort, bad.CMServerPort, bad.GhanaServerPort = 80, 9000, 9000
	var got []string
	for _, p := range Validate(bad, nil) {
		got = append(got, p.Error())
	}
	want := []string{"nginx_server_port: 80 is out of range (use a port from 1025 to 65535, or leave it unset for OMS's 8089)",
		"ghana_server_port: 9000 is also cm_server_port (every OMS port must differ)"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
