package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/mattn/go-shellwords"
	"github.com/spf13/cobra"
	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/diag"
	"github.com/omsrun/omsrun/internal/engine"
	"github.com/omsrun/omsrun/internal/playbook"
	"github.com/omsrun/omsrun/internal/secret"
	"github.com/omsrun/omsrun/inventory"
	"github.com/omsrun/omsrun/modules/builtin"
)

func (a *App) execCmd() *cobra.Command {
	g := &globals{}
	var module, moduleArgs string
	var become bool
	c := &cobra.Command{
		Use:   "exec -i INVENTORY PATTERN [-m MODULE -a 'key=value …' | -- COMMAND [ARGS…]]",
		Short: "Run one command or module on every matched host at once",
		Example: `  omsrun exec -i inventory all -- uptime
  omsrun exec -i inventory oms -- docker ps --format '{{.Names}} {{.Status}}'
  omsrun exec -i inventory oms1 -m wait_for -a 'url=http://127.0.0.1:8089/oms/health timeout=60s'`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pattern, rest := args[0], args[1:]
			dash := cmd.ArgsLenAtDash()
			if dash >= 0 && dash != 1 {
				return invalid("put exactly one host pattern before --, then the command")
			}
			var attrs map[string]cty.Value
			switch {
			case module != "" && len(rest) > 0:
				return invalid("%s", bothFormsMsg(g, pattern, module, moduleArgs, rest))
			case module != "":
				var err error
				if attrs, err = parseModuleArgs(moduleArgs); err != nil {
					return invalid("-a: %v", err)
				}
			case len(rest) > 0:
				module = "command"
				vals := make([]cty.Value, len(rest))
				for i, s := range rest {
					vals[i] = cty.StringVal(s)
				}
				attrs = map[string]cty.Value{"argv": cty.ListVal(vals)}
			default:
				return invalid("nothing to run: add `-- COMMAND [ARGS…]` or `-m MODULE -a 'key=value …'`")
			}
			if _, ok := builtin.Lookup(module); !ok {
				return invalid("unknown module %q; `omsrun modules` lists them", module)
			}
			return a.runExec(cmd, g, pattern, module, execCommand(module, moduleArgs, attrs, rest), attrs, become, len(rest) > 0)
		},
	}
	addHostFlags(c, g)
	f := c.Flags()
	f.StringVarP(&module, "module", "m", "", "module to run instead of a command")
	f.StringVarP(&moduleArgs, "args", "a", "", "module arguments as key=value pairs")
	f.BoolVarP(&become, "become", "b", false, "run through sudo")
	return c
}

func (a *App) runExec(cmd *cobra.Command, g *globals, pattern, module, recorded string, attrs map[string]cty.Value, become, adhoc bool) error {
	if len(g.inventories) == 0 {
		return invalid("no inventory: pass -i FILE")
	}
	inv, diags := inventory.Load(g.inventories)
	if diags.HasErrors() {
		return a.problems(g, nil, diags, fmt.Errorf("invalid inventory"))
	}
	targets, err := inv.Match(pattern)
	if err != nil {
		return invalid("pattern %q: %v", pattern, err)
	}
	if len(targets) == 0 {
		return invalid("pattern %q matches no host", pattern)
	}
	if become {
		for i, h := range targets {
			c := *h
			c.Become = true
			targets[i] = &c
		}
	}
	st := &playbook.Step{Name: module, Hosts: pattern, Module: module, Body: &staticBody{attrs: attrs}, ModuleRange: cmdline, HostsRange: cmdline}
	pb := &playbook.Playbook{Path: "exec", Vars: map[string]cty.Value{}, Locals: map[string]cty.Value{}, Steps: []*playbook.Step{st}, MaxFailPercentage: -1}
	// The step is checked exactly as a playbook's step is, for every
	// matched host, before any connection.
	vd := playbook.Validate(pb, inv, moduleArgs, moduleValidate)
	fd := hostFileDiags(targets, g)
	r := secret.NewRedactor()
	for _, h := range inv.Hosts {
		r.Add(h.Password.Reveal(), h.BecomePassword.Reveal())
	}
	// A problem's snippet shows the command as it is recorded, secrets
	// masked: the line typed may hold a password (`-a "cmd='mysql -pX'"`).
	shown := map[string]*hcl.File{cmdline.Filename: {Bytes: []byte(r.Scrub(recorded))}}
	all := append(append(diags, fd...), vd...)
	if vd.HasErrors() {
		return a.problems(g, shown, all, fmt.Errorf("invalid module arguments; nothing was run"))
	}
	if fd.HasErrors() {
		return a.problems(g, shown, all, fmt.Errorf("%d problem(s) with the connection files; nothing was run", countErrors(fd)))
	}
	if len(all) > 0 {
		a.renderDiags(g, shown, all)
	}
	l := &loaded{inv: inv, pb: pb, targets: targets, redactor: r, command: r.Scrub(recorded)}
	var sink engine.Sink
	if g.jsonOut {
		sink = a.sink(g, r)
	} else {
		sink = &execSink{Sink: a.sink(g, r), w: a.Stdout}
	}
	// A module runs as a playbook step would: a changing one takes the run
	// lock. A command cannot be classified: it is never refused (it is how
	// one looks at a locked cluster) but is audited, with a warning when
	// another run holds the lock.
	mode := runLock
	if adhoc {
		mode = auditOnly
	}
	return a.execute(cmd.Context(), g, l, sink, mode)
}

