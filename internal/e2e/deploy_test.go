package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/omsrun/omsrun/internal/lab"
	"github.com/omsrun/omsrun/internal/lab/labtest"
)

// The OMS deployment end to end: playbooks/deploy.hcl (and its siblings) on
// the lab's real hosts, MariaDB and VIP.

// deploy runs a playbook from playbooks/ with the lab's vars and --json.
func deploy(t *testing.T, l *labtest.Lab, playbook, inventory string, extra ...string) cliResult {
	t.Helper()
	args := append([]string{"playbooks/" + playbook, "-i", inventory, "-e", "@" + l.Vars, "-e", "min_free_gb=1", "--json"}, extra...)
	return omsrun(t, args...)
}

// recapChanged sums "changed" over the recap event's hosts.
func recapChanged(t *testing.T, out string) int {
	t.Helper()
	for _, ev := range jsonEvents(t, out) {
		if ev["type"] != "recap" {
			continue
		}
		n := 0
		for _, h := range ev["hosts"].(map[string]any) {
			n += int(h.(map[string]any)["changed"].(float64))
		}
		return n
	}
	t.Fatalf("no recap in:\n%s", out)
	return 0
}

// nodeConfig is what the stand-in on addr says it loaded.
func nodeConfig(t *testing.T, addr string) map[string]any {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + addr + ":8089/oms/config")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("GET /oms/config on %s: %v: %s", addr, err, b)
	}
	if d, ok := v["data"].(map[string]any); ok {
		return d
	}
	return v
}

func cmNodes(t *testing.T, cfg map[string]any) []string {
	var out []string
	list, _ := cfg["cm_nodes"].([]any)
	for _, n := range list {
		out = append(out, fmt.Sprint(n))
	}
	sort.Strings(out)
	return out
}

// vipAnswers checks the VIP as a real OMS can pass: on 8089 /oms/health
// is healthy; on 8088 CM, which has no health endpoint, answers HTTP with
// a status of its own (not the balancer's 502/503/504).
func vipAnswers(t *testing.T, l *labtest.Lab, port int) {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	url := fmt.Sprintf("http://%s:%d/oms/health", l.VIP, port)
	if port == 8088 {
		url = fmt.Sprintf("http://%s:%d/", l.VIP, port)
	}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("VIP %s: %v", url, err)
	}
	resp.Body.Close()
	switch {
	case port == 8088 && resp.StatusCode >= 502 && resp.StatusCode <= 504:
		t.Fatalf("VIP %s: the balancer answered %d (no CM behind it)", url, resp.StatusCode)
	case port != 8088 && resp.StatusCode != 200:
		t.Fatalf("VIP %s answered %d", url, resp.StatusCode)
	}
}

// inventoryOf writes an HCL inventory of the first n lab hosts.
func inventoryOf(t *testing.T, l *labtest.Lab, n int) string {
	t.Helper()
	return inventoryWith(t, l, l.Hosts[:n]...)
}

