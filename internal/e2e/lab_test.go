package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/omsrun/omsrun/internal/lab"
	"github.com/omsrun/omsrun/internal/lab/labtest"
)

// These tests prove the lab itself: that its hosts are isolated, that the
// VIP follows the stand-in's health, and that the stand-in behaves as the
// real OMS image does in the ways omsrun depends on. Whether lab-down leaves
// nothing behind is checked by TestLabDownLeavesNothing (opt-in) and by
// `make lab-check-clean`, which CI runs after lab-down.

// labConfig is a valid OMS config.yaml for the lab, as a map so tests can
// break or change one key.
func labConfig(l *labtest.Lab) map[string]any {
	return map[string]any{
		"oms_meta_host":       l.MetaDB.Host,
		"oms_meta_port":       l.MetaDB.Port,
		"oms_meta_user":       l.MetaDB.User,
		"oms_meta_password":   l.MetaDB.Password,
		"drc_rm_db":           "labtest_rm",
		"drc_cm_db":           "labtest_cm",
		"drc_cm_heartbeat_db": "labtest_cm_hb",
		"cm_url":              l.CMURL,
		"cm_location":         100,
		"cm_is_default":       true,
		"cm_nodes":            l.Addresses(),
		"tsdb_enabled":        false,
	}
}

// labWriteConfig writes config.yaml under /data/<dir> on host in place (the
// way a bind-mounted file must be rewritten) and creates the mapped folders.
func labWriteConfig(t *testing.T, l *labtest.Lab, host, dir string, cfg map[string]any) {
	t.Helper()
	y, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l.Exec(t, host, fmt.Sprintf("mkdir -p /data/%[1]s/logs /data/%[1]s/store /data/%[1]s/run && cat > /data/%[1]s/config.yaml <<'LABEOF'\n%[2]sLABEOF", dir, y))
}

// labRunStandin loads image version into host's Docker and starts it with
// the documented OMS CE flags, named name, mounting /data/<name>.
func labRunStandin(t *testing.T, l *labtest.Lab, host, name, version string) {
	t.Helper()
	img := l.Images[version]
	addr := ""
	for _, h := range l.Hosts {
		if h.Name == host {
			addr = h.Address
		}
	}
	l.MustLoadImage(t, host, version)
	l.Exec(t, host, fmt.Sprintf(`M=/data/%[2]s
docker run -d --net host -v $M/config.yaml:/home/admin/conf/config.yaml -v $M/logs:/home/admin/logs \
  -v $M/store:/home/ds/store -v $M/run:/home/ds/run -e OMS_HOST_IP=%[3]s --privileged=true --pids-limit -1 \
  --ulimit nproc=65535:65535 --name %[2]s %[1]s >/dev/null`, img.ID, name, addr))
}

