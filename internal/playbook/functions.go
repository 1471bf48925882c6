package playbook

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"

	"github.com/omsrun/omsrun/internal/diag"
)

// functions returns the playbook's function table (built once; changed is
// added per scope by EvalContext).
func (c *objectCache) functions(p *Playbook) map[string]function.Function {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.funcMap == nil {
		c.funcMap = baseFunctions(p.Dir)
		c.funcMap["templatefile"] = templateFileFunc(p.Dir, baseFunctions(p.Dir))
	}
	return c.funcMap
}

// baseFunctions is the Terraform-like set: cty's stdlib under Terraform's
// names, conversions, try/can, file and env.
func baseFunctions(dir string) map[string]function.Function {
	return map[string]function.Function{
		"abs": stdlib.AbsoluteFunc, "ceil": stdlib.CeilFunc, "floor": stdlib.FloorFunc,
		"log": stdlib.LogFunc, "max": stdlib.MaxFunc, "min": stdlib.MinFunc, "pow": stdlib.PowFunc,
		"signum": stdlib.SignumFunc, "parseint": stdlib.ParseIntFunc,

		"chomp": stdlib.ChompFunc, "format": stdlib.FormatFunc, "formatlist": stdlib.FormatListFunc,
		"indent": stdlib.IndentFunc, "join": stdlib.JoinFunc, "lower": stdlib.LowerFunc,
		"upper": stdlib.UpperFunc, "regex": stdlib.RegexFunc, "regexall": stdlib.RegexAllFunc,
		"replace": replaceFunc, "regex_replace": stdlib.RegexReplaceFunc,
		"split": stdlib.SplitFunc, "strrev": stdlib.ReverseFunc, "substr": stdlib.SubstrFunc,
		"title": stdlib.TitleFunc, "trim": stdlib.TrimFunc, "trimprefix": stdlib.TrimPrefixFunc,
		"trimsuffix": stdlib.TrimSuffixFunc, "trimspace": stdlib.TrimSpaceFunc,
		"startswith": prefixFunc(strings.HasPrefix), "endswith": prefixFunc(strings.HasSuffix),
		"strcontains": prefixFunc(strings.Contains),

		"chunklist": stdlib.ChunklistFunc, "coalesce": coalesceFunc,
		"coalescelist": stdlib.CoalesceListFunc, "compact": stdlib.CompactFunc,
		"concat": stdlib.ConcatFunc, "contains": stdlib.ContainsFunc, "distinct": stdlib.DistinctFunc,
		"element": stdlib.ElementFunc, "flatten": stdlib.FlattenFunc, "index": indexFunc,
		"keys": stdlib.KeysFunc, "length": lengthFunc, "lookup": stdlib.LookupFunc,
		"merge": stdlib.MergeFunc, "range": stdlib.RangeFunc, "reverse": stdlib.ReverseListFunc,
		"setintersection": stdlib.SetIntersectionFunc, "setproduct": stdlib.SetProductFunc,
		"setsubtract": stdlib.SetSubtractFunc, "setunion": stdlib.SetUnionFunc,
		"slice": stdlib.SliceFunc, "sort": stdlib.SortFunc, "values": stdlib.ValuesFunc,
		"zipmap": stdlib.ZipmapFunc,

		"jsonencode": stdlib.JSONEncodeFunc, "jsondecode": stdlib.JSONDecodeFunc,
		"csvdecode": stdlib.CSVDecodeFunc, "formatdate": stdlib.FormatDateFunc,
		"base64encode": base64Func(true), "base64decode": base64Func(false),

		"tostring": toFunc(cty.String), "tonumber": toFunc(cty.Number), "tobool": toFunc(cty.Bool),
		"tolist": toFunc(cty.List(cty.DynamicPseudoType)), "toset": toFunc(cty.Set(cty.DynamicPseudoType)),
		"tomap": toFunc(cty.Map(cty.DynamicPseudoType)),
		"try":   tryfunc.TryFunc, "can": tryfunc.CanFunc,

		"file": fileFunc(dir),
		"env": function.New(&function.Spec{
			Description: "The value of an environment variable of the machine running omsrun, or \"\".",
			Params:      []function.Parameter{{Name: "name", Type: cty.String}},
			Type:        function.StaticReturnType(cty.String),
			Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
				return cty.StringVal(os.Getenv(args[0].AsString())), nil
			},
		}),
	}
}

func prefixFunc(f func(s, p string) bool) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "str", Type: cty.String}, {Name: "part", Type: cty.String}},
		Type:   function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return cty.BoolVal(f(args[0].AsString(), args[1].AsString())), nil
		},
	})
}

func base64Func(encode bool) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "str", Type: cty.String}},
		Type:   function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			s := args[0].AsString()
			if encode {
				return cty.StringVal(base64.StdEncoding.EncodeToString([]byte(s))), nil
			}
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return cty.NilVal, fmt.Errorf("not valid base64: %w", err)
			}
			return cty.StringVal(string(b)), nil
		},
	})
}

