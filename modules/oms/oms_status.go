package oms

import (
	"context"
	"fmt"
	"net"
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
}

// Doc implements modules.Module.
func (*OMSStatus) Doc() modules.Doc {
	return modules.Doc{Name: "oms_status", Summary: "Read-only: container state, image, supervisor programs and 8088/8089 health of an OMS node.",
		Args: map[string]string{
			"container": "container name (default `oms`)",
			"host_ip":   "address the health endpoints listen on (default: the host's address)",
			"image":     "the image the node should run; another one makes the node unhealthy (exit 6)",
			"vip":       "omsrun's keepalived VIP (vip.hcl): the row says \"holds VIP <addr>\" on the node that has it",
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
	for _, line := range strings.Split(progs, "\n") {
		fs := strings.Fields(line)
		if len(fs) < 2 {
			continue
		}
		total++
		if fs[1] == "RUNNING" {
			running++
		}
	}
	dial := probe.Bounded(env.Host.Dial)
	health := func(port string) string {
		if err := omsHealth(ctx, dial, net.JoinHostPort(ip, port)); err != nil {
			return "down"
		}
		return "ok"
	}
	h8088, h8089 := health("8088"), health("8089")
	row := fmt.Sprintf("%-8s %-40s programs %d/%d RUNNING  8088 %-4s 8089 %-4s", state, image, running, total, h8088, h8089)
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
	case running < total || total == 0:
		why = append(why, fmt.Sprintf("programs %d/%d RUNNING", running, total))
	}
	if state == "running" && (h8088 != "ok" || h8089 != "ok") {
		why = append(why, "8088 "+h8088+", 8089 "+h8089)
	}
	if args.Image != "" && ref != "" && ref != args.Image {
		why = append(why, "runs image "+ref+", not "+args.Image)
	}
	return &modules.Plan{Summary: row, Unhealthy: strings.Join(why, ", "), Outputs: map[string]cty.Value{
		"state":    cty.StringVal(state),
		"image":    cty.StringVal(image),
		"programs": cty.NumberIntVal(int64(running)),
		"healthy":  cty.BoolVal(h8088 == "ok" && h8089 == "ok"),
		"vip":      cty.BoolVal(holds),
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
