package oms

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
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
// transfer (gzip on the wire, checked against its SHA-256 before it runs)
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
const relayIdle = 15 * time.Second

// DefaultRelayPort is where a node listens for the node before it.
const DefaultRelayPort = 9876

// relayMember is what Check published about a host for the relay.
type relayMember struct {
	env  *modules.Env
	have bool // the host has the image: it can be the chain's source
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
	v, ok := env.Group.Meet(ctx, env.HostName, func(met []string, vals map[string]any) map[string]any {
		return m.runChain(ctx, a, p.archive, met, vals)
	})
	out, _ := v.(*relayOutcome)
	if !ok || out == nil {
		return 0, nil, "", false, nil
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

// runChain runs one transfer for every host in met (all need the whole
// file) and returns each one's outcome.
func (m *DockerLoad) runChain(ctx context.Context, a *DockerLoadArgs, arch *dockerarchive.Archive, met []string, vals map[string]any) map[string]any {
	res := map[string]any{}
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
	fallback := func(hosts []string, why string) {
		for _, h := range hosts {
			res[h] = &relayOutcome{note: why}
		}
	}
	if runtime.GOOS != "linux" {
		fallback(met, fmt.Sprintf("relay: omsrun here is %s/%s and cannot run on the nodes", runtime.GOOS, runtime.GOARCH))
		return res
	}
	bin, err := selfBinary()
	if err != nil {
		fallback(met, "relay: "+err.Error())
		return res
	}
	// Only nodes that can run this binary, at an IP address, take part.
	var chain []string
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
	if source != "" {
		chain = append(chain, source)
	}
	for _, h := range met {
		if why := eligible(h); why != "" {
			res[h] = &relayOutcome{note: "relay: " + why}
			continue
		}
		chain = append(chain, h)
	}
	if len(chain) < 2 {
		return res // the eligible one (if any) gets no outcome: sent as without the relay
	}
	reports, sent := m.transfer(ctx, a, arch, bin, chain, source != "", vals)
	for i, h := range chain {
		if h == source {
			continue
		}
		out := &relayOutcome{sent: sent[h]}
		if i > 0 {
			out.from = chain[i-1]
		}
		switch r := reports[h]; {
		case r.Err == "":
			out.done = true
		case i > 0 && reports[chain[i-1]].Err != "":
			// Said against the node that failed, not the ones after it.
			out.note = fmt.Sprintf("relay: %s before this node did not pass the image on (%s)", chain[i-1], reports[chain[i-1]].Err)
		default:
			out.note = "relay: " + r.Err
		}
		res[h] = out
	}
	return res
}

// platforms maps `uname -sm` to Go's names.
var platforms = map[string]string{"Linux x86_64": "linux/amd64", "Linux aarch64": "linux/arm64", "Linux arm64": "linux/arm64"}

// nodePlatform says why this binary cannot run on the node, or "".
func nodePlatform(ctx context.Context, env *modules.Env) string {
	out, err := env.Run(ctx, transport.Cmd{Argv: []string{"uname", "-sm"}})
	if err != nil {
		return fmt.Sprintf("uname -sm: %v", err)
	}
	got := strings.TrimSpace(string(out.Stdout))
	if platforms[got] != runtime.GOOS+"/"+runtime.GOARCH {
		return fmt.Sprintf("the node is %s, omsrun here is %s/%s", got, runtime.GOOS, runtime.GOARCH)
	}
	return ""
}

// selfBin is this process's own executable, gzipped once for every chain
// of the run: the binary crosses the control machine's link once per node.
type selfBin struct {
	gz  []byte
	sum string // of the uncompressed binary
}

var selfOnce = sync.OnceValues(func() (*selfBin, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(exe)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(raw)
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestSpeed)
	zw.Write(raw)
	zw.Close()
	return &selfBin{gz: b.Bytes(), sum: hex.EncodeToString(sum[:])}, nil
})

func selfBinary() (*selfBin, error) { return selfOnce() }

// nodeScript places the binary, checks it and runs it as the relay node.
// The trap removes the directory however the shell ends short of a kill
// -9; the node itself unlinks its file as soon as it starts.
func nodeScript(b *selfBin) string {
	return fmt.Sprintf(`umask 077
d=$(mktemp -d /var/tmp/%sXXXXXX) || exit 97
trap 'rm -rf "$d"' EXIT
trap 'exit 1' HUP INT TERM PIPE
head -c %d | gzip -dc > "$d/omsrun" || exit 97
echo "%s  $d/omsrun" | sha256sum -c --status || { echo "omsrun relay: the copy of omsrun on this node does not match its checksum" >&2; exit 98; }
chmod 700 "$d/omsrun"
"$d/omsrun" %s`, relay.DirPrefix, len(b.gz), b.sum, relay.NodeArg)
}

// transfer runs the chain: every node's session at once, the first fed
// from the file (or a source node's docker save), and returns each node's
// report and the image bytes the control machine sent it.
func (m *DockerLoad) transfer(ctx context.Context, a *DockerLoadArgs, arch *dockerarchive.Archive, bin *selfBin, chain []string, fromSource bool, vals map[string]any) (map[string]relay.Report, map[string]int64) {
	secret, err := relay.NewSecret()
	reports := map[string]relay.Report{}
	sent := map[string]int64{}
	if err != nil {
		for _, h := range chain {
			reports[h] = relay.Report{Err: err.Error()}
		}
		return reports, sent
	}
	port := strconv.Itoa(a.relayPort())
	addr := func(h string) string { return net.JoinHostPort(vals[h].(*relayMember).env.Address, port) }
	// hold keeps the nodes' stdin open: its end is how a node learns that
	// the control machine is gone.
	holdR, holdW := io.Pipe()
	defer holdW.Close()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, h := range chain {
		env := vals[h].(*relayMember).env
		cfg := relay.NodeConfig{Secret: secret, Listen: addr(h), Deadline: time.Now().Add(30 * time.Second), Idle: relayIdle}
		if i+1 < len(chain) {
			cfg.Next = addr(chain[i+1])
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
				reports[h] = relay.Report{Err: err.Error()}
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
			reports[h] = relay.Report{Err: err.Error()}
			continue
		}
		stdin := io.MultiReader(bytes.NewReader(bin.gz), bytes.NewReader(frame), tail)
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Not env.Try: its errors quote the whole script.
			out, err := env.Host.Run(ctx, transport.Cmd{Script: nodeScript(bin), Stdin: stdin, Become: env.Become})
			rep := nodeReport(out, err)
			mu.Lock()
			defer mu.Unlock()
			reports[h] = rep
			if prog != nil {
				prog.flush()
				sent[h] = prog.sent()
			}
		}()
	}
	wg.Wait()
	return reports, sent
}

// nodeReport reads the node's last stdout line, its JSON report.
func nodeReport(out transport.Result, err error) relay.Report {
	if err != nil {
		return relay.Report{Err: err.Error()}
	}
	lines := strings.Split(strings.TrimSpace(string(out.Stdout)), "\n")
	var rep relay.Report
	if jerr := json.Unmarshal([]byte(lines[len(lines)-1]), &rep); jerr != nil {
		return relay.Report{Err: fmt.Sprintf("the node ended with status %d without a report: %s", out.ExitCode, textx.TailLines(string(out.Stderr), 3))}
	}
	if rep.Err == "" && out.ExitCode != 0 {
		rep.Err = fmt.Sprintf("the node ended with status %d", out.ExitCode)
	}
	return rep
}
