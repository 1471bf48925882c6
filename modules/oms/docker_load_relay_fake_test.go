package oms

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omsrun/omsrun/internal/dockerarchive"
	"github.com/omsrun/omsrun/internal/relay"
	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/modules"
	"github.com/omsrun/omsrun/modules/modtest"
)

// The relay's unit tests run docker_load on several fake hosts at once, as
// the engine does; the relay nodes really run, in this process.

// relayFake is a host that lacks image id until a docker load, with the
// given `uname -sm`.
func relayFake(id, uname string) *modtest.Host {
	return (&modtest.Host{}).
		On("uname -sm", 0, uname+"\n", "").
		Once("docker image inspect", 1, "", "Error: No such image: "+id+"\n").
		On("docker image inspect", 0, id+` ["oms:x"]`+"\n", "").
		On("docker load", 0, "Loaded image: oms:x\n", "")
}

// nativeUname is what `uname -sm` says on a node this binary runs on.
func nativeUname() string {
	return map[string]string{"amd64": "Linux x86_64", "arm64": "Linux aarch64"}[runtime.GOARCH]
}

// relayRun is what one step on every host gave.
type relayRun struct {
	msgs  map[string]string
	warns map[string][]string
	bytes map[string][][2]int64 // each host's progress: done, total
	took  time.Duration
}

// runRelayStep runs docker_load with args on hosts at once; host i is the
// transport mk returns and listens at 127.0.0.(i+1). The test fails if the
// step has not ended within limit.
func runRelayStep(t *testing.T, hosts []string, args *DockerLoadArgs, limit time.Duration, mk func(host string) (*modtest.Host, transport.Host)) relayRun {
	t.Helper()
	g := modules.NewGroup(hosts)
	m := &DockerLoad{archives: dockerarchive.NewCache("")}
	r := relayRun{msgs: map[string]string{}, warns: map[string][]string{}, bytes: map[string][][2]int64{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for i, host := range hosts {
		fake, h := mk(host)
		env, rep := modtest.NewEnv(fake)
		env.Host = h
		env.HostName, env.Address, env.Group = host, fmt.Sprintf("127.0.0.%d", i+1), g
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer g.Finish(host)
			_, res, err := modtest.RunBoth(t, m, env, args)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("%s: %v", host, err)
				return
			}
			r.msgs[host] = res.Msg
			r.warns[host] = rep.Warns
			r.bytes[host] = rep.ByteLog
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(limit):
		t.Fatalf("docker_load did not return within %s", limit)
	}
	r.took = time.Since(start)
	return r
}

// nodeHost is the fake host with a relay node that really runs, in this
// process: the node script's stdin (binary, configuration, stream) is read
// as a node would, and the node listens on loopback. hidden makes its
// relay port unreachable at run time, as a firewall's reject would: the
// node listens elsewhere. filtered are the addresses a probe from this host
// gets no answer from, as a firewall's drop.
type nodeHost struct {
	*modtest.Host
	hidden   bool
	filtered map[string]bool
	sink     bytes.Buffer
	mu       sync.Mutex
}

var binLen = regexp.MustCompile(`head -c (\d+) `)

func (h *nodeHost) Run(ctx context.Context, c transport.Cmd) (transport.Result, error) {
	m := binLen.FindStringSubmatch(c.Script)
	if !strings.Contains(c.Script, "omsrun relay node") || m == nil {
		return h.Host.Run(ctx, c)
	}
	h.Host.Mu.Lock()
	h.Host.Cmds = append(h.Host.Cmds, "omsrun relay node")
	h.Host.Mu.Unlock()
	n, _ := strconv.Atoi(m[1])
	if _, err := io.CopyN(io.Discard, c.Stdin, int64(n)); err != nil {
		return transport.Result{}, err
	}
	var size [4]byte
	io.ReadFull(c.Stdin, size[:])
	cfgJSON := make([]byte, binary.BigEndian.Uint32(size[:]))
	io.ReadFull(c.Stdin, cfgJSON)
	cfg, err := relay.ReadConfig(bytes.NewReader(cfgJSON))
	if err != nil {
		return transport.Result{}, err
	}
	sink := writerFunc(func(p []byte) (int, error) { h.mu.Lock(); defer h.mu.Unlock(); return h.sink.Write(p) })
	var rep relay.Report
	if cfg.Stdin {
		rep = relay.RunFirst(ctx, cfg, c.Stdin, sink, c.Stderr)
	} else {
		if h.hidden {
			cfg.Listen = "127.0.0.1:0"
		}
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() { io.Copy(io.Discard, c.Stdin); cancel() }()
		rep = relay.RunNode(ctx, cfg, sink, c.Stderr)
	}
	out, _ := json.Marshal(rep)
	code := 0
	if rep.Err != "" {
		code = 1
	}
	return transport.Result{ExitCode: code, Stdout: append(out, '\n')}, nil
}

func (h *nodeHost) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if h.filtered[addr] {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

func (h *nodeHost) loaded() []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]byte(nil), h.sink.Bytes()...)
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// freePort is a TCP port nothing listens on, on loopback.
func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
