package playbook

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// terraformExamples holds, for every function of the playbook language, an
// example from Terraform's documentation of that function with Terraform's
// result (as JSON), so that a name always means what it means in Terraform.
// regex_replace and env are omsrun's own (Terraform has neither).
var terraformExamples = map[string][][2]string{
	"abs":             {{`abs(-12.4)`, `12.4`}},
	"ceil":            {{`ceil(4.1)`, `5`}},
	"floor":           {{`floor(4.9)`, `4`}},
	"log":             {{`log(16, 2)`, `4`}},
	"max":             {{`max(12, 54, 3)`, `54`}},
	"min":             {{`min(12, 54, 3)`, `3`}},
	"pow":             {{`pow(3, 2)`, `9`}},
	"signum":          {{`signum(-13)`, `-1`}},
	"parseint":        {{`parseint("FF", 16)`, `255`}, {`parseint("100", 10)`, `100`}},
	"chomp":           {{`chomp("hello\n")`, `"hello"`}},
	"format":          {{`format("Hello, %s!", "Ander")`, `"Hello, Ander!"`}},
	"formatlist":      {{`formatlist("Hello, %s!", ["Valentina", "Ander"])`, `["Hello, Valentina!","Hello, Ander!"]`}},
	"indent":          {{`indent(2, "a\nb")`, `"a\n  b"`}},
	"join":            {{`join(", ", ["foo", "bar", "baz"])`, `"foo, bar, baz"`}},
	"lower":           {{`lower("HELLO")`, `"hello"`}},
	"upper":           {{`upper("hello")`, `"HELLO"`}},
	"regex":           {{`regex("[a-z]+", "53453453.345345aaabbbccc23454")`, `"aaabbbccc"`}},
	"regexall":        {{`regexall("[a-z]+", "1234abcd5678efgh9")`, `["abcd","efgh"]`}},
	"replace":         {{`replace("1 + 2 + 3", "+", "-")`, `"1 - 2 - 3"`}, {`replace("hello world", "/w.*d/", "everybody")`, `"hello everybody"`}},
	"regex_replace":   {{`regex_replace("hello world", "w.*d", "everybody")`, `"hello everybody"`}},
	"split":           {{`split(",", "foo,bar,baz")`, `["foo","bar","baz"]`}},
	"strrev":          {{`strrev("hello")`, `"olleh"`}},
	"substr":          {{`substr("hello world", 1, 4)`, `"ello"`}},
	"title":           {{`title("hello world")`, `"Hello World"`}},
	"trim":            {{`trim("?!hello?!", "!?")`, `"hello"`}},
	"trimprefix":      {{`trimprefix("helloworld", "hello")`, `"world"`}},
	"trimsuffix":      {{`trimsuffix("helloworld", "world")`, `"hello"`}},
	"trimspace":       {{`trimspace("  hello\n\n")`, `"hello"`}},
	"startswith":      {{`startswith("hello world", "hello")`, `true`}},
	"endswith":        {{`endswith("hello world", "world")`, `true`}},
	"strcontains":     {{`strcontains("hello world", "wor")`, `true`}},
	"chunklist":       {{`chunklist(["a", "b", "c", "d", "e"], 2)`, `[["a","b"],["c","d"],["e"]]`}},
	"coalesce":        {{`coalesce("", "b")`, `"b"`}, {`coalesce(1, 2)`, `1`}, {`coalesce(null, "", "c")`, `"c"`}},
	"coalescelist":    {{`coalescelist([], ["c", "d"])`, `["c","d"]`}},
	"compact":         {{`compact(["a", "", "b", "c"])`, `["a","b","c"]`}},
	"concat":          {{`concat(["a", ""], ["b", "c"])`, `["a","","b","c"]`}},
	"contains":        {{`contains(["a", "b", "c"], "a")`, `true`}, {`contains(["a", "b", "c"], "d")`, `false`}},
	"distinct":        {{`distinct(["a", "b", "a", "c", "d", "b"])`, `["a","b","c","d"]`}},
	"element":         {{`element(["a", "b", "c"], 1)`, `"b"`}, {`element(["a", "b", "c"], 3)`, `"a"`}},
	"flatten":         {{`flatten([["a", "b"], [], ["c"]])`, `["a","b","c"]`}},
	"index":           {{`index(["a", "b", "c"], "b")`, `1`}},
	"keys":            {{`keys({a=1, c=2, d=3})`, `["a","c","d"]`}},
	"length":          {{`length([])`, `0`}, {`length(["a", "b"])`, `2`}, {`length({"a" = "b"})`, `1`}, {`length("hello")`, `5`}},
	"lookup":          {{`lookup({a="ay", b="bee"}, "a", "what?")`, `"ay"`}, {`lookup({a="ay", b="bee"}, "c", "what?")`, `"what?"`}},
	"merge":           {{`merge({a="b", c="d"}, {e="f", c="z"})`, `{"a":"b","c":"z","e":"f"}`}},
	"range":           {{`range(3)`, `[0,1,2]`}, {`range(1, 4)`, `[1,2,3]`}},
	"reverse":         {{`reverse([1, 2, 3])`, `[3,2,1]`}},
	"setintersection": {{`setintersection(["a", "b"], ["b", "c"], ["b", "d"])`, `["b"]`}},
	"setproduct":      {{`setproduct(["development", "staging"], ["app1", "app2"])`, `[["development","app1"],["development","app2"],["staging","app1"],["staging","app2"]]`}},
	"setsubtract":     {{`setsubtract(["a", "b", "c"], ["a", "c"])`, `["b"]`}},
	"setunion":        {{`setunion(["a", "b"], ["b", "c"], ["d"])`, `["a","b","c","d"]`}},
	"slice":           {{`slice(["a", "b", "c", "d"], 1, 3)`, `["b","c"]`}},
	"sort":            {{`sort(["e", "d", "a", "x"])`, `["a","d","e","x"]`}},
	"values":          {{`values({a=3, c=2, d=1})`, `[3,2,1]`}},
	"zipmap":          {{`zipmap(["a", "b"], [1, 2])`, `{"a":1,"b":2}`}},
	"jsonencode":      {{`jsonencode({"hello"="world"})`, `"{\"hello\":\"world\"}"`}},
	"jsondecode":      {{`jsondecode("{\"hello\": \"world\"}")`, `{"hello":"world"}`}},
	"csvdecode":       {{`csvdecode("a,b\n1,2\n")`, `[{"a":"1","b":"2"}]`}},
	"formatdate":      {{`formatdate("DD MMM YYYY hh:mm ZZZ", "2018-01-02T23:12:01Z")`, `"02 Jan 2018 23:12 UTC"`}},
	"base64encode":    {{`base64encode("Hello World")`, `"SGVsbG8gV29ybGQ="`}},
	"base64decode":    {{`base64decode("SGVsbG8gV29ybGQ=")`, `"Hello World"`}},
	"tostring":        {{`tostring("hello")`, `"hello"`}, {`tostring(1)`, `"1"`}},
	"tonumber":        {{`tonumber("1")`, `1`}},
	"tobool":          {{`tobool("true")`, `true`}},
	"tolist":          {{`tolist(["a", "b", "c"])`, `["a","b","c"]`}},
	"toset":           {{`toset(["c", "b", "b"])`, `["b","c"]`}},
	"tomap":           {{`tomap({"a" = 1, "b" = 2})`, `{"a":1,"b":2}`}},
	"try":             {{`try(tonumber("x"), 5)`, `5`}},
	"can":             {{`can(tonumber("x"))`, `false`}, {`can(tonumber("1"))`, `true`}},
	"file":            {{`file("hello.txt")`, `"Hello World"`}},
	"templatefile":    {{`templatefile("greet.tftpl", {name = "Ander"})`, `"Hello, Ander!"`}},
	"env":             {{`env("OMSRUN_TEST_ENV")`, `"set"`}},
}

