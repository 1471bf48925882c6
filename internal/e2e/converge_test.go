package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/omsrun/omsrun/internal/lab/labtest"
)

// A run interrupted or failed anywhere converges on the next run: whether a
// node runs the config.yaml on its disk is read from the node.

// startJSON starts omsrun with --json output and calls on for every event
// as it comes; on returns true to stop watching.
func startJSON(t *testing.T, on func(ev map[string]any) bool, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(omsrunBin(t), args...)
	cmd.Dir = repoDir(t)
	var all bytes.Buffer
	cmd.Stderr = &all
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pipe)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	watching := true
	for line := range lines {
		all.WriteString(line + "\n")
		if !watching {
			continue
		}
		var ev map[string]any
		if json.Unmarshal([]byte(line), &ev) == nil && on(ev) {
			watching = false
			// Keep reading in the background so the process never blocks on stdout.
			go func() {
				for l := range lines {
					_ = l
				}
			}()
			break
		}
	}
	return cmd, &all
}

// loadedRecord is a node's recorded loaded-config hash and its config.yaml's.
func loadedRecord(t *testing.T, l *labtest.Lab, host string) (loaded, current string) {
	out := l.Exec(t, host, "cat /data/oms/config.yaml.loaded-sha256 2>/dev/null; echo /; sha256sum < /data/oms/config.yaml | cut -d' ' -f1")
	loaded, current, _ = strings.Cut(out, "/")
	return strings.TrimSpace(loaded), strings.TrimSpace(current)
}

func TestReconfigureInterruptedDuringReloadConverges(t *testing.T) {
	l := labtest.Require(t)
	inv := freshCluster(t, l, 3)
	for _, h := range l.Hosts {
		if loaded, current := loadedRecord(t, l, h.Name); loaded == "" || loaded != current {
			t.Fatalf("%s after deploy: loaded %q, config.yaml %q", h.Name, loaded, current)
		}
	}
	// SIGINT when the rollout reaches the second node: the first node is
	// done, config.yaml is new on the other two, the third was never reloaded.
	cmd, out := startJSON(t, func(ev map[string]any) bool {
		return ev["type"] == "step_start" && ev["step"] == "reload OMS, one node at a time"
	}, "playbooks/reconfigure.hcl", "-i", inv, "-e", "@"+l.Vars, "-e", "cm_nodes=[]", "-e", "min_free_gb=1", "-e", "cm_location=101", "--json")
	time.Sleep(300 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Fatalf("exit %v, want 130:\n%s", err, out)
	}
	first, last := l.Hosts[0], l.Hosts[2]
	for _, h := range l.Hosts {
		if got := l.Exec(t, h.Name, "grep -c '^cm_location: 101' /data/oms/config.yaml || true"); got != "1" {
			t.Fatalf("%s: config.yaml not rewritten before the rollout step", h.Name)
		}
	}
	if got := fmt.Sprint(nodeConfig(t, first.Address)["cm_location"]); got != "101" {
		t.Fatalf("the first node runs cm_location %s; it is reloaded alone before the others", got)
	}
	if fmt.Sprint(nodeConfig(t, last.Address)["cm_location"]) == "101" {
		t.Fatalf("%s was reloaded although the run stopped before it:\n%s", last.Name, out)
	}
	// status says which node runs another config than its config.yaml, and exits 6.
	st := deploy(t, l, "status.hcl", inv, "-e", "cm_nodes=[]", "-e", "cm_location=101")
	expectCode(t, st, 6)
	found := false
	for _, ev := range jsonEvents(t, st.stdout) {
		found = found || ev["type"] == "host_result" && ev["step"] == "loaded config" && ev["host"] == last.Name &&
			strings.Contains(fmt.Sprint(ev["msg"]), "needs a reload")
	}
	if !found {
		t.Fatalf("status does not show that %s needs a reload:\n%s", last.Name, st.stdout)
	}
	// One re-run, with nothing new to write, reloads what was not reached.
	re := deploy(t, l, "reconfigure.hcl", inv, "-e", "cm_nodes=[]", "-e", "cm_location=101")
	expectCode(t, re, 0)
	reloaded := map[string]bool{}
	for _, ev := range jsonEvents(t, re.stdout) {
		if ev["type"] == "host_result" && strings.HasPrefix(fmt.Sprint(ev["step"]), "reload OMS") && ev["status"] == "changed" {
			reloaded[fmt.Sprint(ev["host"])] = true
		}
	}
	if !reloaded[last.Name] || reloaded[first.Name] {
		t.Fatalf("the re-run reloaded %v, want %s and not %s:\n%s", reloaded, last.Name, first.Name, re.stdout)
	}
	for _, h := range l.Hosts {
		if got := fmt.Sprint(nodeConfig(t, h.Address)["cm_location"]); got != "101" {
			t.Errorf("%s runs cm_location %s after the re-run", h.Name, got)
		}
		if loaded, current := loadedRecord(t, l, h.Name); loaded != current {
			t.Errorf("%s: loaded %q, config.yaml %q", h.Name, loaded, current)
		}
		if got := l.Exec(t, h.Name, "cat /var/lock/omsrun/lock 2>/dev/null || echo none"); got != "none" {
			t.Errorf("%s: a lock was left: %s", h.Name, got)
		}
	}
	expectCode(t, deploy(t, l, "status.hcl", inv, "-e", "cm_nodes=[]", "-e", "cm_location=101"), 0)
	// Converged: deploy.hcl with the same values changes nothing.
	again := deploy(t, l, "deploy.hcl", inv, "-e", "cm_nodes=[]", "-e", "cm_location=101")
	expectCode(t, again, 0)
	if n := recapChanged(t, again.stdout); n != 0 {
		t.Fatalf("a converged cluster changed %d thing(s):\n%s", n, again.stdout)
	}
}

