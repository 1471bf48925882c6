package oms

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/docker"
	"github.com/omsrun/omsrun/internal/textx"
	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/modules"
)

// ContainerRun runs the OMS container with the documented OMS CE flags,
// recreates it when the image, mounts, environment or flags differ, and
// waits until it is healthy. It is the OMS layer on the generic container
// module: the container is described as container's arguments (spec), which
// compare it with docker inspect and give the docker run command; this
// module adds the one-command read, config.yaml and the certificates, the
// upgrade flag, the VIP hand-over and the health wait.
type ContainerRun struct{}

var _ modules.Module = (*ContainerRun)(nil)
var _ modules.Validator = (*ContainerRun)(nil)
var _ modules.Advisor = (*ContainerRun)(nil)

// FailureAdvice implements modules.Advisor: in an upgrade the way back is
// restore.hcl, which needs the previous image by tag and the backup, both
// recorded on the node.
func (*ContainerRun) FailureAdvice(args any) string {
	a := args.(*ContainerRunArgs)
	if a.RollbackTo == "" {
		return ""
	}
	return rollbackAdvice(upgradeRecord{From: a.RollbackTo, To: a.RollbackTarget, Backup: a.RollbackBackup})
}

// ContainerRunArgs are the arguments of container_run.
type ContainerRunArgs struct {
	Name          string            `hcl:"name,optional"`
	Image         string            `hcl:"image"`
	ConfigPath    string            `hcl:"config_path,optional"`
	MountDir      string            `hcl:"mount_dir,optional"`
	HostIP        string            `hcl:"host_ip,optional"`
	HTTPSCrt      string            `hcl:"https_crt,optional"`
	HTTPSKey      string            `hcl:"https_key,optional"`
	ExtraEnv      map[string]string `hcl:"extra_env,optional"`
	HealthTimeout string            `hcl:"health_timeout,optional"`
	HealthPort    int               `hcl:"health_port,optional"`
	CMPort        int               `hcl:"cm_port,optional"`
	Settle        string            `hcl:"settle,optional"`
	Upgrade       *bool             `hcl:"upgrade,optional"`
	// The upgrade this run belongs to (upgrade.hcl): a node that does not
	// become healthy prints the rollback to RollbackTo.
	RollbackTo     string `hcl:"rollback_to,optional"`
	RollbackTarget string `hcl:"rollback_target,optional"`
	RollbackBackup string `hcl:"rollback_backup,optional"`
	// OnlyUnfinished only finishes a start an interrupted run left: it waits
	// for a container that is running as asked but was never seen healthy,
	// and changes nothing else.
	OnlyUnfinished bool   `hcl:"only_unfinished,optional"`
	VIP            string `hcl:"vip,optional"`
	VIPPort        int    `hcl:"vip_port,optional"`
	// RestoreFrom is the previous config.yaml (render_config's backup): a
	// node that ran before and does not come up healthy gets it back and is
	// reloaded on it, as supervisor_restart does.
	RestoreFrom string `hcl:"restore_from,optional"`
	// Restore opts in to restoring even without RestoreFrom: a re-run after
	// an interruption wrote nothing and has no backup name, yet the node's
	// last good config.yaml is still on it (lastGoodConfig). Opt-in because
	// a new image (upgrade.hcl, restore.hcl) must never get an old config.
	Restore bool `hcl:"restore,optional"`
	// AwaitBalancer is a healthy_since step's outputs: a replacement waits
	// first until the balancer can have the other nodes back.
	AwaitBalancer cty.Value `hcl:"await_balancer,optional"`
}

