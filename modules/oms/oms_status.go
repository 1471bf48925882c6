package oms

import (
	"context"
	"fmt"
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/docker"
	"github.com/omsrun/omsrun/internal/probe"
	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/modules"
)

// OMSStatus reads one node's state for the status table: the container, its
// image, the supervisor programs and both health endpoints. Read-only.
type OMSStatus struct{}

var _ modules.Module = (*OMSStatus)(nil)
var _ modules.ReadOnly = (*OMSStatus)(nil)

// ReadOnly implements modules.ReadOnly: it only reads.
func (*OMSStatus) ReadOnly() bool { return true }

var _ modules.Validator = (*OMSStatus)(nil)

// OMSStatusArgs are oms_status's arguments.
type OMSStatusArgs struct {
	Container string `hcl:"container,optional"`
	HostIP    string `hcl:"host_ip,optional"`
	Image     string `hcl:"image,optional"`
	VIP       string `hcl:"vip,optional"`
	NginxPort int    `hcl:"nginx_port,optional"`
	CMPort    int    `hcl:"cm_port,optional"`
	Region    string `hcl:"region,optional"`
}

// Doc implements modules.Module.
func (*OMSStatus) Doc() modules.Doc {
	return modules.Doc{Name: "oms_status", Summary: "Read-only: container state, image, supervisor programs, CM (8088) and console health (8089) of an OMS node.",
		Args: map[string]string{
			"container":  "container name (default `oms`)",
			"host_ip":    "address the services listen on (default: the host's address)",
			"image":      "the image the node should run; another one makes the node unhealthy (exit 6)",
			"nginx_port": "the console's port, where GET /oms/health must report healthy (default 8089)",
			"cm_port":    "CM's port: ok when it answers HTTP (any status) and oms_drc_cm is RUNNING (default 8088)",
			"region":     "the node's region when there are several (status.hcl: name, cm_location and VIP), shown in its row",
			"vip":        "omsrun's keepalived VIP (vip.hcl): the row says \"holds VIP <addr>\" on the node that has it",
		}}
}

// NewArgs implements modules.Module.
func (*OMSStatus) NewArgs() any { return &OMSStatusArgs{} }

// Validate refuses a name docker would not accept.
func (*OMSStatus) Validate(a any) error {
	return docker.CheckContainerName("container", a.(*OMSStatusArgs).Container)
}

// Check implements Module: every read happens here so check mode shows the table too.
func (*OMSStatus) Check(ctx context.Context, env *modules.Env, a any) (*modules.Plan, error) {
	args := a.(*OMSStatusArgs)
	if args.Container == "" {
		args.Container = "oms"
	}
	ip := args.HostIP
	if ip == "" {
		ip = env.Address
	}
	name := transport.Quote(args.Container)
	// `docker info` first: with the daemon down every inspect fails too, and
	// the node must read "Docker daemon down", not "absent".
	script := fmt.Sprintf("docker info --format '{{.ServerVersion}}' >/dev/null 2>&1 || { echo docker-down; exit 0; }; "+
		"docker inspect --format '{{.State.Status}} {{.Config.Image}} {{.Image}}' %s 2>/dev/null || echo absent; echo %s; "+
		"docker exec %s supervisorctl status 2>/dev/null; true", name, infoSep, name)
	res, err := env.Try(ctx, transport.Cmd{Script: script})
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(string(res.Stdout)) == "docker-down" {
		return &modules.Plan{Summary: "Docker daemon down", Unhealthy: "Docker daemon down", Outputs: map[string]cty.Value{
			"state": cty.StringVal("docker-down"), "image": cty.StringVal("-"), "programs": cty.NumberIntVal(0), "healthy": cty.False,
		}}, nil
	}
	head, progs, _ := strings.Cut(string(res.Stdout), infoSep)
	f := strings.Fields(head)
	state, image, ref := "absent", "-", ""
	if len(f) >= 3 {
		state, image, ref = f[0], f[1]+" ("+shortID(f[2])+")", f[1]
	}
	running, total := 0, 0
	cmRunning := false
	for _, line := range strings.Split(progs, "\n") {
		fs := strings.Fields(line)
		if len(fs) < 2 {
			continue
		}
		total++
		if fs[1] == "RUNNING" {
			running++
			cmRunning = cmRunning || fs[0] == "oms_drc_cm"
		}
	}
	nginxPort, cmPort := args.NginxPort, args.CMPort
	if nginxPort == 0 {
		nginxPort = defaultNginxPort
	}
	if cmPort == 0 {
		cmPort = defaultCMPort
	}
	dial := probe.Bounded(env.Host.Dial)
	word := func(err error) string {
		if err != nil {
			return "down"
		}
		return "ok"
	}
	// CM has no health endpoint (docs/oms-facts.md H5): it is up when its
	// port answers HTTP with any status and supervisord runs it.
	cmErr := cmAnswers(ctx, dial, hostPort(ip, cmPort))
	if cmErr == nil && !cmRunning {
		cmErr = fmt.Errorf("oms_drc_cm not RUNNING")
	}
	hCM, hConsole := word(cmErr), word(omsHealth(ctx, dial, hostPort(ip, nginxPort)))
	row := fmt.Sprintf("%-8s %-40s programs %d/%d RUNNING  %d %-4s %d %-4s", state, image, running, total, cmPort, hCM, nginxPort, hConsole)
	if args.Region != "" {
		row += "  region " + args.Region
	}
	holds := false
	if args.VIP != "" {
		if holds, err = (vipHandover{vip: args.VIP}).holds(ctx, env); err != nil {
			return nil, err
		}
		if holds {
			row += "  holds VIP " + args.VIP
		}
	}
	var why []string
	switch {
	case state != "running":
		why = append(why, "container "+state)
	case total == 0:
		why = append(why, "programs 0/0 RUNNING")
	case running < total:
		// Which ones: the row counts them, the reason names them.
		why = append(why, fmt.Sprintf("programs %d/%d RUNNING (not RUNNING: %s)", running, total, strings.Join(programsNotRunning(progs, nil), ", ")))
	}
	if state == "running" && (hCM != "ok" || hConsole != "ok") {
		why = append(why, fmt.Sprintf("%d %s, %d %s", cmPort, hCM, nginxPort, hConsole))
	}
	if args.Image != "" && ref != "" && ref != args.Image {
		why = append(why, "runs image "+ref+", not "+args.Image)
	}
	return &modules.Plan{Summary: row, Unhealthy: strings.Join(why, ", "), Outputs: map[string]cty.Value{
		"state":    cty.StringVal(state),
		"image":    cty.StringVal(image),
		"programs": cty.NumberIntVal(int64(running)),
		// The table row's other columns, as fields for --json and later steps.
		"programs_total": cty.NumberIntVal(int64(total)),
		"cm_port":        cty.NumberIntVal(int64(cmPort)),
		"cm":             cty.StringVal(hCM),
		"console_port":   cty.NumberIntVal(int64(nginxPort)),
		"console":        cty.StringVal(hConsole),
		"healthy":        cty.BoolVal(hCM == "ok" && hConsole == "ok"),
		"vip":            cty.BoolVal(holds),
	}}, nil
}

// Apply implements Module: nothing to change.
func (*OMSStatus) Apply(_ context.Context, _ *modules.Env, _ any, plan *modules.Plan) (*modules.Result, error) {
	return &modules.Result{Msg: plan.Summary, Outputs: plan.Outputs}, nil
}

func shortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
