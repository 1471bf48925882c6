package omsconfig

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/omsrun/omsrun/internal/secret"
)

func TestRenderTemplateSeed(t *testing.T) {
	tmpl, err := os.ReadFile(filepath.Join("..", "..", "testdata", "omsconfig", "seed_template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c := good()
	c.CMNodes = c.CMNodes[:2] // the seed's template names two nodes
	c.MetaPassword = `it's "*" #1`
	out, err := RenderTemplate(tmpl, c)
	if err != nil {
		t.Fatal(err)
	}
	back, diags := Parse(out, "rendered.yaml")
	if diags.HasErrors() {
		t.Fatalf("rendered seed template does not parse: %v\n%s", diags, out)
	}
	if !reflect.DeepEqual(stripPos(back), c) {
		t.Fatalf("template round trip:\n got %#v\nwant %#v\n%s", stripPos(back), c, out)
	}
	if !strings.Contains(string(out), "# tsdb_url: '${tsdb_url}'") {
		t.Fatalf("comment lines must be left alone:\n%s", out)
	}
}

func TestRenderTemplateErrors(t *testing.T) {
	c := good()
	c.CMNodes = []string{"10.0.0.2"}
	_, err := RenderTemplate([]byte("a: ${oms_meta_hots}\nb: ${host_ip2}\n"), c)
	if err == nil || !strings.Contains(err.Error(), "line 1: unknown placeholder ${oms_meta_hots} (did you mean ${oms_meta_host}?)") ||
		!strings.Contains(err.Error(), "line 2: unknown placeholder ${host_ip2} (cm_nodes has 1 entries)") {
		t.Fatalf("err = %v", err)
	}
	out, err := RenderTemplate([]byte("cm_nodes: ${cm_nodes}\np: '${tsdb_password}'\n"), Config{CMNodes: []string{"a", "b"}, TSDBPassword: secret.String("x'y")})
	if err != nil || string(out) != "cm_nodes: [\"a\", \"b\"]\np: \"x'y\"\n" {
		t.Fatalf("out = %q, %v", out, err)
	}
}
