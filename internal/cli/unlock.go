package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/omsrun/omsrun/internal/engine"
	"github.com/omsrun/omsrun/internal/secret"
	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/inventory"
)

func (a *App) unlockCmd() *cobra.Command {
	g := &globals{}
	c := &cobra.Command{
		Use:   "unlock -i INVENTORY [PATTERN]",
		Short: "Remove a stale run lock (/var/lock/omsrun/lock) from hosts",
		Long: "A run that changes hosts locks each of them and unlocks at its end, even when interrupted.\n" +
			"A lock can only outlive its run when the control machine died mid-run; remove it here.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(g.inventories) == 0 {
				return invalid("no inventory: pass -i FILE")
			}
			inv, diags := inventory.Load(g.inventories)
			if diags.HasErrors() {
				return a.problems(g, nil, diags, fmt.Errorf("invalid inventory"))
			}
			pattern := "all"
			if len(args) == 1 {
				pattern = args[0]
			}
			hosts, err := inv.Match(pattern)
			if err != nil || len(hosts) == 0 {
				return invalid("pattern %q matches no host", pattern)
			}
			if fd := hostFileDiags(hosts, g); len(fd) > 0 {
				return a.problems(g, nil, fd, fmt.Errorf("%d problem(s) with the connection files; nothing was unlocked", countErrors(fd)))
			}
			cfg, err := a.transportConfig(cmd.Context(), g, secret.NewRedactor())
			if err != nil {
				return err
			}
			pool := transport.NewPool(cfg)
			defer pool.Close()
			code := 0
			for _, h := range hosts {
				c, err := pool.Get(cmd.Context(), h)
				if err == nil {
					var held string
					if held, err = engine.Unlock(cmd.Context(), c, h); err == nil {
						if held == "" {
							held = "no lock"
						}
						fmt.Fprintf(a.Stdout, "%s: removed (%s)\n", h.Name, held)
						continue
					}
				}
				fmt.Fprintf(a.Stdout, "%s: %v\n", h.Name, err)
				code = ExitUnreachable
			}
			if code != 0 {
				return withCode(code, fmt.Errorf("some hosts could not be unlocked"), true)
			}
			return nil
		},
	}
	c.Flags().StringArrayVarP(&g.inventories, "inventory", "i", nil, "inventory file or directory (repeatable)")
	c.Flags().StringVar(&g.knownHosts, "known-hosts", "", "known_hosts file")
	c.Flags().BoolVar(&g.askPass, "ask-pass", false, "ask for the SSH password")
	c.Flags().BoolVar(&g.askBecomePass, "ask-become-pass", false, "ask for the sudo password")
	return c
}
