package oms

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/omsrun/omsrun/modules/modtest"
)

// The relay port between peers: refused is an open path (nothing listens
// outside a transfer); unreachable warns, naming the peer and the fallback,
// and is never a problem that stops the deploy.
func TestPreflightRelayPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	peer := dkListener(t)
	local := "ok|20.10.24|/var/lib/docker\n" + preflightSep + "\ntrue\n" + preflightSep + "\n" + dkProcTCP + preflightSep + "\n" +
		"tmpfs 104857600 0 104857600 0% /data\n" + preflightSep + "\n" + preflightSep + "\n8\n16318412\nv1\n"
	clock := fmt.Sprintf("%.6f\n", float64(time.Now().UnixNano())/1e9)
	relayAt := func(ip string) string { return fmt.Sprintf("%s:%d", ip, DefaultRelayPort) }
	h := (&modtest.Host{Targets: map[string]string{
		"10.0.0.12:22": peer, relayAt("10.0.0.12"): closed, // open path, nothing listening
		"10.0.0.13:22": peer, // the relay port filtered
	}}).On("docker info", 0, local, "").On("date", 0, clock, "")
	env, rep := modtest.NewEnv(h)
	args := &PreflightArgs{Peers: []string{"10.0.0.11", "10.0.0.12", "10.0.0.13"}}
	if _, _, err := modtest.RunBoth(t, &Preflight{}, env, args); err != nil {
		t.Fatalf("the relay port failed the preflight: %v", err)
	}
	if len(rep.Warns) != 1 || !strings.Contains(rep.Warns[0], relayAt("10.0.0.13")) || !strings.Contains(rep.Warns[0], "from the control machine") {
		t.Errorf("warnings %q: want one about %s", rep.Warns, relayAt("10.0.0.13"))
	}
	args = &PreflightArgs{Peers: []string{"10.0.0.13"}, RelayPort: -1}
	env, rep = modtest.NewEnv(h)
	if _, _, err := modtest.RunBoth(t, &Preflight{}, env, args); err != nil || len(rep.Warns) != 0 {
		t.Errorf("relay_port = -1: err %v, warnings %q", err, rep.Warns)
	}
}
