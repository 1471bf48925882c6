package omsconfig

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// templateRef matches a ${name} placeholder, with the quotes around it when
// the template already quoted it (the seed's template writes '${tsdb_url}').
var templateRef = regexp.MustCompile(`'\$\{([A-Za-z0-9_]+)\}'|"\$\{([A-Za-z0-9_]+)\}"|\$\{([A-Za-z0-9_]+)\}`)

// RenderTemplate fills a user's config.yaml template written in the seed's
// style: ${key} for every key, ${host_ip1}, ${host_ip2}, … for the cm_nodes
// entries, ${tsdb_user} for tsdb_username (the seed's spelling), and
// ${cm_nodes} for the whole list in flow style. Strings are quoted as Render
// quotes them, replacing any quotes the template put around the placeholder,
// so passwords survive whatever they contain. Comment lines are left as they
// are. Every unknown placeholder is reported.
func RenderTemplate(tmpl []byte, c Config) ([]byte, error) {
	values := map[string]string{}
	for _, k := range Table {
		switch f := k.field(&c).(type) {
		case *int:
			if v := *f; v != 0 || k.ZeroValid {
				values[k.Name] = strconv.Itoa(v)
			} else if k.OMSDefault != "" {
				// An unset port in a template that names it: OMS's default.
				values[k.Name] = k.OMSDefault
			} else {
				values[k.Name] = "0"
			}
		case *bool:
			values[k.Name] = strconv.FormatBool(*f)
		case *[]string:
		default:
			values[k.Name] = Quote(k.text(&c))
		}
	}
	values["tsdb_user"] = values[KeyTSDBUsername]
	nodes := make([]string, len(c.CMNodes))
	for i, n := range c.CMNodes {
		nodes[i] = Quote(n)
		values["host_ip"+strconv.Itoa(i+1)] = Quote(n)
	}
	values[KeyCMNodes] = "[" + strings.Join(nodes, ", ") + "]"

	var errs []error
	lines := strings.SplitAfter(string(tmpl), "\n")
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "#") {
			continue
		}
		lines[i] = templateRef.ReplaceAllStringFunc(l, func(m string) string {
			sub := templateRef.FindStringSubmatch(m)
			name := sub[1] + sub[2] + sub[3]
			v, ok := values[name]
			if !ok {
				hint := ""
				if strings.HasPrefix(name, "host_ip") {
					hint = fmt.Sprintf(" (cm_nodes has %d entries)", len(c.CMNodes))
				} else if s := suggest(name); s != "" {
					hint = " (did you mean ${" + s + "}?)"
				}
				errs = append(errs, fmt.Errorf("template line %d: unknown placeholder ${%s}%s", i+1, name, hint))
				return m
			}
			return v
		})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return []byte(strings.Join(lines, "")), nil
}
