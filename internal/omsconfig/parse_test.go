package omsconfig

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// TestParseGolden parses every config under testdata/omsconfig (good ones and
// the seed's template) and testdata/bad/config (one problem family per file)
// and compares the rendered diagnostics, and for clean files the config, with
// the .golden file beside it.
func TestParseGolden(t *testing.T) {
	var files []string
	for _, dir := range []string{"omsconfig", filepath.Join("bad", "config")} {
		m, err := filepath.Glob(filepath.Join("..", "..", "testdata", dir, "*.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range m {
			if !strings.HasSuffix(f, ".golden.yaml") {
				files = append(files, f)
			}
		}
	}
	if len(files) < 10 {
		t.Fatalf("only %d test configs found", len(files))
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			name := filepath.Base(path)
			c, diags := Parse(data, name)
			isBad := strings.Contains(path, filepath.Join("bad", "config"))
			if isBad && len(diags) == 0 {
				t.Fatalf("a file of the bad corpus parsed without any diagnostic")
			}
			for _, d := range diags {
				if d.Subject == nil || d.Subject.Filename != name || d.Subject.Start.Line < 1 {
					t.Errorf("diagnostic %q has no file:line", d.Summary)
				}
			}
			var out bytes.Buffer
			w := hcl.NewDiagnosticTextWriter(&out, map[string]*hcl.File{name: {Bytes: data}}, 100, false)
			if err := w.WriteDiagnostics(diags); err != nil {
				t.Fatal(err)
			}
			if !diags.HasErrors() {
				fmt.Fprintf(&out, "config: %+v\n", stripPos(c))
			}
			if strings.Contains(out.String(), "s3cret") || strings.Contains(out.String(), "influx-pw") {
				t.Fatalf("a password leaked into the output:\n%s", out.String())
			}
			golden(t, strings.TrimSuffix(path, ".yaml")+".golden", out.Bytes())
		})
	}
}

func TestParseSeedExample(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "bad", "config", "seed_example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	_, diags := Parse(data, "config.yaml")
	if len(diags) != 2 {
		t.Fatalf("want the two bare passwords reported, got %v", diags)
	}
	for i, line := range []int{4, 20} {
		d := diags[i]
		if d.Subject.Start.Line != line || !strings.Contains(d.Summary, "alias") || !strings.Contains(d.Detail, "quotes") {
			t.Errorf("diagnostic %d = %s:%d %q %q; want line %d, alias, quote advice", i, d.Subject.Filename, d.Subject.Start.Line, d.Summary, d.Detail, line)
		}
	}
}

func TestParseKeepsUnknownKeys(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "omsconfig", "oceanbase_user.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c, diags := Parse(data, "config.yaml")
	if diags.HasErrors() {
		t.Fatalf("unexpected errors: %v", diags)
	}
	if len(c.Extra) != 1 || c.Extra[0].Key != "oms_new_feature_flag" {
		t.Fatalf("Extra = %#v", c.Extra)
	}
	if c.MetaUser != "oms_meta@oms_tenant#obcluster" || c.MetaPassword.Reveal() != `p@ss: #w'0"rd` {
		t.Fatalf("user/password not read exactly: %q", c.MetaUser)
	}
	if got := c.ExtraYAML(); got != "oms_new_feature_flag: enabled # kept, warned about\n" {
		t.Fatalf("ExtraYAML = %q", got)
	}
	back, diags := Parse(Render(c), "again.yaml")
	if diags.HasErrors() || !strings.Contains(string(Render(back)), "oms_new_feature_flag: enabled") {
		t.Fatalf("unknown key lost on re-render: %v\n%s", diags, Render(back))
	}
}

func FuzzParseConfig(f *testing.F) {
	for _, dir := range []string{"omsconfig", filepath.Join("bad", "config")} {
		m, _ := filepath.Glob(filepath.Join("..", "..", "testdata", dir, "*.yaml"))
		for _, p := range m {
			if data, err := os.ReadFile(p); err == nil {
				f.Add(data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, diags := Parse(data, "f.yaml")
		for _, d := range diags {
			if d.Subject == nil || d.Subject.Start.Line < 1 || d.Subject.Start.Byte > len(data) || d.Subject.End.Byte > len(data) {
				t.Fatalf("diagnostic %q has a bad range %#v", d.Summary, d.Subject)
			}
		}
		if diags.HasErrors() {
			return
		}
		// A clean config renders to text that parses back to the same config.
		back, diags := Parse(Render(c), "r.yaml")
		if diags.HasErrors() {
			t.Fatalf("re-render of a clean config has errors: %v\n%s", diags, Render(c))
		}
		if fmt.Sprintf("%#v", stripPos(back)) != fmt.Sprintf("%#v", stripPos(c)) ||
			back.MetaPassword != c.MetaPassword || back.TSDBPassword != c.TSDBPassword {
			t.Fatalf("re-render changed the config:\n%#v\n%#v", stripPos(c), stripPos(back))
		}
	})
}
