package oms

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/omsrun/omsrun/internal/dockerarchive"
	"github.com/omsrun/omsrun/internal/relay"
	"github.com/omsrun/omsrun/internal/textx"
	"github.com/omsrun/omsrun/internal/transport"
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
// How it runs on a node: omsrun places its own static binary there for the
// transfer (gzip on the wire, 5.4 of 13 MB, checked against its SHA-256 before it runs)
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
const relayIdle = 10 * time.Second

// DefaultRelayPort is where a node listens for the node before it.
const DefaultRelayPort = 9876

// relayMember is what Check published about a host for the relay.
type relayMember struct {
	env  *modules.Env
	have bool // the host has the image: it can be the chain's source
	// ctx is the host's own step context, set when it meets: its node's
	// session ends with it (an interrupted run, the step's timeout).
	ctx context.Context
}

// relayOutcome is what the relay did for one host.
type relayOutcome struct {
	done bool   // the node loaded the stream; verify it
	from string // the node before it
	note string // why the control machine sends it after all
	sent int64  // image bytes this host took from the control machine
}

func (a *DockerLoadArgs) relayOn() bool { return a.Relay == nil || *a.Relay }

func (a *DockerLoadArgs) relayPort() int {
	if a.RelayPort > 0 {
		return a.RelayPort
	}
	return DefaultRelayPort
}

// relayLoad joins the step's other hosts that need the whole file; ok is
// false when there is no relay for this host (alone, relay off, retried).
func (m *DockerLoad) relayLoad(ctx context.Context, env *modules.Env, a *DockerLoadArgs, p *dockerLoadPlan) (int64, map[string][]string, string, bool, error) {
	env.Group.Put(env.HostName, &relayMember{env: env, ctx: ctx})
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
	if out.done {
		have, err := imageTags(ctx, env, p.archive.IDs())
		if err == nil {
			err = missingIDs(p.archive, have)
		}
		if err == nil {
			note := "relayed from " + out.from
			if out.sent > 0 {
				note = fmt.Sprintf("sent %s once from here and relayed it to the other nodes", textx.HumanBytes(out.sent))
			}
			return out.sent, have, note, true, nil
		}
		out.note = fmt.Sprintf("relay: %v", err)
	}
	if ctx.Err() != nil {
		return out.sent, nil, "", true, ctx.Err()
	}
	env.Report.Warn(out.note + "; sending from the control machine")
	n, have, note, err := m.loadImage(ctx, env, a, p)
	return out.sent + n, have, out.note + "; " + note, true, err
}

// runChain decides the chain for the hosts in met (all need the whole
// file) and starts it; each host gets a channel on which its own outcome
// comes as soon as it is known, so a host the chain failed is sent the
// file while the others are still loading.
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
	var chain []string
	if source != "" {
		chain = append(chain, source)
	}
	for _, h := range met {
		if why := eligible(h); why != "" {
			outcome(h, &relayOutcome{note: "relay: " + why})
			continue
		}
		chain = append(chain, h)
	}
	if len(chain) < 2 {
		return res // the eligible one (if any) gets no outcome: sent as without the relay
	}
	outs := map[string]chan *relayOutcome{}
	for _, h := range chain {
		outs[h] = make(chan *relayOutcome, 1)
		if h != source {
			res[h] = outs[h]
		}
	}
	go m.transfer(ctx, a, arch, bin, chain, source != "", vals, outs)
	return res
}

// transfer runs the chain: every node's session at once, the first fed
// from the file (or a source node's docker save); each node's outcome goes
// to its channel when its session ends. A node that became unreachable
// takes the sessions after it down at once: their stream cannot complete,
// and the control machine's copy should not wait for their timeouts.
func (m *DockerLoad) transfer(ctx context.Context, a *DockerLoadArgs, arch *dockerarchive.Archive, bin *selfBin, chain []string, fromSource bool, vals map[string]any, outs map[string]chan *relayOutcome) {
	secret, err := relay.NewSecret()
	if err != nil {
		for _, h := range chain {
			outs[h] <- &relayOutcome{note: "relay: " + err.Error()}
		}
		return
	}
	port := strconv.Itoa(a.relayPort())
	addr := func(h string) string { return net.JoinHostPort(vals[h].(*relayMember).env.Address, port) }
	// hold keeps the nodes' stdin open: its end is how a node learns that
	// the control machine is gone.
	holdR, holdW := io.Pipe()
	defer holdW.Close()
	var mu sync.Mutex
	cancels := make([]context.CancelFunc, len(chain))
	causes := make([]string, len(chain))
	var wg sync.WaitGroup
	for i, h := range chain {
		mem := vals[h].(*relayMember)
		env, nctx := mem.env, mem.ctx
		if nctx == nil {
			nctx = ctx // the source: its own step is over
		}
		nctx, cancels[i] = context.WithCancel(nctx)
		defer cancels[i]()
		cfg := relay.NodeConfig{Secret: secret, Listen: addr(h), Deadline: time.Now().Add(30 * time.Second), Idle: relayIdle}
		if i+1 < len(chain) {
			cfg.Next = addr(chain[i+1])
		}
		out := &relayOutcome{}
		if i > 0 {
			out.from = chain[i-1]
		}
		var tail io.Reader = holdR
		var prog *progressReader
		switch {
		case i == 0 && fromSource:
			cfg.Save = arch.Images[0].ID
		case i == 0:
			cfg.Stdin = true
			f, err := os.Open(a.File)
			if err != nil {
				out.note = "relay: " + err.Error()
				outs[h] <- out
				continue
			}
			defer f.Close()
			prog = newProgressReader(f, arch.Size, env.Report, "sent; the nodes are relaying and loading it")
			pr, pw := io.Pipe()
			go func() { _, err := relay.Send(pw, prog); pw.CloseWithError(err) }()
			defer pr.Close()
			tail = pr
			env.Report.Phase(fmt.Sprintf("sending %s once; the nodes relay it", textx.HumanBytes(arch.Size)))
		default:
			env.Report.Phase("relay: receiving from " + chain[i-1])
		}
		frame, err := relay.FrameConfig(cfg)
		if err != nil {
			out.note = "relay: " + err.Error()
			outs[h] <- out
			continue
		}
		stdin := io.MultiReader(bytes.NewReader(bin.gz), bytes.NewReader(frame), tail)
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Not env.Try: its errors quote the whole script.
			res, err := env.Host.Run(nctx, transport.Cmd{Script: nodeScript(bin), Stdin: stdin, Become: env.Become})
			rep := nodeReport(res, err)
			mu.Lock()
			if err != nil && transport.IsUnreachable(err) {
				for j := i + 1; j < len(chain); j++ {
					if causes[j] == "" {
						causes[j] = fmt.Sprintf("%s before this node became unreachable", h)
					}
					cancels[j]()
				}
			}
			cause := causes[i]
			mu.Unlock()
			if prog != nil {
				prog.flush()
				out.sent = prog.sent()
			}
			switch {
			case rep.Err == "":
				out.done = true
			case cause != "":
				out.note = "relay: " + cause
			default:
				out.note = "relay: " + rep.Err
			}
			outs[h] <- out
		}()
	}
	wg.Wait()
}
