package oms

import (
	"context"
	"fmt"

	"github.com/omsrun/omsrun/internal/metadb"
	"github.com/omsrun/omsrun/modules"
)

// MetadbDrop drops the OMS databases from the MetaDB (uninstall with purge).
// It is never part of a deploy; uninstall.hcl runs it behind a confirmation.
type MetadbDrop struct{}

var _ modules.Module = (*MetadbDrop)(nil)

// MetadbDropArgs are metadb_drop's arguments: metadb_backup's connection.
type MetadbDropArgs struct {
	Host      string   `hcl:"host"`
	Port      int      `hcl:"port"`
	User      string   `hcl:"user"`
	Password  string   `hcl:"password"`
	Databases []string `hcl:"databases"`
	Dir       string   `hcl:"dir,optional"`
	ViaHost   bool     `hcl:"via_host,optional"`
}

func (a *MetadbDropArgs) target(env *modules.Env) metadb.Target {
	return (&MetadbBackupArgs{Host: a.Host, Port: a.Port, User: a.User, Password: a.Password, ViaHost: a.ViaHost}).target(env)
}

// NewArgs implements modules.Module.
func (*MetadbDrop) NewArgs() any { return &MetadbDropArgs{} }

// Doc implements modules.Module.
func (*MetadbDrop) Doc() modules.Doc {
	return modules.Doc{Name: "metadb_drop", Summary: "Drop the OMS databases from the MetaDB (uninstall with purge); ok when they are gone.",
		Args: map[string]string{
			"host": "MetaDB address", "port": "MetaDB port", "user": "MetaDB user", "password": "MetaDB password (sensitive)",
			"databases": "the databases to drop", "dir": "unused", "via_host": "connect from the current host through SSH",
		}}
}

// Check implements Module: which of the databases exist.
func (*MetadbDrop) Check(ctx context.Context, env *modules.Env, a any) (*modules.Plan, error) {
	args := a.(*MetadbDropArgs)
	rep, err := metadb.Check(ctx, args.target(env), args.Databases)
	if err != nil {
		return nil, err
	}
	if len(rep.Existing) == 0 {
		return &modules.Plan{Summary: "no OMS database left in the MetaDB"}, nil
	}
	return &modules.Plan{Change: true, Summary: fmt.Sprintf("drop databases %v", rep.Existing), Data: rep.Existing}, nil
}

// Apply implements modules.Module.
func (*MetadbDrop) Apply(ctx context.Context, env *modules.Env, a any, plan *modules.Plan) (*modules.Result, error) {
	args := a.(*MetadbDropArgs)
	dbs, _ := plan.Data.([]string)
	if err := metadb.Drop(ctx, args.target(env), dbs); err != nil {
		return nil, err
	}
	return &modules.Result{Changed: true, Msg: fmt.Sprintf("dropped %v", dbs)}, nil
}