// status hides nothing: a stopped container and a stopped Docker daemon are
// findings, with exit 6 and the reason in the recap's last line.
func TestStatusHidesNothing(t *testing.T) {
	l := labtest.Require(t)
	inv := freshCluster(t, l, 2)
	expectCode(t, deploy(t, l, "status.hcl", inv, "-e", "cm_nodes=[]"), 0)
	a, b := l.Hosts[0].Name, l.Hosts[1].Name
	l.Exec(t, a, "docker stop oms >/dev/null")
	l.StopDocker(t, b)
	t.Cleanup(func() { l.StartDocker(t, b) })
	r := deploy(t, l, "status.hcl", inv, "-e", "cm_nodes=[]")
	expectCode(t, r, 6)
	var unhealthy []any
	for _, ev := range jsonEvents(t, r.stdout) {
		if ev["type"] == "recap" {
			unhealthy, _ = ev["unhealthy"].([]any)
			if ev["exit_code"] != float64(6) {
				t.Errorf("recap exit_code %v", ev["exit_code"])
			}
		}
	}
	got := fmt.Sprint(unhealthy)
	if !strings.Contains(got, a+": container exited") || !strings.Contains(got, b+": Docker daemon down") {
		t.Fatalf("unhealthy %s:\n%s", got, r.stdout)
	}
	// The text form says it in its last line.
	text := omsrun(t, "playbooks/status.hcl", "-i", inv, "-e", "@"+l.Vars, "-e", "cm_nodes=[]")
	expectCode(t, text, 6)
	lines := strings.Split(strings.TrimSpace(text.stdout), "\n")
	if last := lines[len(lines)-1]; !strings.Contains(last, "Docker daemon down") || !strings.Contains(last, "container exited") {
		t.Fatalf("last line %q", last)
	}
}

