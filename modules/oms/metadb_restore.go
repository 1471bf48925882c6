package oms

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/omsrun/omsrun/internal/metadb"
	"github.com/omsrun/omsrun/internal/secret"
	"github.com/omsrun/omsrun/modules"
)

// MetadbRestore puts the MetaDB back from a metadb_backup dump: the
// rollback of an upgrade (restore.hcl). The databases are dropped first,
// so that tables the new version created do not survive next to the
// restored ones.
type MetadbRestore struct{}

var _ modules.Module = (*MetadbRestore)(nil)
var _ modules.Validator = (*MetadbRestore)(nil)

// MetadbRestoreArgs are metadb_restore's arguments.
type MetadbRestoreArgs struct {
	Host      string   `hcl:"host"`
	Port      int      `hcl:"port"`
	User      string   `hcl:"user"`
	Password  string   `hcl:"password"`
	Databases []string `hcl:"databases"`
	File      string   `hcl:"file"`
	ViaHost   bool     `hcl:"via_host,optional"`
}

// Doc implements modules.Module.
func (*MetadbRestore) Doc() modules.Doc {
	return modules.Doc{Name: "metadb_restore", Summary: "Drop the OMS databases and restore them from a metadb_backup dump (an upgrade's rollback).",
		Args: map[string]string{
			"host": "MetaDB address", "port": "MetaDB port", "user": "MetaDB user", "password": "MetaDB password (sensitive)",
			"databases": "the databases the dump must hold; they are dropped, then restored", "file": "the dump on the control machine",
			"via_host": "connect from the current host through SSH",
		}}
}

// NewArgs implements modules.Module.
func (*MetadbRestore) NewArgs() any { return &MetadbRestoreArgs{} }

// Validate implements modules.Validator.
func (*MetadbRestore) Validate(a any) error {
	args := a.(*MetadbRestoreArgs)
	if args.File == "" {
		return errors.New("file: give the dump to restore")
	}
	if len(args.Databases) == 0 {
		return errors.New("databases: name the databases to restore")
	}
	// The dump is on the control machine: a missing, foreign or cut-short
	// file needs no connection to find, so validate finds it as --check does
	// (issue #14 point 8).
	if _, err := args.readDump(); err != nil {
		return argError{attr: "file", err: err}
	}
	return nil
}

// argError is a complaint about one argument; its Attribute lets validate
// point at the line where the operator set the value (a -e, a var file).
type argError struct {
	attr string
	err  error
}

func (e argError) Error() string     { return e.attr + ": " + e.err.Error() }
func (e argError) Unwrap() error     { return e.err }
func (e argError) Attribute() string { return e.attr }

// readDump reads the dump and checks that it holds every database asked
// for, before anything is dropped.
func (a *MetadbRestoreArgs) readDump() (string, error) {
	b, err := os.ReadFile(a.File)
	if err != nil {
		return "", fmt.Errorf("backup: %w", err)
	}
	dump := string(b)
	for _, db := range a.Databases {
		if !strings.Contains(dump, "\nUSE `"+db+"`;") {
			return "", fmt.Errorf("backup %s holds no database %s: not the backup of this deployment", a.File, db)
		}
	}
	if !strings.HasSuffix(strings.TrimSpace(dump), "SET FOREIGN_KEY_CHECKS=1;") {
		return "", fmt.Errorf("backup %s is cut short (no closing statement): it was not written to the end", a.File)
	}
	return dump, nil
}

func (a *MetadbRestoreArgs) target(env *modules.Env) metadb.Target {
	t := metadb.Target{Host: a.Host, Port: a.Port, User: a.User, Password: secret.String(a.Password), Timeout: 30 * time.Second}
	if a.ViaHost {
		t.Dial = env.Host.Dial
	}
	return t
}

// Check implements modules.Module: the dump is read and the MetaDB asked.
func (*MetadbRestore) Check(ctx context.Context, env *modules.Env, a any) (*modules.Plan, error) {
	args := a.(*MetadbRestoreArgs)
	if _, err := args.readDump(); err != nil {
		return nil, err
	}
	if _, err := metadb.Check(ctx, args.target(env), args.Databases); err != nil {
		return nil, err
	}
	return &modules.Plan{Change: true, Summary: fmt.Sprintf("drop %v and restore them from %s", args.Databases, args.File)}, nil
}

// Apply implements modules.Module.
func (*MetadbRestore) Apply(ctx context.Context, env *modules.Env, a any, _ *modules.Plan) (*modules.Result, error) {
	args := a.(*MetadbRestoreArgs)
	dump, err := args.readDump()
	if err != nil {
		return nil, err
	}
	t := args.target(env)
	env.Report.Phase("dropping " + strings.Join(args.Databases, ", "))
	if err := metadb.Drop(ctx, t, args.Databases); err != nil {
		return nil, err
	}
	env.Report.Phase("restoring from " + args.File)
	if err := metadb.Restore(ctx, t, dump, nil); err != nil {
		return nil, fmt.Errorf("%w\n%s", err, partialRestoreAdvice(args))
	}
	return &modules.Result{Changed: true, Msg: fmt.Sprintf("restored %v from %s", args.Databases, args.File)}, nil
}

// partialRestoreAdvice ends the error of a restore that stopped after the
// drop. The rollback is still pending on the nodes (their upgrade records
// go only once the previous image runs), so its own command line, run
// again, drops whatever was restored and restores the whole dump: what is
// in the MetaDB now does not matter to it.
func partialRestoreAdvice(a *MetadbRestoreArgs) string {
	return fmt.Sprintf("the databases %s were dropped and are only partly restored; to restore them from %s again, run at a terminal (it asks before it drops them; --yes answers):\n  %s",
		strings.Join(a.Databases, ", "), a.File, restoreCommand(os.Args, a.File))
}