// toFunc converts its argument to ty, like Terraform's tostring and friends.
func toFunc(ty cty.Type) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "v", Type: cty.DynamicPseudoType, AllowNull: true, AllowDynamicType: true}},
		Type: func(args []cty.Value) (cty.Type, error) {
			if !args[0].IsWhollyKnown() {
				return ty, nil
			}
			out, err := convert.Convert(args[0], ty)
			if err != nil {
				return cty.NilType, function.NewArgError(0, fmt.Errorf("cannot convert %s to %s", args[0].Type().FriendlyName(), ty.FriendlyNameForConstraint()))
			}
			return out.Type(), nil
		},
		Impl: func(args []cty.Value, retType cty.Type) (cty.Value, error) {
			return convert.Convert(args[0], retType)
		},
	})
}

// readRel reads a file named relative to the playbook, with the same checks
// as any other source (size, binary, UTF-8).
func readRel(dir, name string) ([]byte, error) {
	if !filepath.IsAbs(name) {
		name = filepath.Join(dir, name)
	}
	src, diags := diag.ReadFile(name)
	if diags.HasErrors() {
		d := diags[0]
		return nil, fmt.Errorf("%s: %s: %s", name, strings.ToLower(d.Summary), strings.TrimSuffix(d.Detail, "."))
	}
	return src, nil
}

func fileFunc(dir string) function.Function {
	return function.New(&function.Spec{
		Description: "The content of a file, relative to the playbook's directory.",
		Params:      []function.Parameter{{Name: "path", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			src, err := readRel(dir, args[0].AsString())
			if err != nil {
				return cty.NilVal, err
			}
			return cty.StringVal(string(src)), nil
		},
	})
}

// templateFileFunc renders an HCL template file with the given variables;
// the template sees those variables and the base functions, not the playbook's scope.
func templateFileFunc(dir string, funcs map[string]function.Function) function.Function {
	return function.New(&function.Spec{
		Description: "Renders a template file (HCL template syntax), relative to the playbook's directory.",
		Params: []function.Parameter{
			{Name: "path", Type: cty.String},
			{Name: "vars", Type: cty.DynamicPseudoType},
		},
		Type: function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			name := args[0].AsString()
			vars := args[1]
			if !vars.Type().IsObjectType() && !vars.Type().IsMapType() {
				return cty.NilVal, function.NewArgError(1, fmt.Errorf("the template variables must be an object, such as { port = 8088 }"))
			}
			src, err := readRel(dir, name)
			if err != nil {
				return cty.NilVal, err
			}
			tmpl, diags := hclsyntax.ParseTemplate(src, name, hcl.InitialPos)
			if diags.HasErrors() {
				return cty.NilVal, fmt.Errorf("template %s", diags.Error())
			}
			ctx := &hcl.EvalContext{Variables: vars.AsValueMap(), Functions: funcs}
			v, diags := tmpl.Value(ctx)
			if diags.HasErrors() {
				return cty.NilVal, fmt.Errorf("template %s", diags.Error())
			}
			return convert.Convert(v, cty.String)
		},
	})
}

// changedFunc answers changed("step") from the engine's record; without one
// (validation, load time) every step counts as unchanged. The name must be a step.
func changedFunc(p *Playbook, changed func(string) bool) function.Function {
	return function.New(&function.Spec{
		Description: "Whether the named earlier step changed this host.",
		Params:      []function.Parameter{{Name: "step", Type: cty.String}},
		Type:        function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			name := args[0].AsString()
			var names []string
			for _, st := range p.Steps {
				names = append(names, st.Name)
			}
			if p.Steps != nil && !contains(names, name) {
				msg := fmt.Sprintf("there is no step named %q", name)
				if s := diag.Suggest(name, names); s != "" {
					msg += fmt.Sprintf("; did you mean %q", s)
				} else {
					msg += "; the steps are " + strings.Join(names, ", ")
				}
				return cty.NilVal, function.NewArgError(0, fmt.Errorf("%s", msg))
			}
			if changed == nil {
				return cty.False, nil
			}
			return cty.BoolVal(changed(name)), nil
		},
	})
}

// lengthFunc counts a collection's elements or, like Terraform's, a
// string's characters.
var lengthFunc = function.New(&function.Spec{
	Description: "The number of elements of a collection, or of characters of a string.",
	Params:      []function.Parameter{{Name: "value", Type: cty.DynamicPseudoType, AllowDynamicType: true, AllowUnknown: true}},
	Type:        function.StaticReturnType(cty.Number),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		if args[0].Type() == cty.String {
			return stdlib.Strlen(args[0])
		}
		if t := args[0].Type(); t.IsObjectType() && args[0].IsKnown() && !args[0].IsNull() {
			return cty.NumberIntVal(int64(len(t.AttributeTypes()))), nil
		}
		return stdlib.Length(args[0])
	},
})
