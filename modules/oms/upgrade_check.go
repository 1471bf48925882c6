package oms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/docker"
	"github.com/omsrun/omsrun/internal/omsconfig"
	"github.com/omsrun/omsrun/internal/textx"
	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/modules"
)

// UpgradeCheck reads where a node stands in an upgrade — its container, the
// image's tags, omsrun's upgrade record — and refuses, before anything
// stops, what the sources do not allow: an upgrade from a version obd does
// not upgrade, a jump an upgrade page refuses, a downgrade (only restore.hcl
// goes back), another upgrade while one is in progress. deploy.hcl asks it
// too (mode "deploy"), so a new image on a running cluster is never rolled
// out as a deployment.
type UpgradeCheck struct{}

var _ modules.Module = (*UpgradeCheck)(nil)
var _ modules.ReadOnly = (*UpgradeCheck)(nil)
var _ modules.Validator = (*UpgradeCheck)(nil)

// ReadOnly implements modules.ReadOnly.
func (*UpgradeCheck) ReadOnly() bool { return true }

// UpgradeCheckArgs are upgrade_check's arguments.
type UpgradeCheckArgs struct {
	Name      string `hcl:"name,optional"`
	MountDir  string `hcl:"mount_dir"`
	Image     string `hcl:"image,optional"`
	ImageFile string `hcl:"image_file,optional"`
	Mode      string `hcl:"mode,optional"`
	// What the new container would use, compared with what the node runs
	// with (upgrade_layout.go): config_path, and the drc_*_db names.
	ConfigPath string            `hcl:"config_path,optional"`
	Databases  map[string]string `hcl:"databases,optional"`
}

// Doc implements modules.Module.
func (*UpgradeCheck) Doc() modules.Doc {
	return modules.Doc{Name: "upgrade_check", Summary: "Read-only: where a node stands in an upgrade (container, image tag, omsrun's upgrade record), and the version gates.",
		Args: map[string]string{
			"name":        "container name (default `oms`)",
			"mount_dir":   "the mount folder, where the upgrade record lives",
			"image":       "the image asked for (its tag names the version)",
			"image_file":  "its package on the control machine (names its image ID)",
			"mode":        "`upgrade` (default: gates, state), `deploy` (refuse a new image or an upgrade in progress) or `rollback` (read the record restore.hcl undoes)",
			"config_path": "the config.yaml the new container mounts (default `<mount_dir>/config.yaml`); an upgrade changing it, or mount_dir, is refused",
			"databases":   "the new config.yaml's `drc_rm_db`, `drc_cm_db`, `drc_cm_heartbeat_db`; an upgrade naming others than the node's config.yaml is refused",
		}}
}

// NewArgs implements modules.Module.
func (*UpgradeCheck) NewArgs() any { return &UpgradeCheckArgs{} }

// Validate implements modules.Validator.
func (*UpgradeCheck) Validate(a any) error {
	args := a.(*UpgradeCheckArgs)
	var errs []error
	if err := docker.CheckContainerName("name", args.Name); err != nil {
		errs = append(errs, err)
	}
	if !path.IsAbs(args.MountDir) {
		errs = append(errs, fmt.Errorf("mount_dir: %q is not an absolute path", args.MountDir))
	}
	switch args.Mode {
	case "", "upgrade", "deploy":
		if args.Image == "" {
			errs = append(errs, errors.New("image: give the image asked for"))
		}
	case "rollback":
	default:
		errs = append(errs, fmt.Errorf("mode: %q is not upgrade, deploy or rollback", args.Mode))
	}
	return errors.Join(errs...)
}

// nodeUpgrade is what one read of the node found.
type nodeUpgrade struct {
	exists, running bool
	imageID         string
	tags            []string
	targetID        string
	marker, done    upgradeRecord
	hasMarker       bool
	hasDone         bool
	layout          nodeLayout
}

const upSep = "--omsrun-upgrade--"

