package omsconfig

import (
	goldenfile "github.com/omsrun/omsrun/internal/golden"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/zclconf/go-cty/cty"
	"gopkg.in/yaml.v3"

	"github.com/omsrun/omsrun/internal/secret"
)

// tricky values that YAML would change or refuse if written bare.
var tricky = []string{
	"********", "*************", "&anchor", "!tag", "@at", "`tick", "%pct", "|pipe", ">gt",
	"a: b", "a #b", "#start", "it's", `say "hi"`, `back\slash`, "two\nlines", "tab\there", "cr\rx",
	"user@tenant#cluster", "oms_meta@sys#obcluster", "", " lead", "trail ", "- dash", "? q", "[x]", "{y}",
	"true", "no", "null", "~", "0x1F", "1e3", "0777", ".inf", "<<", "---", "...", "\u00e9t\u00e9 中文",
	"\x00nul", "\x7fdel", "\u0085nel", "\u2028ls", "\ufeffbom", "\U0001F600",
}

// plain decodes rendered text the way any YAML reader would, without omsrun's parser.
func plain(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatalf("rendered YAML does not parse: %v\n%s", err, data)
	}
	return m
}

func TestRenderQuotesRoundTrip(t *testing.T) {
	for _, s := range tricky {
		t.Run(strings.ToValidUTF8(s, "?"), func(t *testing.T) {
			c := good()
			c.MetaPassword, c.MetaUser, c.TSDBPassword, c.CMRegion = secret.String(s), s, secret.String(s+"x"), s+"y"
			c.CMNodes = []string{s, "10.0.0.3"}
			m := plain(t, Render(c))
			for key, want := range map[string]string{KeyMetaPassword: s, KeyMetaUser: s, KeyTSDBPassword: s + "x", KeyCMRegion: s + "y"} {
				if got, ok := m[key].(string); !ok || got != want {
					t.Errorf("%s = %#v; want %q", key, m[key], want)
				}
			}
			if nodes, _ := m[KeyCMNodes].([]any); len(nodes) != 2 || nodes[0] != s {
				t.Errorf("cm_nodes = %#v; want [%q 10.0.0.3]", m[KeyCMNodes], s)
			}
		})
	}
}

// stripPos drops Parse's positions so configs compare by value.
func stripPos(c Config) Config {
	c.pos = nil
	return c
}

func TestRenderParseRoundTrip(t *testing.T) {
	c := good()
	c.CMRegion, c.CMRegionCN = "cn-anhui", "cn-anhui"
	c.TSDBEnabled, c.TSDBService, c.TSDBURL, c.TSDBUsername, c.TSDBPassword = true, TSDBInfluxDB, "10.0.0.5:8086", "oms", "p: #'\"*"
	c.Extra = []Extra{{Key: "future_key", YAML: "future_key: 42\n"}}
	got, diags := Parse(Render(c), "config.yaml")
	var errs []string
	for _, d := range diags {
		errs = append(errs, d.Error())
	}
	// The one expected diagnostic is the warning about the unknown key that was kept.
	if len(diags) != 1 || diags.HasErrors() || !strings.Contains(diags[0].Summary, "future_key") {
		t.Fatalf("Parse(Render(c)) diagnostics: %v", errs)
	}
	if !reflect.DeepEqual(stripPos(got), c) {
		t.Fatalf("round trip changed the config:\n got %#v\nwant %#v", stripPos(got), c)
	}
}

func TestRenderGolden(t *testing.T) {
	full := good()
	full.CMRegion, full.CMRegionCN = "cn-anhui", "cn-anhui"
	full.TSDBEnabled, full.TSDBService, full.TSDBURL, full.TSDBUsername, full.TSDBPassword = true, TSDBInfluxDB, "10.0.0.5:8086", "oms", "influx-pw"
	minimal := good()
	minimal.CMURL = "10.0.0.100"
	for name, c := range map[string]Config{"render_full": full, "render_minimal": minimal.Normalized()} {
		t.Run(name, func(t *testing.T) {
			golden(t, filepath.Join("..", "..", "testdata", "omsconfig", name+".golden.yaml"), Render(c))
		})
	}
}

func TestToVars(t *testing.T) {
	c := good()
	v := ToVars(c)
	if !v[KeyMetaPassword].HasMark(secret.Mark) {
		t.Errorf("oms_meta_password is not marked sensitive")
	}
	if got := v[KeyMetaPort]; !got.RawEquals(cty.NumberIntVal(2883)) {
		t.Errorf("oms_meta_port = %#v", got)
	}
	if got := v[KeyCMNodes]; got.LengthInt() != 3 || got.Index(cty.NumberIntVal(2)).AsString() != "10.0.0.4" {
		t.Errorf("cm_nodes = %#v", got)
	}
	if _, ok := v[KeyCMRegion]; ok {
		t.Errorf("empty cm_region must be left to the playbook's default")
	}
	if _, ok := v[KeyTSDBPassword]; ok {
		t.Errorf("empty tsdb_password must be left out")
	}
	for name := range v {
		if _, known := Lookup(name); !known {
			t.Errorf("ToVars produced %q, which is not a config key", name)
		}
	}
}

func FuzzRenderRoundTrip(f *testing.F) {
	for _, s := range tricky {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			t.Skip("YAML holds text only; Validate refuses invalid UTF-8")
		}
		c := good()
		c.MetaPassword, c.MetaUser, c.CMURL, c.CMNodes = secret.String(s), s, s, []string{s}
		data := Render(c)
		var back struct {
			Password string   `yaml:"oms_meta_password"`
			User     string   `yaml:"oms_meta_user"`
			URL      string   `yaml:"cm_url"`
			Nodes    []string `yaml:"cm_nodes"`
		}
		if err := yaml.Unmarshal(data, &back); err != nil {
			t.Fatalf("Render output does not parse for %q: %v", s, err)
		}
		if back.Password != s || back.User != s || back.URL != s || len(back.Nodes) != 1 || back.Nodes[0] != s {
			t.Fatalf("round trip of %q gave %#v", s, back)
		}
	})
}

func golden(t *testing.T, path string, got []byte) { t.Helper(); goldenfile.Check(t, path, got) }
