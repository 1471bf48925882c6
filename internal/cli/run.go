package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/omsrun/omsrun/internal/diag"
	"github.com/omsrun/omsrun/internal/engine"
	"github.com/omsrun/omsrun/internal/output"
	"github.com/omsrun/omsrun/internal/playbook"
	"github.com/omsrun/omsrun/internal/secret"
	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/inventory"
	"github.com/omsrun/omsrun/modules"
	"github.com/omsrun/omsrun/modules/builtin"
)

// loaded is everything checked before the first connection.
type loaded struct {
	inv      *inventory.Inventory
	pb       *playbook.Playbook
	targets  []*inventory.Host
	redactor *secret.Redactor
	// command is what an exec runs, secrets masked, for its audit line and
	// record (its playbook is only "exec").
	command string
	// warnings are the problems that did not stop the load, for validate --json.
	warnings []diag.Entry
}

// load reads the inventory, variables and playbook and runs every static check.
// Nothing here touches a host; all problems are rendered at once.
func (a *App) load(ctx context.Context, g *globals, ref playbookRef) (*loaded, error) {
	if err := a.defaultOMSConfigInventory(g); err != nil {
		return nil, err
	}
	if !g.hasInventory() {
		return nil, invalid("no inventory: pass -i FILE (an HCL or INI inventory, or a directory of them), or --oms-config config.yaml to use its cm_nodes")
	}
	files := map[string]*hcl.File{}
	if ref.FS != nil {
		// Snippets of a shipped playbook come from the binary, even when
		// loading stopped before the playbook's files were kept.
		_ = fs.WalkDir(ref.FS, ".", func(name string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if b, err := fs.ReadFile(ref.FS, name); err == nil {
					files[name] = &hcl.File{Bytes: b}
				}
			}
			return nil
		})
	}
	var diags hcl.Diagnostics
	inv, d := g.loadInventory()
	diags = append(diags, d...)
	var pb *playbook.Playbook
	if !d.HasErrors() {
		diags = append(diags, hostFileDiags(limitedHosts(inv, g.limit), g)...)
		if g.ask == nil && hasTerminal() {
			g.ask = func(p string) (string, error) { return a.askSecret(ctx, p) }
		}
		preset, args, d := varSources(g)
		diags = append(diags, d...)
		if !d.HasErrors() {
			var d hcl.Diagnostics
			pb, d = playbook.Load(ref.Path, playbook.Options{ExtraVars: args, Preset: preset, Modules: builtin.Names(), Inventory: inv, Sources: files, FS: ref.FS})
			diags = append(diags, d...)
			if pb != nil {
				for k, f := range pb.Files {
					files[k] = f
				}
			}
			if !d.HasErrors() && pb != nil {
				diags = append(diags, playbook.Validate(pb, inv, moduleArgs, moduleValidate)...)
			}
		}
	}
	if ctx.Err() != nil {
		// Ctrl-C at a question (-e name=@ask): not a problem of the input.
		return nil, withCode(ExitInterrupted, fmt.Errorf("interrupted; nothing was run"), false)
	}
	if diags.HasErrors() {
		return nil, a.problems(g, files, diags, fmt.Errorf("%d problem(s); nothing was run", countErrors(diags)))
	}
	if len(diags) > 0 {
		a.renderDiags(g, files, diags)
	}
	if err := checkStartAt(g.startAt, pb); err != nil {
		return nil, err
	}
	targets := inv.Hosts
	if g.limit != "" {
		var err error
		if targets, err = inv.Match(g.limit); err != nil {
			return nil, invalid("--limit %q: %v", g.limit, err)
		}
		if len(targets) == 0 {
			return nil, invalid("--limit %q matches no host of the inventory", g.limit)
		}
	}
	r := secret.NewRedactor()
	for _, h := range inv.Hosts {
		r.Add(h.Password.Reveal(), h.BecomePassword.Reveal())
	}
	if pb != nil {
		for _, v := range pb.Vars {
			r.AddValue(v)
		}
		for _, v := range pb.Locals {
			r.AddValue(v)
		}
	}
	return &loaded{inv: inv, pb: pb, targets: targets, redactor: r, warnings: diag.Entries(files, diags)}, nil
}

