package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/omsrun/omsrun/internal/lab/labtest"
)

// registered lists the ips of the CM database's host table, where every
// stand-in registers itself at start as the real CM does.
func registered(t *testing.T, l *labtest.Lab) string {
	t.Helper()
	return strings.Join(strings.Fields(l.MetaSQL(t, "SELECT ip FROM oms_cm.host ORDER BY ip")), " ")
}

// TestScaleInAndNodeReplacement: the documented scale-in, from the
// inventory the operator has after taking the node out. deploy.hcl refuses
// to leave the node registered and names scale-in.hcl; scale-in.hcl asks
// first (no answer changes nothing), then removes the node's container,
// deletes its host row and reloads the others on the new cm_nodes with no
// failed VIP probe. A dead node (sshd down) is scaled in too: its row goes,
// the run says its container may still run, and its replacement deploys.
func TestScaleInAndNodeReplacement(t *testing.T) {
	l := labtest.Require(t)
	three := freshCluster(t, l, 3)
	a1, a2, a3 := l.Hosts[0].Address, l.Hosts[1].Address, l.Hosts[2].Address
	// A no-op re-run right after the deploy restarts nothing, so it waits
	// for no balancer, though the nodes have just started: with a settle
	// of a minute every reading still says the balancer may not have them.
	r := deploy(t, l, "deploy.hcl", three, "-e", "cm_nodes=[]", "-e", "balancer_settle=60s")
	expectCode(t, r, 0)
	if n := recapChanged(t, r.stdout); n != 0 {
		t.Errorf("a re-run after the deploy changed %d things:\n%s", n, r.stdout)
	}
	if young := settling(t, r.stdout); len(young) != 3 {
		t.Errorf("readings right after the deploy name %v as settling, want every node:\n%s", young, r.stdout)
	}
	if w := balancerWaits(t, r.stdout); len(w) > 0 {
		t.Errorf("a re-run that restarts nothing waited for the balancer: %v", w)
	}
	if got := registered(t, l); got != strings.Join([]string{a1, a2, a3}, " ") {
		t.Fatalf("registered after deploy: %q", got)
	}
	two := inventoryOf(t, l, 2)

	// The operator drops oms3 from the inventory and re-runs deploy: refused
	// before any change, naming the node and the playbook that scales it in.
	r = deploy(t, l, "deploy.hcl", two, "-e", "cm_nodes=[]")
	expectCode(t, r, 2)
	refusal := r.stdout
	if out := r.stdout + r.stderr; !strings.Contains(out, a3+" registered") || !strings.Contains(out, "scale-in.hcl") || !strings.Contains(out, "remove_node="+a3) {
		t.Fatalf("deploy should name %s and scale-in.hcl:\n%s", a3, out)
	}
	if got := cmNodes(t, nodeConfig(t, a1)); len(got) != 3 {
		t.Fatalf("the refused deploy changed cm_nodes: %v", got)
	}
	// reconfigure and upgrade refuse the same way (oms-checks.hcl), before
	// any config.yaml, image or container changes.
	images := l.Exec(t, l.Hosts[0].Name, "docker images -q | sort; sha256sum < /data/oms/config.yaml")
	for _, run := range [][]string{{"reconfigure.hcl", "-e", "cm_nodes=[]"}, append([]string{"upgrade.hcl"}, upgradeArgs(l, "v2", t.TempDir())...)} {
		r := deploy(t, l, run[0], two, run[1:]...)
		expectCode(t, r, 2)
		if out := r.stdout + r.stderr; !strings.Contains(out, "scale-in.hcl") || !strings.Contains(out, "remove_node="+a3) {
			t.Fatalf("%s should name scale-in.hcl and %s:\n%s", run[0], a3, out)
		}
		if got := cmNodes(t, nodeConfig(t, a1)); len(got) != 3 || l.Exec(t, l.Hosts[0].Name, "docker images -q | sort; sha256sum < /data/oms/config.yaml") != images {
			t.Fatalf("the refused %s changed cm_nodes (%v), an image or config.yaml", run[0], got)
		}
	}

	scaleIn := func(inv, node string, extra ...string) cliResult {
		return deploy(t, l, "scale-in.hcl", inv, append([]string{"-e", "cm_nodes=[]", "-e", "remove_node=" + node}, extra...)...)
	}
	// No one to answer the question (no terminal, no --yes): nothing changes.
	r = scaleIn(two, a3)
	expectCode(t, r, 5)
	if !strings.Contains(r.stdout, "no migration component") || !strings.Contains(r.stdout, a3) {
		t.Fatalf("the question should name the node and the migration components:\n%s", r.stdout)
	}
	if got := l.Exec(t, l.Hosts[2].Name, "docker inspect --format '{{.State.Running}}' oms"); got != "true" || registered(t, l) != strings.Join([]string{a1, a2, a3}, " ") {
		t.Fatalf("a declined scale-in changed something: running %q, registered %q", got, registered(t, l))
	}

	// Variables naming another CM database than the running nodes use are
	// refused before the row is deleted from that other database's table
	// (--yes does not confirm a database change): declined, nothing changed.
	r = scaleIn(two, a3, "--yes", "-e", "drc_cm_db=oms_b_cm")
	expectCode(t, r, 5)
	if !strings.Contains(r.stdout, "point it at") || !strings.Contains(r.stdout, "oms_b_cm") {
		t.Fatalf("scale-in with another CM database should name both sets:\n%s", r.stdout)
	}
	if got := l.Exec(t, l.Hosts[2].Name, "docker inspect --format '{{.State.Running}}' oms"); got != "true" || registered(t, l) != strings.Join([]string{a1, a2, a3}, " ") {
		t.Fatalf("a refused scale-in changed something: running %q, registered %q", got, registered(t, l))
	}

	// The command the refused deploy printed, pasted as it is (with --yes
	// for the question), is the scale-in.
	printed := regexp.MustCompile(`\n  (\S+ playbooks/scale-in\.hcl [^\n"]*remove_node=` + regexp.QuoteMeta(a3) + `)`).FindStringSubmatch(strings.ReplaceAll(refusal, `\n`, "\n"))
	if printed == nil {
		t.Fatalf("the refused deploy printed no scale-in command:\n%s", refusal)
	}
	// The rolling reload below must keep the VIP answering. Right after
	// freshCluster's deploy haproxy can still count a just-started node
	// down (seen: oms2 DOWN several seconds after it was healthy); the
	// scale-in reads since when each node is healthy and takes the first
	// node out only once the balancer can have the others back.
	probe := l.ProbeVIP(t)
	in := shell(t, printed[1]+" --yes --json")
	expectCode(t, in, 0)
	res := probe.Stop()
	// Whichever node the readings found settling, the removal (the first
	// step that takes a node out) waited for it.
	if young, w := settling(t, in.stdout), balancerWaits(t, in.stdout); len(young) > 0 && len(w["remove the node's container"]) == 0 {
		t.Errorf("%v were settling but the removal did not wait: %v", young, w)
	}
	if got := l.Exec(t, l.Hosts[2].Name, "docker ps -aq"); got != "" {
		t.Errorf("the removed node's container is still there: %q", got)
	}
	if got := registered(t, l); got != a1+" "+a2 {
		t.Errorf("registered after scale-in: %q, want %s %s", got, a1, a2)
	}
	for _, a := range []string{a1, a2} {
		// What the stand-in loaded: the new cm_nodes reached the running OMS.
		if got := cmNodes(t, nodeConfig(t, a)); fmt.Sprint(got) != fmt.Sprint([]string{a1, a2}) {
			t.Errorf("%s runs with cm_nodes %v after scale-in", a, got)
		}
	}
	if res.Failed > 0 {
		t.Errorf("VIP probe during scale-in: %d of %d failed: %v", res.Failed, res.Total, res.Failures)
	}
	// Again: nothing left to do.
	r = scaleIn(two, a3, "--yes")
	expectCode(t, r, 0)
	if n := recapChanged(t, r.stdout); n != 0 {
		t.Errorf("a second scale-in changed %d things:\n%s", n, r.stdout)
	}

	// oms2 dies (unreachable, its container still up); oms3 takes its place.
	l.StopSSHD(t, l.Hosts[1].Name)
	t.Cleanup(func() { l.StartSSHD(t, l.Hosts[1].Name) })
	replaced := writeFile(t, "replaced.hcl", fmt.Sprintf("defaults {\n  user = \"root\"\n  key_file = %q\n  known_hosts_file = %q\n}\ngroup \"oms\" {\n  host %q { address = %q }\n  host %q { address = %q }\n}\n",
		l.Key, l.KnownHosts, l.Hosts[0].Name, a1, l.Hosts[2].Name, a3))
	expectCode(t, deploy(t, l, "deploy.hcl", replaced, "-e", "cm_nodes=[]"), 2)
	r = scaleIn(replaced, a2, "--yes")
	expectCode(t, r, 3)
	if !strings.Contains(r.stdout, a2+" could not be reached") || !strings.Contains(r.stdout, "may still be running") {
		t.Errorf("the run should say the dead node's container may still run:\n%s", r.stdout)
	}
	if got := registered(t, l); got != a1 {
		t.Errorf("registered after scaling in the dead node: %q, want %s", got, a1)
	}
	expectCode(t, deploy(t, l, "deploy.hcl", replaced, "-e", "cm_nodes=[]"), 0)
	if got := registered(t, l); got != a1+" "+a3 {
		t.Errorf("registered after the replacement: %q", got)
	}
	for _, a := range []string{a1, a3} {
		if got := cmNodes(t, nodeConfig(t, a)); fmt.Sprint(got) != fmt.Sprint([]string{a1, a3}) {
			t.Errorf("%s runs with cm_nodes %v after the replacement", a, got)
		}
	}
	vipAnswers(t, l, 8088)
}

