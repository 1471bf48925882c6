package inventory

import (
	"reflect"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

func load(t *testing.T, path string) *Inventory {
	t.Helper()
	inv, diags := Load([]string{path})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return inv
}

func names(hs []*Host) []string {
	out := []string{}
	for _, h := range hs {
		out = append(out, h.Name)
	}
	return out
}

func TestMatch(t *testing.T) {
	inv := load(t, "../testdata/inventory/lab.hcl")
	for _, tc := range []struct {
		name, pattern string
		want          []string
		err           string
	}{
		{name: "all", pattern: "all", want: []string{"oms1", "oms2", "oms3", "meta1"}},
		{name: "star", pattern: "*", want: []string{"oms1", "oms2", "oms3", "meta1"}},
		{name: "group through children", pattern: "oms", want: []string{"oms1", "oms2", "oms3"}},
		{name: "host", pattern: "oms2", want: []string{"oms2"}},
		{name: "comma union keeps inventory order", pattern: "meta1,oms1", want: []string{"oms1", "meta1"}},
		{name: "colon union", pattern: "oms_sh:metadb", want: []string{"oms3", "meta1"}},
		{name: "glob", pattern: "oms?", want: []string{"oms1", "oms2", "oms3"}},
		{name: "glob on group names", pattern: "oms_*", want: []string{"oms1", "oms2", "oms3"}},
		{name: "glob matching nothing is fine", pattern: "zz*", want: []string{}},
		{name: "exclude", pattern: "all,!oms_hz", want: []string{"oms3", "meta1"}},
		{name: "only exclude means all but", pattern: "!oms", want: []string{"meta1"}},
		{name: "intersect", pattern: "oms,&oms_hz", want: []string{"oms1", "oms2"}},
		{name: "intersect and exclude", pattern: "oms:&oms_hz:!oms2", want: []string{"oms1"}},
		{name: "regex", pattern: "~oms[23]", want: []string{"oms2", "oms3"}},
		{name: "spaces around terms", pattern: " oms1 , oms3 ", want: []string{"oms1", "oms3"}},
		{name: "unknown name", pattern: "omz", err: `host pattern "omz" matches no host or group; did you mean "oms"?`},
		{name: "unknown excluded name", pattern: "all,!nope", err: `"nope" matches no host or group`},
		{name: "empty", pattern: " , ", err: "empty host pattern"},
		{name: "bad regex", pattern: "~(", err: "invalid regular expression"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := inv.Match(tc.pattern)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("want error %q, got %v", tc.err, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(names(got), tc.want) {
				t.Errorf("got %v, want %v", names(got), tc.want)
			}
		})
	}
}

func TestExpandRanges(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  bool
	}{
		{in: "web", want: []string{"web"}},
		{in: "web[01:03]", want: []string{"web01", "web02", "web03"}},
		{in: "web[1:3]", want: []string{"web1", "web2", "web3"}},
		{in: "web[8:11]", want: []string{"web8", "web9", "web10", "web11"}},
		{in: "db-[a:c]", want: []string{"db-a", "db-b", "db-c"}},
		{in: "n[0:4:2].lab", want: []string{"n0.lab", "n2.lab", "n4.lab"}},
		{in: "r[1:2]n[a:b]", want: []string{"r1na", "r1nb", "r2na", "r2nb"}},
		{in: "web[3:1]", err: true},
		{in: "web[a:3]", err: true},
		{in: "web[1]", err: true},
		{in: "web[1:2", err: true},
		{in: "web1:2]", err: true},
		{in: "web[0:99999999]", err: true},
		{in: "web[1:2:0]", err: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := expandRanges(tc.in)
			if tc.err {
				if err == nil {
					t.Fatalf("want an error, got %v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestPrecedence pins all < parent group < child group < host, and the
// connection settings' order: host line > group vars > all vars.
func TestPrecedence(t *testing.T) {
	inv := load(t, "../testdata/inventory/lab.hcl")
	for _, tc := range []struct {
		host, key string
		want      cty.Value
	}{
		{"oms1", "region", cty.StringVal("cn-hangzhou")}, // child group beats parent "oms"
		{"oms3", "region", cty.StringVal("cn-shanghai")},
		{"meta1", "region", cty.StringVal("host-wins")}, // host beats defaults
		{"oms2", "oms_version", cty.StringVal("4.2.5")}, // defaults reach every host
		{"oms1", "cm_port", cty.NumberIntVal(8088)},     // parent group reaches grandchildren
	} {
		if got := inv.Host(tc.host).Vars[tc.key]; !got.RawEquals(tc.want) {
			t.Errorf("%s.%s = %#v, want %#v", tc.host, tc.key, got, tc.want)
		}
	}
	ini := load(t, "../testdata/inventory/ansible.ini")
	for _, tc := range []struct {
		host, user string
		port       int
		engine     string
	}{
		{"web01", "deploy", 22, "unknown"}, // host line beats [all:vars]; [app:vars] applies
		{"db-a", "ops", 2200, "mariadb"},   // name:port beats [db:vars]; child db beats parent app
		{"db-b", "ops", 2022, "mariadb"},
	} {
		h := ini.Host(tc.host)
		if h.User != tc.user || h.Port != tc.port || h.Vars["db_engine"].AsString() != tc.engine {
			t.Errorf("%s: user %q port %d db_engine %s; want %q %d %s", tc.host, h.User, h.Port, h.Vars["db_engine"].GoString(), tc.user, tc.port, tc.engine)
		}
		if h.BecomePassword.Reveal() != "sudo-secret" || !h.Become {
			t.Errorf("%s: become settings from [all:vars] not applied", tc.host)
		}
		if _, leaked := h.Vars["ansible_become_pass"]; leaked {
			t.Errorf("%s: connection variable left in vars", tc.host)
		}
	}
}

func TestDetectFormat(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		hcl       bool
	}{
		{"x.hcl", "web1\n", true},
		{"x.ini", "group \"a\" {}\n", false},
		{"hosts", "# c\n\ngroup \"web\" {\n}\n", true},
		{"hosts", "defaults {\n}\n", true},
		{"hosts", "[web]\nweb1\n", false},
		{"hosts", "web1 ansible_host=1.2.3.4\n", false},
	} {
		if got := isHCL(tc.name, []byte(tc.src)); got != tc.hcl {
			t.Errorf("isHCL(%q, %q) = %v", tc.name, tc.src, got)
		}
	}
}
