package oms

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/metadb"
	"github.com/omsrun/omsrun/internal/secret"
	"github.com/omsrun/omsrun/internal/statedir"
	"github.com/omsrun/omsrun/modules"
)

// MetadbBackup writes a logical dump of the OMS databases to a file on the
// control machine, before an upgrade touches any node. The file is the way
// back if the new version migrates the MetaDB and must be undone.
type MetadbBackup struct{}

var _ modules.Module = (*MetadbBackup)(nil)

// MetadbBackupArgs are metadb_backup's arguments.
type MetadbBackupArgs struct {
	Host      string   `hcl:"host"`
	Port      int      `hcl:"port"`
	User      string   `hcl:"user"`
	Password  string   `hcl:"password"`
	Databases []string `hcl:"databases"`
	Dir       string   `hcl:"dir,optional"`
	ViaHost   bool     `hcl:"via_host,optional"`
	// TrimHeartbeat are the heartbeat databases whose heatbeat_sequence
	// keeps only its newest row before the dump, as obd and the upgrade
	// docs do (docs/oms-facts.md U6).
	TrimHeartbeat []string `hcl:"trim_heartbeat,optional"`
	// RollbackTo and RollbackTarget name the upgrade this backup belongs
	// to: a failure prints how to roll back to the previous image.
	RollbackTo     string `hcl:"rollback_to,optional"`
	RollbackTarget string `hcl:"rollback_target,optional"`
}

// Doc implements modules.Module.
func (*MetadbBackup) Doc() modules.Doc {
	return modules.Doc{Name: "metadb_backup", Summary: "Dump the OMS MetaDB databases to a 0600 file on the control machine (before an upgrade).",
		Args: map[string]string{
			"host": "MetaDB address", "port": "MetaDB port", "user": "MetaDB user", "password": "MetaDB password (sensitive)",
			"databases": "the databases to dump", "dir": "folder on the control machine (default `$XDG_STATE_HOME/omsrun/backups`, i.e. `~/.local/state/omsrun/backups`)",
			"via_host":        "connect from the current host through SSH",
			"trim_heartbeat":  "heartbeat databases whose heatbeat_sequence keeps only its newest row before the dump (as obd and the upgrade docs do)",
			"rollback_to":     "the image an upgrade came from: a failure prints how to roll back to it",
			"rollback_target": "the image that upgrade goes to",
		}}
}

// NewArgs implements modules.Module.
func (*MetadbBackup) NewArgs() any { return &MetadbBackupArgs{} }

func (a *MetadbBackupArgs) target(env *modules.Env) metadb.Target {
	t := metadb.Target{Host: a.Host, Port: a.Port, User: a.User, Password: secret.String(a.Password), Timeout: 10 * time.Second}
	if a.ViaHost {
		t.Dial = env.Host.Dial
	}
	return t
}

// dir is where the dump goes: omsrun's state folder by default, so backups
// gather in one known place rather than in whatever folder omsrun ran from.
func (a *MetadbBackupArgs) dir() string {
	if a.Dir != "" {
		return a.Dir
	}
	if d, err := statedir.Backups(); err == nil {
		return d
	}
	// No home folder and no XDG_STATE_HOME: the current folder, named so
	// the operator finds it.
	return "omsrun-backups"
}

// Check implements Module: it proves the MetaDB answers (a real read) and
// says where the dump would go.
func (*MetadbBackup) Check(ctx context.Context, env *modules.Env, a any) (*modules.Plan, error) {
	args := a.(*MetadbBackupArgs)
	rep, err := metadb.Check(ctx, args.target(env), args.Databases)
	if err != nil {
		return nil, err
	}
	return &modules.Plan{Change: true, Summary: fmt.Sprintf("dump %d database(s) %v from MetaDB %s into %s/", len(rep.Existing), rep.Existing, rep.Version, args.dir())}, nil
}

var _ modules.Advisor = (*MetadbBackup)(nil)

// FailureAdvice implements modules.Advisor: a backup that belongs to an
// upgrade names the rollback (the MetaDB not yet touched).
func (*MetadbBackup) FailureAdvice(a any) string {
	args := a.(*MetadbBackupArgs)
	if args.RollbackTo == "" {
		return ""
	}
	return rollbackAdvice(upgradeRecord{From: args.RollbackTo, To: args.RollbackTarget})
}

// Apply implements modules.Module.
func (m *MetadbBackup) Apply(ctx context.Context, env *modules.Env, a any, plan *modules.Plan) (*modules.Result, error) {
	args := a.(*MetadbBackupArgs)
	res, err := m.apply(ctx, env, args)
	if advice := m.FailureAdvice(args); err != nil && advice != "" {
		return nil, fmt.Errorf("%w\n%s", err, advice)
	}
	return res, err
}

func (*MetadbBackup) apply(ctx context.Context, env *modules.Env, args *MetadbBackupArgs) (*modules.Result, error) {
	t := args.target(env)
	for _, db := range args.TrimHeartbeat {
		if _, err := metadb.TrimHeartbeat(ctx, t, db); err != nil {
			return nil, fmt.Errorf("trim %s's heartbeat rows: %w", db, err)
		}
	}
	rep, err := metadb.Check(ctx, t, args.Databases)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(args.dir(), 0o700); err != nil {
		return nil, fmt.Errorf("backup folder: %w", err)
	}
	path, f, err := newBackupFile(args.dir(), time.Now().UTC())
	if err != nil {
		return nil, err
	}
	tables, rows, err := metadb.Dump(ctx, t, rep.Existing, f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && tables == 0 {
		// The docs check that no dump is empty before going on.
		err = fmt.Errorf("the dump of %v holds no table", rep.Existing)
	}
	if err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("MetaDB backup: %w", err)
	}
	return &modules.Result{Changed: true, Msg: fmt.Sprintf("backed up %v (%d tables, %d rows) to %s", rep.Existing, tables, rows, path),
		Outputs: map[string]cty.Value{"path": cty.StringVal(path)}}, nil
}

// newBackupFile creates metadb-<time>.sql in dir, never over an existing
// file: a run interrupted right after its backup and re-run within the same
// second (an upgrade resumed at once) gets metadb-<time>-2.sql. The dump
// holds the OMS metadata, credentials of migration tasks among them: owner
// only.
func newBackupFile(dir string, now time.Time) (string, *os.File, error) {
	base, err := filepath.Abs(filepath.Join(dir, "metadb-"+now.Format("20060102T150405Z")))
	if err != nil {
		return "", nil, err
	}
	for i := 1; ; i++ {
		path := base + ".sql"
		if i > 1 {
			path = fmt.Sprintf("%s-%d.sql", base, i)
		}
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err == nil {
			return path, f, nil
		}
		if !errors.Is(err, fs.ErrExist) || i >= 100 {
			return "", nil, fmt.Errorf("backup file: %w", err)
		}
	}
}
