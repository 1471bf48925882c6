package playbook

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// Functions whose cty stdlib namesake means something else than Terraform's
// function of that name: the playbook promises Terraform's meaning.

// indexFunc is Terraform's index(list, value): the position of value in
// list (cty's stdlib.IndexFunc looks an element up by key instead).
var indexFunc = function.New(&function.Spec{
	Description: "The index of the first element of list equal to value.",
	Params: []function.Parameter{
		{Name: "list", Type: cty.DynamicPseudoType},
		{Name: "value", Type: cty.DynamicPseudoType},
	},
	Type: function.StaticReturnType(cty.Number),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		list, value := args[0], args[1]
		if !(list.Type().IsListType() || list.Type().IsTupleType()) {
			return cty.NilVal, function.NewArgError(0, fmt.Errorf("index needs a list, not %s", list.Type().FriendlyName()))
		}
		if !list.IsWhollyKnown() || !value.IsKnown() {
			return cty.UnknownVal(cty.Number), nil
		}
		for it := list.ElementIterator(); it.Next(); {
			i, e := it.Element()
			eq, err := stdlib.Equal(e, value)
			if err != nil {
				continue // a different type is simply not equal
			}
			if eq.IsKnown() && eq.True() {
				return i, nil
			}
		}
		return cty.NilVal, errors.New("the value is not in the list")
	},
})

// replaceFunc is Terraform's replace(string, substring, replacement): a
// substring wrapped in slashes is a regular expression ($1 refers to its groups).
var replaceFunc = function.New(&function.Spec{
	Description: "string with every substring (or /regular expression/) replaced.",
	Params: []function.Parameter{
		{Name: "str", Type: cty.String},
		{Name: "substr", Type: cty.String},
		{Name: "replace", Type: cty.String},
	},
	Type: function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		str, sub, repl := args[0].AsString(), args[1].AsString(), args[2].AsString()
		if len(sub) > 1 && sub[0] == '/' && sub[len(sub)-1] == '/' {
			re, err := regexp.Compile(sub[1 : len(sub)-1])
			if err != nil {
				return cty.NilVal, function.NewArgError(1, err)
			}
			return cty.StringVal(re.ReplaceAllString(str, repl)), nil
		}
		return cty.StringVal(strings.ReplaceAll(str, sub, repl)), nil
	},
})

// coalesceFunc is Terraform's coalesce: the first argument that is neither
// null nor an empty string (cty's returns an empty string as a value).
var coalesceFunc = function.New(&function.Spec{
	Description: "The first argument that is neither null nor an empty string.",
	VarParam:    &function.Parameter{Name: "vals", Type: cty.DynamicPseudoType, AllowNull: true, AllowUnknown: true, AllowDynamicType: true},
	Type: func(args []cty.Value) (cty.Type, error) {
		return stdlib.CoalesceFunc.ReturnTypeForValues(args)
	},
	Impl: func(args []cty.Value, retType cty.Type) (cty.Value, error) {
		for _, a := range args {
			if !a.IsKnown() {
				return cty.UnknownVal(retType), nil
			}
			if a.IsNull() || a.Type() == cty.String && a.AsString() == "" {
				continue
			}
			return convert.Convert(a, retType)
		}
		return cty.NilVal, errors.New("every argument is null or an empty string")
	},
})
