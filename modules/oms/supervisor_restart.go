package oms

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/docker"
	"github.com/omsrun/omsrun/internal/probe"
	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/modules"
)

// SupervisorRestart makes a running OMS container re-read its config: the
// seed's init-config-file and `supervisorctl restart`, then a wait until the
// programs run and health answers, so a rolling restart can gate on it.
type SupervisorRestart struct{}

var _ modules.Module = (*SupervisorRestart)(nil)
var _ modules.Validator = (*SupervisorRestart)(nil)

// SupervisorRestartArgs are the arguments of supervisor_restart.
type SupervisorRestartArgs struct {
	Container  string   `hcl:"container,optional"`
	InitConfig *bool    `hcl:"init_config,optional"`
	Programs   []string `hcl:"programs,optional"`
	HostIP     string   `hcl:"host_ip,optional"`
	HealthPort int      `hcl:"health_port,optional"`
	CMPort     int      `hcl:"cm_port,optional"`
	Timeout    string   `hcl:"timeout,optional"`
	Settle     string   `hcl:"settle,optional"`
	MountDir   string   `hcl:"mount_dir,optional"`
	ConfigPath string   `hcl:"config_path,optional"`
	VIP        string   `hcl:"vip,optional"`
	VIPPort    int      `hcl:"vip_port,optional"`
	// RestoreFrom is the previous config.yaml (render_config's backup), put
	// back and reloaded when the node does not come up on the new one; when
	// empty or not the config OMS last loaded, that one is found on the node.
	RestoreFrom string `hcl:"restore_from,optional"`
	// AwaitBalancer is a healthy_since step's outputs: the restart waits
	// first until the balancer can have the other nodes back.
	AwaitBalancer cty.Value `hcl:"await_balancer,optional"`
}

// Doc describes the module.
func (*SupervisorRestart) Doc() modules.Doc {
	return modules.Doc{
		Name:    "supervisor_restart",
		Summary: "Inside the OMS container: init-config-file, supervisorctl restart, then wait for RUNNING and health.",
		Args: map[string]string{
			"container":      `the OMS container (default "oms")`,
			"init_config":    "run python -m omsflow.scripts.units.oms_init_manager --init-config-file first (default true)",
			"programs":       `supervisor programs to restart (default ["oms_console", "oms_drc_supervisor"])`,
			"vip":            "omsrun's keepalived VIP (vip.hcl): when this node holds it, its keepalived hands it to another node first and gets it back once healthy",
			"vip_port":       "the port whose /oms/health must answer through the VIP after the hand-over (default 8089)",
			"host_ip":        "where GET /oms/health is probed (default: the host's inventory address)",
			"health_port":    "the nginx port, where GET /oms/health answers (default 8089)",
			"cm_port":        "CM's port, which must answer HTTP (any status) once oms_drc_cm runs (default 8088)",
			"timeout":        "duration: how long to wait for RUNNING and health (default 15m)",
			"settle":         "duration: pause once healthy, so a load balancer takes the node back (rise × inter) before the next node (default 0)",
			"mount_dir":      "the mount directory, for docker_init logs on failure (default /data/oms)",
			"config_path":    "config.yaml on the host, recorded as loaded once healthy (see config_loaded; default <mount_dir>/config.yaml)",
			"restore_from":   "the previous config.yaml (render_config's `backup` output): put back and reloaded when the node is not healthy on the new one; when empty (a re-run) or not the config OMS last came up on, the newest config.yaml backup OMS last came up on (see config_loaded) is",
			"await_balancer": awaitBalancerDoc,
		},
	}
}

// NewArgs returns empty arguments.
func (*SupervisorRestart) NewArgs() any { return &SupervisorRestartArgs{} }