// Doc describes the module.
func (*ContainerRun) Doc() modules.Doc {
	return modules.Doc{
		Name:    "container_run",
		Summary: "Run the OMS container (docker run -dit --net host … --privileged), recreate it when it differs, wait until healthy.",
		Args: map[string]string{
			"name":            `container name (default "oms")`,
			"image":           "image reference or ID, e.g. oms:feature_4.2.5-ce",
			"config_path":     "config.yaml on the host (default <mount_dir>/config.yaml)",
			"mount_dir":       "the mount directory holding logs, store and run (default /data/oms)",
			"host_ip":         "OMS_HOST_IP, and where health is probed (default: the host's inventory address)",
			"https_crt":       "HTTPS certificate on the control machine, copied to <mount_dir>/cert/oms_server.crt",
			"https_key":       "its private key, copied to <mount_dir>/cert/oms_server.key (mode 0600)",
			"extra_env":       "more -e variables for the container",
			"health_timeout":  "duration: how long to wait for health (default 15m, as patient as the real product's first start)",
			"health_port":     "the nginx port, where GET /oms/health answers (default 8089)",
			"cm_port":         "CM's port: healthy also needs it to answer HTTP (any status) and oms_drc_cm RUNNING (default 8088)",
			"settle":          "duration: pause after a change once healthy, so a load balancer takes the node back (rise × inter) before the next node is touched (default 0)",
			"upgrade":         "pass IS_UPGRADE=true when (re)creating; default: only when replacing a container on an older image",
			"rollback_to":     "the image an upgrade came from (by tag): a node that fails prints how to roll back to it",
			"rollback_target": "the image that upgrade goes to",
			"rollback_backup": "the MetaDB backup that upgrade took",
			"only_unfinished": "bool: only wait for (and record) a container an interrupted run started and never saw healthy; never create, recreate or start one (default false)",
			"vip":             "omsrun's keepalived VIP (vip.hcl): when this node holds it, it is handed to another node before the container is replaced and keepalived comes back once healthy",
			"vip_port":        "the port whose /oms/health must answer through the VIP after the hand-over (default 8089)",
			"restore_from":    "the previous config.yaml (render_config's `backup` output): when the started or replaced container is not healthy, put back and reloaded in it (init-config-file, supervisorctl restart)",
			"restore":         "bool: a running node that does not come up healthy gets back the config.yaml it last came up on (see config_loaded) even when restore_from is empty, as on a re-run; leave it off when the image changes (default false)",
			"await_balancer":  awaitBalancerDoc + " (only a replacement waits: a start or a creation takes no node out)",
		},
	}
}

// NewArgs returns empty arguments.
func (*ContainerRun) NewArgs() any { return &ContainerRunArgs{} }

func (a *ContainerRunArgs) fill(env *modules.Env) {
	if a.Name == "" {
		a.Name = "oms"
	}
	if a.MountDir == "" {
		a.MountDir = defaultMountDir
	}
	a.MountDir = path.Clean(a.MountDir)
	if a.ConfigPath == "" {
		a.ConfigPath = a.MountDir + "/config.yaml"
	}
	if a.HostIP == "" && env != nil {
		a.HostIP = env.Address
	}
	if a.HealthPort == 0 {
		a.HealthPort = defaultNginxPort
	}
	if a.CMPort == 0 {
		a.CMPort = defaultCMPort
	}
}

func (a *ContainerRunArgs) certPaths() (crt, key string) {
	if a.HTTPSCrt == "" {
		return "", ""
	}
	return a.MountDir + "/cert/oms_server.crt", a.MountDir + "/cert/oms_server.key"
}

