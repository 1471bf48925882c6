package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/omsrun/omsrun/internal/lab/labtest"
)

// vipHolders lists the lab hosts that hold addr on an interface.
func vipHolders(t *testing.T, l *labtest.Lab, addr string) []string {
	t.Helper()
	var out []string
	for _, h := range l.Hosts {
		if got := l.Exec(t, h.Name, "ip -o -4 addr show | grep -c ' "+addr+"/' || true"); got != "0" {
			out = append(out, h.Name)
		}
	}
	return out
}

// keepalivedVIPAnswers says whether the console health answers through addr.
func keepalivedVIPAnswers(addr string) bool { return vipProbe(addr) == nil }

// vipProbe asks the console health through addr, on a new connection each
// time (as a new client would), and says why it did not answer.
func vipProbe(addr string) error {
	c := &http.Client{Timeout: 300 * time.Millisecond, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get("http://" + addr + ":8089/oms/health")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", resp.Status)
	}
	return nil
}

// startVIPProbe asks the console health through the VIP every 100 ms until
// the function it returns is called; that one says how many probes failed
// and how many hand-overs keepalived logged meanwhile ("Stopping"), and
// fails the test unless there was one and no probe failed.
func startVIPProbe(t *testing.T, vip string) func(what string) string {
	l := labtest.Require(t)
	stopping := func() int {
		total := 0
		for _, h := range l.Hosts {
			n, _ := strconv.Atoi(l.Exec(t, h.Name, "docker logs omsrun-keepalived 2>&1 | grep -c Stopping || true"))
			total += n
		}
		return total
	}
	before := stopping()
	stop := make(chan struct{})
	probes := make(chan [2]int)
	go func() {
		n, failed := 0, 0
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				probes <- [2]int{n, failed}
				return
			case <-tick.C:
				n++
				if err := vipProbe(vip); err != nil {
					failed++
					t.Logf("%s probe failed: %v", time.Now().Format("15:04:05.000"), err)
				}
			}
		}
	}()
	return func(what string) string {
		close(stop)
		pr := <-probes
		handovers := stopping() - before
		msg := fmt.Sprintf("VIP during a rolling %s of %d nodes: %d of %d probes (every 100 ms) failed, %d hand-overs", what, len(l.Hosts), pr[1], pr[0], handovers)
		t.Log(msg)
		if handovers == 0 || pr[1] > 0 {
			t.Errorf("%s; want at least one hand-over and 0 failed probes", msg)
		}
		return msg
	}
}

// removeKeepalived takes vip.hcl's keepalived and its VIP off every lab host.
func removeKeepalived(t *testing.T, l *labtest.Lab, vip string) {
	for _, h := range l.Hosts {
		// stop first: keepalived takes the VIP away on SIGTERM, not on SIGKILL.
		l.Exec(t, h.Name, "docker stop -t 5 omsrun-keepalived >/dev/null 2>&1; docker rm -f omsrun-keepalived >/dev/null 2>&1; for i in $(ip -o -4 addr show | awk '/ "+vip+"\\//{print $2}'); do ip addr del "+vip+"/32 dev $i; done; true")
	}
}

