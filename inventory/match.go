package inventory

import (
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
)

// Host returns the named host, or nil.
func (inv *Inventory) Host(name string) *Host {
	if h, ok := inv.byName[name]; ok {
		return h
	}
	for _, h := range inv.Hosts {
		if h.Name == name {
			return h
		}
	}
	return nil
}

// GroupHosts returns every host in the group, directly or through its
// children, in inventory order; nil for an unknown group.
func (inv *Inventory) GroupHosts(group string) []*Host {
	if _, ok := inv.Groups[group]; !ok {
		return nil
	}
	if inv.members != nil {
		return inv.members[group]
	}
	var out []*Host
	for _, h := range inv.Hosts {
		if contains(h.Groups, group) {
			out = append(out, h)
		}
	}
	return out
}

// Match returns the hosts an Ansible-style pattern selects, in inventory
// order. Terms are separated by ',' or ':' and are host names, group names,
// globs (oms*, web-0?) or regular expressions (~web\d+). The plain terms are
// united, then "&term" intersects and "!term" removes. A term that is not a
// glob and names no host or group is an error, so a typo never silently
// selects nothing.
func (inv *Inventory) Match(pattern string) ([]*Host, error) {
	terms := splitPattern(pattern)
	if len(terms) == 0 {
		return nil, fmt.Errorf("empty host pattern; give a host, a group or \"all\"")
	}
	var union, inter, excl []map[string]bool
	for _, t := range terms {
		kind := byte(0)
		if t[0] == '!' || t[0] == '&' {
			kind, t = t[0], t[1:]
		}
		set, err := inv.term(t)
		if err != nil {
			return nil, err
		}
		switch kind {
		case '!':
			excl = append(excl, set)
		case '&':
			inter = append(inter, set)
		default:
			union = append(union, set)
		}
	}
	// A pattern made only of exclusions ("!db") means "all but".
	if len(union) == 0 {
		union = append(union, inv.all())
	}
	var out []*Host
	for _, h := range inv.Hosts {
		if !anyHas(union, h.Name) {
			continue
		}
		keep := true
		for _, s := range inter {
			keep = keep && s[h.Name]
		}
		if keep && !anyHas(excl, h.Name) {
			out = append(out, h)
		}
	}
	return out, nil
}

func anyHas(sets []map[string]bool, name string) bool {
	for _, s := range sets {
		if s[name] {
			return true
		}
	}
	return false
}

func (inv *Inventory) all() map[string]bool {
	set := map[string]bool{}
	for _, h := range inv.Hosts {
		set[h.Name] = true
	}
	return set
}

// splitPattern splits on ',' and, when there is no ',', on ':' (Ansible's
// older separator), leaving ':' inside a regex or an IPv6 address alone.
func splitPattern(p string) []string {
	sep := ","
	if !strings.Contains(p, ",") && !strings.HasPrefix(p, "~") && strings.Count(p, ":") > 0 && !strings.Contains(p, "::") {
		sep = ":"
	}
	var out []string
	for _, t := range strings.Split(p, sep) {
		if t = strings.TrimSpace(t); t != "" && t != "!" && t != "&" {
			out = append(out, t)
		}
	}
	return out
}

// term resolves one pattern term to a set of host names.
func (inv *Inventory) term(t string) (map[string]bool, error) {
	set := map[string]bool{}
	if t == "all" || t == "*" {
		return inv.all(), nil
	}
	addGroup := func(g string) {
		for _, h := range inv.GroupHosts(g) {
			set[h.Name] = true
		}
	}
	if strings.HasPrefix(t, "~") {
		re, err := regexp.Compile(t[1:])
		if err != nil {
			return nil, fmt.Errorf("host pattern %q: invalid regular expression: %w", t, err)
		}
		for _, h := range inv.Hosts {
			if re.MatchString(h.Name) {
				set[h.Name] = true
			}
		}
		for g := range inv.Groups {
			if re.MatchString(g) {
				addGroup(g)
			}
		}
		return set, nil
	}
	if strings.ContainsAny(t, "*?[") {
		if _, err := path.Match(t, ""); err != nil {
			return nil, fmt.Errorf("host pattern %q: invalid glob: %w", t, err)
		}
		for _, h := range inv.Hosts {
			if ok, _ := path.Match(t, h.Name); ok {
				set[h.Name] = true
			}
		}
		for g := range inv.Groups {
			if ok, _ := path.Match(t, g); ok {
				addGroup(g)
			}
		}
		return set, nil
	}
	if _, ok := inv.Groups[t]; ok {
		addGroup(t)
		return set, nil
	}
	if inv.Host(t) != nil {
		set[t] = true
		return set, nil
	}
	return nil, &NoMatchError{Pattern: t, suggestion: inv.suggest(t)}
}

// NoMatchError is a well-formed host pattern that names no host or group
// of the inventory: a caller that knows what the pattern was for can say
// what to do (a region whose hosts all left the inventory).
type NoMatchError struct {
	Pattern    string
	suggestion string // "; did you mean …?" or ""
}

func (e *NoMatchError) Error() string {
	return fmt.Sprintf("host pattern %q %s", e.Pattern, e.Why())
}

// Why is the error without the pattern: "matches no host or group", and a
// suggestion when a name is close.
func (e *NoMatchError) Why() string { return "matches no host or group" + e.suggestion }

func (inv *Inventory) suggest(t string) string {
	var names []string
	for _, h := range inv.Hosts {
		names = append(names, h.Name)
	}
	for g := range inv.Groups {
		names = append(names, g)
	}
	sort.Strings(names)
	if s := suggestName(t, names); s != "" {
		return fmt.Sprintf("; did you mean %q?", s)
	}
	return ""
}