func (a *SupervisorRestartArgs) fill(env *modules.Env) {
	if a.Container == "" {
		a.Container = "oms"
	}
	if a.InitConfig == nil {
		t := true
		a.InitConfig = &t
	}
	if a.Programs == nil {
		a.Programs = []string{"oms_console", "oms_drc_supervisor"}
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
	if a.MountDir == "" {
		a.MountDir = defaultMountDir
	}
	if a.ConfigPath == "" {
		a.ConfigPath = a.MountDir + "/config.yaml"
	}
}

// Validate checks the program list and the timeout.
func (*SupervisorRestart) Validate(args any) error {
	a := args.(*SupervisorRestartArgs)
	a.fill(nil)
	if len(a.Programs) == 0 {
		return fmt.Errorf("programs: name at least one supervisor program")
	}
	for _, p := range a.Programs {
		// supervisorctl splits its arguments at white space (and supervisor
		// allows none in a name), so such a name would restart other programs.
		if p == "" || strings.IndexFunc(p, unicode.IsSpace) >= 0 {
			return fmt.Errorf("programs: %q is not a supervisor program name", p)
		}
	}
	if err := docker.CheckContainerName("container", a.Container); err != nil {
		return err
	}
	if _, err := modules.ParseDuration("timeout", a.Timeout, 0); err != nil {
		return err
	}
	_, err := modules.ParseDuration("settle", a.Settle, 0)
	return err
}

// Check cannot know whether a restart is needed; it says what it would do
// and whether the container is there to do it in.
func (*SupervisorRestart) Check(ctx context.Context, env *modules.Env, args any) (*modules.Plan, error) {
	a := args.(*SupervisorRestartArgs)
	a.fill(env)
	res, err := env.Try(ctx, transport.Cmd{Argv: []string{"docker", "inspect", "--format", "{{.State.Running}}", a.Container}})
	if err != nil {
		return nil, err
	}
	what := "restart " + strings.Join(a.Programs, ", ") + " in " + a.Container
	if strings.TrimSpace(string(res.Stdout)) != "true" {
		what += " (container not running now)"
	}
	w, err := balancerWaitFor(a.AwaitBalancer, env.HostName)
	if err != nil {
		return nil, err
	}
	return &modules.Plan{Unknown: true, Summary: joinNote(what, w.note())}, nil
}

// Apply re-initialises the config, restarts the programs and waits. When
// that fails, the config.yaml OMS last came up healthy on is put back and
// reloaded, so a bad change leaves the node as it was. Which file that is,
// is read on the node (lastGoodConfig), not taken from this run alone: a
// re-run after an interrupted reload has written nothing and has no backup
// name of its own. An interrupted reload restores nothing (the operator
// asked to stop now); the next run finds the file the same way.
func (*SupervisorRestart) Apply(ctx context.Context, env *modules.Env, args any, plan *modules.Plan) (*modules.Result, error) {
	a := args.(*SupervisorRestartArgs)
	a.fill(env)
	w, err := balancerWaitFor(a.AwaitBalancer, env.HostName)
	if err != nil {
		return nil, err
	}
	waited, err := w.wait(ctx, env)
	if err != nil {
		return nil, err
	}
	msg, err := a.reload(ctx, env)
	if err == nil {
		return &modules.Result{Changed: true, Msg: joinNote(waited, msg)}, nil
	}
	if ctx.Err() != nil {
		return nil, err
	}
	return nil, a.restore(ctx, env, err, a.RestoreFrom)
}

// restore follows err, a node that did not come up on its new config.yaml:
// the config.yaml OMS last came up healthy on (lastGoodConfig; preferred,
// this run's backup, when it is that one) is put back and the node reloaded
// on it, and the error says whether it is healthy on it again. Shared by
// container_run, whose replaced container failed on the new file the same way.
func (a *SupervisorRestartArgs) restore(ctx context.Context, env *modules.Env, err error, preferred string) error {
	from, ferr := lastGoodConfig(ctx, env, a.ConfigPath, preferred)
	if ferr != nil {
		return fmt.Errorf("%w\n%v", err, ferr)
	}
	if from == "" {
		return err
	}
	env.Report.Phase("restoring the previous config.yaml")
	if rerr := restoreConfig(ctx, env, from, a.ConfigPath); rerr != nil {
		return fmt.Errorf("%w\nputting back the previous config.yaml from %s failed too: %v", err, from, rerr)
	}
	if _, rerr := a.reload(ctx, env); rerr != nil {
		return fmt.Errorf("%w\nthe previous config.yaml (%s) was put back, but the node is not healthy on it either: %v", err, from, rerr)
	}
	return fmt.Errorf("%w\nthe previous config.yaml was put back (from %s) and reloaded: the node is healthy on it again", err, from)
}

// reload is one init-config-file, restart and wait for health; the config it
// read is recorded as loaded once healthy (config_loaded).
func (a *SupervisorRestartArgs) reload(ctx context.Context, env *modules.Env) (string, error) {
	timeout, _ := modules.ParseDuration("timeout", a.Timeout, DefaultRestartTimeout)
	settle, _ := modules.ParseDuration("settle", a.Settle, 0)
	exec := []string{"docker", "exec", a.Container}
	w := omsWait{name: a.Container, mountDir: a.MountDir}
	cfg := a.ConfigPath
	loading, err := configHash(ctx, env, cfg)
	if err != nil {
		return "", err
	}
	if *a.InitConfig {
		env.Report.Phase("init-config-file")
		if _, err := env.RunArgv(ctx, append(exec, "python", "-m", "omsflow.scripts.units.oms_init_manager", "--init-config-file")...); err != nil {
			return "", fmt.Errorf("%w%s", err, omsDiagnostics(ctx, env, w))
		}
	}
	// The hand-over takes a few seconds (one VRRP advert); a short step timeout shortens its wait too.
	vip := newVIPHandover(a.VIP, a.VIPPort, min(30*time.Second, timeout))
	restore, err := vip.handOver(ctx, env)
	if err != nil {
		return "", err
	}
	// keepalived comes back whatever happens to this node: with it stopped
	// the node could never hold the VIP again.
	defer restore(context.WithoutCancel(ctx))
	env.Report.Phase("supervisorctl restart " + strings.Join(a.Programs, " "))
	start := time.Now()
	if _, err := env.RunArgv(ctx, append(append(exec, "supervisorctl", "restart"), a.Programs...)...); err != nil {
		// "ERROR (spawn error)" says nothing of why: the init log does.
		return "", fmt.Errorf("%w%s", err, omsDiagnostics(ctx, env, w))
	}
	dial := probe.Bounded(env.Host.Dial)
	addr := hostPort(a.HostIP, a.HealthPort)
	deadline := start.Add(timeout)
	statusArgv := append(exec, "supervisorctl", "status")
	for {
		// supervisorctl status exits non-zero while a program is not
		// running; its table is the answer either way.
		res, err := env.Try(ctx, transport.Cmd{Argv: statusArgv})
		if err != nil {
			return "", err
		}
		status := string(res.Stdout)
		// CM must run too, whichever programs were restarted: its port is
		// what cm_url and the VIP's 8088 reach.
		notRunning := programsNotRunning(status, withCM(a.Programs))
		var why string
		if len(notRunning) > 0 {
			// Every program that is down, not only the ones restarted: the
			// one that explains the failure may be another.
			why = "not RUNNING: " + strings.Join(joinUnique(notRunning, programsNotRunning(status, nil)), ", ")
		} else if herr := omsHealth(ctx, dial, addr); herr != nil {
			why = herr.Error()
			if down := programsNotRunning(status, nil); len(down) > 0 {
				why += "; not RUNNING: " + strings.Join(down, ", ")
			}
		} else if cerr := cmAnswers(ctx, dial, hostPort(a.HostIP, a.CMPort)); cerr != nil {
			why = "CM: " + cerr.Error()
		} else {
			if err := recordLoaded(ctx, env, cfg, loading); err != nil {
				return "", err
			}
			if settle > 0 {
				env.Report.Phase(fmt.Sprintf("healthy; %s for the load balancer to take it back", settle))
				if err := modules.SleepCtx(ctx, settle); err != nil {
					return "", err
				}
			}
			return fmt.Sprintf("restarted %s; healthy after %s", strings.Join(a.Programs, ", "), time.Since(start).Round(100*time.Millisecond)), nil
		}
		if ctx.Err() != nil {
			return "", fmt.Errorf("waiting for %s: %w", a.Container, ctx.Err())
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("%s not healthy %s after the restart (%s)\n--- supervisorctl status:\n%s%s",
				a.Container, timeout, why, strings.TrimSpace(status+string(res.Stderr)), omsDiagnostics(ctx, env, w))
		}
		env.Report.Phase(waitPhase("health", start, timeout))
		if err := modules.SleepCtx(ctx, 500*time.Millisecond); err != nil {
			return "", fmt.Errorf("waiting for %s: %w", a.Container, err)
		}
	}
}

// programsNotRunning reads `supervisorctl status` ("name   STATE   …" per
// line) and lists the wanted programs not in state RUNNING; with no
// programs wanted, every program of the table that is not RUNNING.
func programsNotRunning(status string, programs []string) []string {
	state := map[string]string{}
	var all []string
	for _, line := range strings.Split(status, "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 {
			state[f[0]] = f[1]
			all = append(all, f[0])
		}
	}
	if programs == nil {
		programs = all
	}
	var out []string
	for _, p := range programs {
		if s := state[p]; s != "RUNNING" {
			if s == "" {
				s = "absent"
			}
			out = append(out, p+" "+s)
		}
	}
	return out
}

// joinUnique is a followed by the entries of b not in a.
func joinUnique(a, b []string) []string {
	out := slices.Clip(a)
	for _, x := range b {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// withCM is the programs plus oms_drc_cm, once.
func withCM(programs []string) []string {
	if slices.Contains(programs, "oms_drc_cm") {
		return programs
	}
	return append(slices.Clip(programs), "oms_drc_cm")
}
