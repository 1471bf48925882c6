package cli

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/omsrun/omsrun/internal/secret"
	"github.com/omsrun/omsrun/inventory"
	"github.com/omsrun/omsrun/modules/builtin"
)

func (a *App) validateCmd() *cobra.Command {
	g := &globals{}
	c := &cobra.Command{
		Use:   "validate PLAYBOOK -i INVENTORY [-e …]",
		Short: "Run every static check of a playbook, inventory and variables; no SSH",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, err := a.resolvePlaybook(args[0])
			if err != nil {
				return err
			}
			l, err := a.load(cmd.Context(), g, ref)
			if err != nil {
				return err
			}
			if g.jsonOut {
				// One event, as a failed validate's error event.
				b, err := json.Marshal(map[string]any{"type": "valid", "playbook": args[0], "steps": len(l.pb.Steps), "hosts": len(l.targets), "diagnostics": l.warnings})
				if err != nil {
					return err
				}
				fmt.Fprintf(a.Stdout, "%s\n", b)
				return nil
			}
			fmt.Fprintf(a.Stdout, "%s: valid (%d step(s), %d host(s) targeted)\n", args[0], len(l.pb.Steps), len(l.targets))
			return nil
		},
	}
	addRunFlags(c, g)
	return c
}

func (a *App) inventoryCmd() *cobra.Command {
	var paths []string
	var graph, asJSON bool
	c := &cobra.Command{
		Use:   "inventory -i INVENTORY [--graph|--json]",
		Short: "Show hosts, groups and merged variables (secrets redacted)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(paths) == 0 {
				return invalid("no inventory: pass -i FILE")
			}
			inv, diags := inventory.Load(paths)
			if diags.HasErrors() {
				return a.problems(&globals{}, nil, diags, fmt.Errorf("invalid inventory"))
			}
			switch {
			case asJSON:
				return a.inventoryJSON(inv)
			case graph:
				a.inventoryGraph(inv)
			default:
				a.inventoryList(inv)
			}
			return nil
		},
	}
	c.Flags().StringArrayVarP(&paths, "inventory", "i", nil, "inventory file or directory (repeatable)")
	c.Flags().BoolVar(&graph, "graph", false, "show the group tree")
	c.Flags().BoolVar(&asJSON, "json", false, "machine-readable output")
	return c
}

func redacted(s secret.String) string {
	if s == "" {
		return ""
	}
	return secret.Mask
}

func (a *App) inventoryJSON(inv *inventory.Inventory) error {
	r := secret.NewRedactor()
	type hostOut struct {
		Name           string                     `json:"name"`
		Address        string                     `json:"address"`
		Port           int                        `json:"port"`
		User           string                     `json:"user,omitempty"`
		KeyFile        string                     `json:"key_file,omitempty"`
		Password       string                     `json:"password,omitempty"`
		Become         bool                       `json:"become"`
		BecomePassword string                     `json:"become_password,omitempty"`
		Groups         []string                   `json:"groups"`
		Vars           map[string]json.RawMessage `json:"vars"`
	}
	out := struct {
		Hosts  []hostOut           `json:"hosts"`
		Groups map[string][]string `json:"groups"`
	}{Groups: map[string][]string{}}
	for _, h := range inv.Hosts {
		r.Add(h.Password.Reveal(), h.BecomePassword.Reveal())
		ho := hostOut{Name: h.Name, Address: h.Address, Port: h.Port, User: h.User, KeyFile: h.KeyFile,
			Password: redacted(h.Password), Become: h.Become, BecomePassword: redacted(h.BecomePassword), Groups: h.Groups, Vars: map[string]json.RawMessage{}}
		for k, v := range h.Vars {
			r.AddValue(v)
			u, _ := v.UnmarkDeep()
			b, err := ctyjson.Marshal(u, u.Type())
			if err != nil {
				continue
			}
			ho.Vars[k] = b
		}
		out.Hosts = append(out.Hosts, ho)
	}
	for name, g := range inv.Groups {
		hosts, _ := inv.Match(name)
		for _, h := range hosts {
			out.Groups[name] = append(out.Groups[name], h.Name)
		}
		_ = g
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintln(a.Stdout, r.Scrub(string(b)))
	return nil
}

func (a *App) inventoryList(inv *inventory.Inventory) {
	r := secret.NewRedactor()
	for _, h := range inv.Hosts {
		r.Add(h.Password.Reveal(), h.BecomePassword.Reveal())
		var b strings.Builder
		fmt.Fprintf(&b, "%s  %s:%d", h.Name, h.Address, h.Port)
		if h.User != "" {
			fmt.Fprintf(&b, "  user=%s", h.User)
		}
		if h.Become {
			b.WriteString("  become")
		}
		fmt.Fprintf(&b, "  groups=%s", strings.Join(h.Groups, ","))
		keys := make([]string, 0, len(h.Vars))
		for k := range h.Vars {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v := h.Vars[k]
			r.AddValue(v)
			u, marks := v.UnmarkDeep()
			text := secret.Mask
			if len(marks) == 0 {
				if bs, err := ctyjson.Marshal(u, u.Type()); err == nil {
					text = string(bs)
				}
			}
			fmt.Fprintf(&b, "\n    %s = %s", k, text)
		}
		fmt.Fprintln(a.Stdout, r.Scrub(b.String()))
	}
}

func (a *App) inventoryGraph(inv *inventory.Inventory) {
	isChild := map[string]bool{}
	for _, g := range inv.Groups {
		for _, c := range g.Children {
			isChild[c] = true
		}
	}
	// walk prints a group and what it holds, each level indented under its parent.
	var walk func(name, indent string)
	walk = func(name, indent string) {
		fmt.Fprintf(a.Stdout, "%s|--@%s\n", indent, name)
		g := inv.Groups[name]
		if g == nil {
			return
		}
		for _, c := range g.Children {
			walk(c, indent+"|  ")
		}
		for _, h := range g.Hosts {
			fmt.Fprintf(a.Stdout, "%s|  |--%s\n", indent, h)
		}
	}
	names := make([]string, 0, len(inv.Groups))
	for n := range inv.Groups {
		if !isChild[n] && n != "all" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	fmt.Fprintln(a.Stdout, "@all")
	for _, n := range names {
		walk(n, "  ")
	}
}

func (a *App) modulesCmd() *cobra.Command {
	var markdown bool
	c := &cobra.Command{
		Use:   "modules [NAME]",
		Short: "Module reference, generated from the modules' own schemas",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if markdown {
				fmt.Fprint(a.Stdout, ModulesMarkdown())
				return nil
			}
			if len(args) == 0 {
				for _, n := range builtin.Names() {
					m, _ := builtin.Lookup(n)
					fmt.Fprintf(a.Stdout, "%-20s %s\n", n, m.Doc().Summary)
				}
				return nil
			}
			m, ok := builtin.Lookup(args[0])
			if !ok {
				return invalid("unknown module %q; `omsrun modules` lists them", args[0])
			}
			fmt.Fprint(a.Stdout, ModuleReference(m))
			return nil
		},
	}
	c.Flags().BoolVar(&markdown, "markdown", false, "the whole reference as Markdown (docs/modules.md)")
	return c
}
