package oms

import (
	"context"
	"errors"
	"fmt"
	"path"

	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/modules"
)

// UpgradeMarker writes, completes and retires omsrun's upgrade record on a
// node (see upgradeRecord): "begin" before the old container stops,
// "backup" once the MetaDB dump exists, "finish" when every node runs the
// new image (the record becomes <mount_dir>/omsrun-upgrade.done), "clear"
// after a rollback.
type UpgradeMarker struct{}

var _ modules.Module = (*UpgradeMarker)(nil)
var _ modules.Validator = (*UpgradeMarker)(nil)

// UpgradeMarkerArgs are upgrade_marker's arguments.
type UpgradeMarkerArgs struct {
	MountDir string `hcl:"mount_dir"`
	Op       string `hcl:"op"`
	From     string `hcl:"from_image,optional"`
	FromID   string `hcl:"from_id,optional"`
	To       string `hcl:"to_image,optional"`
	Backup   string `hcl:"backup,optional"`
}

// Doc implements modules.Module.
func (*UpgradeMarker) Doc() modules.Doc {
	return modules.Doc{Name: "upgrade_marker", Summary: "Write omsrun's upgrade record on a node (<mount_dir>/omsrun-upgrade), so an interrupted upgrade resumes as one.",
		Args: map[string]string{
			"mount_dir":  "the mount folder",
			"op":         "`begin`, `backup`, `finish` or `clear`",
			"from_image": "begin: the previous image, by tag",
			"from_id":    "begin: its image ID",
			"to_image":   "begin: the image upgraded to",
			"backup":     "backup: the MetaDB dump on the control machine",
		}}
}

// NewArgs implements modules.Module.
func (*UpgradeMarker) NewArgs() any { return &UpgradeMarkerArgs{} }

// Validate implements modules.Validator.
func (*UpgradeMarker) Validate(a any) error {
	args := a.(*UpgradeMarkerArgs)
	var errs []error
	if !path.IsAbs(args.MountDir) {
		errs = append(errs, fmt.Errorf("mount_dir: %q is not an absolute path", args.MountDir))
	}
	switch args.Op {
	case "begin", "backup", "finish", "clear":
	default:
		errs = append(errs, fmt.Errorf("op: %q is not begin, backup, finish or clear", args.Op))
	}
	return errors.Join(errs...)
}

func (*UpgradeMarker) read(ctx context.Context, env *modules.Env, mountDir string) (marker upgradeRecord, has bool, err error) {
	res, err := env.Try(ctx, transport.Cmd{Argv: []string{"cat", "--", upgradeMarkerPath(mountDir)}})
	if err != nil {
		return marker, false, err
	}
	if res.ExitCode != 0 {
		return marker, false, nil
	}
	marker, has = parseUpgradeRecord(string(res.Stdout))
	return marker, has, nil
}

// Check implements modules.Module.
func (m *UpgradeMarker) Check(ctx context.Context, env *modules.Env, a any) (*modules.Plan, error) {
	args := a.(*UpgradeMarkerArgs)
	cur, has, err := m.read(ctx, env, args.MountDir)
	if err != nil {
		return nil, err
	}
	p := upgradeMarkerPath(args.MountDir)
	switch args.Op {
	case "begin":
		if has {
			return &modules.Plan{Summary: "upgrade record present: " + cur.From + " → " + cur.To}, nil
		}
		return &modules.Plan{Change: true, Summary: fmt.Sprintf("record the upgrade %s → %s in %s", args.From, args.To, p)}, nil
	case "backup":
		if !has || cur.Backup == args.Backup {
			return &modules.Plan{Summary: "backup recorded"}, nil
		}
		return &modules.Plan{Change: true, Summary: "record the backup " + args.Backup}, nil
	case "finish":
		if !has {
			return &modules.Plan{Summary: "no upgrade in progress"}, nil
		}
		return &modules.Plan{Change: true, Summary: "upgrade done: keep the record as " + upgradeDonePath(args.MountDir)}, nil
	}
	return &modules.Plan{Change: true, Summary: "remove the upgrade records"}, nil
}

// Apply implements modules.Module.
func (m *UpgradeMarker) Apply(ctx context.Context, env *modules.Env, a any, plan *modules.Plan) (*modules.Result, error) {
	args := a.(*UpgradeMarkerArgs)
	if !plan.Change {
		return &modules.Result{Msg: plan.Summary}, nil
	}
	p := upgradeMarkerPath(args.MountDir)
	var err error
	switch args.Op {
	case "begin":
		err = writeUpgradeRecord(ctx, env, p, upgradeRecord{From: args.From, FromID: args.FromID, To: args.To})
	case "backup":
		var cur upgradeRecord
		if cur, _, err = m.read(ctx, env, args.MountDir); err == nil {
			cur.Backup = args.Backup
			err = writeUpgradeRecord(ctx, env, p, cur)
		}
	case "finish":
		_, err = env.Run(ctx, transport.Cmd{Argv: []string{"mv", "-f", "--", p, upgradeDonePath(args.MountDir)}})
	case "clear":
		err = removeFiles(ctx, env, p, upgradeDonePath(args.MountDir))
	}
	if err != nil {
		return nil, err
	}
	return &modules.Result{Changed: true, Msg: plan.Summary}, nil
}