// shell runs a command line as an operator pastes it, from the repository root.
func shell(t *testing.T, line string) cliResult {
	t.Helper()
	cmd := exec.Command("sh", "-c", line)
	cmd.Dir = repoDir(t)
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	out, err := cmd.Output()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return cliResult{stdout: string(out), code: code}
}

// settling lists the nodes whose "healthy since" reading (oms-balancer.hcl)
// said the balancer might not have them back yet.
func settling(t *testing.T, out string) []string {
	t.Helper()
	var hosts []string
	for _, ev := range jsonEvents(t, out) {
		if ev["type"] != "host_result" || ev["step"] != "healthy since" {
			continue
		}
		if o, _ := ev["outputs"].(map[string]any); o["settled_at"] != "" && o["settled_at"] != nil {
			hosts = append(hosts, ev["host"].(string))
		}
	}
	return hosts
}

// balancerWaits is, by step and host, every result that says it waited
// for the load balancer (await_balancer).
func balancerWaits(t *testing.T, out string) map[string]map[string]string {
	t.Helper()
	w := map[string]map[string]string{}
	for _, ev := range jsonEvents(t, out) {
		msg, _ := ev["msg"].(string)
		if ev["type"] != "host_result" || !strings.Contains(msg, "for the load balancer to take back") {
			continue
		}
		step := ev["step"].(string)
		if w[step] == nil {
			w[step] = map[string]string{}
		}
		w[step][ev["host"].(string)] = msg
	}
	return w
}