// reconfigure checks first, then changes one node first; a node that does
// not come up on the new config.yaml gets the previous one back, the run
// stops there, and the output shows why (the init log's Access denied).
func TestReconfigureChecksFirstAndRestores(t *testing.T) {
	l := labtest.Require(t)
	inv := freshCluster(t, l, 3)
	has102 := func() []string {
		var out []string
		for _, h := range l.Hosts {
			if l.Exec(t, h.Name, "grep -c '^cm_location: 102' /data/oms/config.yaml || true") == "1" {
				out = append(out, h.Name)
			}
		}
		return out
	}
	// A wrong MetaDB password is refused by the checks: nothing rewritten.
	r := deploy(t, l, "reconfigure.hcl", inv, "-e", "cm_nodes=[]", "-e", "cm_location=102", "-e", "oms_meta_password=not-the-password")
	expectCode(t, r, 2)
	if got := has102(); len(got) > 0 {
		t.Fatalf("config.yaml rewritten on %v although the MetaDB check failed:\n%s", got, r.stdout)
	}
	if !strings.Contains(r.stdout, "oms_meta_password") {
		t.Fatalf("the refusal should name the password to check:\n%s", r.stdout)
	}
	// So is a wrong TSDB password (preflight logs in to InfluxDB).
	r = deploy(t, l, "reconfigure.hcl", inv, "-e", "cm_nodes=[]", "-e", "cm_location=102", "-e", "tsdb_enabled=true", "-e", "tsdb_password=not-the-tsdb-password")
	expectCode(t, r, 2)
	if got := has102(); len(got) > 0 {
		t.Fatalf("config.yaml rewritten on %v although the TSDB check failed:\n%s", got, r.stdout)
	}
	if !strings.Contains(r.stdout, "wrong user name or password") {
		t.Fatalf("the refusal should say the TSDB refused the login:\n%s", r.stdout)
	}
	// Past the checks (--start-at-step), the first node fails on the new
	// file, gets the old one back and is healthy on it; the others are untouched.
	r = deploy(t, l, "reconfigure.hcl", inv, "-e", "cm_nodes=[]", "-e", "cm_location=102", "-e", "oms_meta_password=not-the-password",
		"--start-at-step", "config.yaml, first node")
	expectCode(t, r, 2)
	if !strings.Contains(r.stdout, "Access denied") || !strings.Contains(r.stdout, "put back") {
		t.Fatalf("the failure should show the init log's reason and the restore:\n%s", r.stdout)
	}
	if got := has102(); len(got) > 0 {
		t.Fatalf("config.yaml with the failed change left on %v", got)
	}
	if got := fmt.Sprint(nodeConfig(t, l.Hosts[0].Address)["cm_location"]); got == "102" {
		t.Fatalf("the first node still runs the failed config")
	}
	vipAnswers(t, l, 8088)
	expectCode(t, deploy(t, l, "status.hcl", inv, "-e", "cm_nodes=[]"), 0)

	// The same change interrupted (SIGINT) inside that reload: nothing is
	// put back then. The re-run has nothing to write, so no backup name of
	// its own; it finds the previous config.yaml on the node (the backup OMS
	// last came up on, per the loaded record), puts it back and fails with
	// the reason, as the uninterrupted run did.
	bad := []string{"-e", "cm_nodes=[]", "-e", "cm_location=102", "-e", "oms_meta_password=not-the-password", "--start-at-step", "config.yaml, first node"}
	cmd, out := startJSON(t, func(ev map[string]any) bool {
		return ev["type"] == "command" && ev["step"] == "reload OMS, first node" && strings.Contains(fmt.Sprint(ev["log"]), "--init-config-file")
	}, append([]string{"playbooks/reconfigure.hcl", "-i", inv, "-e", "@" + l.Vars, "-e", "min_free_gb=1", "--json", "-v"}, bad...)...)
	cmd.Process.Signal(syscall.SIGINT)
	if err := cmd.Wait(); err == nil {
		t.Fatalf("the interrupted run succeeded:\n%s", out)
	}
	if got := has102(); len(got) != 1 || got[0] != l.Hosts[0].Name {
		t.Fatalf("after the interrupt config.yaml has the change on %v, want on %s only (the interrupt came too late?):\n%s", got, l.Hosts[0].Name, out)
	}
	r = deploy(t, l, "reconfigure.hcl", inv, bad...)
	expectCode(t, r, 2)
	if !strings.Contains(r.stdout, "Access denied") || !strings.Contains(r.stdout, "put back") {
		t.Fatalf("the re-run should show the init log's reason and the restore:\n%s", r.stdout)
	}
	if got := has102(); len(got) > 0 {
		t.Fatalf("config.yaml with the failed change left on %v after the re-run", got)
	}
	if loaded, current := loadedRecord(t, l, l.Hosts[0].Name); loaded != current {
		t.Errorf("%s: loaded %q, config.yaml %q", l.Hosts[0].Name, loaded, current)
	}
	vipAnswers(t, l, 8088)
	expectCode(t, deploy(t, l, "status.hcl", inv, "-e", "cm_nodes=[]"), 0)
}
