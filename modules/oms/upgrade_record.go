package oms

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/omsrun/omsrun/internal/remotefile"
	"github.com/omsrun/omsrun/internal/secret"
	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/modules"
)

// upgradeRecord is what omsrun writes on a node before it stops the old
// container: the upgrade's intent, so that a run interrupted anywhere
// resumes as the same upgrade (IS_UPGRADE included) and a failure can be
// rolled back to the same image and backup, whatever the next run is given.
// It lives in the mount folder, outside the container's mounts, as
// <mount_dir>/omsrun-upgrade while the upgrade runs and as
// <mount_dir>/omsrun-upgrade.done once it finished (for a later rollback
// and for image_prune, which keeps the image a rollback needs).
type upgradeRecord struct {
	From   string // the previous image, by tag (a digest cannot be tagged or run by name reliably)
	FromID string // its image ID, to tell it from a re-tagged image
	To     string // the image being upgraded to
	Backup string // the MetaDB dump taken once every old node stopped, on the control machine
}

func upgradeMarkerPath(mountDir string) string {
	return strings.TrimSuffix(mountDir, "/") + "/omsrun-upgrade"
}
func upgradeDonePath(mountDir string) string { return upgradeMarkerPath(mountDir) + ".done" }

func (r upgradeRecord) encode() []byte {
	return []byte(fmt.Sprintf("# omsrun upgrade record: do not edit\nfrom=%s\nfrom_id=%s\nto=%s\nbackup=%s\n", r.From, r.FromID, r.To, r.Backup))
}

// parseUpgradeRecord reads encode's output; ok is false for an empty file.
func parseUpgradeRecord(s string) (r upgradeRecord, ok bool) {
	for _, line := range strings.Split(s, "\n") {
		k, v, found := strings.Cut(strings.TrimSpace(line), "=")
		if !found {
			continue
		}
		ok = true
		switch k {
		case "from":
			r.From = v
		case "from_id":
			r.FromID = v
		case "to":
			r.To = v
		case "backup":
			r.Backup = v
		}
	}
	return r, ok
}

func writeUpgradeRecord(ctx context.Context, env *modules.Env, path string, r upgradeRecord) error {
	_, err := remotefile.Write(ctx, env.Host, remotefile.File{Path: path, Content: r.encode(), Mode: 0o600, Become: env.Become})
	return err
}

func removeFiles(ctx context.Context, env *modules.Env, paths ...string) error {
	_, err := env.Run(ctx, transport.Cmd{Argv: append([]string{"rm", "-f", "--"}, paths...)})
	return err
}

// rollbackAdvice is the one text every upgrade failure ends with: the exact
// command that undoes the upgrade. restore.hcl reads the previous image and
// the backup from the nodes' upgrade records, so the command is this run's
// own command line with restore.hcl in place of the playbook; it is read
// from the process's arguments because only the command line knows the
// inventory and var files the operator gave.
func rollbackAdvice(r upgradeRecord) string {
	db := "the MetaDB was not touched yet (no backup taken), so only the containers go back"
	if r.Backup != "" {
		db = "it restores the MetaDB from " + r.Backup + ", the backup taken after every old node stopped"
	}
	return fmt.Sprintf("to roll back to %s (nodes on %s are stopped, the previous containers started again; %s), run at a terminal (it asks before it restores the MetaDB; --yes answers):\n  %s",
		r.From, r.To, db, restoreCommand(os.Args, r.Backup))
}

// askForSecret is one -e value as the printed command gives it: a secret
// given on the command line is asked for (name=@ask); files, @env
// references and other values stay as they were.
func askForSecret(kv string) string {
	name, v, ok := strings.Cut(kv, "=")
	if !ok || strings.HasPrefix(kv, "@") || strings.HasPrefix(v, "@") || !secret.IsSecretName(name) {
		return kv
	}
	return name + "=@ask"
}