// inventoryWith writes an HCL inventory of the given lab hosts.
func inventoryWith(t *testing.T, l *labtest.Lab, hosts ...labtest.Host) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "defaults {\n  user = \"root\"\n  key_file = %q\n  known_hosts_file = %q\n}\ngroup \"oms\" {\n", l.Key, l.KnownHosts)
	for _, h := range hosts {
		fmt.Fprintf(&b, "  host %q { address = %q }\n", h.Name, h.Address)
	}
	b.WriteString("}\n")
	p := filepath.Join(t.TempDir(), "inventory.hcl")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDeployFromBareHosts(t *testing.T) {
	l := labtest.Require(t)
	l.Reset(t)
	l.DropMetaDatabases(t)

	// 1. --check --diff on bare hosts touches nothing and announces changes.
	check := deploy(t, l, "deploy.hcl", l.InventoryHCL, "--check", "--diff")
	expectCode(t, check, 0)
	announced := changedPairs(t, check.stdout)
	for _, h := range l.Hosts {
		if got := l.Exec(t, h.Name, "ls -d /data/oms 2>/dev/null; docker ps -aq; docker images -q"); got != "" {
			t.Fatalf("check mode changed %s: %q", h.Name, got)
		}
	}
	if strings.Contains(check.stdout, l.MetaDB.Password) || strings.Contains(check.stdout, l.TSDB.Password) {
		t.Fatal("a password appears in the --check --diff output")
	}

	// 2. The real run makes exactly the announced changes and a healthy cluster.
	run := deploy(t, l, "deploy.hcl", l.InventoryHCL)
	expectCode(t, run, 0)
	if made := changedPairs(t, run.stdout); fmt.Sprint(made) != fmt.Sprint(announced) {
		t.Fatalf("check announced\n  %v\nthe run changed\n  %v", announced, made)
	}
	vipAnswers(t, l, 8088)
	vipAnswers(t, l, 8089)
	realOMSShape(t, l)
	dbs := l.MetaSQL(t, "SHOW DATABASES")
	for _, db := range []string{"oms_rm", "oms_cm", "oms_cm_heartbeat"} {
		if !strings.Contains(dbs, db) {
			t.Errorf("database %s missing from the MetaDB: %s", db, dbs)
		}
	}
	want := l.Addresses()
	sort.Strings(want)
	for _, h := range l.Hosts {
		if got := cmNodes(t, nodeConfig(t, h.Address)); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s cm_nodes %v, want %v", h.Name, got, want)
		}
	}

	// 3. A second run changes nothing and sends no image (veth counters).
	before := map[string]uint64{}
	for _, h := range l.Hosts {
		before[h.Name] = l.VethBytes(t, h.Name)
	}
	again := deploy(t, l, "deploy.hcl", l.InventoryHCL)
	expectCode(t, again, 0)
	if n := recapChanged(t, again.stdout); n != 0 {
		t.Fatalf("second run changed %d (host, step) pairs:\n%s", n, again.stdout)
	}
	img, err := os.Stat(l.Images["v1"].Path)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range l.Hosts {
		// Commands and health checks cost some kilobytes; the image is megabytes.
		if d := l.VethBytes(t, h.Name) - before[h.Name]; d > uint64(img.Size())/4 {
			t.Errorf("%s: %d bytes crossed the wire on a converged re-run (image is %d)", h.Name, d, img.Size())
		}
	}

	// 4. Check mode on the converged cluster announces nothing.
	conv := deploy(t, l, "deploy.hcl", l.InventoryHCL, "--check")
	expectCode(t, conv, 0)
	if p := changedPairs(t, conv.stdout); len(p) != 0 {
		t.Fatalf("check on a converged cluster announced %v", p)
	}
}

