package oms

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
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

// nodeHost is the fake host with a relay node that really runs, in this
// process: the node script's stdin (binary, configuration, stream) is read
// as a node would, and the node listens on loopback. hidden makes its
// relay port unreachable, as a firewall would: the node listens elsewhere
// and waits for a peer that never comes.
type nodeHost struct {
	*modtest.Host
	hidden bool
	sink   bytes.Buffer
	mu     sync.Mutex
}

var binLen = regexp.MustCompile(`head -c (\d+) `)

func (h *nodeHost) Run(ctx context.Context, c transport.Cmd) (transport.Result, error) {
	m := binLen.FindStringSubmatch(c.Script)
	if !strings.Contains(c.Script, "omsrun relay node") || m == nil {
		return h.Host.Run(ctx, c)
	}
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
		var next io.Writer
		if cfg.Next != "" {
			if c, err := relay.Dial(cfg.Next, cfg.Secret, cfg.Idle); err != nil {
				rep.NextErr = err.Error()
			} else {
				defer c.Close()
				next = c
			}
		}
		var nextErr error
		rep.Bytes, nextErr, err = relay.Relay(c.Stdin, sink, next)
		if err != nil {
			rep.Err = err.Error()
		}
		if nextErr != nil {
			rep.NextErr = nextErr.Error()
		}
	} else {
		if h.hidden {
			cfg.Listen = "127.0.0.1:0"
		}
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() { io.Copy(io.Discard, c.Stdin); cancel() }()
		fmt.Fprintln(c.Stderr, relay.ListeningLine) // Dial retries until the node listens
		rep = relay.RunNode(ctx, cfg, sink)
	}
	out, _ := json.Marshal(rep)
	code := 0
	if rep.Err != "" {
		code = 1
	}
	return transport.Result{ExitCode: code, Stdout: append(out, '\n')}, nil
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// The last node's relay port is filtered at run time (preflight's probe
// aside): the node before it cannot reach it and loads on its own, and the
// filtered node, whom no peer reaches before its deadline, gets the whole
// file from the control machine; only it is warned about, and its result
// says it was sent from here.
func TestDockerLoadRelayPortFiltered(t *testing.T) {
	defer func(i, w time.Duration) { relayIdle, relayWait = i, w }(relayIdle, relayWait)
	relayIdle, relayWait = time.Second, 3*time.Second
	file, id := dkImageTarball(t, "oms:x", 300)
	raw, _ := os.ReadFile(file)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	hosts := []string{"oms1", "oms2", "oms3"}
	g := modules.NewGroup(hosts)
	m := &DockerLoad{archives: dockerarchive.NewCache("")}
	args := &DockerLoadArgs{File: file, RelayPort: port}
	nodes := map[string]*nodeHost{}
	msgs := map[string]string{}
	warns := map[string][]string{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for i, host := range hosts {
		fh := (&modtest.Host{}).
			On("uname -sm", 0, map[string]string{"amd64": "Linux x86_64", "arm64": "Linux aarch64"}[runtimeArch()]+"\n", "").
			Once("docker image inspect", 1, "", "Error: No such image: "+id+"\n").
			On("docker image inspect", 0, id+` ["oms:x"]`+"\n", "").
			On("docker load", 0, "Loaded image: oms:x\n", "")
		nh := &nodeHost{Host: fh, hidden: host == "oms3"}
		nodes[host] = nh
		env, rep := modtest.NewEnv(fh)
		env.Host = nh
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
			msgs[host] = res.Msg
			warns[host] = rep.Warns
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("docker_load did not return")
	}
	t.Logf("took %s", time.Since(start).Round(time.Millisecond))
	for _, h := range []string{"oms1", "oms2"} {
		if !bytes.Equal(nodes[h].sink.Bytes(), raw) || nodes[h].StdinN != 0 {
			t.Errorf("%s: relayed %d of %d bytes, %d from the control machine", h, nodes[h].sink.Len(), len(raw), nodes[h].StdinN)
		}
		if len(warns[h]) > 0 {
			t.Errorf("%s is warned about: %q", h, warns[h])
		}
	}
	if !strings.Contains(msgs["oms1"], "once from here") || !strings.Contains(msgs["oms2"], "relayed from oms1") {
		t.Errorf("results: %q", msgs)
	}
	o3 := nodes["oms3"]
	if o3.sink.Len() != 0 || o3.StdinN != int64(len(raw)) {
		t.Errorf("oms3: relayed %d bytes and got %d from the control machine, want the whole file (%d) from the control machine", o3.sink.Len(), o3.StdinN, len(raw))
	}
	if len(warns["oms3"]) != 1 || !strings.Contains(warns["oms3"][0], "sending from the control machine") {
		t.Errorf("oms3: warnings %q", warns["oms3"])
	}
	if !strings.HasPrefix(msgs["oms3"], "relay: ") || !strings.Contains(msgs["oms3"], "no peer") {
		t.Errorf("oms3: result %q does not say why it was sent from here", msgs["oms3"])
	}
}

func runtimeArch() string { return runtime.GOARCH }
