package oms

import (
	"strings"
	"testing"
	"time"

	"github.com/omsrun/omsrun/modules/modtest"
)

const (
	addrWithVIP    = "2: eth0    inet 10.0.0.11/24 brd 10.0.0.255 scope global eth0\n2: eth0    inet 10.0.0.201/32 scope global eth0\n"
	addrWithoutVIP = "2: eth0    inet 10.0.0.11/24 brd 10.0.0.255 scope global eth0\n"
	runningTable   = "oms_console          RUNNING   pid 11, uptime 0:00:02\noms_drc_cm           RUNNING   pid 10, uptime 0:00:09\noms_drc_supervisor   RUNNING   pid 12, uptime 0:00:02\n"
)

// TestSupervisorRestartHandsTheVIPOver: on the node holding omsrun's
// keepalived VIP, keepalived is stopped first, the restart waits until the
// VIP has left and answers from elsewhere, and keepalived starts again after
// the node is healthy. A node without the VIP, or without keepalived, is
// restarted as before.
func TestSupervisorRestartHandsTheVIPOver(t *testing.T) {
	srv := dkHealthServer(t, true)
	for _, tc := range []struct {
		name             string
		keepalived, addr string
		want             []string
	}{
		{"holder", "true\n", addrWithVIP, []string{
			"docker inspect --format '{{.State.Running}}' -- omsrun-keepalived",
			"ip -o -f inet addr show",
			"ip addr add 10.0.0.201/32 dev lo",
			"docker stop -t 10 -- omsrun-keepalived",
			"ip addr del 10.0.0.201/32 dev lo",
			"ip -o -f inet addr show",
			"docker exec oms supervisorctl restart oms_console oms_drc_supervisor",
			"docker exec oms supervisorctl status",
			"docker start -- omsrun-keepalived",
		}},
		{"not the holder", "true\n", addrWithoutVIP, []string{
			"docker inspect --format '{{.State.Running}}' -- omsrun-keepalived",
			"ip -o -f inet addr show",
			"docker exec oms supervisorctl restart oms_console oms_drc_supervisor",
			"docker exec oms supervisorctl status",
		}},
		{"no keepalived", "", addrWithVIP, []string{
			"docker inspect --format '{{.State.Running}}' -- omsrun-keepalived",
			"docker exec oms supervisorctl restart oms_console oms_drc_supervisor",
			"docker exec oms supervisorctl status",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &modtest.Host{Targets: map[string]string{
				"10.0.0.11:8089": srv.Listener.Addr().String(), "10.0.0.11:8088": srv.Listener.Addr().String(), "10.0.0.201:8089": srv.Listener.Addr().String()}}
			h.On("omsrun-keepalived", 0, tc.keepalived, "")
			h.Once("ip -o -f inet addr show", 0, tc.addr, "")
			h.On("ip -o -f inet addr show", 0, addrWithoutVIP, "")
			h.On("ip addr ", 0, "", "")
			h.On("docker stop", 0, "", "")
			h.On("docker start", 0, "", "")
			h.On("supervisorctl restart", 0, "", "")
			h.On("supervisorctl status", 0, runningTable, "")
			env, _ := modtest.NewEnv(h)
			f := false
			a := &SupervisorRestartArgs{InitConfig: &f, VIP: "10.0.0.201"}
			if err := (&SupervisorRestart{}).Validate(a); err != nil {
				t.Fatal(err)
			}
			if _, err := (&SupervisorRestart{}).Apply(t.Context(), env, a, nil); err != nil {
				t.Fatal(err)
			}
			var cmds []string
			for _, c := range h.Commands() {
				if !strings.Contains(c, "sha256sum") { // config_loaded's read, not the hand-over's
					cmds = append(cmds, c)
				}
			}
			if got := strings.Join(cmds, "\n"); got != strings.Join(tc.want, "\n") {
				t.Errorf("commands:\n%s\nwant:\n%s", got, strings.Join(tc.want, "\n"))
			}
		})
	}
}

// TestVIPHandoverNobodyTakesIt: when no other node takes the VIP, keepalived
// is started again and the node is not restarted.
func TestVIPHandoverNobodyTakesIt(t *testing.T) {
	h := (&modtest.Host{}).
		On("docker inspect", 0, "true\n", "").
		On("ip -o -f inet addr show", 0, addrWithVIP, "").
		On("ip addr ", 0, "", "").
		On("docker stop", 0, "", "").
		On("docker start", 0, "", "")
	env, _ := modtest.NewEnv(h)
	f := false
	_, err := (&SupervisorRestart{}).Apply(t.Context(), env, &SupervisorRestartArgs{InitConfig: &f, VIP: "10.0.0.201", Timeout: "1"}, nil)
	if err == nil || !strings.Contains(err.Error(), "no other node took the VIP 10.0.0.201") {
		t.Fatalf("err = %v", err)
	}
	if !h.Ran("docker start -- omsrun-keepalived") || h.Ran("supervisorctl restart") {
		t.Errorf("commands: %q", h.Commands())
	}
}