// labWaitHealthy waits until url answers healthy.
func labWaitHealthy(t *testing.T, url string, timeout time.Duration) {
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not healthy after %v (last error %v)", url, timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func labSSH(l *labtest.Lab, user, addr, command string) (string, error) {
	cmd := exec.Command("ssh", "-i", l.Key, "-o", "UserKnownHostsFile="+l.KnownHosts, "-o", "StrictHostKeyChecking=yes",
		"-o", "BatchMode=yes", "-o", "ConnectTimeout=5", user+"@"+addr, command)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestLabHostsAreIsolated(t *testing.T) {
	l := labtest.Require(t)
	if len(l.Hosts) < 2 {
		t.Skip("needs two lab hosts")
	}
	one, two := l.Hosts[0], l.Hosts[1]
	t.Cleanup(func() {
		for _, h := range []labtest.Host{one, two} {
			l.Run(context.Background(), h.Name, "docker rm -f labtest-iso >/dev/null 2>&1; rm -rf /tmp/labtest-iso /root/labtest-iso /data/labtest-iso /var/log/labtest-iso")
		}
	})

	// A file in each private folder.
	l.Exec(t, one.Name, "for d in /tmp /root /data /var/log; do echo one > $d/labtest-iso; done")
	for _, d := range []string{"/tmp", "/root", "/data", "/var/log"} {
		if out, _, err := l.Run(context.Background(), two.Name, "cat "+d+"/labtest-iso"); err == nil {
			t.Errorf("%s/labtest-iso written on %s is visible on %s: %q", d, one.Name, two.Name, out)
		}
	}

	// A container, listening on the host network.
	if !l.Docker {
		t.Log("LAB_DOCKER=0: no container check")
	} else {
		img := l.Images["v1"]
		l.MustLoadImage(t, one.Name, "v1")
		l.Exec(t, one.Name, fmt.Sprintf("docker run -d --net host --name labtest-iso %s httpd -f -p 17777 >/dev/null", img.ID))
		if names := l.Exec(t, two.Name, "docker ps -a --format '{{.Names}}'"); strings.Contains(names, "labtest-iso") {
			t.Errorf("container started on %s is listed on %s: %q", one.Name, two.Name, names)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			c, err := net.DialTimeout("tcp", net.JoinHostPort(one.Address, "17777"), time.Second)
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("--net host container on %s does not listen on %s:17777: %v", one.Name, one.Address, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if c, err := net.DialTimeout("tcp", net.JoinHostPort(two.Address, "17777"), time.Second); err == nil {
			c.Close()
			t.Errorf("--net host container on %s listens on %s too", one.Name, two.Name)
		}
	}

	// A sudo timestamp of the non-root user, made through the real sshd.
	for _, h := range []labtest.Host{one, two} {
		l.Exec(t, h.Name, "rm -rf /run/sudo/ts")
	}
	cmd := fmt.Sprintf("echo %s | sudo -S -p '' -v && echo ok", shellQuote(l.DeployPassword))
	if out, err := labSSH(l, l.DeployUser, one.Address, cmd); err != nil || !strings.Contains(out, "ok") {
		t.Fatalf("sudo as %s on %s: %v: %s", l.DeployUser, one.Name, err, out)
	}
	if out := l.Exec(t, one.Name, "ls /run/sudo/ts"); !strings.Contains(out, l.DeployUser) {
		t.Fatalf("no sudo timestamp for %s on %s: %q", l.DeployUser, one.Name, out)
	}
	if out, _, _ := l.Run(context.Background(), two.Name, "ls /run/sudo/ts 2>/dev/null"); strings.Contains(out, l.DeployUser) {
		t.Errorf("sudo timestamp made on %s exists on %s", one.Name, two.Name)
	}
	if out, err := labSSH(l, l.DeployUser, two.Address, "sudo -n true"); err == nil {
		t.Errorf("sudo on %s did not ask for a password: %s", two.Name, out)
	}
}

func TestLabVIPFollowsHealth(t *testing.T) {
	l := labtest.Require(t)
	if !l.Docker || len(l.Hosts) < 2 {
		t.Skip("needs Docker and two lab hosts")
	}
	l.Reset(t)
	t.Cleanup(func() { l.Reset(t) })
	for _, h := range l.Hosts {
		labWriteConfig(t, l, h.Name, "labtest-vip", labConfig(l))
	}
	// Loading the image is most of the set-up time: do the hosts at once.
	errs := make(chan error, len(l.Hosts))
	for _, h := range l.Hosts {
		go func() {
			errs <- l.LoadImage(context.Background(), h.Name, "v1")
		}()
	}
	for range l.Hosts {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	// The first node alone creates the MetaDB schema, then the rest: fresh
	// nodes initialising an empty MetaDB at once fail, as the real ones race.
	for i, h := range l.Hosts {
		labRunStandin(t, l, h.Name, "labtest-vip", "v1")
		if i == 0 {
			labWaitHealthy(t, "http://"+h.Address+":8089/oms/health", 30*time.Second)
		}
	}
	for _, h := range l.Hosts {
		labWaitHealthy(t, "http://"+h.Address+":8089/oms/health", 30*time.Second)
	}
	// haproxy must see every node up before probing.
	allUp := func(st map[string]string) bool {
		for _, s := range st {
			if s != "UP" {
				return false
			}
		}
		return len(st) == 2*len(l.Hosts)
	}
	waitHAProxy(t, "every node up", allUp)
	probe := l.ProbeVIP(t)
	console := labtest.StartProbe(t, "http://"+l.VIP+":8089/oms/health", 100*time.Millisecond)

	first, second := l.Hosts[0].Name, l.Hosts[1].Name
	waitProbes(t, probe, 5)
	l.Exec(t, first, "docker stop -t 5 labtest-vip >/dev/null")
	waitHAProxy(t, first+" down", func(st map[string]string) bool {
		return st["oms_8088/"+first] == "DOWN" && st["oms_8089/"+first] == "DOWN"
	})
	waitProbes(t, probe, 5)
	// A supervisorctl restart closes the ports for more than two seconds.
	l.Exec(t, second, "docker exec labtest-vip supervisorctl restart oms_console oms_drc_supervisor")
	waitProbes(t, probe, 5)
	l.Exec(t, first, "docker start labtest-vip >/dev/null")
	labWaitHealthy(t, "http://"+l.Hosts[0].Address+":8089/oms/health", 30*time.Second)
	waitHAProxy(t, "every node up again", allUp)
	waitProbes(t, probe, 5)

	for name, p := range map[string]*labtest.Probe{"8088": probe, "8089": console} {
		r := p.Stop()
		if r.Total < 40 {
			t.Errorf("VIP %s: only %d probes in the window", name, r.Total)
		}
		if r.Failed > 0 {
			t.Errorf("VIP %s: %d of %d probes failed while a node stopped and another restarted: %v", name, r.Failed, r.Total, r.Failures)
		}
		t.Logf("VIP %s: %d probes, %d failed", name, r.Total, r.Failed)
	}
}

func TestLabStandinRefusesBadConfig(t *testing.T) {
	l := labtest.Require(t)
	if !l.Docker {
		t.Skip("needs Docker")
	}
	host := l.Hosts[0].Name
	l.Reset(t)
	t.Cleanup(func() { l.Reset(t) })

	cases := []struct {
		name, version string
		edit          func(map[string]any)
		reason        string
	}{
		{"location out of range", "v1", func(c map[string]any) { c["cm_location"] = 300 }, "invalid cm_location"},
		{"missing database", "v1", func(c map[string]any) { delete(c, "drc_cm_db") }, "invalid drc_cm_db"},
		{"node not listed", "v1", func(c map[string]any) { c["cm_nodes"] = []string{"10.77.0.250"} }, "not listed"},
		{"broken build", "v2-broken", func(map[string]any) {}, "cannot start"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name := fmt.Sprintf("labtest-bad%d", i)
			cfg := labConfig(l)
			tc.edit(cfg)
			labWriteConfig(t, l, host, name, cfg)
			labRunStandin(t, l, host, name, tc.version)
			status := l.Exec(t, host, fmt.Sprintf("docker wait %s", name))
			if status == "0" {
				t.Fatalf("stand-in %s accepted a bad config (exit 0)", tc.version)
			}
			logs := l.Exec(t, host, fmt.Sprintf("cat /data/%s/logs/docker_init.log.*", name))
			if !strings.Contains(logs, tc.reason) {
				t.Errorf("docker_init log does not give the reason %q:\n%s", tc.reason, logs)
			}
			if strings.Contains(logs, "OMS service start successfully") {
				t.Errorf("docker_init log claims success:\n%s", logs)
			}
		})
	}
}

func TestLabStandinRestartRereadsConfig(t *testing.T) {
	l := labtest.Require(t)
	if !l.Docker {
		t.Skip("needs Docker")
	}
	h := l.Hosts[0]
	l.Reset(t)
	t.Cleanup(func() { l.Reset(t) })
	cfg := labConfig(l)
	labWriteConfig(t, l, h.Name, "labtest-rst", cfg)
	labRunStandin(t, l, h.Name, "labtest-rst", "v1")
	cfgURL := "http://" + h.Address + ":8089/oms/config"
	labWaitHealthy(t, cfgURL, 30*time.Second)
	if got := l.Exec(t, h.Name, "docker logs labtest-rst 2>&1 | tail -n 1"); !strings.HasSuffix(got, "OMS service start successfully") {
		t.Errorf("last log line: %q", got)
	}
	if got := l.Exec(t, h.Name, "docker exec labtest-rst supervisorctl status"); strings.Count(got, "RUNNING") != 5 {
		t.Errorf("supervisorctl status:\n%s", got)
	}
	for _, db := range []string{"labtest_rm", "labtest_cm", "labtest_cm_hb"} {
		if out := l.MetaSQL(t, "SHOW DATABASES LIKE '"+db+"'"); out != db {
			t.Errorf("database %s not created in the MetaDB (got %q)", db, out)
		}
	}

	cfg["cm_location"] = 7
	labWriteConfig(t, l, h.Name, "labtest-rst", cfg)
	l.Exec(t, h.Name, "docker exec labtest-rst python -m omsflow.scripts.units.oms_init_manager --init-config-file")

	// While the restart runs, the port refuses connections.
	refused := make(chan bool, 1)
	go func() {
		// Poll until a connection is refused (or the restart surely ended).
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			c, err := net.DialTimeout("tcp", net.JoinHostPort(h.Address, "8088"), time.Second)
			if err != nil {
				refused <- true
				return
			}
			c.Close()
		}
		refused <- false
	}()
	start := time.Now()
	if out, errOut, err := l.Run(context.Background(), h.Name, "docker exec labtest-rst supervisorctl restart oms_console oms_drc_supervisor"); err != nil {
		logs, _, _ := l.Run(context.Background(), h.Name, "docker logs --tail 20 labtest-rst 2>&1")
		t.Fatalf("supervisorctl restart: %v\n%s%s\ncontainer log:\n%s", err, out, errOut, logs)
	}
	if took := time.Since(start); took < 2*time.Second {
		t.Errorf("restart took %v, want at least 2s", took)
	}
	if !<-refused {
		t.Error("port 8088 accepted connections during the restart")
	}
	if got := labGet(t, cfgURL); !strings.Contains(got, `"cm_location":7`) {
		t.Errorf("/oms/config after an in-place rewrite and restart: %s", got)
	}

	// Replacing the file by rename leaves the container on the old inode:
	// the pitfall render_config must avoid. The stand-in shows it too.
	l.Exec(t, h.Name, "sed -i 's/^cm_location: 7$/cm_location: 9/' /data/labtest-rst/config.yaml")
	l.Exec(t, h.Name, "docker exec labtest-rst supervisorctl restart oms_console")
	if got := labGet(t, cfgURL); !strings.Contains(got, `"cm_location":7`) {
		t.Errorf("after a rename-replace the container should still see the old file: %s", got)
	}
}

func labGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return b.String()
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func TestLabFaultHooks(t *testing.T) {
	l := labtest.Require(t)
	h := l.Hosts[len(l.Hosts)-1]
	dial := func(addr string) error {
		c, err := net.DialTimeout("tcp", addr, 700*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err
	}
	ssh := net.JoinHostPort(h.Address, "22")

	before := l.SSHDConnections(t, h.Name)
	bytesBefore := l.VethBytes(t, h.Name)
	if out, err := labSSH(l, "root", h.Address, "head -c 1000000 /dev/zero"); err != nil {
		t.Fatalf("ssh to %s: %v: %s", h.Name, err, out)
	}
	if got := l.SSHDConnections(t, h.Name); got != before+1 {
		t.Errorf("sshd log counts %d connections after one ssh, had %d", got, before)
	}
	if got := l.VethBytes(t, h.Name) - bytesBefore; got < 1000000 {
		t.Errorf("veth counted %d bytes for a 1 MB transfer", got)
	}

	l.StopSSHD(t, h.Name)
	if err := dial(ssh); err == nil {
		t.Error("sshd still accepts connections after StopSSHD")
	}
	l.StartSSHD(t, h.Name)
	if err := dial(ssh); err != nil {
		t.Errorf("sshd does not accept connections after StartSSHD: %v", err)
	}

	l.CutLink(t, h.Name)
	if err := dial(ssh); err == nil {
		t.Error("host reachable after CutLink")
	}
	l.RestoreLink(t, h.Name)
	// The link is up at once, but the failed dials above left the host's
	// neighbour entry unresolved: the first packets wait for ARP again
	// (CI's busy machine met a single 700 ms dial timing out).
	restored := dial(ssh)
	for deadline := time.Now().Add(5 * time.Second); restored != nil && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		restored = dial(ssh)
	}
	if restored != nil {
		t.Errorf("host unreachable 5s after RestoreLink: %v", restored)
	}

	if l.Docker {
		l.StopDocker(t, h.Name)
		if _, _, err := l.Run(context.Background(), h.Name, "docker info >/dev/null 2>&1"); err == nil {
			t.Error("docker answers after StopDocker")
		}
		l.StartDocker(t, h.Name)
		l.Exec(t, h.Name, "docker info >/dev/null")
	}

	// Earlier tests may have left files in /data: compare against what was there.
	usedBefore := l.Exec(t, h.Name, "du -sk /data | cut -f1")
	l.FillData(t, h.Name, 1024)
	if free := l.Exec(t, h.Name, "df -Pk /data | awk 'NR==2 {print $4}'"); len(free) > 4 {
		t.Errorf("/data has %s KiB free after FillData(1024)", free)
	}
	l.FreeData(t, h.Name)
	if used := l.Exec(t, h.Name, "du -sk /data | cut -f1"); used != usedBefore {
		t.Errorf("/data uses %s KiB after FreeData, %s before FillData", used, usedBefore)
	}

	meta := net.JoinHostPort(l.MetaDB.Host, fmt.Sprint(l.MetaDB.Port))
	l.StopMariaDB(t)
	if err := dial(meta); err == nil {
		t.Error("MetaDB accepts connections after StopMariaDB")
	}
	l.StartMariaDB(t)
	if err := dial(meta); err != nil {
		t.Errorf("MetaDB down after StartMariaDB: %v", err)
	}
}

func TestLabResetIsFast(t *testing.T) {
	l := labtest.Require(t)
	if !l.Docker {
		t.Skip("needs Docker")
	}
	h := l.Hosts[0].Name
	img := l.Images["v1"]
	l.MustLoadImage(t, h, "v1")
	l.Exec(t, h, fmt.Sprintf("docker run -d --name labtest-reset %s sleep 600 >/dev/null && echo x > /data/labtest-reset", img.ID))
	l.MetaSQL(t, "CREATE DATABASE IF NOT EXISTS labtest_reset")
	start := time.Now()
	l.Reset(t)
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("reset took %v", took)
	}
	for _, host := range l.Hosts {
		if out := l.Exec(t, host.Name, "docker ps -aq; docker images -q; ls -A /data"); out != "" {
			t.Errorf("%s not bare after Reset: %q", host.Name, out)
		}
	}
	if out := l.MetaSQL(t, "SHOW DATABASES LIKE 'labtest_reset'"); out != "" {
		t.Errorf("MetaDB database left after Reset: %q", out)
	}
}

// TestLabDownLeavesNothing tears the lab down with containers running,
// checks that no namespace, link, process or mount is left, and brings the
// lab back up. It runs only with OMSRUN_E2E_LABDOWN=1 because it pulls the
// lab from under anything else using it; CI gets the same proof from
// `make lab-down lab-check-clean` at the end.
func TestLabDownLeavesNothing(t *testing.T) {
	l := labtest.Require(t)
	if os.Getenv("OMSRUN_E2E_LABDOWN") != "1" {
		t.Skip("set OMSRUN_E2E_LABDOWN=1 to tear the lab down and up again")
	}
	if l.Docker {
		img := l.Images["v1"]
		for _, h := range l.Hosts {
			// One container in its own network namespace, one on the host's.
			l.MustLoadImage(t, h.Name, "v1")
			l.Exec(t, h.Name, fmt.Sprintf("docker run -d --name labtest-down1 %[1]s sleep 1000 >/dev/null; docker run -d --net host --name labtest-down2 %[1]s sleep 1000 >/dev/null", img.ID))
		}
	}
	opts, err := lab.OptionsFromEnv(filepath.Dir(l.Dir))
	if err != nil {
		t.Fatal(err)
	}
	opts.Hosts, opts.Docker = len(l.Hosts), l.Docker
	t.Cleanup(func() {
		if err := lab.Up(opts, io.Discard); err != nil {
			t.Errorf("bring the lab back up: %v", err)
		}
	})
	if err := lab.Down(opts.Repo, io.Discard); err != nil {
		t.Fatalf("lab down: %v", err)
	}
	if left := lab.Leftovers(); len(left) > 0 {
		t.Errorf("lab-down left behind:\n%s", strings.Join(left, "\n"))
	}
	if _, err := os.Stat(filepath.Join(l.Dir, lab.EnvFile)); err == nil {
		t.Error(".lab/env still exists after lab-down")
	}
}

// haproxyStates reads the state ("UP", "DOWN", …) of every server of the
// VIP's backends from haproxy's admin socket, keyed "backend/server".
func haproxyStates(t *testing.T) map[string]string {
	t.Helper()
	c, err := net.DialTimeout("unix", lab.HAProxySocket, time.Second)
	if err != nil {
		t.Fatalf("haproxy admin socket: %v", err)
	}
	defer c.Close()
	fmt.Fprint(c, "show stat\n")
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("haproxy show stat: %v", err)
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Split(line, ",")
		if len(f) < 18 || strings.HasPrefix(line, "#") || f[1] == "FRONTEND" || f[1] == "BACKEND" {
			continue
		}
		out[f[0]+"/"+f[1]] = strings.Fields(f[17] + " ")[0] // "UP", "DOWN", "UP 1/2" → its first word
	}
	return out
}

// waitHAProxy waits until haproxy's server states satisfy ok.
func waitHAProxy(t *testing.T, what string, ok func(map[string]string) bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := haproxyStates(t)
		if ok(st) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("haproxy never saw %s: %v", what, st)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitProbes waits until p has made n more probes, so each phase of a
// scenario is seen by the probe before the next starts.
func waitProbes(t *testing.T, p *labtest.Probe, n int) {
	t.Helper()
	want := p.Snapshot().Total + n
	deadline := time.Now().Add(10 * time.Second)
	for p.Snapshot().Total < want {
		if time.Now().After(deadline) {
			t.Fatalf("the probe made %d of %d probes", p.Snapshot().Total, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
