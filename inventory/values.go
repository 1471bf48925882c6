package inventory

import (
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// Settings from INI files arrive as strings; these convert them (and HCL
// values) to the type each connection setting needs.

func toPort(v cty.Value) (int, error) {
	if v.Type() == cty.String {
		s := strings.TrimSpace(v.AsString())
		n, err := strconv.Atoi(s)
		if err != nil {
			return 0, fmt.Errorf("is %q, not a number", s)
		}
		v = cty.NumberIntVal(int64(n))
	}
	if v.Type() != cty.Number {
		return 0, fmt.Errorf("is a %s, not a number", v.Type().FriendlyName())
	}
	bf := v.AsBigFloat()
	if !bf.IsInt() {
		return 0, fmt.Errorf("is %s, not a whole number", bf.Text('f', -1))
	}
	n, acc := bf.Int64()
	if acc != big.Exact || n < 1 || n > 65535 {
		return 0, fmt.Errorf("is %s, out of range", bf.Text('f', -1))
	}
	return int(n), nil
}

// toBool reads a boolean the way Ansible's boolean() does, so existing
// inventories keep working: true, yes, on, y, t and 1 (any case, or the
// number 1) are true; false, no, off, n, f and 0 are false.
func toBool(v cty.Value) (bool, error) {
	switch v.Type() {
	case cty.Bool:
		return v.True(), nil
	case cty.Number:
		switch v.AsBigFloat().Text('f', -1) {
		case "1":
			return true, nil
		case "0":
			return false, nil
		}
		return false, fmt.Errorf("is %s, not true or false (1 or 0)", v.AsBigFloat().Text('f', -1))
	case cty.String:
		switch strings.ToLower(strings.TrimSpace(v.AsString())) {
		case "true", "yes", "on", "y", "t", "1":
			return true, nil
		case "false", "no", "off", "n", "f", "0":
			return false, nil
		}
		return false, fmt.Errorf("is %q, not true or false", v.AsString())
	}
	return false, fmt.Errorf("is a %s, not a bool", v.Type().FriendlyName())
}

func toString(v cty.Value) (string, error) {
	s, err := convert.Convert(v, cty.String)
	if err != nil || s.IsNull() || !s.IsKnown() {
		return "", fmt.Errorf("is a %s", v.Type().FriendlyName())
	}
	return s.AsString(), nil
}

// renderValue prints a value deterministically (object keys sorted), with
// marked values hidden; it is used in messages and in Dump.
func renderValue(v cty.Value) string {
	if v.IsMarked() {
		return "(sensitive)"
	}
	if !v.IsKnown() {
		return "(unknown)"
	}
	if v.IsNull() {
		return "null"
	}
	t := v.Type()
	switch {
	case t == cty.String:
		return strconv.Quote(v.AsString())
	case t == cty.Number:
		return v.AsBigFloat().Text('f', -1)
	case t == cty.Bool:
		return strconv.FormatBool(v.True())
	case t.IsObjectType() || t.IsMapType():
		var keys []string
		m := map[string]cty.Value{}
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			keys = append(keys, k.AsString())
			m[k.AsString()] = e
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + " = " + renderValue(m[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case t.IsListType() || t.IsTupleType() || t.IsSetType():
		var parts []string
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			parts = append(parts, renderValue(e))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return v.GoString()
}

// RenderValue is renderValue for other packages' dumps and messages.
func RenderValue(v cty.Value) string { return renderValue(v) }
