package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/omsrun/omsrun/internal/lab/labtest"
)

// deploy.hcl on a running cluster changes it as reconfigure.hcl does
// (oms-rollout.hcl): the first node alone; one that fails on the new
// config.yaml gets its previous one back and the run stops there, so the
// other nodes keep theirs byte for byte (issue #14 point 3). With another
// node down, a change is refused before the first node is restarted.
func TestDeployOnARunningClusterFirstNodeFirst(t *testing.T) {
	l := labtest.Require(t)
	l.Reset(t)
	l.DropMetaDatabases(t)
	l.SetStartupDelay(t, "/data/oms", time.Second)
	inv := inventoryOf(t, l, 3)
	// No VIP probe here: no pause for the balancer between nodes.
	vars := []string{"-e", "cm_nodes=[]", "-e", "balancer_settle=0s"}
	run := func(extra ...string) cliResult {
		return deploy(t, l, "deploy.hcl", inv, append(slices.Clone(vars), extra...)...)
	}
	expectCode(t, run(), 0)
	configs := func() []string {
		var out []string
		for _, h := range l.Hosts {
			out = append(out, l.Exec(t, h.Name, "cat /data/oms/config.yaml"))
		}
		return out
	}
	before := configs()
	first := l.Hosts[0].Name

	// The checks refuse the wrong password before anything is written;
	// past them (--start-at-step: the reads the rollout decides from still
	// run) the first node meets it.
	r := run("-e", "cm_location=102", "-e", "oms_meta_password=not-the-password", "--start-at-step", "config.yaml, first node")
	if r.code == 0 {
		t.Fatalf("a node that failed on the new config.yaml must fail the run:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, "Access denied") || !strings.Contains(r.stdout, "put back") {
		t.Fatalf("the failure should show the init log's reason and the restore:\n%s", r.stdout)
	}
	for _, ev := range jsonEvents(t, r.stdout) {
		if ev["type"] == "host_result" && ev["host"] != first && (ev["status"] == "changed" || ev["status"] == "failed") {
			t.Errorf("only %s may be touched: %s %v on %v", first, ev["step"], ev["status"], ev["host"])
		}
	}
	for i, after := range configs() {
		if after != before[i] {
			t.Errorf("%s: config.yaml is not the one before the failed run:\n%s", l.Hosts[i].Name, after)
		}
	}
	for _, h := range l.Hosts {
		if loaded, current := loadedRecord(t, l, h.Name); loaded != current {
			t.Errorf("%s: loaded %q, config.yaml %q", h.Name, loaded, current)
		}
		if got := fmt.Sprint(nodeConfig(t, h.Address)["cm_location"]); got == "102" {
			t.Errorf("%s runs the failed config", h.Name)
		}
	}
	expectCode(t, deploy(t, l, "status.hcl", inv, "-e", "cm_nodes=[]"), 0)

	// The right values: --check announces what the run then does, every
	// node runs them, and a further run changes nothing.
	check := run("-e", "cm_location=102", "--check", "--diff")
	expectCode(t, check, 0)
	applied := run("-e", "cm_location=102")
	expectCode(t, applied, 0)
	if announced, made := changedPairs(t, check.stdout), changedPairs(t, applied.stdout); fmt.Sprint(made) != fmt.Sprint(announced) {
		t.Fatalf("check announced\n  %v\nthe run changed\n  %v", announced, made)
	}
	for _, h := range l.Hosts {
		if got := fmt.Sprint(nodeConfig(t, h.Address)["cm_location"]); got != "102" {
			t.Errorf("%s runs cm_location %s", h.Name, got)
		}
	}
	again := run("-e", "cm_location=102")
	expectCode(t, again, 0)
	if n := recapChanged(t, again.stdout); n != 0 {
		t.Fatalf("a converged cluster changed %d thing(s):\n%s", n, again.stdout)
	}

	// Another node down: the first node is not restarted on a change (it
	// could leave nobody serving), the refusal names the node and the way
	// out, and the other nodes are not touched.
	down := l.Hosts[1].Name
	l.Exec(t, down, "docker stop -t 1 oms >/dev/null")
	before = configs()
	refused := run("-e", "cm_location=103")
	if refused.code == 0 || !strings.Contains(refused.stdout, down+" ("+l.Hosts[1].Address+"): container not running") ||
		!strings.Contains(refused.stdout, "scale-in.hcl -e remove_node=") {
		t.Fatalf("a change with %s down must be refused, naming it and the remedy:\n%s", down, refused.stdout)
	}
	for _, ev := range jsonEvents(t, refused.stdout) {
		if ev["type"] == "host_result" && ev["host"] != first && ev["status"] == "changed" {
			t.Errorf("%s changed on %v with %s down", ev["step"], ev["host"], down)
		}
	}
	for i, after := range configs()[1:] {
		if after != before[i+1] {
			t.Errorf("%s: config.yaml changed with %s down", l.Hosts[i+1].Name, down)
		}
	}
	if got := fmt.Sprint(nodeConfig(t, l.Hosts[0].Address)["cm_location"]); got != "102" {
		t.Errorf("%s was restarted on cm_location %s with %s down", first, got, down)
	}
}