func TestDeployScaleOutAndReconfigureKeepVIP(t *testing.T) {
	l := labtest.Require(t)
	l.Reset(t)
	l.DropMetaDatabases(t)
	// cm_nodes from the inventory (the default), so the third host changes it.
	two := deploy(t, l, "deploy.hcl", inventoryOf(t, l, 2), "-e", "cm_nodes=[]")
	expectCode(t, two, 0)

	probe := l.ProbeVIP(t)
	three := deploy(t, l, "deploy.hcl", l.InventoryHCL, "-e", "cm_nodes=[]")
	expectCode(t, three, 0)
	want := l.Addresses()
	sort.Strings(want)
	for _, h := range l.Hosts {
		if got := cmNodes(t, nodeConfig(t, h.Address)); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("after scale-out %s has cm_nodes %v, want %v", h.Name, got, want)
		}
	}
	// The running nodes are reloaded, the first alone, then the other.
	reloaded := map[string]string{}
	for _, ev := range jsonEvents(t, three.stdout) {
		if ev["type"] == "host_result" && strings.HasPrefix(fmt.Sprint(ev["step"]), "reload OMS") && ev["status"] == "changed" {
			reloaded[fmt.Sprint(ev["host"])] = fmt.Sprint(ev["step"])
		}
	}
	if reloaded[l.Hosts[0].Name] != "reload OMS, first node" || reloaded[l.Hosts[1].Name] != "reload OMS, one node at a time" || reloaded[l.Hosts[2].Name] != "" {
		t.Errorf("reloaded %v, want %s first, then %s, and not the new %s", reloaded, l.Hosts[0].Name, l.Hosts[1].Name, l.Hosts[2].Name)
	}
	// The new node started moments ago, without a settle of its own: the
	// first reload waited until the balancer could have it back.
	if w := balancerWaits(t, three.stdout)["reload OMS, first node"]; !regexp.MustCompile(`take back (\S+, )*` + l.Hosts[2].Name + `\b`).MatchString(w[l.Hosts[0].Name]) {
		t.Errorf("%s's reload did not wait for the balancer to take back the new %s: %v", l.Hosts[0].Name, l.Hosts[2].Name, w)
	}

	// Reconfigure under the same probe.
	re := deploy(t, l, "reconfigure.hcl", l.InventoryHCL, "-e", "cm_nodes=[]", "-e", "cm_location=101")
	expectCode(t, re, 0)
	for _, h := range l.Hosts {
		if got := fmt.Sprint(nodeConfig(t, h.Address)["cm_location"]); got != "101" {
			t.Errorf("%s cm_location %s after reconfigure, want 101", h.Name, got)
		}
	}
	if r := probe.Stop(); r.Failed > 0 || r.Total < 10 {
		t.Fatalf("VIP probe: %d of %d failed: %v", r.Failed, r.Total, r.Failures)
	}

	// A rolling reload through deploy.hcl (which waits balancer_settle
	// between nodes), measured on both ports with the balancer's retries
	// and without them. With retries nothing may fail; without, the
	// numbers show what a balancer that does not retry lets through while
	// it has not yet noticed a node going down (up to fall × inter).
	for i, retries := range []bool{true, false} {
		if !retries {
			l.ConfigureVIP(t, lab.VIPOptions{NoRetries: true})
			time.Sleep(5 * time.Second) // every node back up (rise × inter)
		}
		cm, console := l.ProbeVIP(t), l.ProbeConsole(t)
		r := deploy(t, l, "deploy.hcl", l.InventoryHCL, "-e", "cm_nodes=[]", "-e", fmt.Sprintf("cm_location=%d", 102+i))
		expectCode(t, r, 0)
		rc, rn := cm.Stop(), console.Stop()
		t.Logf("rolling reload, haproxy retries %v: VIP 8088 %d of %d probes failed, VIP 8089 %d of %d failed", retries, rc.Failed, rc.Total, rn.Failed, rn.Total)
		if retries && (rc.Failed > 0 || rn.Failed > 0) {
			t.Errorf("with retries the VIP dropped requests: 8088 %v; 8089 %v", rc.Failures, rn.Failures)
		}
		if !retries {
			t.Logf("without retries, failures seen: 8088 %v; 8089 %v", rc.Failures, rn.Failures)
		}
	}
}

// playbookLine is a shipped playbook's file:line in an error.
var playbookLine = regexp.MustCompile(`playbooks/[a-z-]+\.hcl:\d+`)

func TestDeployRefusesBadValuesBeforeSSH(t *testing.T) {
	l := labtest.Require(t)
	cases := []struct {
		name  string
		extra []string
		want  string
	}{
		{"cm_location out of range", []string{"-e", "cm_location=300"}, "cm_location"},
		{"cm_url on loopback for several nodes", []string{"-e", "cm_url=http://127.0.0.1:8088"}, "127.0.0.1"},
		{"tsdb enabled without url", []string{"-e", "tsdb_enabled=true", "-e", "tsdb_url="}, "tsdb_url"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := l.SSHDConnections(t, l.Hosts[0].Name)
			r := deploy(t, l, "deploy.hcl", l.InventoryHCL, c.extra...)
			expectCode(t, r, 4)
			// The step that refuses may live in a file deploy.hcl includes
			// (oms-checks.hcl), so any shipped playbook file's line will do.
			if !strings.Contains(r.stderr, c.want) || !playbookLine.MatchString(r.stderr) {
				t.Fatalf("the error should name %s and the playbook's file:line:\n%s", c.want, r.stderr)
			}
			if after := l.SSHDConnections(t, l.Hosts[0].Name); after != before {
				t.Fatalf("bad input still connected (%d → %d)", before, after)
			}
		})
	}
}

