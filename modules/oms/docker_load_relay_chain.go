package oms

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/omsrun/omsrun/internal/dockerarchive"
	"github.com/omsrun/omsrun/internal/probe"
	"github.com/omsrun/omsrun/internal/transport"
)

// relayProbeWait bounds the check, before a chain starts, that each node
// reaches the next one's relay port. A peer in the same cluster answers a
// SYN in milliseconds, with a refusal when nothing listens; a filtered port
// does not answer at all. A variable, so the unit tests need not wait.
var relayProbeWait = 3 * time.Second

// relayChain is one chain of nodes, each feeding the next.
type relayChain struct {
	hosts      []string
	fromSource bool                 // hosts[0] has the image and sends it (docker save)
	delta      *dockerarchive.Delta // what the control machine feeds; nil: the whole file
	// headWhy says why this chain starts at hosts[0] instead of going on
	// from the node before it (its relay port is not reachable from there).
	headWhy string
	// rotated: the chain was turned to start at the node behind the blocked
	// link, so it is still one chain; otherwise it is a piece after a cut.
	rotated bool
}

// commonDelta is the partial archive every host of the chain can load: the
// layers none of them lacks are left out. nil when a host takes only the
// whole file, or when the archive would spare too little to be worth it.
func commonDelta(arch *dockerarchive.Archive, hosts []string, member func(string) *relayMember) *dockerarchive.Delta {
	var common map[string]bool
	for i, h := range hosts {
		have := member(h).chains
		if have == nil {
			return nil
		}
		if i == 0 {
			common = maps.Clone(have)
			continue
		}
		maps.DeleteFunc(common, func(c string, _ bool) bool { return !have[c] })
	}
	d := arch.Delta(common)
	if d == nil || !worthDelta(d) {
		return nil
	}
	return d
}

// relayAddr is where a host's node listens.
func relayAddr(vals map[string]any, h string, port int) string {
	return net.JoinHostPort(vals[h].(*relayMember).env.Address, strconv.Itoa(port))
}

// startChain checks every link of c from the node that will send on it (over
// SSH: the same path the relay takes) and starts it. One blocked link, the
// usual case of one node behind a firewall, turns the chain to start at
// the node behind it, which the control machine feeds over SSH, when the
// last node reaches the first: the image still crosses the uplink once.
// Otherwise the chain is cut at every blocked link, and a piece after a cut
// is fed from the control machine: a filtered port costs one more copy
// through the uplink at once instead of a wait for the listen deadline. A
// piece of one node is sent to as without the relay.
func (m *DockerLoad) startChain(ctx context.Context, a *DockerLoadArgs, arch *dockerarchive.Archive, bin *selfBin, c relayChain, vals map[string]any, res map[string]any, outcome func(string, *relayOutcome)) {
	blocked := make([]error, len(c.hosts))
	var wg sync.WaitGroup
	for i := 1; i < len(c.hosts); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			blocked[i] = linkBlocked(ctx, vals[c.hosts[i-1]].(*relayMember).env.Host.Dial, relayAddr(vals, c.hosts[i], a.relayPort()))
		}()
	}
	wg.Wait()
	why := func(i int) string {
		return fmt.Sprintf("%s's relay port %s is not reachable from %s (%v)", c.hosts[i], relayAddr(vals, c.hosts[i], a.relayPort()), c.hosts[i-1], blocked[i])
	}
	if cut := onlyCut(blocked); cut > 0 && !c.fromSource {
		n := len(c.hosts)
		if linkBlocked(ctx, vals[c.hosts[n-1]].(*relayMember).env.Host.Dial, relayAddr(vals, c.hosts[0], a.relayPort())) == nil {
			c.headWhy, c.rotated = why(cut), true
			c.hosts = append(append([]string(nil), c.hosts[cut:]...), c.hosts[:cut]...)
			blocked = make([]error, n)
		}
	}
	start := func(s relayChain) {
		if len(s.hosts) == 1 {
			if s.headWhy != "" {
				outcome(s.hosts[0], &relayOutcome{note: "relay: " + s.headWhy})
			}
			return // a source alone has nothing to do; a first node alone is sent to as without the relay
		}
		outs := map[string]chan *relayOutcome{}
		for i, h := range s.hosts {
			outs[h] = make(chan *relayOutcome, 1)
			if i > 0 || !s.fromSource {
				res[h] = outs[h]
			}
		}
		go m.transfer(ctx, a, arch, bin, s, vals, outs)
	}
	piece := relayChain{hosts: []string{c.hosts[0]}, fromSource: c.fromSource, delta: c.delta, headWhy: c.headWhy, rotated: c.rotated}
	for i := 1; i < len(c.hosts); i++ {
		if blocked[i] == nil {
			piece.hosts = append(piece.hosts, c.hosts[i])
			continue
		}
		start(piece)
		piece = relayChain{hosts: []string{c.hosts[i]}, delta: c.delta, headWhy: why(i)}
	}
	start(piece)
}

// onlyCut is the index of the one blocked link, 0 when there are none or
// several.
func onlyCut(blocked []error) int {
	cut := 0
	for i, err := range blocked {
		if err != nil {
			if cut > 0 {
				return 0
			}
			cut = i
		}
	}
	return cut
}

// linkBlocked says why addr, a relay port where nothing listens yet, cannot
// be reached through dial (a node's SSH connection), or nil when it can or
// when nothing is known: sshd may not forward at all, and then the run
// itself finds out, a little later.
func linkBlocked(ctx context.Context, dial probe.DialFunc, addr string) error {
	err := probe.TCP(ctx, probe.Bounded(dial), addr, relayProbeWait)
	if err == nil || ctx.Err() != nil {
		return nil // something listens there: the node's own listen will say what
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("no answer within %s: filtered", relayProbeWait)
	}
	if _, unreachable := transport.PeerAnswer(err); unreachable {
		return err
	}
	return nil
}
