package e2e

import (
	"context"
	"fmt"
	"net"
	"regexp"
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
// On the cluster it leaves, pointing it at other databases is refused
// until confirmed as the refusal says.
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
	if !strings.Contains(busy.stdout, "port(s) 18090 already in use") || strings.Contains(busy.stdout, `"step":"load image","type":"host_result"`) {
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

	// The live cluster pointed at other databases (issue #14 point 6): the
	// run stops before any change, naming both sets, and the remedy it
	// prints, followed exactly, goes through.
	other := append(append([]string{}, args...), "-e", "drc_rm_db=oms_b_rm", "-e", "drc_cm_db=oms_b_cm", "-e", "drc_cm_heartbeat_db=oms_b_hb")
	before := l.Exec(t, h.Name, "sha256sum < /data/oms/config.yaml")
	refused := deploy(t, l, "deploy.hcl", inv, other...)
	expectCode(t, refused, 5) // declined: no terminal to confirm on
	for _, want := range []string{"uses the databases oms_cm, oms_cm_heartbeat, oms_rm", "point it at oms_b_rm, oms_b_cm, oms_b_hb"} {
		if !strings.Contains(refused.stdout, want) {
			t.Fatalf("the refusal lacks %q:\n%s", want, refused.stdout)
		}
	}
	if after := l.Exec(t, h.Name, "sha256sum < /data/oms/config.yaml"); after != before {
		t.Fatal("config.yaml changed although the database change was refused")
	}
	m := regexp.MustCompile(`re-run with -e (allow_database_change=true)`).FindStringSubmatch(refused.stdout)
	if m == nil {
		t.Fatalf("the refusal names no -e that confirms:\n%s", refused.stdout)
	}
	expectCode(t, deploy(t, l, "deploy.hcl", inv, append(other, "-e", m[1])...), 0)
	if got := l.Exec(t, h.Name, "grep '^drc_rm_db' /data/oms/config.yaml"); !strings.Contains(got, "oms_b_rm") {
		t.Errorf("after the confirmed change config.yaml says %q", got)
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