// execSink adds each host's command output, as one block per host, to the usual lines.
type execSink struct {
	engine.Sink
	w  io.Writer
	mu sync.Mutex
}

func (s *execSink) HostResult(r engine.HostResult) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Sink.HostResult(r)
	var b strings.Builder
	for _, part := range []string{r.Stdout, r.Stderr} {
		for _, l := range strings.Split(strings.TrimRight(part, "\n"), "\n") {
			if part != "" {
				fmt.Fprintf(&b, "    %s | %s\n", r.Host, l)
			}
		}
	}
	io.WriteString(s.w, b.String())
}

// parseModuleArgs reads `key=value key2='two words' list=[1,2]`. Values stay
// strings unless they are HCL lists, objects or quoted strings; the module's
// schema converts strings to numbers and booleans where it wants them.
func parseModuleArgs(s string) (map[string]cty.Value, error) {
	// POSIX shell word rules (quotes and backslashes), as the shell would
	// split the same text; $VAR and `cmd` are left as they are.
	words, err := shellwords.Parse(s)
	if err != nil {
		return nil, err
	}
	out := map[string]cty.Value{}
	for _, w := range words {
		k, v, ok := strings.Cut(w, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%q is not key=value", w)
		}
		if !hclsyntax.ValidIdentifier(k) {
			return nil, fmt.Errorf("%q is not a valid argument name", k)
		}
		val := cty.StringVal(v)
		if strings.HasPrefix(v, "[") || strings.HasPrefix(v, "{") {
			if d := diag.CheckNesting("-a", []byte(v)); d.HasErrors() {
				return nil, fmt.Errorf("%s: %s", k, d[0].Detail)
			}
			expr, diags := hclsyntax.ParseExpression([]byte(v), "-a", hcl.InitialPos)
			if diags.HasErrors() {
				return nil, fmt.Errorf("%s: %s", k, diags.Error())
			}
			if val, diags = expr.Value(nil); diags.HasErrors() {
				return nil, fmt.Errorf("%s: %s", k, diags.Error())
			}
		}
		out[k] = val
	}
	return out, nil
}

// staticBody is a module body built from the command line rather than a file.
type staticBody struct {
	attrs map[string]cty.Value
}

var cmdline = hcl.Range{Filename: "<command line>", Start: hcl.InitialPos, End: hcl.InitialPos}

func (b *staticBody) Content(s *hcl.BodySchema) (*hcl.BodyContent, hcl.Diagnostics) {
	c, _, diags := b.PartialContent(s)
	known := map[string]bool{}
	args := make([]string, 0, len(s.Attributes))
	for _, a := range s.Attributes {
		known[a.Name] = true
		args = append(args, a.Name)
	}
	names := make([]string, 0, len(b.attrs))
	for k := range b.attrs {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if !known[k] {
			diags = append(diags, diag.UnsupportedArgument(k, "-a", args, &cmdline))
		}
	}
	return c, diags
}

func (b *staticBody) PartialContent(s *hcl.BodySchema) (*hcl.BodyContent, hcl.Body, hcl.Diagnostics) {
	c := &hcl.BodyContent{Attributes: hcl.Attributes{}, MissingItemRange: cmdline}
	var diags hcl.Diagnostics
	for _, a := range s.Attributes {
		v, ok := b.attrs[a.Name]
		if !ok {
			if a.Required {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Missing required argument",
					Detail: fmt.Sprintf("The module needs %q: add %s=… to -a.", a.Name, a.Name), Subject: &cmdline})
			}
			continue
		}
		c.Attributes[a.Name] = &hcl.Attribute{Name: a.Name, Expr: hcl.StaticExpr(v, cmdline), Range: cmdline, NameRange: cmdline}
	}
	return c, &staticBody{}, diags
}

func (b *staticBody) JustAttributes() (hcl.Attributes, hcl.Diagnostics) {
	out := hcl.Attributes{}
	for k, v := range b.attrs {
		out[k] = &hcl.Attribute{Name: k, Expr: hcl.StaticExpr(v, cmdline), Range: cmdline, NameRange: cmdline}
	}
	return out, nil
}

func (b *staticBody) MissingItemRange() hcl.Range { return cmdline }
