package oms

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/metadb"
	"github.com/omsrun/omsrun/internal/secret"
	"github.com/omsrun/omsrun/modules"
)

// CMHost keeps the CM database's `host` table, where every OMS node
// registers itself (its ip) at start, in step with the inventory: it finds
// nodes registered but no longer in the inventory, and deletes the row of
// the node being scaled in (docs/oms-facts.md S2).
type CMHost struct{}

var _ modules.Module = (*CMHost)(nil)
var _ modules.Validator = (*CMHost)(nil)

// CMHostArgs are cm_host's arguments.
type CMHostArgs struct {
	Host     string   `hcl:"host"`
	Port     int      `hcl:"port"`
	User     string   `hcl:"user"`
	Password string   `hcl:"password"`
	ViaHost  bool     `hcl:"via_host,optional"`
	Database string   `hcl:"database"`
	Nodes    []string `hcl:"nodes"`
	Remove   string   `hcl:"remove,optional"`
	// Keep only reads: the row of remove stays (a check before its container goes).
	Keep bool `hcl:"keep,optional"`
	// Hint says how to scale a node in, shown when a registered node is
	// missing from the inventory and no remove is given, followed by the
	// command that does it (this run's, on scale-in.hcl: scaleInCommand).
	Hint string `hcl:"hint,optional"`
}

// NewArgs implements modules.Module.
func (*CMHost) NewArgs() any { return &CMHostArgs{} }

// Doc implements modules.Module.
func (*CMHost) Doc() modules.Doc {
	return modules.Doc{Name: "cm_host", Summary: "The CM database's host table (one row per registered OMS node): fail on a node registered but not in the inventory, or delete the row of the node named in remove.",
		Args: map[string]string{
			"host": "MetaDB address", "port": "MetaDB port", "user": "MetaDB user", "password": "MetaDB password (sensitive)",
			"via_host": "bool: connect from the current host through SSH",
			"database": "the CM database (drc_cm_db)",
			"nodes":    "list(string): the addresses of the OMS nodes the inventory keeps",
			"remove":   "string: the address (its host row's ip) of the node being scaled in, not in nodes; its row is deleted",
			"keep":     "bool: only read and check, delete nothing",
			"hint":     "string: how to scale a node in, shown when a registered node is in neither nodes nor remove, before the scale-in.hcl command (this run's options, remove_node set)",
		}}
}

// Validate refuses to scale in a node the inventory still has: the others'
// cm_nodes would keep it.
func (*CMHost) Validate(a any) error {
	args := a.(*CMHostArgs)
	if args.Remove != "" && slices.Contains(args.Nodes, args.Remove) {
		return fmt.Errorf("remove: %s is still an OMS host of the inventory: take it out of the inventory first, so that the other nodes' cm_nodes leave it out", args.Remove)
	}
	return nil
}

func (a *CMHostArgs) target(env *modules.Env) metadb.Target {
	t := metadb.Target{Host: a.Host, Port: a.Port, User: a.User, Password: secret.String(a.Password)}
	if a.ViaHost {
		t.Dial = env.Host.Dial
	}
	return t
}

// Check implements Module: the registered nodes, read from the table.
func (*CMHost) Check(ctx context.Context, env *modules.Env, a any) (*modules.Plan, error) {
	args := a.(*CMHostArgs)
	hostRows, err := metadb.HostRows(ctx, args.target(env), args.Database)
	if err != nil {
		return nil, err
	}
	if err := lastOfRegion(hostRows, args.Remove, args.Database); err != nil {
		return nil, err
	}
	var rows []string
	for _, r := range hostRows {
		rows = append(rows, r.IP)
	}
	var absent []string
	for _, ip := range rows {
		if !slices.Contains(args.Nodes, ip) && ip != args.Remove {
			absent = append(absent, ip)
		}
	}
	outs := map[string]cty.Value{"registered": strList(rows), "absent": strList(absent)}
	if args.Remove == "" && len(absent) > 0 {
		hint := args.Hint
		if hint == "" {
			hint = "scale it in first"
		}
		if len(absent) > 1 {
			hint += ", one node at a time"
		}
		return nil, fmt.Errorf("%s registered in %s.host but not in the inventory: OMS still counts %s as its node%s; %s:\n  %s",
			strings.Join(absent, ", "), args.Database, map[bool]string{true: "it", false: "them"}[len(absent) == 1],
			map[bool]string{true: "", false: "s"}[len(absent) == 1], hint, scaleInCommand(os.Args, absent[0]))
	}
	summary := fmt.Sprintf("registered in %s.host: %s", args.Database, strings.Join(rows, ", "))
	if len(rows) == 0 {
		summary = "no node registered in " + args.Database + ".host"
	}
	if len(absent) > 0 {
		summary += "; also not in the inventory: " + strings.Join(absent, ", ")
	}
	if args.Remove != "" && slices.Contains(rows, args.Remove) && !args.Keep {
		return &modules.Plan{Change: true, Summary: fmt.Sprintf("delete %s's row from %s.host", args.Remove, args.Database), Outputs: outs}, nil
	}
	if args.Remove != "" && !slices.Contains(rows, args.Remove) {
		summary = fmt.Sprintf("%s is not registered in %s.host (already deleted)", args.Remove, args.Database)
	}
	return &modules.Plan{Summary: summary, Outputs: outs}, nil
}

// Apply implements Module: delete the removed node's row.
func (*CMHost) Apply(ctx context.Context, env *modules.Env, a any, plan *modules.Plan) (*modules.Result, error) {
	args := a.(*CMHostArgs)
	if err := metadb.DeleteHostRow(ctx, args.target(env), args.Database, args.Remove); err != nil {
		return nil, err
	}
	return &modules.Result{Changed: true, Msg: fmt.Sprintf("deleted %s's row from %s.host", args.Remove, args.Database), Outputs: plan.Outputs}, nil
}

func strList(ss []string) cty.Value {
	if len(ss) == 0 {
		return cty.ListValEmpty(cty.String)
	}
	return cty.ListVal(stringVals(ss))
}

// lastOfRegion refuses to scale in the only node registered in its region
// (its resource group): its region's cm_url would point at no node. The OMS
// docs remove a region's last node by a procedure of their own ("Remove a
// node and reduce the number of regions", docs/oms-facts.md S3) whose steps
// we could not read, so omsrun does not guess them: it says how to keep the
// region served instead, or where the region's removal is described.
func lastOfRegion(rows []metadb.HostRow, remove, database string) error {
	i := slices.IndexFunc(rows, func(r metadb.HostRow) bool { return r.IP == remove })
	if remove == "" || i < 0 {
		return nil
	}
	for _, r := range rows {
		if r.IP != remove && r.Group == rows[i].Group {
			return nil
		}
	}
	return fmt.Errorf("remove: %s is the last node of its region: no other node registered in %s.host has its resource_group_id (%s), "+
		"so scaling it in would leave that region's cm_url with no OMS node behind it. Nothing was changed. "+
		"To keep the region, add a node to it first (the new host in the inventory and in the region's hosts), run deploy.hcl, then scale %s in. "+
		"To drop the region, follow OMS's own procedure (\"Remove a node and reduce the number of regions\" in the OMS docs' Scale down deployment), which omsrun does not automate; "+
		"to remove OMS from every node, run uninstall.hcl",
		remove, database, cmp.Or(rows[i].Group, "null"), remove)
}