func (*UpgradeCheck) read(ctx context.Context, env *modules.Env, a *UpgradeCheckArgs) (nodeUpgrade, error) {
	var n nodeUpgrade
	// containerInspect tells an absent container from docker not answering:
	// a node whose daemon is down must not read as a new node.
	script := fmt.Sprintf(`st=$(%s); printf '%%s\n' "$st"; id=; case "$st" in true\ *|false\ *) id=${st#* };; esac
echo %s
[ -n "$id" ] && docker image inspect --format '{{json .RepoTags}}' "$id" 2>/dev/null
echo %s
`, containerInspect(a.Name), upSep, upSep)
	if a.Image != "" {
		script += fmt.Sprintf("docker image inspect --format '{{.Id}}' %s 2>/dev/null\n", transport.Quote(a.Image))
	}
	script += fmt.Sprintf("echo %s\ncat %s 2>/dev/null\necho %s\ncat %s 2>/dev/null\necho %s\n", upSep,
		transport.Quote(upgradeMarkerPath(a.MountDir)), upSep, transport.Quote(upgradeDonePath(a.MountDir)), upSep)
	script += layoutScript(a.Name, a.configPath())
	res, err := env.Run(ctx, transport.Cmd{Script: script})
	if err != nil {
		return n, err
	}
	parts := textx.SplitSections(string(res.Stdout), upSep)
	if len(parts) != 7 {
		return n, fmt.Errorf("reading the upgrade state: unexpected answer: %s", textx.TailLines(string(res.Stdout), 5))
	}
	st, err := parseContainerState(a.Name, parts[0])
	if err != nil {
		return n, err
	}
	n.exists, n.running, n.imageID = st.exists, st.running, st.image
	if t := strings.TrimSpace(parts[1]); t != "" {
		_ = json.Unmarshal([]byte(t), &n.tags)
	}
	n.targetID = strings.TrimSpace(parts[2])
	if a.ImageFile != "" {
		// The package names the image ID before anything is sent.
		if arch, err := archiveCache.Read(a.ImageFile); err == nil && len(arch.Images) > 0 {
			n.targetID = arch.Images[0].ID
		}
	}
	n.marker, n.hasMarker = parseUpgradeRecord(parts[3])
	n.done, n.hasDone = parseUpgradeRecord(parts[4])
	n.layout = parseLayout(parts[5], parts[6])
	return n, nil
}

// fromTag is the tag of the running image that names a version, preferring
// the repository of the image asked for.
func (n nodeUpgrade) fromTag(want string) string {
	repo, _, _ := strings.Cut(want, ":")
	best := ""
	for _, t := range n.tags {
		if _, err := omsconfig.ImageVersion(t); err != nil {
			continue
		}
		if r, _, _ := strings.Cut(t, ":"); r == repo {
			return t
		}
		if best == "" {
			best = t
		}
	}
	return best
}

func (n nodeUpgrade) onTarget(image string) bool {
	if !n.exists {
		return false
	}
	if n.targetID != "" {
		return n.imageID == n.targetID
	}
	return slices.Contains(n.tags, image)
}

// Check implements modules.Module.
func (m *UpgradeCheck) Check(ctx context.Context, env *modules.Env, a any) (*modules.Plan, error) {
	args := a.(*UpgradeCheckArgs)
	if args.Name == "" {
		args.Name = "oms"
	}
	n, err := m.read(ctx, env, args)
	if err != nil {
		return nil, err
	}
	switch args.Mode {
	case "deploy":
		return deployGuard(n, args)
	case "rollback":
		return rollbackState(n, args)
	}
	return upgradeState(n, args)
}

func upgradeOutputs(state string, r upgradeRecord, n nodeUpgrade, needsStop bool) map[string]cty.Value {
	return map[string]cty.Value{
		"state":      cty.StringVal(state),
		"from_image": cty.StringVal(r.From),
		"from_id":    cty.StringVal(r.FromID),
		"to_image":   cty.StringVal(r.To),
		"backup":     cty.StringVal(r.Backup),
		"running":    cty.BoolVal(n.running),
		"needs_stop": cty.BoolVal(needsStop),
	}
}