func TestFunctionsMeanWhatTerraformSays(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{"hello.txt": "Hello World", "greet.tftpl": "Hello, ${name}!"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("OMSRUN_TEST_ENV", "set")
	p := &Playbook{Dir: dir}
	fns := (&objectCache{}).functions(p)
	for name := range fns {
		if _, ok := terraformExamples[name]; !ok {
			t.Errorf("function %s has no example: add Terraform's documented one", name)
		}
	}
	for name, cases := range terraformExamples {
		if _, ok := fns[name]; !ok {
			t.Errorf("function %s is not in the playbook's table", name)
			continue
		}
		for _, c := range cases {
			expr, diags := hclsyntax.ParseExpression([]byte(c[0]), "t.hcl", hcl.InitialPos)
			if diags.HasErrors() {
				t.Fatalf("%s: %v", c[0], diags)
			}
			v, diags := expr.Value(&hcl.EvalContext{Functions: fns})
			if diags.HasErrors() {
				t.Errorf("%s: %v", c[0], diags)
				continue
			}
			got, err := stdlib.JSONEncode(v)
			if err != nil {
				t.Fatalf("%s: %v", c[0], err)
			}
			if got.AsString() != c[1] {
				t.Errorf("%s = %s, Terraform says %s", c[0], got.AsString(), c[1])
			}
		}
	}
}

// TestIndexErrors: index() on a value not in the list says so plainly.
func TestIndexErrors(t *testing.T) {
	fns := (&objectCache{}).functions(&Playbook{Dir: t.TempDir()})
	for src, want := range map[string]string{
		`index(["a"], "z")`:       "not in the list",
		`index("abc", "b")`:       "needs a list",
		`replace("a", "/(/", "")`: "missing closing",
	} {
		expr, _ := hclsyntax.ParseExpression([]byte(src), "t.hcl", hcl.InitialPos)
		_, diags := expr.Value(&hcl.EvalContext{Functions: fns})
		if !diags.HasErrors() || !strings.Contains(diags.Error(), want) {
			t.Errorf("%s: want an error with %q, got %v", src, want, diags)
		}
	}
}
