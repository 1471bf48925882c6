package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/omsrun/omsrun/internal/lab/labtest"
)

// regionAnswers checks that a region's VIP reaches that region's nodes and
// no other: the console (8089 /oms/health) and CM (8088 /api/cm/nodes)
// answer with the answering node's OMS_HOST_IP, and CM with the cm_url it
// loaded, which must be the region's. It asks until every node of the
// region has answered on both ports (the balancer takes turns), and fails
// at the first answer from a node outside the region.
func regionAnswers(t *testing.T, vip, cmURL string, nodes []string) {
	t.Helper()
	c := http.Client{Timeout: 2 * time.Second}
	seen := map[string]bool{}
	deadline := time.Now().Add(15 * time.Second)
	for len(seen) < 2*len(nodes) {
		if time.Now().After(deadline) {
			t.Fatalf("VIP %s: after 15 s only %v answered, want every one of %v on 8088 and 8089", vip, seen, nodes)
		}
		for _, port := range []int{8089, 8088} {
			path := map[int]string{8089: "/oms/health", 8088: "/api/cm/nodes"}[port]
			resp, err := c.Get(fmt.Sprintf("http://%s:%d%s", vip, port, path))
			if err != nil {
				t.Fatalf("VIP %s:%d: %v", vip, port, err)
			}
			var body struct {
				Data struct {
					HostIP string `json:"host_ip"`
					CMURL  string `json:"cm_url"`
				} `json:"data"`
			}
			err = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if resp.StatusCode >= 502 && resp.StatusCode <= 504 {
				// The balancer itself: no node of the region up yet. Not
				// the property under test; the deadline bounds it.
				time.Sleep(200 * time.Millisecond)
				continue
			}
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("VIP %s:%d%s answered %d (%v)", vip, port, path, resp.StatusCode, err)
			}
			if !slices.Contains(nodes, body.Data.HostIP) {
				t.Fatalf("VIP %s:%d was answered by %q, not a node of its region %v", vip, port, body.Data.HostIP, nodes)
			}
			if port == 8088 && body.Data.CMURL != cmURL {
				t.Fatalf("VIP %s:8088 was answered by %s, which loaded cm_url %q, not its region's %s", vip, body.Data.HostIP, body.Data.CMURL, cmURL)
			}
			seen[fmt.Sprintf("%s:%d", body.Data.HostIP, port)] = true
		}
	}
}

// scaleInAcrossRegions runs on TestTwoRegions' deployment (region 1 and 2
// of two nodes each): a node leaves region 2 and the other region is left
// alone; the region's remaining node, now its last, is refused with the
// remedy and nothing changes; the remedy is followed (a node added to the
// region by deploy.hcl, then the old one scaled in) and the region's VIP
// answers from its new node only.
func scaleInAcrossRegions(t *testing.T, l *labtest.Lab) {
	r1, r2 := l.Regions[0], l.Regions[1]
	hosts := map[string]labtest.Host{}
	for _, h := range l.Hosts {
		hosts[h.Name] = h
	}
	addrs := func(names []string) []string {
		var out []string
		for _, n := range names {
			out = append(out, hosts[n].Address)
		}
		slices.Sort(out)
		return out
	}
	// run gives the inventory of region 1's hosts and region2's, and a
	// regions variable naming region 2 only when region2 has hosts.
	run := func(playbook string, region2 []string, extra ...string) cliResult {
		regions := fmt.Sprintf("regions = [\n  { hosts = %q, cm_url = %q, cm_location = 1, cm_region = \"region-a\", cm_is_default = true },\n", strings.Join(r1, ":"), l.CMURL)
		if len(region2) > 0 {
			regions += fmt.Sprintf("  { hosts = %q, cm_url = %q, cm_location = 2, cm_region = \"region-b\" },\n", strings.Join(region2, ":"), l.CMURL2)
		}
		var inv []labtest.Host
		for _, n := range append(slices.Clone(r1), region2...) {
			inv = append(inv, hosts[n])
		}
		args := append([]string{"-e", "cm_nodes=[]", "-e", "@" + writeFile(t, "regions.hcl", regions+"]\n"), "-e", "balancer_settle=0s"}, extra...)
		return deploy(t, l, playbook, inventoryWith(t, l, inv...), args...)
	}
	stay, leave := r2[0], r2[len(r2)-1]
	a1, aStay, aLeave := addrs(r1), hosts[stay].Address, hosts[leave].Address
	all := strings.Join(addrs(append(slices.Clone(r1), r2...)), " ")

	// A node leaves region 2: its row goes, region 2's other node runs
	// with cm_nodes of itself, region 1 keeps its own.
	start := time.Now()
	expectCode(t, run("scale-in.hcl", []string{stay}, "-e", "remove_node="+aLeave, "--yes"), 0)
	t.Logf("scale-in within region 2 in %.1fs", time.Since(start).Seconds())
	if got, want := registered(t, l), strings.Join(addrs(append(slices.Clone(r1), stay)), " "); got != want {
		t.Errorf("registered after scaling %s in: %q, want %q", leave, got, want)
	}
	if got := cmNodes(t, nodeConfig(t, aStay)); fmt.Sprint(got) != fmt.Sprint([]string{aStay}) {
		t.Errorf("%s runs with cm_nodes %v, want only itself", stay, got)
	}
	if got := cmNodes(t, nodeConfig(t, a1[0])); fmt.Sprint(got) != fmt.Sprint(a1) {
		t.Errorf("region 1's %s runs with cm_nodes %v, want %v", a1[0], got, a1)
	}
	regionAnswers(t, l.VIP2, l.CMURL2, []string{aStay})

	// Now the region's last node: refused before any change, with the
	// remedy. (With region 2 still in regions and its host gone from the
	// inventory, the region's hosts pattern is refused even earlier.)
	start = time.Now()
	r := run("scale-in.hcl", nil, "-e", "remove_node="+aStay, "--yes")
	expectCode(t, r, 2)
	for _, want := range []string{aStay + " is the last node of its region", "Nothing was changed", "add a node to it first", "then scale " + aStay + " in"} {
		if !strings.Contains(r.stdout+r.stderr, want) {
			t.Errorf("the refusal should say %q:\n%s", want, r.stdout+r.stderr)
		}
	}
	if got := l.Exec(t, stay, "docker inspect --format '{{.State.Running}}' oms"); got != "true" || !strings.Contains(registered(t, l), aStay) {
		t.Fatalf("the refused scale-in changed something: running %q, registered %q", got, registered(t, l))
	}
	t.Logf("refusal in %.1fs", time.Since(start).Seconds())

	// The remedy as printed: a node added to the region (deploy.hcl), then
	// the old one scaled in; the region's VIP answers from the new node.
	start = time.Now()
	expectCode(t, run("deploy.hcl", []string{stay, leave}), 0)
	if got := registered(t, l); got != all {
		t.Errorf("registered after adding %s back: %q, want %q", leave, got, all)
	}
	expectCode(t, run("scale-in.hcl", []string{leave}, "-e", "remove_node="+aStay, "--yes"), 0)
	t.Logf("remedy (deploy + scale-in) in %.1fs", time.Since(start).Seconds())
	if got, want := registered(t, l), strings.Join(addrs(append(slices.Clone(r1), leave)), " "); got != want {
		t.Errorf("registered after the remedy: %q, want %q", got, want)
	}
	regionAnswers(t, l.VIP2, l.CMURL2, []string{aLeave})
	regionAnswers(t, l.VIP, l.CMURL, a1)
}
