package wizard

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/omsrun/omsrun/internal/metadb"
	"github.com/omsrun/omsrun/internal/omsconfig"
	"github.com/omsrun/omsrun/internal/secret"
	"github.com/omsrun/omsrun/internal/tsdbcheck"
)

func (w *Wizard) askMode(_ context.Context, a *Answers) error {
	w.heading("Deployment mode")
	fmt.Fprintln(w.Out, "  1) Single node")
	fmt.Fprintln(w.Out, "  2) Multiple nodes in a single region")
	m, err := w.ask(question{key: "mode", prompt: "Deployment mode", def: "2", check: parseMode})
	a.Mode = m
	return err
}

func parseMode(s string) (string, error) {
	switch strings.ToLower(s) {
	case "1", "single", "single-node":
		return ModeSingle, nil
	case "2", "multi", "multiple", "multi-node":
		return ModeMulti, nil
	}
	return "", fmt.Errorf("choose 1 (single node) or 2 (multiple nodes in a single region), not %q", s)
}

func (w *Wizard) askMetaDB(ctx context.Context, a *Answers) error {
	for {
		w.heading("MetaDB")
		before := w.typed
		var err error
		multi := a.Mode == ModeMulti
		if a.MetaHost, err = w.ask(question{key: "meta-host", prompt: "MetaDB host (IP or domain name)", def: a.MetaHost,
			check: configCheck(multi, omsconfig.KeyMetaHost, func(c *omsconfig.Config, s string) { c.MetaHost = s })}); err != nil {
			return err
		}
		port, err := w.ask(question{key: "meta-port", prompt: "MetaDB port", def: orDefault(a.MetaPort, "2881"), check: parsePort})
		if err != nil {
			return err
		}
		a.MetaPort, _ = strconv.Atoi(port)
		if a.MetaUser, err = w.ask(question{key: "meta-user", prompt: "MetaDB user", def: a.MetaUser,
			check: configCheck(multi, omsconfig.KeyMetaUser, func(c *omsconfig.Config, s string) { c.MetaUser = s })}); err != nil {
			return err
		}
		// Not offered as a default on a second round: a wrong password is the
		// usual reason for one.
		pw, err := w.ask(question{key: "meta-password", prompt: "MetaDB password", secret: true, check: required("the MetaDB user's password")})
		if err != nil {
			return err
		}
		a.MetaPassword = secret.String(pw)
		if a.DBPrefix, err = w.ask(question{key: "db-prefix", prompt: "Prefix of the MetaDB database names", def: orString(a.DBPrefix, "oms"), check: checkPrefix}); err != nil {
			return err
		}
		dbs := dbNames(a.DBPrefix)
		if a.DBPrefix != "" {
			fmt.Fprintf(w.Out, "  The databases will be %s.\n", strings.Join(dbs, ", "))
		}
		ok, err := w.confirm(before)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if len(w.problems) > 0 {
			// A flag is missing or wrong: connecting would only add noise.
			return nil
		}
		fmt.Fprintf(w.Out, "Connecting to the MetaDB at %s as %s… ", metadb.Target{Host: a.MetaHost, Port: a.MetaPort}.Addr(), a.MetaUser)
		rep, err := w.CheckMetaDB(ctx, metadb.Target{Host: a.MetaHost, Port: a.MetaPort, User: a.MetaUser, Password: a.MetaPassword}, dbs)
		if err != nil {
			fmt.Fprintln(w.Out, "failed")
			fmt.Fprintf(w.Out, "  ✗ %v\n", err)
			if !w.Interactive {
				w.problem(metaDBFlag(err), err)
				return nil
			}
			fmt.Fprintln(w.Out, "  Enter the MetaDB settings again.")
			continue
		}
		a.MetaDBVersion = rep.Version
		fmt.Fprintf(w.Out, "ok (%s)\n", rep.Version)
		a.Existing = rep.Existing
		if len(rep.Existing) == 0 {
			a.AllowExisting = false
			return nil
		}
		fmt.Fprintf(w.Out, "  Found %s.\n", strings.Join(rep.Existing, ", "))
		fmt.Fprintln(w.Out, "  This happens when OMS is deployed again or upgraded; a new deployment on these databases reuses their data.")
		if !w.Interactive {
			if w.Preset["allow-existing"] == "" {
				w.problem("allow-existing", errors.New("the specified database names already exist in the MetaDB; pass --allow-existing=yes to continue with them, or another --db-prefix"))
				return nil
			}
		}
		yes, err := w.askYesNo("allow-existing", "The specified database names already exist in the MetaDB. Are you sure that you want to continue?", false)
		if err != nil {
			return err
		}
		if yes {
			a.AllowExisting = true
			return nil
		}
		if !w.Interactive {
			w.problem("allow-existing", errors.New("the databases exist and --allow-existing is no"))
			return nil
		}
		fmt.Fprintln(w.Out, "  Enter the MetaDB settings again (another prefix gives other databases).")
	}
}

// metaDBFlag names the flag to blame for a failed MetaDB check.
func metaDBFlag(err error) string {
	var me *metadb.Error
	if errors.As(err, &me) && me.Kind == metadb.AccessDenied {
		return "meta-password"
	}
	return "meta-host"
}

