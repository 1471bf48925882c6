package oms

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/omsrun/omsrun/internal/probe"
	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/modules"
)

// vipHandover describes omsrun's keepalived VIP (vip.hcl) for the modules
// that restart OMS on a node: before the node that holds the VIP goes down,
// its keepalived is stopped, which makes it send a priority-0 advert, so
// another healthy node takes the VIP at once instead of after the health
// check fails. keepalived is started again once the node is healthy; with
// nopreempt it does not take the VIP back.
type vipHandover struct {
	vip       string // "" turns the hand-over off
	port      int    // the console port whose /oms/health must answer through the VIP
	container string // keepalived's container
	timeout   time.Duration
}

// handOver gives the VIP away when this host holds it and returns what
// gives keepalived back (always safe to call; a no-op when nothing was done).
func (h vipHandover) handOver(ctx context.Context, env *modules.Env) (restore func(context.Context) error, err error) {
	noop := func(context.Context) error { return nil }
	if h.vip == "" {
		return noop, nil
	}
	res, err := env.Try(ctx, transport.Cmd{Argv: []string{"docker", "inspect", "--format", "{{.State.Running}}", "--", h.container}})
	if err != nil || strings.TrimSpace(string(res.Stdout)) != "true" {
		return noop, err
	}
	holds, err := h.holds(ctx, env)
	if err != nil || !holds {
		return noop, err
	}
	env.Report.Phase("handing the VIP " + h.vip + " to another node")
	if _, err := env.RunArgv(ctx, "docker", "stop", "-t", "10", "--", h.container); err != nil {
		return noop, err
	}
	restore = func(ctx context.Context) error {
		_, err := env.RunArgv(ctx, "docker", "start", "--", h.container)
		return err
	}
	dial := probe.Bounded(env.Host.Dial)
	deadline := time.Now().Add(h.timeout)
	for {
		still, err := h.holds(ctx, env)
		if err != nil {
			return restore, err
		}
		if !still && omsHealth(ctx, dial, hostPort(h.vip, h.port)) == nil {
			return restore, nil
		}
		if time.Now().After(deadline) {
			// Nobody took it: this node keeps serving rather than going down with the VIP.
			rerr := restore(context.WithoutCancel(ctx))
			return noop, fmt.Errorf("no other node took the VIP %s within %s (keepalived restarted: %v); not restarting this node", h.vip, h.timeout, rerr)
		}
		if err := modules.SleepCtx(ctx, 200*time.Millisecond); err != nil {
			return restore, err
		}
	}
}

// holds says whether the VIP is on one of this host's interfaces.
func (h vipHandover) holds(ctx context.Context, env *modules.Env) (bool, error) {
	res, err := env.Try(ctx, transport.Cmd{Argv: []string{"ip", "-o", "-f", "inet", "addr", "show"}})
	if err != nil {
		return false, err
	}
	return strings.Contains(string(res.Stdout), " "+h.vip+"/"), nil
}
