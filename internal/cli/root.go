package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/omsrun/omsrun/playbooks"
)

// Build identifies the binary; main fills it from link-time flags.
type Build struct {
	Version, Commit string
}

// globals are the flags every run-like command shares.
type globals struct {
	// ask reads a secret at the terminal (-e name=@ask); nil: no terminal.
	ask           func(prompt string) (string, error)
	inventories   []string
	limit         string
	extraVars     []string
	check, diff   bool
	forks         int
	startAt       string
	yes           bool
	jsonOut       bool
	verbose       int
	noColor       bool
	knownHosts    string
	acceptNew     bool
	askPass       bool
	askBecomePass bool
	omsConfig     string
	keepalive     time.Duration
	timeout       time.Duration
	// user and keyFile log on to the cm_nodes of --oms-config when no -i is given.
	user, keyFile string
	// builtInventory is the HCL inventory made from --oms-config's cm_nodes
	// when no -i is given, loaded from memory.
	builtInventory []byte
}

// App holds the streams and build info of one invocation.
type App struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Build          Build
}

// Main runs omsrun with args and returns the exit code.
func (a *App) Main(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetIn(a.Stdin)
	root.SetOut(a.Stdout)
	root.SetErr(a.Stderr)
	err := root.ExecuteContext(ctx)
	code := Code(err)
	recapOut := false
	if err != nil {
		var e *ExitError
		isExit := errors.As(err, &e)
		if !isExit || !e.Printed {
			fmt.Fprintf(a.Stderr, "omsrun: %s\n", err)
		}
		recapOut = isExit && e.Recapped
	}
	// The code is final here: a run's recap and record already carry it
	// (runEnd), and a question ended by Ctrl-C says so by its own code.
	// Only a command that ended some other way while interrupted, without a
	// recap, is counted as interrupted.
	if ctx.Err() != nil && !recapOut && code != ExitInvalid {
		code = ExitInterrupted
	}
	// Under --json a script reads stdout only: an error that ended the
	// command without a recap (bad usage, bad input) is one event there too.
	if err != nil && !recapOut && wantsJSON(args) {
		ev := map[string]any{"type": "error", "exit_code": code, "error": err.Error()}
		// The problems in the input, each with file, line and column: the
		// summary alone does not say what to fix.
		if e := (*ExitError)(nil); errors.As(err, &e) && len(e.Diags) > 0 {
			ev["diagnostics"] = e.Diags
		}
		b, _ := json.Marshal(ev)
		fmt.Fprintf(a.Stdout, "%s\n", b)
	}
	return code
}

// wantsJSON reports whether --json was given, read from the raw arguments
// because a usage error may come before the flags are parsed.
func wantsJSON(args []string) bool {
	for _, s := range args {
		if s == "--" {
			return false
		}
		if s == "--json" || s == "--json=true" {
			return true
		}
	}
	return false
}

// markUsage makes cobra's argument-count errors invalid input (exit 4) by
// type, rather than by matching their text: a cobra upgrade that rewords
// them cannot change the code. (Flag errors are typed by the root's flag
// error func, which every subcommand inherits.)
func markUsage(c *cobra.Command) {
	if args := c.Args; args != nil {
		c.Args = func(cmd *cobra.Command, a []string) error {
			if err := args(cmd, a); err != nil {
				return &ExitError{code: ExitInvalid, err: err}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		markUsage(sub)
	}
}

func (a *App) rootCmd() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:   "omsrun PLAYBOOK -i INVENTORY [flags]",
		Short: "Push automation for OceanBase Migration Service (OMS) clusters over SSH",
		Long: `omsrun runs HCL playbooks on several hosts at once over SSH, step by step:
every host finishes a step before any host starts the next one.

  omsrun playbooks/deploy.hcl -i inventory -e @vars.hcl --check --diff
  omsrun playbooks/deploy.hcl -i inventory -e @vars.hcl
  omsrun exec -i inventory all -- docker ps`,
		Args:          cobra.ArbitraryArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       a.Build.Version,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return invalid("%s", noPlaybookMsg(g))
			}
			if len(args) > 1 {
				return invalid("one playbook at a time; got %q", args)
			}
			ref, err := a.resolvePlaybook(args[0])
			if err != nil {
				if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
					return invalid("unknown command %q; did you mean %q?", args[0], s[0])
				}
				return err
			}
			return a.runPlaybook(cmd.Context(), g, ref)
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return invalid("%s (see --help)", err) })
	root.SuggestionsMinimumDistance = 2
	addRunFlags(root, g)
	root.AddCommand(a.execCmd(), a.validateCmd(), a.inventoryCmd(), a.modulesCmd(), a.versionCmd(), a.initCmd(), a.unlockCmd(), a.historyCmd())
	markUsage(root)
	return root
}