// Validate checks the arguments and that the certificate files are readable.
func (*ContainerRun) Validate(args any) error {
	a := args.(*ContainerRunArgs)
	a.fill(nil)
	var errs []error
	if a.Image == "" {
		errs = append(errs, errors.New("image: give the image to run"))
	} else if strings.HasPrefix(a.Image, "-") {
		errs = append(errs, fmt.Errorf("image: %q is not an image reference (docker would read it as an option)", a.Image))
	}
	if err := docker.CheckContainerName("name", a.Name); err != nil {
		errs = append(errs, err)
	}
	if !path.IsAbs(a.MountDir) || !path.IsAbs(a.ConfigPath) {
		errs = append(errs, fmt.Errorf("mount_dir and config_path must be absolute paths (%q, %q)", a.MountDir, a.ConfigPath))
	}
	if strings.Contains(a.MountDir, ":") || strings.Contains(a.ConfigPath, ":") {
		// docker run -v host:container splits at every colon.
		errs = append(errs, fmt.Errorf("mount_dir and config_path cannot hold a colon, docker run -v would split them there (%q, %q)", a.MountDir, a.ConfigPath))
	}
	if (a.HTTPSCrt == "") != (a.HTTPSKey == "") {
		errs = append(errs, errors.New("https_crt and https_key go together: give both or neither"))
	}
	for _, f := range []string{a.HTTPSCrt, a.HTTPSKey} {
		if f == "" {
			continue
		}
		if _, err := os.Stat(f); err != nil {
			errs = append(errs, fmt.Errorf("https: %w", err))
		}
	}
	// The environment travels in docker's env file (on stdin, never in a
	// command line), one NAME=value per line.
	for k, v := range a.ExtraEnv {
		if k == "" || strings.ContainsAny(k, "= \n") {
			errs = append(errs, fmt.Errorf("extra_env: %q is not a variable name", k))
		}
		if strings.ContainsAny(v, "\r\n\x00") {
			errs = append(errs, fmt.Errorf("extra_env: the value of %s holds a line break or NUL, which docker's env file cannot carry", k))
		}
	}
	if strings.ContainsAny(a.HostIP, "\r\n\x00") {
		errs = append(errs, fmt.Errorf("host_ip: %q holds a line break or NUL", a.HostIP))
	}
	if _, err := modules.ParseDuration("health_timeout", a.HealthTimeout, 0); err != nil {
		errs = append(errs, err)
	}
	if _, err := modules.ParseDuration("settle", a.Settle, 0); err != nil {
		errs = append(errs, err)
	}
	for _, p := range []struct {
		name string
		port int
	}{{"health_port", a.HealthPort}, {"cm_port", a.CMPort}} {
		if p.port < 1 || p.port > 65535 {
			errs = append(errs, fmt.Errorf("%s: %d is not a TCP port", p.name, p.port))
		}
	}
	return errors.Join(errs...)
}

// containerPlan is what Check decided, for Apply.
type containerPlan struct {
	action      string // "create", "recreate", "start" or "confirm" (only wait for health)
	imageID     string // "" when the image was not on the host at check time
	oldImage    string
	containerID string
	certs       bool // the certificate files must be copied
}

const runSep = "--omsrun-run--"

// Check reads the image, the container, config.yaml and the certificates in
// one command and compares them with what the arguments ask for. Its
// output "action" (create, recreate, start, confirm or none) lets a later step run
// only once this one went through, in check mode as in a real run.
func (m *ContainerRun) Check(ctx context.Context, env *modules.Env, args any) (*modules.Plan, error) {
	plan, err := m.check(ctx, env, args)
	if err != nil {
		return nil, err
	}
	action := "none"
	if p, ok := plan.Data.(*containerPlan); ok && plan.Change {
		action = p.action
	}
	if action == "recreate" {
		w, err := balancerWaitFor(args.(*ContainerRunArgs).AwaitBalancer, env.HostName)
		if err != nil {
			return nil, err
		}
		plan.Summary = joinNote(plan.Summary, w.note())
	}
	plan.Outputs = map[string]cty.Value{"action": cty.StringVal(action)}
	return plan, nil
}

