package oms

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"time"

	"github.com/omsrun/omsrun/internal/dockerarchive"
	"github.com/omsrun/omsrun/internal/textx"
	"github.com/omsrun/omsrun/modules"
)

// The relay (issue 19): the hosts that need the whole file form a chain,
// control machine → node 1 → node 2 → …; each node forwards every frame
// before its own docker load takes it, so the image crosses the control
// machine's link once and the chain costs about one copy's time. A chain
// rather than a tree because every link then carries the image once: in
// a tree a node sends two copies through its own link, which halves what
// the nodes below it get, and the pipeline's depth costs only a few frames
// of latency per hop (docs/PERFORMANCE.md, part `uplink`).
//
// How it runs on a node: omsrun places a static binary there for the
// transfer, the relay's node program that make build embeds (1.4 MB
// gzipped; omsrun itself, 5.5 MB, when built without make: why, in
// docker_load_relay_node.go), checked against its SHA-256 before it runs,
// and runs it as `omsrun __relay-node`; the binary unlinks itself as it
// starts, so nothing stays on disk even after a kill -9, and it ends with
// its SSH session (internal/relay.NodeMain). No agent to install, no
// other port than the relay's, nothing left running: the tool the operator
// already trusts is the relay. When the control machine's binary cannot
// run on a node (darwin, another architecture) the node gets the file from
// the control machine as before, and the result says why.

// relayIdle is how long a node waits on a silent or stuck peer: a node
// whose host died sends no FIN, and the node before it stops feeding its
// own docker load while a forward blocks.
var relayIdle = 10 * time.Second

// relayWait bounds how long a node listens for the node before it: one
// whose peer cannot reach it (a filtered port) then gets the file from the
// control machine. Variables, so the unit tests need not wait this long.
var relayWait = 30 * time.Second

// DefaultRelayPort is where a node listens for the node before it.
const DefaultRelayPort = 9876

// relayMember is what Check published about a host for the relay.
type relayMember struct {
	env  *modules.Env
	have bool // the host has the image: it can be the chain's source
	// ctx is the host's own step context, set when it meets: its node's
	// session ends with it (an interrupted run, the step's timeout).
	ctx context.Context
	// chains are the layer chains the host holds (nil: it takes only the
	// whole file), set when it meets.
	chains map[string]bool
}

// relayOutcome is what the relay did for one host.
type relayOutcome struct {
	done bool   // the node loaded the stream; verify it
	from string // the node before it
	what string // what the stream was, for the result: "" (the file) or the layers
	warn string // said even when the relay worked (the chain restarted here)
	note string // why the control machine sends it after all
	sent int64  // image bytes this host took from the control machine
	// loadFailed: the node's docker load refused the stream or did not
	// produce the image, which a partial archive is followed by the whole
	// file for, as without the relay.
	loadFailed bool
}

func (a *DockerLoadArgs) relayOn() bool { return a.Relay == nil || *a.Relay }

func (a *DockerLoadArgs) relayPort() int {
	if a.RelayPort > 0 {
		return a.RelayPort
	}
	return DefaultRelayPort
}