func TestDeployStopsOnForeignDatabases(t *testing.T) {
	l := labtest.Require(t)
	l.Reset(t)
	l.DropMetaDatabases(t)
	l.MetaSQL(t, "CREATE DATABASE oms_rm; CREATE DATABASE oms_cm; CREATE DATABASE oms_cm_heartbeat")
	// --check asks no one: it says what the real run would ask and predicts
	// the rest as the run goes on after a yes (compared below with the run
	// the printed remedy confirms), instead of stopping at "check MetaDB".
	check := deploy(t, l, "deploy.hcl", l.InventoryHCL, "--check")
	expectCode(t, check, 0)
	if !strings.Contains(check.stdout, "would ask first: The specified database names already exist in the MetaDB") {
		t.Fatalf("--check should say what the run would ask:\n%s", check.stdout)
	}
	announced := changedPairs(t, check.stdout)
	r := deploy(t, l, "deploy.hcl", l.InventoryHCL)
	// No terminal to ask on: declined (5), like any confirmation, not a failure.
	expectCode(t, r, 5)
	if !strings.Contains(r.stdout, "already exist") || strings.Contains(r.stdout, "failed=1") {
		t.Fatalf("no warning about existing databases:\n%s", r.stdout)
	}
	for _, h := range l.Hosts {
		if got := l.Exec(t, h.Name, "ls -d /data/oms 2>/dev/null; docker images -q"); got != "" {
			t.Fatalf("%s was changed before the MetaDB check stopped the run: %q", h.Name, got)
		}
	}
	// The remedy the message proposes works as printed.
	m := regexp.MustCompile(`-e (allow_existing_databases=true)`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("the refusal should say which -e confirms:\n%s", r.stdout)
	}
	confirmed := deploy(t, l, "deploy.hcl", l.InventoryHCL, "-e", m[1])
	expectCode(t, confirmed, 0)
	if made := changedPairs(t, confirmed.stdout); fmt.Sprint(made) != fmt.Sprint(announced) {
		t.Fatalf("--check predicted\n  %v\nthe confirmed run changed\n  %v", announced, made)
	}
	// And so does --yes, on a fresh start.
	l.Reset(t)
	l.DropMetaDatabases(t)
	l.MetaSQL(t, "CREATE DATABASE oms_rm; CREATE DATABASE oms_cm; CREATE DATABASE oms_cm_heartbeat")
	expectCode(t, deploy(t, l, "deploy.hcl", l.InventoryHCL, "--yes"), 0)
}

func TestDeployShowsWhyOMSRefusedToStart(t *testing.T) {
	l := labtest.Require(t)
	l.Reset(t)
	l.DropMetaDatabases(t)
	broken := l.Images["v2-broken"]
	r := deploy(t, l, "deploy.hcl", inventoryOf(t, l, 1), "-e", "image="+broken.Ref, "-e", "image_file="+broken.Path, "-e", "cm_nodes=[]")
	expectCode(t, r, 2)
	if !strings.Contains(r.stdout, "docker_init") {
		t.Fatalf("the failure should show the docker_init log:\n%s", r.stdout)
	}
}