// TestVIPConfigConvergesAfterKill: a vip.hcl run killed (SIGKILL) after it
// wrote a new keepalived config (another VRRP password) but before the
// restart leaves keepalived on the old one (the first run, on bare hosts,
// restarts nothing, as its --check said); the re-run, with nothing left
// to write, restarts it on the new one, since whether keepalived runs the
// config on disk is read from the node, and a third run changes nothing.
// The killed run still leaves its line in each host's audit log.
func TestVIPConfigConvergesAfterKill(t *testing.T) {
	l := labtest.Require(t)
	l.Reset(t)
	vip, img := l.KeepalivedVIP, l.Images["keepalived"]
	t.Cleanup(func() { removeKeepalived(t, l, vip) })
	vars := func(pass string) []string {
		return []string{"-e", "vip=" + vip, "-e", "keepalived_image=" + img.Ref, "-e", "keepalived_image_file=" + img.Path, "-e", "vip_password=" + pass}
	}
	// The first run on bare hosts, predicted first: its new containers load
	// the config as they start, so neither --check nor the run restarts them
	// (their loaded-<sha256> may not be written yet when the test would run).
	check := deploy(t, l, "vip.hcl", l.InventoryHCL, append(vars("vrrp-one-S3cret"), "--check")...)
	expectCode(t, check, 0)
	first := deploy(t, l, "vip.hcl", l.InventoryHCL, vars("vrrp-one-S3cret")...)
	expectCode(t, first, 0)
	announced, made := changedPairs(t, check.stdout), changedPairs(t, first.stdout)
	if fmt.Sprint(made) != fmt.Sprint(announced) {
		t.Fatalf("--check announced %v, the first run changed %v:\n%s", announced, made, check.stdout)
	}
	for _, p := range made {
		if strings.HasPrefix(p, "reload keepalived@") {
			t.Fatalf("the first run restarted the keepalived it had just started: %v", made)
		}
	}
	audit := func(h string) string { return l.Exec(t, h, "cat /var/log/omsrun/audit.log 2>/dev/null || true") }
	before := audit(l.Hosts[0].Name)
	// SIGKILL as soon as the container step is over: the new config is on
	// every node, the restart that follows never ran.
	args := append([]string{"playbooks/vip.hcl", "-i", l.InventoryHCL, "-e", "@" + l.Vars, "-e", "min_free_gb=1", "--json"}, vars("vrrp-two-S3cret")...)
	cmd, out := startJSON(t, func(ev map[string]any) bool {
		return ev["type"] == "step_end" && ev["step"] == "keepalived container"
	}, args...)
	cmd.Process.Kill()
	cmd.Wait()
	loaded := func(h string) string {
		return l.Exec(t, h, "docker exec omsrun-keepalived sed -n 's/^ *auth_pass //p' /tmp/keepalived.conf")
	}
	for _, h := range l.Hosts {
		if got := l.Exec(t, h.Name, "sed -n 's/^ *auth_pass //p' /data/oms/keepalived/keepalived.conf.in"); got != "vrrp-two" {
			t.Fatalf("%s: config on disk has %q; the kill came before it was written:\n%s", h.Name, got, out)
		}
		if got := loaded(h.Name); got != "vrrp-one" {
			t.Fatalf("%s: keepalived runs %q before the re-run; the kill came after the restart:\n%s", h.Name, got, out)
		}
	}
	// The killed run's line: written on the host when its lock went.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(strings.TrimPrefix(audit(l.Hosts[0].Name), before), "result=connection-lost") {
		if time.Now().After(deadline) {
			t.Fatalf("no audit line for the killed run on %s:\n%s", l.Hosts[0].Name, audit(l.Hosts[0].Name))
		}
		time.Sleep(200 * time.Millisecond)
	}
	re := deploy(t, l, "vip.hcl", l.InventoryHCL, vars("vrrp-two-S3cret")...)
	expectCode(t, re, 0)
	for _, h := range l.Hosts {
		if got := loaded(h.Name); got != "vrrp-two" {
			t.Errorf("%s: keepalived runs %q after the re-run, want the config on disk:\n%s", h.Name, got, re.stdout)
		}
	}
	again := deploy(t, l, "vip.hcl", l.InventoryHCL, vars("vrrp-two-S3cret")...)
	expectCode(t, again, 0)
	if n := recapChanged(t, again.stdout); n != 0 {
		t.Fatalf("a converged VIP changed %d thing(s):\n%s", n, again.stdout)
	}
}

