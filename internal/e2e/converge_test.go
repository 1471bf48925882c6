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
	// SIGINT while the first node reloads: config.yaml is new on every node,
	// and the other two still run the old one.
	cmd, out := startJSON(t, func(ev map[string]any) bool {
		return ev["type"] == "step_start" && ev["step"] == "reload OMS, one node at a time"
	}, "playbooks/reconfigure.hcl", "-i", inv, "-e", "@"+l.Vars, "-e", "cm_nodes=[]", "-e", "cm_location=101", "--json")
	time.Sleep(300 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Fatalf("exit %v, want 130:\n%s", err, out)
	}
	// The first node was mid-reload; the other two never got theirs.
	for i, h := range l.Hosts {
		if got := l.Exec(t, h.Name, "grep -c '^cm_location: 101' /data/oms/config.yaml || true"); got != "1" {
			t.Fatalf("%s: config.yaml not rewritten before the reload step", h.Name)
		}
		if i > 0 && fmt.Sprint(nodeConfig(t, h.Address)["cm_location"]) == "101" {
			t.Fatalf("%s was reloaded although the run stopped at the first node:\n%s", h.Name, out)
		}
	}
	// status says which nodes run another config than their config.yaml.
	st := deploy(t, l, "status.hcl", inv, "-e", "cm_nodes=[]")
	expectCode(t, st, 6)
	for _, h := range l.Hosts[1:] {
		found := false
		for _, ev := range jsonEvents(t, st.stdout) {
			found = found || ev["type"] == "host_result" && ev["step"] == "loaded config" && ev["host"] == h.Name &&
				strings.Contains(fmt.Sprint(ev["msg"]), "needs a reload")
		}
		if !found {
			t.Fatalf("status does not show that %s needs a reload:\n%s", h.Name, st.stdout)
		}
	}
	// One re-run, with nothing new to write, reloads those nodes.
	re := deploy(t, l, "reconfigure.hcl", inv, "-e", "cm_nodes=[]", "-e", "cm_location=101")
	expectCode(t, re, 0)
	reloaded := map[string]bool{}
	for _, ev := range jsonEvents(t, re.stdout) {
		if ev["type"] == "host_result" && ev["step"] == "reload OMS, one node at a time" && ev["status"] == "changed" {
			reloaded[fmt.Sprint(ev["host"])] = true
		}
	}
	if !reloaded[l.Hosts[1].Name] || !reloaded[l.Hosts[2].Name] {
		t.Fatalf("the re-run reloaded %v, want at least %s and %s:\n%s", reloaded, l.Hosts[1].Name, l.Hosts[2].Name, re.stdout)
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