// TestOMSStatusShowsTheVIPHolder: status's row names the VIP on the node
// that holds it, and only there.
func TestOMSStatusShowsTheVIPHolder(t *testing.T) {
	for _, tc := range []struct {
		addr string
		want bool
	}{{addrWithVIP, true}, {addrWithoutVIP, false}} {
		h := (&modtest.Host{}).
			On("docker info", 0, "running oms:x sha256:abcdef\n"+infoSep+"\n"+runningTable, "").
			On("ip -o -f inet addr show", 0, tc.addr, "")
		env, _ := modtest.NewEnv(h)
		p, err := (&OMSStatus{}).Check(t.Context(), env, &OMSStatusArgs{VIP: "10.0.0.201"})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(p.Summary, "holds VIP 10.0.0.201"); got != tc.want || p.Outputs["vip"].True() != tc.want {
			t.Errorf("holder %v: row %q, vip output %v", tc.want, p.Summary, p.Outputs["vip"])
		}
	}
}

// TestVIPHandoverClearsALeftBridge: a loopback copy of the VIP left by an
// interrupted hand-over is removed, and a node holding the VIP only there
// does not hand anything over.
func TestVIPHandoverClearsALeftBridge(t *testing.T) {
	h := (&modtest.Host{}).
		On("docker inspect", 0, "true\n", "").
		Once("ip -o -f inet addr show", 0, addrWithoutVIP+"1: lo    inet 10.0.0.201/32 scope global lo\n", "").
		On("ip -o -f inet addr show", 0, addrWithoutVIP, "").
		On("ip addr del", 0, "", "")
	env, _ := modtest.NewEnv(h)
	restore, err := newVIPHandover("10.0.0.201", 0, time.Second).handOver(t.Context(), env)
	if err != nil {
		t.Fatal(err)
	}
	if err := restore(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !h.Ran("ip addr del 10.0.0.201/32 dev lo") || h.Ran("docker stop") || h.Ran("docker start") {
		t.Errorf("commands: %q", h.Commands())
	}
}

// TestContainerRunHandsTheVIPOver: replacing the container on the VIP's
// holder hands the VIP over before docker rm, and keepalived comes back
// after the new container is healthy.
func TestContainerRunHandsTheVIPOver(t *testing.T) {
	srv := dkHealthServer(t, true)
	binds := omsBinds("/data/oms/config.yaml", "/data/oms", "", "")
	check := dkImgNew + "\n" + runSep + "\n" + dkContainer(t, dkImgOld, "running", "10.0.0.11", binds) + "\n" + runSep + "\nfile\n" + runSep + "\n"
	h := (&modtest.Host{Targets: map[string]string{"10.0.0.11:8089": srv.Listener.Addr().String(),
		"10.0.0.11:8088": srv.Listener.Addr().String(), "10.0.0.201:8089": srv.Listener.Addr().String()}}).
		On("docker image inspect --format '{{.Id}}' oms:4.2.5 2>&1", 0, check, "").
		On("{{.State.Running}}' -- omsrun-keepalived", 0, "true\n", "").
		Once("ip -o -f inet addr show", 0, addrWithVIP, "").
		On("ip -o -f inet addr show", 0, addrWithoutVIP, "").
		On("ip addr ", 0, "", "").On("docker stop", 0, "", "").On("docker start", 0, "", "").
		On("docker rm -f", 0, "oms\n", "").
		On("exec docker run", 0, "newid\n", "").
		On("docker inspect --format", 0, "running 0\n"+omsStartedLine+"\n", "").
		On("supervisorctl status oms_drc_cm", 0, "oms_drc_cm    RUNNING   pid 102, uptime 0:00:03\n", "")
	env, _ := modtest.NewEnv(h)
	if _, _, err := modtest.RunBoth(t, &ContainerRun{}, env, &ContainerRunArgs{Image: "oms:4.2.5", VIP: "10.0.0.201"}); err != nil {
		t.Fatal(err)
	}
	order := []string{"ip addr add 10.0.0.201/32 dev lo", "docker stop -t 10 -- omsrun-keepalived", "ip addr del 10.0.0.201/32 dev lo",
		"docker rm -f oms", "exec docker run", "docker start -- omsrun-keepalived"}
	cmds, i := h.Commands(), 0
	for _, c := range cmds {
		if i < len(order) && strings.Contains(c, order[i]) {
			i++
		}
	}
	if i != len(order) {
		t.Errorf("commands %q: want in order %q", cmds, order)
	}
}