func (w *Wizard) askCM(_ context.Context, a *Answers) error {
	multi := a.Mode == ModeMulti
	for {
		w.heading("CM service")
		before := w.typed
		var err error
		if !multi {
			// One node: it is its own CM URL unless the user has a VIP.
			if a.Nodes, err = w.askNodes(multi, a.Nodes); err != nil {
				return err
			}
		}
		def := a.CMURL
		if def == "" && !multi && len(a.Nodes) == 1 {
			def = "http://" + a.Nodes[0] + ":8088"
		}
		if a.CMURL, err = w.ask(question{key: "cm-url", prompt: "CM URL (the VIP or domain name; http:// and :8088 are optional)", def: def,
			check: func(s string) (string, error) {
				if err := keyProblem(multi, omsconfig.KeyCMURL, func(c *omsconfig.Config) { c.CMURL = s }); err != nil {
					return "", err
				}
				return omsconfig.NormalizeCMURL(s)
			}}); err != nil {
			return err
		}
		if multi {
			if a.Nodes, err = w.askNodes(multi, a.Nodes); err != nil {
				return err
			}
			// Not refused (a node may really carry the VIP), but a CM URL on one
			// node loses the console with that node, which is what the VIP prevents.
			if h, err := omsconfig.CMURLHost(a.CMURL); err == nil && contains(a.Nodes, h) {
				fmt.Fprintf(w.Out, "  ! The CM URL points at node %s itself: if it fails, the others cannot be reached through it. Use the VIP.\n", h)
			}
		}
		ok, err := w.confirm(before)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
	}
}

func (w *Wizard) askNodes(multi bool, cur []string) ([]string, error) {
	prompt := "IP addresses of all nodes, comma-separated"
	if !multi {
		prompt = "IP address of the node"
	}
	got, err := w.ask(question{key: "nodes", prompt: prompt, def: strings.Join(cur, ","), check: func(s string) (string, error) {
		nodes := splitList(s)
		switch {
		case len(nodes) == 0:
			return "", errors.New("give at least one IP address")
		case multi && len(nodes) < 2:
			return "", errors.New("multiple nodes need at least two addresses (choose single-node mode for one)")
		case !multi && len(nodes) > 1:
			return "", errors.New("single-node mode takes one address")
		}
		if err := keyProblem(multi, omsconfig.KeyCMNodes, func(c *omsconfig.Config) { c.CMNodes = nodes }); err != nil {
			return "", err
		}
		return strings.Join(nodes, ","), nil
	}})
	return splitList(got), err
}

func (w *Wizard) askTSDB(ctx context.Context, a *Answers) error {
	for {
		w.heading("Historical monitoring")
		before := w.typed
		var err error
		if a.TSDBEnabled, err = w.askYesNo("tsdb", "Enable historical data monitoring (needs a deployed time-series database)?", a.TSDBEnabled); err != nil || !a.TSDBEnabled {
			return err
		}
		if a.TSDBDeploy, err = w.askYesNo("tsdb-deploy", "No time-series database yet? Let omsrun deploy InfluxDB (playbooks/tsdb.hcl)", a.TSDBDeploy); err != nil {
			return err
		}
		if a.TSDBDeploy {
			if err := w.askTSDBDeploy(a); err != nil {
				return err
			}
			if ok, err := w.confirm(before); err != nil || ok {
				return err
			}
			continue
		}
		if a.TSDBService, err = w.ask(question{key: "tsdb-type", prompt: "Time-series database type", def: orString(a.TSDBService, omsconfig.TSDBInfluxDB),
			check: func(s string) (string, error) {
				if strings.EqualFold(s, omsconfig.TSDBInfluxDB) {
					return omsconfig.TSDBInfluxDB, nil
				}
				return "", fmt.Errorf("only %s is supported at present, not %q", omsconfig.TSDBInfluxDB, s)
			}}); err != nil {
			return err
		}
		if a.TSDBURL, err = w.ask(question{key: "tsdb-url", prompt: "Time-series database URL (host:port)", def: a.TSDBURL,
			check: configCheck(false, omsconfig.KeyTSDBURL, func(c *omsconfig.Config, s string) { c.TSDBEnabled, c.TSDBURL = true, s })}); err != nil {
			return err
		}
		if a.TSDBUser, err = w.ask(question{key: "tsdb-user", prompt: "Time-series database user", def: a.TSDBUser,
			check: required("the user created in the time-series database for OMS")}); err != nil {
			return err
		}
		pw, err := w.ask(question{key: "tsdb-password", prompt: "Time-series database password", secret: true, check: required("that user's password")})
		if err != nil {
			return err
		}
		a.TSDBPassword = secret.String(pw)
		ok, err := w.confirm(before)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if len(w.problems) > 0 {
			return nil
		}
		fmt.Fprintf(w.Out, "Logging in to the time-series database at %s as %s… ", a.TSDBURL, a.TSDBUser)
		err = w.CheckTSDB(ctx, a.TSDBURL, a.TSDBUser, a.TSDBPassword)
		switch {
		case err == nil:
			fmt.Fprintln(w.Out, "ok")
			return nil
		case errors.Is(err, tsdbcheck.ErrAuthDisabled):
			fmt.Fprintf(w.Out, "ok\n  ! %v\n", err)
			return nil
		}
		fmt.Fprintln(w.Out, "failed")
		fmt.Fprintf(w.Out, "  ✗ %v\n", err)
		if !w.Interactive {
			flag := "tsdb-url"
			if errors.Is(err, tsdbcheck.ErrUnauthorized) {
				flag = "tsdb-password"
			}
			w.problem(flag, err)
			return nil
		}
		fmt.Fprintln(w.Out, "  Enter the time-series database settings again.")
	}
}