// addRunFlags declares the flags of a playbook run: the ones it shares with
// exec (addHostFlags), then its own.
func addRunFlags(c *cobra.Command, g *globals) {
	addHostFlags(c, g)
	f := c.Flags()
	f.StringVarP(&g.limit, "limit", "l", "", "limit to hosts or groups matching PATTERN (globs, !exclude)")
	f.StringArrayVarP(&g.extraVars, "extra-vars", "e", nil, "set variables: k=v, or @file (HCL or JSON); repeatable")
	f.StringVar(&g.startAt, "start-at-step", "", "skip the steps before the one with this name")
	f.StringVar(&g.omsConfig, "oms-config", "", "take variables from an existing OMS config.yaml")
	f.StringVar(&g.user, "user", "", "with --oms-config and no -i: the user to log on to its cm_nodes as")
	f.StringVar(&g.keyFile, "key", "", "with --oms-config and no -i: the private key to log on with")
}

// addHostFlags declares the flags of every command that works on the hosts
// of an inventory (a playbook run and exec), declared once so the two agree.
func addHostFlags(c *cobra.Command, g *globals) {
	f := c.Flags()
	f.StringArrayVarP(&g.inventories, "inventory", "i", nil, "inventory file or directory (repeatable)")
	f.BoolVarP(&g.check, "check", "C", false, "check mode: read the hosts and say what would change, touching nothing")
	f.BoolVarP(&g.diff, "diff", "D", false, "show the content diff of every file change")
	f.IntVarP(&g.forks, "forks", "f", 20, "how many hosts work at once")
	f.BoolVarP(&g.yes, "yes", "y", false, "answer yes to confirmations")
	f.BoolVar(&g.jsonOut, "json", false, "write newline-delimited JSON events instead of text")
	f.CountVarP(&g.verbose, "verbose", "v", "more output (-v remote commands, -vv SSH events)")
	f.BoolVar(&g.noColor, "no-color", false, "no colours (also when NO_COLOR is set or not on a terminal)")
	f.StringVar(&g.knownHosts, "known-hosts", "", "known_hosts file to verify host keys against (default ~/.ssh/known_hosts)")
	f.BoolVar(&g.acceptNew, "accept-new-host-keys", false, "record the keys of hosts not yet known (a changed key is still refused)")
	f.BoolVar(&g.askPass, "ask-pass", false, "ask for the SSH password")
	f.BoolVar(&g.askBecomePass, "ask-become-pass", false, "ask for the sudo password")
	addSSHFlags(c, g)
}

func (a *App) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version and commit",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintf(a.Stdout, "omsrun %s (commit %s)\n", a.Build.Version, a.Build.Commit)
		},
	}
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func (g *globals) useColor(w io.Writer) bool {
	if g.noColor || g.jsonOut || os.Getenv("NO_COLOR") != "" {
		return false
	}
	return isTerminal(w)
}

// playbookRef names the playbook to load: a file on disk, or (FS set) one
// shipped in the binary, read from there with the files it includes.
type playbookRef struct {
	Path string
	FS   fs.FS
}

// resolvePlaybook finds the playbook: a file on disk, or else, for a bare
// name, one shipped in the binary (deploy.hcl, status.hcl, …), read from the
// binary; it then says so, so that nobody mistakes it for a file.
func (a *App) resolvePlaybook(arg string) (playbookRef, error) {
	if _, err := os.Stat(arg); err == nil {
		return playbookRef{Path: arg}, nil
	}
	// Only a bare name falls back: a path with a folder is the user's file,
	// and a typo in it must not silently validate or run a shipped playbook.
	if strings.ContainsRune(arg, '/') {
		return playbookRef{}, invalid("no playbook file %s: check the path (only a bare name such as deploy.hcl falls back to a shipped playbook)", arg)
	}
	if !playbooks.Has(arg) {
		return playbookRef{}, invalid("no playbook %q: give a path to an .hcl file, or one of the shipped playbooks (%s)", arg, strings.Join(playbooks.Names(), ", "))
	}
	fmt.Fprintf(a.Stderr, "omsrun: no file %s here; using the playbook shipped in omsrun\n", arg)
	return playbookRef{Path: arg, FS: playbooks.FS()}, nil
}

// addSSHFlags declares the connection tuning every command that connects shares.
func addSSHFlags(c *cobra.Command, g *globals) {
	c.Flags().DurationVar(&g.keepalive, "ssh-keepalive", 5*time.Second, "SSH keepalive interval; a host missing 3 in a row is unreachable")
	c.Flags().DurationVar(&g.timeout, "connect-timeout", 10*time.Second, "SSH connect timeout")
}