// TestDeployAsksAboutForeignDatabasesOnATerminal: at a terminal, the seed's
// question is asked instead of stopping, and "y" goes on.
func TestDeployAsksAboutForeignDatabasesOnATerminal(t *testing.T) {
	l := labtest.Require(t)
	l.Reset(t)
	l.DropMetaDatabases(t)
	l.MetaSQL(t, "CREATE DATABASE oms_rm; CREATE DATABASE oms_cm; CREATE DATABASE oms_cm_heartbeat")
	// Ctrl-C at the question (asked mid-run, run locks held): exit 130 at
	// once, nothing changed, no lock left on any host.
	p := startPTY(t, "playbooks/deploy.hcl", "-i", l.InventoryHCL, "-e", "@"+l.Vars, "-e", "cm_nodes=[]")
	p.expect("Are you sure that you want to continue?")
	ctrlCExits130(t, p)
	for _, h := range l.Hosts {
		if got := l.Exec(t, h.Name, "ls -d /data/oms 2>/dev/null; docker images -q; cat /var/lock/omsrun/lock 2>/dev/null || true"); got != "" {
			t.Fatalf("%s after Ctrl-C at the question: %q (changed, or a lock left)", h.Name, got)
		}
	}
	// "n" declines: exit 5, no host failed, nothing changed.
	p = startPTY(t, "playbooks/deploy.hcl", "-i", l.InventoryHCL, "-e", "@"+l.Vars, "-e", "cm_nodes=[]")
	p.expect("Are you sure that you want to continue?")
	p.send("n")
	p.expect("RECAP")
	if code := p.wait(); code != 5 || strings.Contains(p.transcript(), "failed=1") {
		t.Fatalf("exit %d after answering n, want 5 and no failure:\n%s", code, p.transcript())
	}
	for _, h := range l.Hosts {
		if got := l.Exec(t, h.Name, "ls -d /data/oms 2>/dev/null; docker images -q"); got != "" {
			t.Fatalf("%s was changed after n: %q", h.Name, got)
		}
	}
	p = startPTY(t, "playbooks/deploy.hcl", "-i", l.InventoryHCL, "-e", "@"+l.Vars, "-e", "cm_nodes=[]")
	p.expect("Are you sure that you want to continue?")
	p.send("y")
	p.expect("RECAP")
	if code := p.wait(); code != 0 {
		t.Fatalf("exit %d after answering y:\n%s", code, p.transcript())
	}
	vipAnswers(t, l, 8088)

	// Uninstall with purge asks too, before its first step: while the
	// question waits, and after "n", every container still runs.
	p = startPTY(t, "playbooks/uninstall.hcl", "-i", l.InventoryHCL, "-e", "@"+l.Vars, "-e", "purge=true")
	p.expect("for good")
	p.expect("Go ahead? [y/N]")
	time.Sleep(time.Second)
	for _, h := range l.Hosts {
		if got := l.Exec(t, h.Name, "docker ps -q | wc -l"); got != "1" {
			t.Fatalf("%s: the container went while the question waited", h.Name)
		}
	}
	p.send("n")
	p.expect("not confirmed: nothing was changed")
	if code := p.wait(); code != 5 {
		t.Fatalf("exit %d after answering n, want 5:\n%s", code, p.transcript())
	}
	if strings.Contains(p.transcript(), "failed=1") {
		t.Fatalf("a declined run reports no failure:\n%s", p.transcript())
	}
	for _, h := range l.Hosts {
		if got := l.Exec(t, h.Name, "docker ps -q | wc -l; ls /data/oms/config.yaml"); got != "1\n/data/oms/config.yaml" {
			t.Fatalf("%s: purge answered n still changed the node: %q", h.Name, got)
		}
	}
	// Ctrl-C at "Go ahead?": exit 130 at once, every container still runs.
	p = startPTY(t, "playbooks/uninstall.hcl", "-i", l.InventoryHCL, "-e", "@"+l.Vars, "-e", "purge=true")
	p.expect("Go ahead? [y/N]")
	ctrlCExits130(t, p)
	for _, h := range l.Hosts {
		if got := l.Exec(t, h.Name, "docker ps -q | wc -l; ls /data/oms/config.yaml"); got != "1\n/data/oms/config.yaml" {
			t.Fatalf("%s: Ctrl-C at the purge's question still changed the node: %q", h.Name, got)
		}
	}
	vipAnswers(t, l, 8088)
}

// ctrlCExits130 types Ctrl-C at p's question: omsrun must end within a
// second (it caught SIGINT and kept waiting for the answer before), with 130
// and an interrupted recap, not a declined one.
func ctrlCExits130(t *testing.T, p *pty) {
	t.Helper()
	if _, err := p.master.Write([]byte{3}); err != nil {
		t.Fatal(err)
	}
	done := make(chan int, 1)
	go func() { done <- p.wait() }()
	select {
	case code := <-done:
		if code != 130 || !strings.Contains(p.transcript(), "interrupted") || strings.Contains(p.transcript(), "declined") {
			t.Fatalf("exit %d after Ctrl-C at the question, want 130 and an interrupted recap:\n%s", code, p.transcript())
		}
	case <-time.After(2 * time.Second):
		t.Fatalf("omsrun still running 2 s after Ctrl-C at the question:\n%s", p.transcript())
	}
}
