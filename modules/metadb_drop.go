package modules

import (
	"context"
	"fmt"

	"github.com/omsrun/omsrun/internal/metadb"
)

// MetadbDrop drops the OMS databases from the MetaDB (uninstall with purge).
// It is never part of a deploy; uninstall.hcl runs it behind a confirmation.
type MetadbDrop struct{}

var _ Module = (*MetadbDrop)(nil)

func init() { register("metadb_drop", func() Module { return &MetadbDrop{} }) }

// NewArgs implements Module; the arguments are metadb_backup's.
func (*MetadbDrop) NewArgs() any { return &MetadbBackupArgs{} }

// Doc implements Module.
func (*MetadbDrop) Doc() Doc {
	return Doc{Name: "metadb_drop", Summary: "Drop the OMS databases from the MetaDB (uninstall with purge); ok when they are gone.",
		Args: map[string]string{
			"host": "MetaDB address", "port": "MetaDB port", "user": "MetaDB user", "password": "MetaDB password (sensitive)",
			"databases": "the databases to drop", "dir": "unused", "via_host": "connect from the current host through SSH",
		}}
}

// Check implements Module: which of the databases exist.
func (*MetadbDrop) Check(ctx context.Context, env *Env, a any) (*Plan, error) {
	args := a.(*MetadbBackupArgs)
	rep, err := metadb.Check(ctx, args.target(env), args.Databases)
	if err != nil {
		return nil, err
	}
	if len(rep.Existing) == 0 {
		return &Plan{Summary: "no OMS database left in the MetaDB"}, nil
	}
	return &Plan{Change: true, Summary: fmt.Sprintf("drop databases %v", rep.Existing), Data: rep.Existing}, nil
}

// Apply implements Module.
func (*MetadbDrop) Apply(ctx context.Context, env *Env, a any, plan *Plan) (*Result, error) {
	args := a.(*MetadbBackupArgs)
	dbs, _ := plan.Data.([]string)
	if err := metadb.Drop(ctx, args.target(env), dbs); err != nil {
		return nil, err
	}
	return &Result{Changed: true, Msg: fmt.Sprintf("dropped %v", dbs)}, nil
}
