package oms

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/omsrun/omsrun/internal/metadb"
	"github.com/omsrun/omsrun/internal/secret"
	"github.com/omsrun/omsrun/modules"
)

// OMSHACheck refuses an offline upgrade while OMS high availability is on,
// as obd's upgrade check does (docs/oms-facts.md U4): HA would start
// replacement components on the nodes the upgrade stops.
type OMSHACheck struct{}

var _ modules.Module = (*OMSHACheck)(nil)
var _ modules.ReadOnly = (*OMSHACheck)(nil)

// ReadOnly implements modules.ReadOnly.
func (*OMSHACheck) ReadOnly() bool { return true }

// OMSHACheckArgs are oms_ha_check's arguments.
type OMSHACheckArgs struct {
	Host     string `hcl:"host"`
	Port     int    `hcl:"port"`
	User     string `hcl:"user"`
	Password string `hcl:"password"`
	RMDB     string `hcl:"rm_db"`
	ViaHost  bool   `hcl:"via_host,optional"`
}

// Doc implements modules.Module.
func (*OMSHACheck) Doc() modules.Doc {
	return modules.Doc{Name: "oms_ha_check", Summary: "Read-only: refuse while OMS high availability is on (ha.config in the rm database's oms_normal_config), as obd does before an upgrade.",
		Args: map[string]string{
			"host": "MetaDB address", "port": "MetaDB port", "user": "MetaDB user", "password": "MetaDB password (sensitive)",
			"rm_db": "the rm database", "via_host": "connect from the current host through SSH",
		}}
}

// NewArgs implements modules.Module.
func (*OMSHACheck) NewArgs() any { return &OMSHACheckArgs{} }

// haOffSteps is how the OMS docs turn HA off (docs/oms-facts.md U5).
const haOffSteps = "in the OMS console: System Management → System Parameters → ha.config → set enable to false"

// Check implements modules.Module.
func (*OMSHACheck) Check(ctx context.Context, env *modules.Env, a any) (*modules.Plan, error) {
	args := a.(*OMSHACheckArgs)
	t := metadb.Target{Host: args.Host, Port: args.Port, User: args.User, Password: secret.String(args.Password), Timeout: 10 * time.Second}
	if args.ViaHost {
		t.Dial = env.Host.Dial
	}
	on, found, err := metadb.HAEnabled(ctx, t, args.RMDB)
	if err != nil {
		return nil, err
	}
	if len(on) > 0 {
		return nil, fmt.Errorf("OMS high availability is on (%s.oms_normal_config ha.config: %s): an offline upgrade stops every node, and HA would fight it. Turn it off %s, then re-run; turn it back on after the upgrade",
			args.RMDB, strings.Join(on, ", "), haOffSteps)
	}
	if !found {
		return &modules.Plan{Summary: "no ha.config in " + args.RMDB + ".oms_normal_config: HA was never set"}, nil
	}
	return &modules.Plan{Summary: "OMS high availability is off"}, nil
}

// Apply implements modules.Module.
func (*OMSHACheck) Apply(_ context.Context, _ *modules.Env, _ any, plan *modules.Plan) (*modules.Result, error) {
	return &modules.Result{Msg: plan.Summary}, nil
}