func (m *ContainerRun) check(ctx context.Context, env *modules.Env, args any) (*modules.Plan, error) {
	a := args.(*ContainerRunArgs)
	a.fill(env)
	crt, key := a.certPaths()
	cfg := transport.Quote(a.ConfigPath)
	script := fmt.Sprintf(`docker image inspect --format '{{.Id}}' %s 2>&1
echo %s
docker inspect --type container %s 2>/dev/null
echo %s
if [ -f %s ]; then echo file; elif [ -e %s ]; then echo other; else echo missing; fi
echo %s
`, transport.Quote(a.Image), runSep, transport.Quote(a.Name), runSep, cfg, cfg, runSep)
	if crt != "" {
		script += fmt.Sprintf("sha256sum -- %s %s 2>/dev/null; true\n", transport.Quote(crt), transport.Quote(key))
	}
	res, err := env.Run(ctx, transport.Cmd{Script: script})
	if err != nil {
		return nil, err
	}
	parts := textx.SplitSections(string(res.Stdout), runSep)
	if len(parts) != 4 {
		return nil, fmt.Errorf("reading container %s: unexpected answer: %s", a.Name, textx.TailLines(string(res.Stdout), 5))
	}
	p := &containerPlan{}
	img := strings.TrimSpace(parts[0])
	switch {
	case strings.HasPrefix(img, "sha256:"):
		p.imageID = img
	case !strings.Contains(strings.ToLower(img), "no such image"):
		return nil, fmt.Errorf("docker image inspect %s: %s", a.Image, textx.TailLines(img, 5))
	}
	c, err := modules.ParseInspected(parts[1])
	if err != nil {
		return nil, err
	}
	if cfgState := strings.TrimSpace(parts[2]); cfgState == "other" {
		return nil, fmt.Errorf("config_path %s exists but is not a file (a docker run with a missing config.yaml leaves a directory there)", a.ConfigPath)
	}
	if crt != "" {
		p.certs, err = certsDiffer(a.HTTPSCrt, a.HTTPSKey, crt, key, parts[3])
		if err != nil {
			return nil, err
		}
	}
	note := ""
	if p.imageID == "" {
		note = fmt.Sprintf(" (image %s not on the host yet)", a.Image)
	}
	if a.OnlyUnfinished {
		return m.checkUnfinished(ctx, env, a, c, p)
	}
	if c == nil {
		p.action = "create"
		return &modules.Plan{Change: true, Data: p, Summary: "create container " + a.Name + note}, nil
	}
	p.containerID, p.oldImage = c.ID, c.Image
	diffs := m.spec(a).Differences(c, p.imageID)
	if p.imageID == "" {
		diffs = append(diffs, "image "+a.Image+" not on the host yet")
	}
	if p.certs {
		diffs = append(diffs, "HTTPS certificate changed")
	}
	if len(diffs) > 0 {
		p.action = "recreate"
		return &modules.Plan{Change: true, Data: p, Summary: "recreate container " + a.Name + ": " + strings.Join(diffs, ", ")}, nil
	}
	if !c.State.Running {
		p.action = "start"
		return &modules.Plan{Change: true, Data: p, Summary: fmt.Sprintf("start container %s (%s)", a.Name, c.State.Status)}, nil
	}
	return m.checkUnfinished(ctx, env, a, c, p)
}

// reloadArgs reload OMS inside this container the way supervisor_restart
// does; the VIP is already handed over, and no settle: the run stops.
func (a *ContainerRunArgs) reloadArgs() *SupervisorRestartArgs {
	r := &SupervisorRestartArgs{Container: a.Name, MountDir: a.MountDir, ConfigPath: a.ConfigPath, HostIP: a.HostIP,
		HealthPort: a.HealthPort, CMPort: a.CMPort, Timeout: a.HealthTimeout}
	r.fill(nil)
	return r
}

// spec is the desired container, as the generic container module's
// arguments: the seed's docker run (docs/oms-facts.md R1), -dit as obd and
// the docs run it. IS_UPGRADE is not part of it: it matters only for the
// run that replaces an image, and is never compared.
func (*ContainerRun) spec(a *ContainerRunArgs) *modules.ContainerArgs {
	crt, key := a.certPaths()
	env := map[string]string{"OMS_HOST_IP": a.HostIP}
	for k, v := range a.ExtraEnv {
		env[k] = v
	}
	return &modules.ContainerArgs{
		Name: a.Name, Image: a.Image, Env: env, Mounts: omsBinds(a.ConfigPath, a.MountDir, crt, key),
		Network: "host", Restart: "no", Privileged: true, PidsLimit: -1, Ulimits: []string{"nproc=65535:65535"}, TTY: true,
	}
}