// limitedHosts are the hosts --limit leaves to a run; a limit that does not
// parse or matches nothing is reported later, and all hosts are checked meanwhile.
func limitedHosts(inv *inventory.Inventory, limit string) []*inventory.Host {
	if limit != "" {
		if m, err := inv.Match(limit); err == nil && len(m) > 0 {
			return m
		}
	}
	return inv.Hosts
}

// checkStartAt refuses a --start-at-step that names no step: the run would
// skip every step and report success, and --check would predict nothing.
func checkStartAt(name string, pb *playbook.Playbook) error {
	if name == "" || pb == nil {
		return nil
	}
	names := make([]string, 0, len(pb.Steps))
	for _, st := range pb.Steps {
		if st.Name == name {
			return nil
		}
		names = append(names, fmt.Sprintf("%q", st.Name))
	}
	return invalid("--start-at-step %q: %s has no step of that name; its steps are %s", name, pb.Path, strings.Join(names, ", "))
}

func countErrors(diags hcl.Diagnostics) int {
	n := 0
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			n++
		}
	}
	return n
}

func (a *App) renderDiags(g *globals, files map[string]*hcl.File, diags hcl.Diagnostics) {
	diag.Render(a.Stderr, files, diags, g.useColor(a.Stderr))
}

func moduleArgs(name string) (any, bool) {
	m, ok := builtin.Lookup(name)
	if !ok {
		return nil, false
	}
	return m.NewArgs(), true
}

func moduleValidate(name string, args any) error {
	m, ok := builtin.Lookup(name)
	if !ok {
		return nil
	}
	if v, ok := m.(modules.Validator); ok {
		return v.Validate(args)
	}
	return nil
}

// transportConfig builds the SSH settings, asking for passwords when told to.
func (a *App) transportConfig(ctx context.Context, g *globals, r *secret.Redactor) (transport.Config, error) {
	cfg := transport.Config{KnownHostsFile: g.knownHosts, AcceptNewHostKeys: g.acceptNew,
		KeepaliveInterval: g.keepalive, ConnectTimeout: g.timeout}
	// Encrypted keys are asked for on the terminal, once per key file.
	cfg.Passphrase = func(file string) ([]byte, error) {
		p, err := a.askSecret(ctx, fmt.Sprintf("Passphrase for %s: ", file))
		return []byte(p), err
	}
	if g.askPass {
		p, err := a.askSecret(ctx, "SSH password: ")
		if err != nil {
			return cfg, err
		}
		cfg.Password = secret.String(p)
		r.Add(p)
	}
	if g.askBecomePass {
		p, err := a.askSecret(ctx, "BECOME (sudo) password: ")
		if err != nil {
			return cfg, err
		}
		cfg.BecomePassword = secret.String(p)
		r.Add(p)
	}
	if g.verbose >= 2 {
		cfg.Logf = func(format string, args ...any) {
			fmt.Fprintf(a.Stderr, "ssh: %s\n", r.Scrub(fmt.Sprintf(format, args...)))
		}
	}
	return cfg, nil
}

// askSecret reads a line without echo from the terminal; Ctrl-C ends it
// (exit 130), as it ends a run.
func (a *App) askSecret(ctx context.Context, prompt string) (string, error) {
	if !hasTerminal() {
		return "", invalid("cannot ask for a password without a terminal: put it in the inventory or an environment variable instead")
	}
	p, err := readTTY(ctx, prompt, true)
	switch {
	case errors.Is(err, errInterrupted):
		return "", withCode(ExitInterrupted, fmt.Errorf("interrupted; nothing was run"), false)
	case err != nil:
		return "", invalid("reading the password: %v", err)
	}
	return p, nil
}

// confirmer asks yes/no questions on the terminal; nil when there is none,
// so a run in a script refuses instead of hanging. Ctrl-C at the question
// ends it with errInterrupted, and the run with exit 130.
func (a *App) confirmer(ctx context.Context) func(string) (bool, error) {
	if !hasTerminal() {
		return nil
	}
	return func(q string) (bool, error) {
		line, err := readTTY(ctx, q+" [y/N] ", false)
		if err != nil {
			return false, err
		}
		ans := strings.ToLower(strings.TrimSpace(line))
		return ans == "y" || ans == "yes", nil
	}
}

