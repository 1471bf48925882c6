package playbook

import (
	"encoding/json"
	"errors"
	"fmt"
	goldenfile "github.com/omsrun/omsrun/internal/golden"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/secret"
	"github.com/omsrun/omsrun/inventory"
)

// Fake modules: the playbook package must not depend on the real ones, only
// on "a name and an argument struct with hcl tags".
type shellArgs struct {
	Cmd   string `hcl:"cmd"`
	Chdir string `hcl:"chdir,optional"`
}

type commandArgs struct {
	Argv []string `hcl:"argv"`
}

type copyArgs struct {
	Dest    string  `hcl:"dest"`
	Content *string `hcl:"content,optional"`
	Src     *string `hcl:"src,optional"`
	Mode    string  `hcl:"mode,optional"`
}

type waitForArgs struct {
	Port    int    `hcl:"port"`
	Host    string `hcl:"host,optional"`
	Timeout string `hcl:"timeout,optional"`
}

var fakeModules = []string{"command", "copy", "shell", "wait_for"}

func newArgs(name string) (any, bool) {
	switch name {
	case "shell":
		return &shellArgs{}, true
	case "command":
		return &commandArgs{}, true
	case "copy":
		return &copyArgs{}, true
	case "wait_for":
		return &waitForArgs{}, true
	}
	return nil, false
}

func validateArgs(name string, args any) error {
	if c, ok := args.(*copyArgs); ok {
		if (c.Content == nil) == (c.Src == nil) {
			return errors.New("give exactly one of content and src")
		}
		if c.Mode != "" && strings.Trim(c.Mode, "01234567") != "" {
			return fmt.Errorf("mode %q is not octal", c.Mode)
		}
	}
	return nil
}

// dump writes a playbook and what every step decodes to on every host,
// secrets scrubbed by value the way the output layer does it.
func dump(w io.Writer, p *Playbook, inv *inventory.Inventory) {
	red := secret.NewRedactor()
	for _, n := range slices.Sorted(maps.Keys(p.Variables)) {
		v := p.Variables[n]
		fmt.Fprintf(w, "variable %s: %s", n, typeexpr.TypeString(v.Type))
		if v.Sensitive {
			fmt.Fprint(w, ", sensitive")
		}
		if v.Description != "" {
			fmt.Fprintf(w, ", %q", v.Description)
		}
		fmt.Fprintf(w, " = %s\n", inventory.RenderValue(p.Vars[n]))
		red.AddValue(p.Vars[n])
	}
	for _, n := range slices.Sorted(maps.Keys(p.Locals)) {
		red.AddValue(p.Locals[n])
		fmt.Fprintf(w, "local %s = %s\n", n, red.Scrub(inventory.RenderValue(p.Locals[n])))
	}
	fmt.Fprintf(w, "max_fail_percentage = %d, any_errors_fatal = %v\n", p.MaxFailPercentage, p.AnyErrorsFatal)
	for _, st := range p.Steps {
		fmt.Fprintf(w, "step %q  # %s:%d:%d\n", st.Name, st.DeclRange.Filename, st.DeclRange.Start.Line, st.DeclRange.Start.Column)
		fmt.Fprintf(w, "  hosts=%q serial=%q run_once=%v timeout=%s retries=%d delay=%s ignore_errors=%v\n",
			st.Hosts, st.Serial, st.RunOnce, st.Timeout, st.Retries, st.Delay, st.IgnoreErrors)
		src := p.Files[p.Path].Bytes
		if st.When != nil {
			fmt.Fprintf(w, "  when: %s\n", st.When.Range().SliceBytes(src))
		}
		if st.Until != nil {
			fmt.Fprintf(w, "  until: %s\n", st.Until.Range().SliceBytes(src))
		}
		fmt.Fprintf(w, "  module %s\n", st.Module)
		pattern := st.Hosts
		if pattern == "" {
			pattern = "all"
		}
		hosts, err := inv.Match(pattern)
		if err != nil {
			fmt.Fprintf(w, "  error: %v\n", err)
			continue
		}
		for _, h := range hosts {
			s := Scope{Host: h, Inv: inv}
			run, diags := EvalWhen(p, st, s, red.AddValue)
			if diags.HasErrors() {
				fmt.Fprintf(w, "  %s: when error: %s\n", h.Name, diags.Error())
				continue
			}
			if !run {
				fmt.Fprintf(w, "  %s: skipped\n", h.Name)
				continue
			}
			args, _ := newArgs(st.Module)
			if diags := DecodeStep(p, st, s, args, red.AddValue); diags.HasErrors() {
				fmt.Fprintf(w, "  %s: decode error: %s\n", h.Name, diags.Error())
				continue
			}
			b, _ := json.Marshal(args)
			fmt.Fprintf(w, "  %s: %s\n", h.Name, red.Scrub(string(b)))
		}
	}
}

func loadLab(t testing.TB) *inventory.Inventory {
	inv, diags := inventory.Load([]string{"testdata/inventory/lab.hcl"})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return inv
}

var _ = cty.NilVal

func golden(t *testing.T, path string, got []byte) { t.Helper(); goldenfile.Check(t, path, got) }
