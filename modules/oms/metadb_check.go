package oms

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/metadb"
	"github.com/omsrun/omsrun/internal/omsconfig"
	"github.com/omsrun/omsrun/internal/secret"
	"github.com/omsrun/omsrun/modules"
)

// MetadbCheck connects to the MetaDB, reports its version and whether the
// three OMS databases exist. Existing databases stop the run with the seed's
// warning unless the user confirmed or omsrun itself deployed them. It only
// reads, so check mode runs it for real.
type MetadbCheck struct{}

var _ modules.Module = (*MetadbCheck)(nil)
var _ modules.ReadOnly = (*MetadbCheck)(nil)

// ReadOnly implements modules.ReadOnly: it only reads.
func (*MetadbCheck) ReadOnly() bool { return true }

var _ modules.Validator = (*MetadbCheck)(nil)

// MetadbCheckArgs are the arguments of metadb_check.
type MetadbCheckArgs struct {
	Host      string   `hcl:"host"`
	Port      int      `hcl:"port"`
	User      string   `hcl:"user"`
	Password  string   `hcl:"password"`
	Databases []string `hcl:"databases"`
	// AllowExisting is the user's confirmation that existing databases are fine.
	AllowExisting bool `hcl:"allow_existing,optional"`
	// ExistingDeployment says an OMS deployed by omsrun already uses these
	// databases (the playbook sets it from the hosts' facts).
	ExistingDeployment bool `hcl:"existing_deployment,optional"`
	// RunningDatabases are the databases the running cluster's config.yaml
	// names (container_info on every node); a run that would point the
	// cluster at other ones stops unless AllowDatabaseChange confirms it.
	RunningDatabases    []string `hcl:"running_databases,optional"`
	AllowDatabaseChange bool     `hcl:"allow_database_change,optional"`
	// ViaHost dials from the current host over SSH, for a MetaDB only the OMS nodes reach.
	ViaHost bool    `hcl:"via_host,optional"`
	Timeout *string `hcl:"timeout,optional"`
}

// Doc describes the module.
func (*MetadbCheck) Doc() modules.Doc {
	return modules.Doc{
		Name:    "metadb_check",
		Summary: "Connect to the MetaDB, report its version, and stop when the OMS databases already exist unless confirmed.",
		Args: map[string]string{
			"host":                  "string, required: the MetaDB address",
			"port":                  "number, required: the MetaDB port",
			"user":                  "string, required: the MetaDB user (user@tenant#cluster for OceanBase)",
			"password":              "string, required, sensitive: the MetaDB password",
			"databases":             "list(string), required: drc_rm_db, drc_cm_db, drc_cm_heartbeat_db",
			"allow_existing":        "bool: existing databases are fine (also --yes)",
			"existing_deployment":   "bool: an OMS deployed earlier uses these databases, so their existing is expected",
			"running_databases":     "list(string): the databases the running cluster's config.yaml names; other databases stop the run unless confirmed",
			"allow_database_change": "bool: the operator confirms pointing the running cluster at the new databases (a question at a terminal does too)",
			"via_host":              "bool: connect from the current host through SSH instead of from the control machine",
			"timeout":               `string: connect and query timeout (default "10s")`,
		},
	}
}

// NewArgs returns empty arguments.
func (*MetadbCheck) NewArgs() any { return &MetadbCheckArgs{} }

func (a *MetadbCheckArgs) timeout() (time.Duration, error) {
	if a.Timeout == nil {
		return 10 * time.Second, nil
	}
	d, err := time.ParseDuration(*a.Timeout)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("timeout: %q is not a duration such as \"10s\"", *a.Timeout)
	}
	return d, nil
}