// sink picks the output form.
func (a *App) sink(g *globals, r *secret.Redactor) engine.Sink {
	if g.jsonOut {
		return &output.JSON{W: a.Stdout, Redactor: r}
	}
	return output.NewText(a.Stdout, r, g.useColor(a.Stdout), g.verbose, output.NewProgress(a.Stdout, isTerminal(a.Stdout) && !g.noColor))
}

func (a *App) runPlaybook(ctx context.Context, g *globals, ref playbookRef) error {
	l, err := a.load(ctx, g, ref)
	if err != nil {
		return err
	}
	return a.execute(ctx, g, l, a.sink(g, l.redactor), runLock)
}

// lockMode is how a run treats the run lock.
type lockMode int

const (
	// runLock: the run takes the lock when it may change hosts (the engine
	// reads that from its modules) and writes the audit line.
	runLock lockMode = iota
	// auditOnly: a command that cannot be classified (exec -- CMD) is never
	// refused by a lock; it writes the audit line and warns when one is held.
	auditOnly
)

// execute runs a loaded playbook and turns the recap into an exit code.
func (a *App) execute(ctx context.Context, g *globals, l *loaded, sink engine.Sink, mode lockMode) error {
	cfg, err := a.transportConfig(ctx, g, l.redactor)
	if err != nil {
		return err
	}
	pool := transport.NewPool(cfg)
	defer pool.Close()
	sink, closeRecord := a.record(g, l, sink)
	defer closeRecord()
	end := &runEnding{ctx: ctx}
	runner := &engine.Runner{
		Playbook: l.pb, Inventory: l.inv, Conn: pool, Sink: sink, Redactor: l.redactor,
		Opts: engine.Options{Forks: g.forks, Check: g.check, Diff: g.diff, Yes: g.yes, StartAt: g.startAt, Targets: l.targets, Confirm: a.confirmer(ctx), Command: l.command, Lock: mode == runLock, Audit: mode == auditOnly, Verbose: g.verbose,
			ExitCode: end.code},
	}
	recap, err := runner.Run(ctx)
	if recap == nil {
		return recapped(ExitRunError, err)
	}
	return end.result(recap)
}

// runEnding keeps the code the recap was given. The engine releases the run
// locks after the recap is out (up to 15 s): Ctrl-C in that window must not
// turn the exit code into 130 while the recap and the record say otherwise.
type runEnding struct {
	ctx  context.Context
	err  error
	done bool
}

// code gives the recap its exit code and remembers it (Options.ExitCode).
func (e *runEnding) code(r *engine.Recap) int {
	e.err, e.done = runEnd(e.ctx, r), true
	return Code(e.err)
}

// result is the run's end: the recap's code when it was given one.
func (e *runEnding) result(r *engine.Recap) error {
	if e.done {
		return e.err
	}
	return runEnd(e.ctx, r)
}

// runEnd is the one place a run's end becomes its exit code, given to the
// engine so that the recap and the history record carry it: nothing may
// change the code after them. Ctrl-C wins over what it caused (a question
// that was not answered, a step it cut short).
func runEnd(ctx context.Context, r *engine.Recap) error {
	if ctx.Err() != nil {
		return recapped(ExitInterrupted, fmt.Errorf("interrupted"))
	}
	return recapCode(r)
}

// recapCode maps how a recap ended to an exit code.
func recapCode(r *engine.Recap) error {
	switch {
	case r.Error != "":
		return recapped(ExitRunError, fmt.Errorf("%s", r.Error))
	case r.Declined != "":
		return recapped(ExitDeclined, fmt.Errorf("%s", r.Declined))
	case r.Interrupted:
		return recapped(ExitInterrupted, fmt.Errorf("interrupted"))
	case r.Failed():
		return recapped(ExitFailed, fmt.Errorf("some step failed"))
	case r.Unreachable():
		return recapped(ExitUnreachable, fmt.Errorf("some host was unreachable"))
	case len(r.Unhealthy) > 0:
		return recapped(ExitUnhealthy, fmt.Errorf("%d host(s) not as intended", len(r.Unhealthy)))
	}
	return nil
}

var _ io.Writer = (*os.File)(nil)
