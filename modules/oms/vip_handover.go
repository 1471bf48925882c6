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

// keepalivedContainer is the container vip.hcl runs keepalived in.
const keepalivedContainer = "omsrun-keepalived"

// vipBridgeHold is how long the old holder keeps answering on the VIP after
// its keepalived let go: a backup takes the VIP within its skew time, less
// than one advert_int (1 s in vip.hcl), and announces it with gratuitous ARPs
// at once; the rest is margin for a loaded machine.
const vipBridgeHold = 2 * time.Second

// vipHandover describes omsrun's keepalived VIP (vip.hcl) for the modules
// that restart or replace OMS on a node. Before the node that holds the VIP
// goes down it hands the VIP over make-before-break:
//
//  1. the VIP goes on the node's loopback too, so the node keeps accepting
//     what clients still send to its MAC address;
//  2. keepalived is stopped: it sends a priority-0 advert and drops the VIP
//     from the interface, so another healthy node takes it at once (instead
//     of after the health check fails) and announces it (gratuitous ARP);
//  3. after vipBridgeHold the loopback copy goes, and the VIP must answer
//     from the new holder before the node is touched.
//
// Without step 1 the VIP is on no node for keepalived's skew time (0.2 s
// measured on the lab): packets sent to the old holder meanwhile are dropped
// (or forwarded, only where IP forwarding is on) and a client's SYN waits a
// full second for its retransmission. keepalived is started again once the
// node is healthy; with nopreempt it does not take the VIP back.
type vipHandover struct {
	vip       string // "" turns the hand-over off
	port      int    // the console port whose /oms/health must answer through the VIP
	container string // keepalived's container
	timeout   time.Duration
	bridge    time.Duration // how long the loopback copy stays after keepalived stopped
}

// newVIPHandover is the hand-over of vip.hcl's keepalived on port (8089 when 0).
func newVIPHandover(vip string, port int, timeout time.Duration) vipHandover {
	if port == 0 {
		port = defaultNginxPort
	}
	return vipHandover{vip: vip, port: port, container: keepalivedContainer, timeout: timeout, bridge: vipBridgeHold}
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
	devs, err := h.devices(ctx, env)
	if err != nil {
		return noop, err
	}
	if devs["lo"] {
		// A hand-over interrupted between steps 1 and 3 left it there.
		if err := h.dropBridge(ctx, env); err != nil {
			return noop, err
		}
		delete(devs, "lo")
	}
	if len(devs) == 0 {
		return noop, nil
	}
	env.Report.Phase("handing the VIP " + h.vip + " to another node")
	if _, err := env.RunArgv(ctx, "ip", "addr", "add", h.vip+"/32", "dev", "lo"); err != nil {
		return noop, err
	}
	restore = func(ctx context.Context) error {
		_, err := env.RunArgv(ctx, "docker", "start", "--", h.container)
		return err
	}
	if _, err := env.RunArgv(ctx, "docker", "stop", "-t", "10", "--", h.container); err != nil {
		return noop, firstErr(err, h.dropBridge(context.WithoutCancel(ctx), env))
	}
	serr := modules.SleepCtx(ctx, h.bridge)
	if err := firstErr(h.dropBridge(context.WithoutCancel(ctx), env), serr); err != nil {
		return restore, err
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

// dropBridge removes the loopback copy of the VIP.
func (h vipHandover) dropBridge(ctx context.Context, env *modules.Env) error {
	_, err := env.RunArgv(ctx, "ip", "addr", "del", h.vip+"/32", "dev", "lo")
	return err
}

// holds says whether the VIP is on one of this host's interfaces.
func (h vipHandover) holds(ctx context.Context, env *modules.Env) (bool, error) {
	devs, err := h.devices(ctx, env)
	return len(devs) > 0, err
}

// devices names the interfaces that carry the VIP.
func (h vipHandover) devices(ctx context.Context, env *modules.Env) (map[string]bool, error) {
	res, err := env.Try(ctx, transport.Cmd{Argv: []string{"ip", "-o", "-f", "inet", "addr", "show"}})
	if err != nil {
		return nil, err
	}
	devs := map[string]bool{}
	for _, line := range strings.Split(string(res.Stdout), "\n") {
		// "2: eth0    inet 10.0.0.201/32 scope global eth0"
		f := strings.Fields(line)
		if len(f) >= 4 && f[2] == "inet" && strings.HasPrefix(f[3], h.vip+"/") {
			devs[f[1]] = true
		}
	}
	return devs, nil
}

// firstErr is the first error that is not nil.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
