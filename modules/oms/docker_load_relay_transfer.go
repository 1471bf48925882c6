package oms

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/omsrun/omsrun/internal/dockerarchive"
	"github.com/omsrun/omsrun/internal/relay"
	"github.com/omsrun/omsrun/internal/textx"
	"github.com/omsrun/omsrun/internal/transport"
)

// transfer runs the chain: every node but the first starts at once, and
// the first (fed from the file, or a source node's docker save) only when
// all of them listen, so no node waits on a next one that is still being
// placed; a node that does not come up leaves every host to the control
// machine. Each node's outcome goes to its channel when its session ends.
// A node that became unreachable takes the sessions after it down at once:
// their stream cannot complete, and their copy from the control machine
// should not wait for their timeouts.
func (m *DockerLoad) transfer(ctx context.Context, a *DockerLoadArgs, arch *dockerarchive.Archive, bin *selfBin, c relayChain, vals map[string]any, outs map[string]chan *relayOutcome) {
	chain, fromSource := c.hosts, c.fromSource
	secret, err := relay.NewSecret()
	if err != nil {
		for _, h := range chain {
			outs[h] <- &relayOutcome{note: "relay: " + err.Error()}
		}
		return
	}
	addr := func(h string) string { return relayAddr(vals, h, a.relayPort()) }
	what := ""
	if c.delta != nil {
		what = fmt.Sprintf(" (%d missing layers of %d)", c.delta.Missing, c.delta.Missing+c.delta.Present)
	}
	// size is about what each node takes, for its progress: the file, the
	// partial archive's layers before compression (an upper bound), or the
	// source's docker save, about its layers.
	size := arch.Size
	switch {
	case c.delta != nil:
		size = c.delta.MissingSize
	case fromSource:
		size = 0
		for _, l := range arch.Images[0].LayerSizes {
			size += l
		}
	}
	// hold keeps the nodes' stdin open: its end is how a node learns that
	// the control machine is gone.
	holdR, holdW := io.Pipe()
	defer holdW.Close()
	deadline := time.Now().Add(relayWait)
	var mu sync.Mutex
	n := len(chain)
	cancels := make([]context.CancelFunc, n)
	causes := make([]string, n)
	starts := make([]func(), n)
	listening := make([]*lineWatch, n)
	nextGone := make([]*lineWatch, n)
	ended := make([]chan struct{}, n)
	var wg sync.WaitGroup
	for i, h := range chain {
		mem := vals[h].(*relayMember)
		env, nctx := mem.env, mem.ctx
		if nctx == nil {
			nctx = ctx // the source: its own step is over
		}
		nctx, cancels[i] = context.WithCancel(nctx)
		defer cancels[i]()
		ended[i] = make(chan struct{})
		listening[i] = newLineWatch(relay.ListeningLine)
		nextGone[i] = newLineWatch(relay.NextUnreachableLine)
		cfg := relay.NodeConfig{Secret: secret, Listen: addr(h), Deadline: deadline, Idle: relayIdle}
		if i+1 < n {
			cfg.Next = addr(chain[i+1])
		}
		out := &relayOutcome{what: what}
		if i > 0 {
			out.from = chain[i-1]
		} else if c.rotated {
			out.warn = "relay: " + c.headWhy + "; the chain starts at " + h + " instead (the image still crosses the control machine's link once)"
		} else if c.headWhy != "" {
			out.warn = "relay: " + c.headWhy + "; its chain starts here, from the control machine"
		}
		var tail io.Reader = holdR
		var prog *progressReader
		switch {
		case i == 0 && fromSource:
			cfg.Save = arch.Images[0].ID
		case i == 0:
			cfg.Stdin = true
			feed, size, err := openFeed(a.File, c.delta)
			if err != nil {
				out.note = "relay: " + err.Error()
				outs[h] <- out
				continue
			}
			defer feed.Close()
			prog = newProgressReader(feed, size, env.Report, "sent; the nodes are relaying and loading it")
			pr, pw := io.Pipe()
			go func() { _, err := relay.Send(pw, prog); pw.CloseWithError(err) }()
			defer pr.Close()
			tail = pr
		}
		frame, err := relay.FrameConfig(cfg)
		if err != nil {
			out.note = "relay: " + err.Error()
			outs[h] <- out
			continue
		}
		stdin := io.MultiReader(bytes.NewReader(bin.gz), bytes.NewReader(frame), tail)
		starts[i] = func() {
			switch {
			case i == 0 && fromSource:
				env.Report.Phase("relay: docker save, sending the image to " + chain[1])
			case i == 0 && c.delta != nil:
				env.Report.Phase(fmt.Sprintf("sending %d missing layers (%s before compression) once; the nodes relay them", c.delta.Missing, textx.HumanBytes(c.delta.MissingSize)))
			case i == 0:
				env.Report.Phase(fmt.Sprintf("sending %s once; the nodes relay it", textx.HumanBytes(arch.Size)))
			default:
				env.Report.Phase("relay: receiving from " + chain[i-1])
			}
			wg.Add(2)
			go func() {
				// A node that cannot reach the next one says so at once: the
				// nodes after it will get nothing through this chain, and
				// the control machine serves them now.
				defer wg.Done()
				select {
				case <-nextGone[i].seen:
				case <-ended[i]:
					select {
					case <-nextGone[i].seen:
					default:
						return
					}
				}
				mu.Lock()
				defer mu.Unlock()
				for j := i + 1; j < n; j++ {
					if causes[j] == "" {
						causes[j] = fmt.Sprintf("%s's relay port %s is not reachable from %s (%s)", chain[i+1], addr(chain[i+1]), h, nextGone[i].rest())
					}
					cancels[j]()
				}
			}()
			go func() {
				defer wg.Done()
				defer close(ended[i])
				// Not env.Try: its errors quote the whole script.
				stderr := &nodeProgress{w: io.MultiWriter(listening[i], nextGone[i]), rep: env.Report, total: size}
				res, err := env.Host.Run(nctx, transport.Cmd{Script: nodeScript(bin), Stdin: stdin, Stderr: stderr, Become: env.Become})
				stderr.flush()
				res.Stderr = listening[i].tail()
				rep := nodeReport(res, err)
				mu.Lock()
				if err != nil && transport.IsUnreachable(err) {
					for j := i + 1; j < n; j++ {
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
				out.loadFailed = rep.LoadFailed
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
	}
	for i := 1; i < n; i++ {
		if starts[i] != nil {
			starts[i]()
		}
	}
	why := ""
	for i := 1; i < n && why == "" && starts[0] != nil; i++ {
		select {
		case <-listening[i].seen:
		case <-ended[i]:
			why = chain[i] + " did not come up"
		case <-ctx.Done():
			why = "interrupted"
		case <-time.After(time.Until(deadline)):
			why = fmt.Sprintf("%s did not listen within %s", chain[i], relayWait)
		}
	}
	if starts[0] == nil {
		why = chain[0] + " could not start"
	}
	if why == "" {
		starts[0]()
	} else {
		mu.Lock()
		for i := range chain {
			if causes[i] == "" {
				causes[i] = why
			}
			cancels[i]()
		}
		mu.Unlock()
		if starts[0] != nil && !fromSource {
			outs[chain[0]] <- &relayOutcome{note: "relay: " + why}
		}
	}
	wg.Wait()
}

// openFeed opens what the chain's first node is fed: the file, or a partial
// archive of it built on the fly. size is for the progress line: the
// partial archive's compressed size is unknown ahead, and the uncompressed
// size of its layers is the honest upper bound.
func openFeed(file string, d *dockerarchive.Delta) (io.ReadCloser, int64, error) {
	if d == nil {
		f, err := os.Open(file)
		if err != nil {
			return nil, 0, err
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, 0, err
		}
		return f, st.Size(), nil
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(dockerarchive.WriteDelta(pw, file, d.Skip)) }()
	return pr, d.MissingSize, nil
}