// askSLS is the seed's steps 7 and 8: audit logs to SLS y/n, then the SLS
// parameters, shown and confirmed. They are written as the apsara_audit_sls_*
// variables, the config.yaml keys OMS reads. Nothing contacts SLS: the
// endpoint and the AccessKey are checked by form only.
func (w *Wizard) askSLS(_ context.Context, a *Answers) error {
	if !w.Interactive && w.Preset["sls"] == "" {
		// The parameters without --sls would be dropped without a word.
		var given []string
		for _, k := range []string{"sls-endpoint", "sls-ops-site-topic", "sls-user-site-topic", "sls-access-key"} {
			if _, ok := w.Preset[k]; ok {
				given = append(given, "--"+k)
			}
		}
		if len(given) > 0 {
			w.problem("sls", fmt.Errorf("%s given, but SLS audit logs are off: add --sls (or leave those flags out)", strings.Join(given, ", ")))
		}
	}
	round := 0
	for {
		w.heading("Audit logs")
		before := w.typed
		var err error
		if a.SLSEnabled, err = w.askYesNo("sls", "Write audit logs to Simple Log Service (SLS)?", a.SLSEnabled); err != nil || !a.SLSEnabled {
			return err
		}
		if round == 0 {
			fmt.Fprintln(w.Out, "  The SLS parameters go into config.yaml as the apsara_audit_sls_* keys.")
		}
		if a.SLSEndpoint, err = w.ask(question{key: "sls-endpoint", prompt: "SLS endpoint (e.g. cn-hangzhou.log.aliyuncs.com)", def: a.SLSEndpoint, with: "sls",
			check: func(s string) (string, error) {
				if _, err := configCheck(false, omsconfig.KeySLSEndpoint, func(c *omsconfig.Config, s string) { c.SLSEndpoint = s })(s); err != nil {
					return "", err
				}
				return omsconfig.NormalizeSLSEndpoint(s)
			}}); err != nil {
			return err
		}
		topic := func(what string) func(string) (string, error) {
			return func(s string) (string, error) {
				if s == "" {
					return "", fmt.Errorf("the SLS topic of the %s audit logs is required", what)
				}
				return s, omsconfig.CheckSLSTopic(s)
			}
		}
		if a.SLSOpsSiteTopic, err = w.ask(question{key: "sls-ops-site-topic", prompt: "SLS topic of the operations site", def: a.SLSOpsSiteTopic, with: "sls",
			check: topic("operations site's")}); err != nil {
			return err
		}
		if a.SLSUserSiteTopic, err = w.ask(question{key: "sls-user-site-topic", prompt: "SLS topic of the user site", def: a.SLSUserSiteTopic, with: "sls",
			check: topic("user site's")}); err != nil {
			return err
		}
		if a.SLSAccessKey, err = w.ask(question{key: "sls-access-key", prompt: "AccessKey ID", def: a.SLSAccessKey, with: "sls",
			check: func(s string) (string, error) { return s, omsconfig.CheckSLSAccessKeyID(s) }}); err != nil {
			return err
		}
		// A second round may keep the secret: it is never shown, so it
		// cannot be offered in brackets, but an empty answer takes it.
		prompt := "AccessKey Secret"
		if a.SLSAccessSecret != "" {
			prompt += " (empty: keep the one given before)"
		}
		sk, err := w.ask(question{key: "sls-access-secret", prompt: prompt, secret: true, def: a.SLSAccessSecret.Reveal(), with: "sls",
			check: required("the secret of that AccessKey")})
		if err != nil {
			return err
		}
		a.SLSAccessSecret = secret.String(sk)
		if w.Interactive && w.typed != before {
			// The seed: "Confirm whether the displayed settings are correct."
			fmt.Fprintln(w.Out, "  SLS audit log settings:")
			for _, kv := range [][2]string{{"Endpoint", a.SLSEndpoint}, {"Ops site topic", a.SLSOpsSiteTopic}, {"User site topic", a.SLSUserSiteTopic},
				{"AccessKey ID", a.SLSAccessKey}, {"AccessKey Secret", a.SLSAccessSecret.String() + " (not shown)"}} {
				fmt.Fprintf(w.Out, "    %-17s %s\n", kv[0]+":", kv[1])
			}
		}
		ok, err := w.confirm(before)
		if err != nil || ok {
			return err
		}
		round++
		fmt.Fprintln(w.Out, "  Enter the SLS settings again.")
	}
}