// upgradeState decides the node's part from what it holds: "current" (on
// the image already, no upgrade running), "upgrade" (to start) or
// "resume" (a record says an upgrade to this image began).
func upgradeState(n nodeUpgrade, a *UpgradeCheckArgs) (*modules.Plan, error) {
	if n.hasMarker {
		if n.marker.To != a.Image {
			return nil, fmt.Errorf("an upgrade from %s to %s is in progress on this node (%s): finish it with -e image=%s, or undo it with playbooks/restore.hcl",
				n.marker.From, n.marker.To, upgradeMarkerPath(a.MountDir), n.marker.To)
		}
		if err := layoutRefusal(n.layout, a); err != nil {
			return nil, err
		}
		stop := n.running && !n.onTarget(a.Image)
		return &modules.Plan{Summary: fmt.Sprintf("resuming the upgrade %s → %s", n.marker.From, n.marker.To),
			Outputs: upgradeOutputs("resume", n.marker, n, stop)}, nil
	}
	if !n.exists {
		return nil, fmt.Errorf("no %s container on this node: upgrade.hcl upgrades running nodes; deploy a new node with deploy.hcl once the upgrade is done", a.Name)
	}
	if n.onTarget(a.Image) {
		// The last finished upgrade's record still names the image a
		// rollback needs (image_prune keeps it).
		return &modules.Plan{Summary: "already on " + a.Image, Outputs: upgradeOutputs("current", n.done, n, false)}, nil
	}
	from := n.fromTag(a.Image)
	if from == "" {
		return nil, fmt.Errorf("the running image %.19s has no tag naming an OMS version (%v): omsrun cannot tell which upgrade this is, nor print a rollback that works; tag it (docker tag %.19s oms:feature_X.Y.Z-ce) and re-run",
			n.imageID, n.tags, n.imageID)
	}
	fv, _ := omsconfig.ImageVersion(from)
	tv, err := omsconfig.ImageVersion(a.Image)
	if err != nil {
		return nil, err
	}
	if err := omsconfig.UpgradeGate(fv, tv); err != nil {
		return nil, fmt.Errorf("refused before anything stops: %s → %s: %w", from, a.Image, err)
	}
	if err := layoutRefusal(n.layout, a); err != nil {
		return nil, err
	}
	r := upgradeRecord{From: from, FromID: n.imageID, To: a.Image}
	return &modules.Plan{Summary: fmt.Sprintf("upgrade %s → %s (offline: every node stops first)", from, a.Image),
		Outputs: upgradeOutputs("upgrade", r, n, n.running)}, nil
}

// deployGuard keeps deploy.hcl to deployments: an image change on a running
// node is an upgrade, whose documented procedure stops every node first.
// It never fails itself: its output "refusal" goes to a run_once assert,
// so one node's refusal stops the run on every node.
func deployGuard(n nodeUpgrade, a *UpgradeCheckArgs) (*modules.Plan, error) {
	refusal := ""
	switch {
	case n.hasMarker:
		refusal = fmt.Sprintf("an upgrade from %s to %s is in progress (%s): finish it with playbooks/upgrade.hcl -e image=%s, or undo it with playbooks/restore.hcl",
			n.marker.From, n.marker.To, upgradeMarkerPath(a.MountDir), n.marker.To)
	case n.exists && !n.onTarget(a.Image):
		from := n.fromTag(a.Image)
		if from == "" {
			from = n.imageID
		}
		refusal = fmt.Sprintf("runs %s, not %s: a new image on a running cluster is an upgrade, which stops every node first (the documented offline procedure); run playbooks/upgrade.hcl with the same options", from, a.Image)
	}
	summary := "no upgrade pending"
	if refusal != "" {
		summary = refusal
	}
	return &modules.Plan{Summary: summary, Outputs: map[string]cty.Value{"refusal": cty.StringVal(refusal)}}, nil
}

// rollbackState reads what restore.hcl undoes: the upgrade in progress, or
// else the last one finished.
func rollbackState(n nodeUpgrade, a *UpgradeCheckArgs) (*modules.Plan, error) {
	r, state := n.marker, "in progress"
	if !n.hasMarker {
		r, state = n.done, "finished"
	}
	if !n.hasMarker && !n.hasDone {
		return nil, fmt.Errorf("no upgrade record on this node (%s): nothing to roll back", upgradeMarkerPath(a.MountDir))
	}
	if r.From == "" {
		return nil, fmt.Errorf("the upgrade record %s names no previous image", upgradeMarkerPath(a.MountDir))
	}
	// The previous image running is stopped too when a backup is to be
	// restored: it runs only once an earlier rollback restored the MetaDB
	// and was cut before it cleared the records, and the re-run restores
	// again (what that image wrote since is lost, as the question says);
	// its databases are never dropped under a running OMS. Without a
	// backup nothing is restored, and a node still on it keeps running.
	stop := n.running && (n.imageID != r.FromID || r.Backup != "")
	out := upgradeOutputs(state, r, n, stop)
	return &modules.Plan{Summary: fmt.Sprintf("roll back the %s upgrade %s → %s", state, r.From, r.To), Outputs: out}, nil
}

// Apply implements modules.Module: Check read everything.
func (*UpgradeCheck) Apply(_ context.Context, _ *modules.Env, _ any, plan *modules.Plan) (*modules.Result, error) {
	return &modules.Result{Msg: plan.Summary, Outputs: plan.Outputs}, nil
}