// relayLoad joins the step's other hosts that need the image; ok is false
// when there is no relay for this host (alone, relay off, retried).
func (m *DockerLoad) relayLoad(ctx context.Context, env *modules.Env, a *DockerLoadArgs, p *dockerLoadPlan) (int64, map[string][]string, string, bool, error) {
	env.Group.Put(env.HostName, &relayMember{env: env, ctx: ctx, chains: p.chains})
	v, ok := env.Group.Meet(ctx, env.HostName, func(met []string, vals map[string]any) map[string]any {
		return m.runChain(ctx, a, p.archive, met, vals)
	})
	ch, _ := v.(chan *relayOutcome)
	if !ok || ch == nil {
		return 0, nil, "", false, nil
	}
	var out *relayOutcome
	select {
	case out = <-ch:
	case <-ctx.Done():
		return 0, nil, "", true, ctx.Err()
	}
	if out.warn != "" {
		env.Report.Warn(out.warn)
	}
	if out.done {
		have, err := imageTags(ctx, env, p.archive.IDs())
		if err == nil {
			err = missingIDs(p.archive, have)
			out.loadFailed = err != nil
		}
		if err == nil {
			note := "relayed from " + out.from + out.what
			if out.sent > 0 {
				note = fmt.Sprintf("sent %s once from here%s and relayed it to the other nodes", textx.HumanBytes(out.sent), out.what)
			}
			if out.warn != "" {
				note = out.warn + "; " + note
			}
			return out.sent, have, note, true, nil
		}
		out.note = fmt.Sprintf("relay: %v", err)
	}
	if ctx.Err() != nil {
		return out.sent, nil, "", true, ctx.Err()
	}
	q := p
	if out.loadFailed && out.what != "" {
		// The partial archive itself failed: sending it again from here
		// would fail the same way.
		q = &dockerLoadPlan{archive: p.archive, send: true, tags: p.tags}
		out.note = "partial archive failed (" + out.note + ")"
	}
	env.Report.Warn(out.note + "; sending from the control machine")
	n, have, note, err := m.loadImage(ctx, env, a, q)
	return out.sent + n, have, out.note + "; " + note, true, err
}

// runChain decides the chains for the hosts in met (all need the image)
// and starts them; each host gets a channel on which its own outcome comes
// as soon as it is known, so a host the chain failed is sent the file while
// the others are still loading.
//
// With a node that has the image, one chain from it serves every host:
// its docker save is the whole image, but nothing crosses the control
// machine's link. Without one, one chain carries what every host lacks:
// the layers none of them has (an upgrade: the same changed layers for
// all), or the whole file when one of them has none or cannot take a
// partial archive. A host already holding some of those layers loads them
// again at no cost to the uplink, which is the link this saves.
func (m *DockerLoad) runChain(ctx context.Context, a *DockerLoadArgs, arch *dockerarchive.Archive, met []string, vals map[string]any) map[string]any {
	res := map[string]any{}
	outcome := func(h string, o *relayOutcome) {
		ch := make(chan *relayOutcome, 1)
		ch <- o
		res[h] = ch
	}
	member := func(h string) *relayMember { r, _ := vals[h].(*relayMember); return r }
	var source string
	for h, v := range vals {
		if r, _ := v.(*relayMember); r != nil && r.have && (source == "" || h < source) {
			source = h
		}
	}
	if len(met) < 2 && source == "" {
		return nil // one host and no node to copy from: exactly as without the relay
	}
	fallback := func(why string) map[string]any {
		for _, h := range met {
			outcome(h, &relayOutcome{note: why})
		}
		return res
	}
	if runtime.GOOS != "linux" {
		return fallback(fmt.Sprintf("relay: omsrun here is %s/%s and cannot run on the nodes", runtime.GOOS, runtime.GOARCH))
	}
	bin, err := selfBinary()
	if err != nil {
		return fallback("relay: " + err.Error())
	}
	// Only nodes that can run this binary, at an IP address, take part.
	eligible := func(h string) string {
		r := member(h)
		if r == nil {
			return "no facts from check"
		}
		if net.ParseIP(r.env.Address) == nil {
			return fmt.Sprintf("the node's address %q is not an IP (the relay listens on the cluster address only)", r.env.Address)
		}
		return nodePlatform(ctx, r.env)
	}
	if source != "" && eligible(source) != "" {
		source = ""
	}
	c := relayChain{fromSource: source != ""}
	if source != "" {
		c.hosts = append(c.hosts, source)
	}
	for _, h := range met {
		if why := eligible(h); why != "" {
			outcome(h, &relayOutcome{note: "relay: " + why})
			continue
		}
		c.hosts = append(c.hosts, h)
	}
	if len(c.hosts) < 2 {
		return res // the eligible one (if any) gets no outcome: sent as without the relay
	}
	if !c.fromSource {
		c.delta = commonDelta(arch, c.hosts, member)
	}
	m.startChain(ctx, a, arch, bin, c, vals, res, outcome)
	return res
}