// Apply copies the certificates, (re)creates or starts the container and
// waits until it is healthy.
func (m *ContainerRun) Apply(ctx context.Context, env *modules.Env, args any, plan *modules.Plan) (*modules.Result, error) {
	a := args.(*ContainerRunArgs)
	a.fill(env)
	p, ok := plan.Data.(*containerPlan)
	if !ok {
		return nil, errors.New("container_run: apply without a plan from check")
	}
	timeout, _ := modules.ParseDuration("health_timeout", a.HealthTimeout, DefaultHealthTimeout)
	settle, _ := modules.ParseDuration("settle", a.Settle, 0)
	if p.imageID == "" {
		id, err := env.RunArgv(ctx, "docker", "image", "inspect", "--format", "{{.Id}}", a.Image)
		if err != nil {
			return nil, fmt.Errorf("image %s is not on the host (load it first, e.g. with docker_load): %w", a.Image, err)
		}
		p.imageID = id
	}
	if p.certs {
		if err := m.copyCerts(ctx, env, a); err != nil {
			return nil, err
		}
	}
	// What the container will load, recorded once it is healthy (config_loaded).
	loading, err := configHash(ctx, env, a.ConfigPath)
	if err != nil {
		return nil, err
	}
	id, waited := p.containerID, ""
	switch p.action {
	case "start":
		env.Report.Phase("starting " + a.Name)
		if _, err := env.RunArgv(ctx, "docker", "start", a.Name); err != nil {
			return nil, err
		}
	case "recreate", "create":
		upgrade := p.action == "recreate" && p.oldImage != p.imageID
		if a.Upgrade != nil {
			upgrade = *a.Upgrade
		}
		if p.action == "recreate" {
			w, err := balancerWaitFor(a.AwaitBalancer, env.HostName)
			if err != nil {
				return nil, err
			}
			if waited, err = w.wait(ctx, env); err != nil {
				return nil, err
			}
			// The VIP leaves this node before its OMS does, and keepalived
			// comes back whatever happens next (with it stopped the node
			// could never hold the VIP again).
			restore, err := newVIPHandover(a.VIP, a.VIPPort, min(30*time.Second, timeout)).handOver(ctx, env)
			if err != nil {
				return nil, err
			}
			defer restore(context.WithoutCancel(ctx))
			env.Report.Phase("removing the old " + a.Name)
			if _, err := env.RunArgv(ctx, "docker", "rm", "-f", a.Name); err != nil {
				return nil, err
			}
		}
		env.Report.Phase("docker run " + a.Name)
		spec := m.spec(a)
		if upgrade {
			spec.Env["IS_UPGRADE"] = "true"
		}
		run := spec.RunCmd()
		// Checked again right before the run: docker would otherwise create
		// a directory where config.yaml should be.
		run.Script = fmt.Sprintf("[ -f %s ] || { printf '%%s\\n' %s >&2; exit 3; }; exec %s", transport.Quote(a.ConfigPath),
			transport.Quote("config.yaml missing: "+a.ConfigPath+" (render it first)"), transport.Join(run.Argv))
		run.Argv = nil
		res, err := env.Run(ctx, run)
		if err != nil {
			return nil, err
		}
		id = textx.TailLines(string(res.Stdout), 1)
	}
	w := omsWait{name: a.Name, mountDir: a.MountDir, addr: hostPort(a.HostIP, a.HealthPort), cmAddr: hostPort(a.HostIP, a.CMPort),
		timeout: timeout, needLog: true}
	if err := waitHealthy(ctx, env, w); err != nil {
		if (a.RestoreFrom != "" || a.Restore) && ctx.Err() == nil && p.action != "create" {
			err = a.reloadArgs().restore(ctx, env, err, a.RestoreFrom)
		}
		if advice := m.FailureAdvice(a); advice != "" {
			return nil, fmt.Errorf("%w\n%s", err, advice)
		}
		return nil, err
	}
	if err := recordLoaded(ctx, env, a.ConfigPath, loading); err != nil {
		return nil, err
	}
	if settle > 0 {
		env.Report.Phase(fmt.Sprintf("healthy; %s for the load balancer to take it back", settle))
		if err := modules.SleepCtx(ctx, settle); err != nil {
			return nil, err
		}
	}
	return &modules.Result{
		Changed: true,
		Msg:     joinNote(waited, plan.Summary+"; healthy"),
		Outputs: map[string]cty.Value{
			"container_id": cty.StringVal(id),
			"image_id":     cty.StringVal(p.imageID),
			"recreated":    cty.BoolVal(p.action == "recreate"),
			"action":       cty.StringVal(p.action),
		},
	}, nil
}
