package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/omsrun/omsrun/internal/wizard"
)

// passwordEnv maps the password questions to the environment variables
// that answer them, so scripts need not put passwords on the command line.
var passwordEnv = map[string]string{
	"meta-password":       wizard.EnvMetaPassword,
	"tsdb-password":       wizard.EnvTSDBPassword,
	"tsdb-admin-password": wizard.EnvTSDBAdminPassword,
	"sls-access-secret":   wizard.EnvSLSSecret,
	"ssh-password":        wizard.EnvSSHPassword,
	"become-password":     wizard.EnvBecomePassword,
}

// yesNoKeys are questions answered yes or no; their flags may be given bare.
var yesNoKeys = map[string]bool{"allow-existing": true, "tsdb": true, "tsdb-deploy": true, "sls": true, "ssl": true, "become": true}

func (a *App) initCmd() *cobra.Command {
	var nonInteractive, force bool
	var out string
	c := &cobra.Command{
		Use:   "init [--non-interactive --meta-host … ]",
		Short: "Ask the OMS deployment questions; write an inventory and vars file for playbooks/deploy.hcl",
		Long: `init asks the questions of the OMS deployment tool, in its order, and checks
each answer at once — the MetaDB and the time-series database are contacted
while you are still at the keyboard. It writes oms-inventory.hcl and
oms-vars.hcl (mode 0600) and prints the commands to run next.

Every question has a flag; with --non-interactive the flags are the only
answers and every missing or wrong one is reported together. Passwords may
come from OMS_META_PASSWORD, OMS_TSDB_PASSWORD, OMS_TSDB_ADMIN_PASSWORD, OMS_SLS_ACCESS_SECRET,
OMS_SSH_PASSWORD and OMS_BECOME_PASSWORD instead of flags, which the process
list would show.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runInit(cmd, nonInteractive, force, out)
		},
	}
	f := c.Flags()
	f.SortFlags = false // in the order the questions are asked
	f.BoolVar(&nonInteractive, "non-interactive", false, "ask nothing: take every answer from the flags and defaults")
	f.BoolVar(&force, "force", false, "replace oms-inventory.hcl and oms-vars.hcl when they exist")
	f.StringVar(&out, "out", ".", "directory to write oms-inventory.hcl and oms-vars.hcl to")
	for _, k := range wizard.Keys() {
		f.String(k, "", wizard.Help(k))
		if yesNoKeys[k] {
			f.Lookup(k).NoOptDefVal = "yes"
		}
	}
	return c
}

func (a *App) runInit(cmd *cobra.Command, nonInteractive, force bool, out string) error {
	files := wizard.Files{Inventory: filepath.Join(out, "oms-inventory.hcl"), Vars: filepath.Join(out, "oms-vars.hcl")}
	// Said before the first question, not after the last one.
	if !force {
		for _, p := range []string{files.Inventory, files.Vars} {
			if _, err := os.Lstat(p); err == nil {
				return invalid("%s", (&wizard.ExistsError{Path: p}).Error())
			}
		}
	}
	preset := map[string]string{}
	var onCommandLine, insteadEnv []string
	for _, k := range wizard.Keys() {
		if fl := cmd.Flags().Lookup(k); fl.Changed {
			preset[k] = fl.Value.String()
			if env, isPw := passwordEnv[k]; isPw {
				onCommandLine = append(onCommandLine, "--"+k)
				insteadEnv = append(insteadEnv, env)
			}
		} else if env, ok := passwordEnv[k]; ok {
			if v, set := os.LookupEnv(env); set {
				preset[k] = v
			}
		}
	}
	if len(onCommandLine) > 0 {
		fmt.Fprintf(a.Stderr, "omsrun: note: %s on the command line is visible to other users in the process list; the environment (%s) is safer\n",
			strings.Join(onCommandLine, ", "), strings.Join(insteadEnv, ", "))
	}
	w := &wizard.Wizard{In: a.Stdin, Out: a.Stdout, Preset: preset, Interactive: !nonInteractive}
	if home, err := os.UserHomeDir(); err == nil {
		w.HomeDir = home
	}
	if !nonInteractive {
		fd, ok := terminalFd(a.Stdin)
		if !ok {
			return invalid("init asks questions, but standard input is not a terminal: run it in a terminal, " +
				"or pass --non-interactive with the answers as flags (omsrun init --help lists them)")
		}
		w.ReadSecret = func() (string, error) {
			b, err := term.ReadPassword(fd)
			return string(b), err
		}
	}
	ans, err := runWizard(cmd, w)
	if err != nil {
		var pe *wizard.ProblemsError
		switch {
		case errors.As(err, &pe):
			return invalid("%s\nnothing was written", err)
		case errors.Is(err, wizard.ErrInputEnded):
			return invalid("%v; nothing was written", err)
		case cmd.Context().Err() != nil:
			return withCode(ExitInterrupted, fmt.Errorf("interrupted; nothing was written"), false)
		}
		return err
	}
	if err := wizard.Write(ans, files, force); err != nil {
		var ee *wizard.ExistsError
		if errors.As(err, &ee) {
			return invalid("%v", err)
		}
		return fmt.Errorf("init: %w", err)
	}
	a.initSummary(ans, files)
	return nil
}

func (a *App) initSummary(ans *wizard.Answers, files wizard.Files) {
	o := a.Stdout
	fmt.Fprintf(o, "\nWrote %s and %s (mode 0600).\n", files.Inventory, files.Vars)
	if ans.Secrets == wizard.SecretsEnv {
		fmt.Fprintln(o, "No password was written: set the environment variables below before each run.")
	}
	cmds := wizard.NextCommands(ans, files)
	check := len(cmds) - 2
	if tsdb := wizard.TSDBCommand(ans, files); tsdb != "" {
		// deploy.hcl's checks log in to the TSDB, so it must exist first.
		fmt.Fprintln(o, "\nFirst deploy the time-series database (InfluxDB on the tsdb host):")
		for _, c := range cmds[:check] {
			fmt.Fprintln(o, "  "+c)
		}
		fmt.Fprintln(o, "  "+tsdb)
		cmds = cmds[check:]
		check = 0
	}
	fmt.Fprintln(o, "\nNext, see what the deployment would change (nothing is touched):")
	for _, c := range cmds[:len(cmds)-1] {
		fmt.Fprintln(o, "  "+c)
	}
	fmt.Fprintln(o, "then deploy:")
	fmt.Fprintln(o, "  "+cmds[len(cmds)-1])
	fmt.Fprintln(o, "(Add --accept-new-host-keys to the first run if the nodes' host keys are not known yet.)")
	if ans.Mode == wizard.ModeMulti {
		fmt.Fprintln(o, "\nHA of Store and Incr-Sync is off until you enable it in the OMS console (System Parameters).")
	}
}

// terminalFd returns the descriptor of r when r is a terminal.
func terminalFd(r any) (int, bool) {
	f, ok := r.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return 0, false
	}
	return int(f.Fd()), true
}

// runWizard runs w until it finishes or the user interrupts. The wizard
// blocks in a read that Ctrl-C does not end (omsrun catches SIGINT to stop
// runs cleanly), so an interrupt returns at once and leaves the read
// behind; the terminal is put back as it was, since an interrupted
// password prompt would otherwise leave echo off.
func runWizard(cmd *cobra.Command, w *wizard.Wizard) (*wizard.Answers, error) {
	ctx := cmd.Context()
	var restore func()
	if fd, ok := terminalFd(cmd.InOrStdin()); ok {
		if st, err := term.GetState(fd); err == nil {
			restore = func() { term.Restore(fd, st) }
		}
	}
	type result struct {
		a   *wizard.Answers
		err error
	}
	done := make(chan result, 1)
	go func() {
		a, err := w.Run(ctx)
		done <- result{a, err}
	}()
	select {
	case r := <-done:
		return r.a, r.err
	case <-ctx.Done():
		if restore != nil {
			restore()
		}
		fmt.Fprintln(w.Out)
		return nil, ctx.Err()
	}
}