// TestVIPFailover: vip.hcl runs the real keepalived (Debian's, in the lab's
// image) on the three nodes; exactly one healthy node holds the VIP and it
// answers; a re-run changes nothing; killing OMS on the holder moves the VIP
// to another node, measured (at most 15 s on the shared 2-core machine).
func TestVIPFailover(t *testing.T) {
	l := labtest.Require(t)
	l.Reset(t)
	l.DropMetaDatabases(t)
	vip := l.KeepalivedVIP
	img := l.Images["keepalived"]
	t.Cleanup(func() { removeKeepalived(t, l, vip) })
	expectCode(t, deploy(t, l, "deploy.hcl", l.InventoryHCL), 0)
	vars := []string{"-e", "vip=" + vip, "-e", "keepalived_image=" + img.Ref, "-e", "keepalived_image_file=" + img.Path, "-e", "vip_password=vrrp-S3cret"}
	r := deploy(t, l, "vip.hcl", l.InventoryHCL, vars...)
	expectCode(t, r, 0)
	if strings.Contains(r.stdout+r.stderr, "vrrp-S3c") {
		t.Fatal("the VRRP password was printed")
	}
	var holder string
	deadline := time.Now().Add(30 * time.Second)
	for {
		hs := vipHolders(t, l, vip)
		if len(hs) == 1 && keepalivedVIPAnswers(vip) {
			holder = hs[0]
			break
		}
		if time.Now().After(deadline) {
			logs := l.Exec(t, l.Hosts[0].Name, "docker logs --tail 30 omsrun-keepalived 2>&1")
			t.Fatalf("VIP holders %v after 30 s; keepalived on %s says:\n%s", hs, l.Hosts[0].Name, logs)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// status names the holder, and only the holder.
	st := deploy(t, l, "status.hcl", l.InventoryHCL, "-e", "vip="+vip)
	for _, ev := range jsonEvents(t, st.stdout) {
		if ev["type"] == "host_result" && ev["step"] == "status" {
			if says := strings.Contains(fmt.Sprint(ev["msg"]), "holds VIP "+vip); says != (ev["host"] == holder) {
				t.Errorf("status of %v: %v (holder %s)", ev["host"], ev["msg"], holder)
			}
		}
	}
	r = deploy(t, l, "vip.hcl", l.InventoryHCL, vars...)
	expectCode(t, r, 0)
	if n := recapChanged(t, r.stdout); n != 0 {
		t.Fatalf("re-run changed %d:\n%s", n, r.stdout)
	}

	// A rolling reconfigure with a probe through the VIP every 100 ms: the
	// holder hands the VIP over before its restart (supervisor_restart's vip).
	// The holder keeps answering on the VIP until another node has announced
	// it, so no probe may fail.
	// The lab's dockerd turns IP forwarding on in every host, so a node that
	// just lost the VIP would still forward a stray packet to the new holder
	// and hide a gap; a real host whose docker set FORWARD to DROP does not.
	for _, h := range l.Hosts {
		l.Exec(t, h.Name, "sysctl -qw net.ipv4.ip_forward=0")
	}
	defer func() {
		for _, h := range l.Hosts {
			l.Exec(t, h.Name, "sysctl -qw net.ipv4.ip_forward=1")
		}
	}()
	stop := startVIPProbe(t, vip)
	r = deploy(t, l, "reconfigure.hcl", l.InventoryHCL, "-e", "cm_nodes=[]", "-e", "cm_location=101", "-e", "vip="+vip)
	rolling := stop("reconfigure")
	expectCode(t, r, 0)
	// The same through a rolling replacement of every container (another
	// environment variable): container_run hands the VIP over before docker rm.
	pb := filepath.Join(t.TempDir(), "replace.hcl")
	os.WriteFile(pb, []byte(fmt.Sprintf(`step "replace" {
  hosts  = "oms"
  serial = "1"
  container_run {
    image     = %q
    extra_env = { OMSRUN_E2E_REPLACED = "1" }
    vip       = %q
  }
}
`, l.Images["v1"].Ref, vip)), 0o644)
	stop = startVIPProbe(t, vip)
	r = omsrun(t, pb, "-i", l.InventoryHCL, "--json")
	rolling += "\n" + stop("replacement")
	expectCode(t, r, 0)
	if n := recapChanged(t, r.stdout); n != len(l.Hosts) {
		t.Errorf("replaced %d containers, want %d:\n%s", n, len(l.Hosts), r.stdout)
	}
	for {
		if hs := vipHolders(t, l, vip); len(hs) == 1 && keepalivedVIPAnswers(vip) {
			holder = hs[0]
			break
		}
		if time.Now().After(deadline.Add(60 * time.Second)) {
			t.Fatalf("no single VIP holder after the reconfigure: %v", vipHolders(t, l, vip))
		}
		time.Sleep(200 * time.Millisecond)
	}

	// Failover: OMS dies on the holder; the VIP answers again from another node.
	l.Exec(t, holder, "docker kill oms >/dev/null")
	start := time.Now()
	var took time.Duration
	for {
		if keepalivedVIPAnswers(vip) {
			if hs := vipHolders(t, l, vip); len(hs) == 1 && hs[0] != holder {
				took = time.Since(start)
				break
			}
		}
		if time.Since(start) > 60*time.Second {
			t.Fatalf("the VIP did not move off %s within 60 s (holders %v)", holder, vipHolders(t, l, vip))
		}
		time.Sleep(100 * time.Millisecond)
	}
	msg := fmt.Sprintf("VIP failover (OMS killed on the holder %s → VIP answers from another node): %.1f s", holder, took.Seconds())
	t.Log(msg)
	os.WriteFile(filepath.Join(l.Dir, "vip-measurements.txt"), []byte(rolling+"\n"+msg+"\n"), 0o644)
	if took > 15*time.Second {
		t.Fatalf("%s; want at most 15 s", msg)
	}
}