// Validate checks the arguments before any connection.
func (*MetadbCheck) Validate(args any) error {
	a := args.(*MetadbCheckArgs)
	var errs []error
	if a.Host == "" {
		errs = append(errs, errors.New("host: the MetaDB address is required"))
	}
	if a.Port < 1 || a.Port > 65535 {
		errs = append(errs, fmt.Errorf("port: %d is not a TCP port", a.Port))
	}
	if a.User == "" {
		errs = append(errs, errors.New("user: the MetaDB user is required"))
	}
	if len(a.Databases) == 0 {
		errs = append(errs, errors.New("databases: list the OMS database names"))
	}
	for _, d := range a.Databases {
		if err := omsconfig.CheckDBName(d); err != nil {
			errs = append(errs, fmt.Errorf("databases: %w", err))
		}
	}
	if _, err := a.timeout(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (a *MetadbCheckArgs) target(env *modules.Env) metadb.Target {
	d, _ := a.timeout()
	t := metadb.Target{Host: a.Host, Port: a.Port, User: a.User, Password: secret.String(a.Password), Timeout: d}
	if a.ViaHost {
		t.Dial = env.Host.Dial
	}
	return t
}

// explain adds where the connection came from and what to do to a
// classified MetaDB failure; errors.As still finds the *metadb.Error.
func (a *MetadbCheckArgs) explain(env *modules.Env, err error) error {
	var me *metadb.Error
	if !errors.As(err, &me) {
		return err
	}
	from := ""
	if a.ViaHost {
		from = " (connecting from host " + env.HostName + ")"
	}
	advice := ""
	switch me.Kind {
	case metadb.Unreachable:
		advice = "; check oms_meta_host and oms_meta_port, and that no firewall is in the way"
	case metadb.AccessDenied:
		advice = "; check oms_meta_user and oms_meta_password, and that the user may connect from the OMS nodes"
	case metadb.NoPrivilege:
		advice = "; OMS creates and uses these databases, so grant the user all privileges on them"
	}
	return fmt.Errorf("%w%s%s", err, from, advice)
}

// existsMsg is the seed's warning, with what to do about it in omsrun.
func existsMsg(names []string) string {
	return "The specified database names already exist in the MetaDB: " + strings.Join(names, ", ") +
		". This may be caused by a repeated deployment or an upgrade of OMS. " +
		"No OMS deployed by omsrun uses them; if you are sure, re-run with -e allow_existing_databases=true (or --yes)."
}

// Check connects and reads; existing databases stop here unless confirmed.
func (*MetadbCheck) Check(ctx context.Context, env *modules.Env, args any) (*modules.Plan, error) {
	a := args.(*MetadbCheckArgs)
	if err := a.checkDatabaseChange(env); err != nil {
		return nil, err
	}
	p, err := metadb.Check(ctx, a.target(env), a.Databases)
	if err != nil {
		return nil, a.explain(env, err)
	}
	asked := false
	if len(p.Existing) > 0 && !a.AllowExisting && !a.ExistingDeployment && !env.Yes {
		// The seed's own question, when someone is at the terminal to answer it.
		ok := false
		asked = env.Confirm != nil
		if env.Confirm != nil {
			ok, err = env.Confirm("The specified database names already exist in the MetaDB: " + strings.Join(p.Existing, ", ") +
				". Are you sure that you want to continue?")
			if err != nil {
				return nil, fmt.Errorf("confirmation: %w", err)
			}
		}
		if !ok {
			// A "no", or no one to ask: declined (exit 5), not a failure.
			return nil, &modules.Declined{Reason: existsMsg(p.Existing)}
		}
		a.AllowExisting = true
	}
	summary := "MetaDB " + p.Version + ": databases absent, OMS will create them"
	if len(p.Existing) > 0 {
		summary = "MetaDB " + p.Version + ": existing databases " + strings.Join(p.Existing, ", ")
		switch {
		case a.ExistingDeployment:
			summary += " (used by this OMS deployment)"
		case asked:
			// Also check mode's wording, where the engine takes the question as
			// answered yes to predict the rest of the run.
			summary += " (reused after a yes to the question)"
		default:
			summary += " (confirmed)"
		}
	}
	return &modules.Plan{Summary: summary, Data: p}, nil
}

// Apply reports what Check found; it changes nothing.
func (m *MetadbCheck) Apply(ctx context.Context, env *modules.Env, args any, plan *modules.Plan) (*modules.Result, error) {
	p, ok := plan.Data.(metadb.Report)
	if !ok {
		pl, err := m.Check(ctx, env, args)
		if err != nil {
			return nil, err
		}
		p, plan = pl.Data.(metadb.Report), pl
	}
	res := &modules.Result{Msg: plan.Summary, Outputs: map[string]cty.Value{
		"version":  cty.StringVal(p.Version),
		"existing": metadbNames(p.Existing),
		"absent":   metadbNames(p.Absent),
	}}
	a := args.(*MetadbCheckArgs)
	if len(p.Existing) > 0 && !a.ExistingDeployment {
		res.Warnings = append(res.Warnings, "MetaDB databases already exist and will be reused: "+strings.Join(p.Existing, ", "))
	}
	if w := authWarning(p.Version, p.AuthPlugin); w != "" {
		res.Warnings = append(res.Warnings, w)
	}
	return res, nil
}

// authWarning warns about MySQL 8's caching_sha2_password for the MetaDB
// user: no source says OMS CE's JDBC clients cope with it
// (docs/oms-facts.md P6), so it is a warning, not a refusal.
func authWarning(version, plugin string) string {
	if plugin != "caching_sha2_password" || !strings.HasPrefix(version, "8.") || strings.Contains(strings.ToLower(version), "mariadb") {
		return ""
	}
	return "MetaDB is MySQL " + version + " and its user authenticates with caching_sha2_password, which OMS may not support: " +
		"consider ALTER USER … IDENTIFIED WITH mysql_native_password"
}

// metadbNames is a list output, empty rather than null when there are none.
func metadbNames(ss []string) cty.Value {
	if len(ss) == 0 {
		return cty.ListValEmpty(cty.String)
	}
	vals := make([]cty.Value, len(ss))
	for i, s := range ss {
		vals[i] = cty.StringVal(s)
	}
	return cty.ListVal(vals)
}

// checkDatabaseChange stops a run that would point a running cluster at
// other databases than its config.yaml names: OMS would start on empty ones
// (and an upgrade's backup would dump those), as if the cluster were new.
// Only an explicit confirmation naming the change lets it through —
// allow_database_change, or yes to the question at a terminal; --yes alone
// does not, since it answers questions the operator has not read.
func (a *MetadbCheckArgs) checkDatabaseChange(env *modules.Env) error {
	running := slices.Compact(slices.Sorted(slices.Values(a.RunningDatabases)))
	wanted := slices.Compact(slices.Sorted(slices.Values(a.Databases)))
	if len(running) == 0 || slices.Equal(running, wanted) || a.AllowDatabaseChange {
		return nil
	}
	change := fmt.Sprintf("the running OMS uses the databases %s (its config.yaml); this run would point it at %s",
		strings.Join(running, ", "), strings.Join(a.Databases, ", "))
	if env.Confirm != nil {
		ok, err := env.Confirm("Change databases: " + change + ". OMS would start on them as a new cluster. Are you sure?")
		if err != nil {
			return fmt.Errorf("confirmation: %w", err)
		}
		if ok {
			a.AllowDatabaseChange = true
			return nil
		}
	}
	return &modules.Declined{Reason: fmt.Sprintf("%s; nothing was changed. If that is what you want, re-run with -e allow_database_change=true (--yes alone does not confirm this); otherwise set the database names back (drc_rm_db, drc_cm_db, drc_cm_heartbeat_db or db_prefix)", change)}
}
