package e2e

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/omsrun/omsrun/internal/lab"
	"github.com/omsrun/omsrun/internal/lab/labtest"
)

// otherPorts sets all five OMS ports away from OMS's defaults.
var otherPorts = []string{"-e", "nginx_server_port=18089", "-e", "cm_server_port=18088", "-e", "ghana_server_port=18090",
	"-e", "supervisor_server_port=19000", "-e", "sshd_server_port=12023"}

// TestDeployOtherPorts: with every OMS port set, preflight checks those
// ports (a foreign listener on one stops the deploy before any change),
// and the health checks — the container start, CM, status — use them: the
// node serves nothing on the defaults, and the deploy and status pass.
func TestDeployOtherPorts(t *testing.T) {
	l := labtest.Require(t)
	l.Reset(t)
	l.DropMetaDatabases(t)
	l.SetStartupDelay(t, "/data/oms", time.Second)
	// The balancer maps its 8088 and 8089 to the nodes' ports.
	l.ConfigureVIP(t, lab.VIPOptions{CMPort: 18088, NginxPort: 18089})
	h := l.Hosts[0]
	inv := inventoryOf(t, l, 1)
	args := append([]string{"-e", "health_timeout=60s", "-e", "vip_timeout=60s"}, otherPorts...)

	// Someone else listens on the ghana port: preflight names it.
	l.Exec(t, h.Name, `setsid python3 -c 'import socket,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", 18090)); s.listen(); time.sleep(300)' </dev/null >/dev/null 2>&1 & echo $! > /tmp/omsrun-e2e-port.pid`)
	stop := func() {
		l.Run(context.Background(), h.Name, "kill $(cat /tmp/omsrun-e2e-port.pid) 2>/dev/null; rm -f /tmp/omsrun-e2e-port.pid")
	}
	t.Cleanup(stop)
	waitListen(t, h.Address, 18090)
	busy := deploy(t, l, "deploy.hcl", inv, args...)
	expectCode(t, busy, 2)
	if !strings.Contains(busy.stdout, "port(s) 18090 already in use") || strings.Contains(busy.stdout, `"step":"load image"`) {
		t.Fatalf("a foreign listener on ghana_server_port did not stop preflight:\n%s", busy.stdout)
	}
	stop()

	ok := deploy(t, l, "deploy.hcl", inv, args...)
	expectCode(t, ok, 0)
	for _, port := range []int{18089, 18088, 18090, 19000, 12023} {
		if c, err := net.DialTimeout("tcp", net.JoinHostPort(h.Address, fmt.Sprint(port)), 2*time.Second); err != nil {
			t.Errorf("OMS does not listen on %d: %v", port, err)
		} else {
			c.Close()
		}
	}
	for _, port := range []int{8088, 8089} {
		if c, err := net.DialTimeout("tcp", net.JoinHostPort(h.Address, fmt.Sprint(port)), time.Second); err == nil {
			c.Close()
			t.Errorf("OMS still listens on its default %d", port)
		}
	}
	st := deploy(t, l, "status.hcl", inv, otherPorts...)
	expectCode(t, st, 0)
	if !strings.Contains(st.stdout, "18088 ok") || !strings.Contains(st.stdout, "18089 ok") {
		t.Errorf("status does not show health on the configured ports:\n%s", st.stdout)
	}
}

// waitListen waits until something accepts on addr:port.
func waitListen(t *testing.T, addr string, port int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", net.JoinHostPort(addr, fmt.Sprint(port)), time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listens on %s:%d: %v", addr, port, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
