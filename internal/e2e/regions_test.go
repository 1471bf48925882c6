package e2e

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omsrun/omsrun/internal/lab"
	"github.com/omsrun/omsrun/internal/lab/labtest"
)

// twoRegionLab rebuilds the lab with LAB_REGIONS=2 (a fourth host and a
// second VIP in front of region 2) and puts the default lab back at the
// end of the test, since the package's other tests expect it.
func twoRegionLab(t *testing.T, l *labtest.Lab) *labtest.Lab {
	t.Helper()
	def, err := lab.OptionsFromEnv(filepath.Dir(l.Dir))
	if err != nil {
		t.Fatal(err)
	}
	def.Hosts, def.Docker, def.Regions = len(l.Hosts), l.Docker, 1
	if l.VIP2 != "" { // already two regions: the default has one host less
		def.Hosts--
	}
	two := def
	two.Hosts, two.Regions = def.Hosts+1, 2
	up := func(o lab.Options) error {
		unlock, err := lab.Lock()
		if err != nil {
			return err
		}
		defer unlock()
		return lab.Up(o, io.Discard)
	}
	t.Cleanup(func() {
		start := time.Now()
		if err := up(def); err != nil {
			t.Errorf("restore the default lab: %v", err)
		}
		t.Logf("default lab back in %.1fs", time.Since(start).Seconds())
	})
	start := time.Now()
	if err := up(two); err != nil {
		t.Fatalf("two-region lab: %v", err)
	}
	t.Logf("two-region lab up in %.1fs", time.Since(start).Seconds())
	l2 := labtest.Require(t)
	if l2.VIP2 != lab.VIP2 || len(l2.Regions) != 2 || len(l2.Hosts) != def.Hosts+1 {
		t.Fatalf("LAB_REGIONS=2 gave VIP2 %q, regions %v, %d hosts", l2.VIP2, l2.Regions, len(l2.Hosts))
	}
	return l2
}

// TestTwoRegions deploys 2 + 2 nodes with a regions variable, each region
// behind its own VIP, and checks every node's config.yaml is its region's,
// each VIP answers from its own region's nodes only, status.hcl lists the
// regions, vip.hcl puts each region's keepalived VIP on one of that
// region's own nodes, and scale-in within a region and of a region's last
// node (scaleInAcrossRegions).
func TestTwoRegions(t *testing.T) {
	l := labtest.Require(t)
	if !l.Docker {
		t.Skip("needs Docker")
	}
	l2 := twoRegionLab(t, l)
	l2.DropMetaDatabases(t)
	l2.SetStartupDelay(t, "/data/oms", time.Second)

	r1, r2 := l2.Regions[0], l2.Regions[1]
	regions := fmt.Sprintf(`regions = [
  { hosts = %q, cm_url = %q, cm_location = 1, cm_region = "region-a", cm_is_default = true },
  { hosts = %q, cm_url = %q, cm_location = 2, cm_region = "region-b" },
]
`, strings.Join(r1, ":"), l2.CMURL, strings.Join(r2, ":"), l2.CMURL2)
	vars := writeFile(t, "regions.hcl", regions)
	inv := inventoryOf(t, l2, len(l2.Hosts))
	// cm_nodes=[]: the lab's vars.hcl lists every host, which regions replace.
	expectCode(t, deploy(t, l2, "deploy.hcl", inv, "-e", "cm_nodes=[]", "-e", "@"+vars), 0)

	addrs := map[string]string{}
	for _, h := range l2.Hosts {
		addrs[h.Name] = h.Address
	}
	for i, region := range [][]string{r1, r2} {
		loc, url := i+1, []string{l2.CMURL, l2.CMURL2}[i]
		var want []string
		for _, name := range region {
			want = append(want, addrs[name])
		}
		for _, name := range region {
			cfg := nodeConfig(t, addrs[name])
			got := fmt.Sprintf("%v %v %v %v %v %v", cfg["cm_url"], cfg["cm_location"], cfg["cm_region"], cfg["cm_is_default"], cmNodes(t, cfg), cfg["drc_cm_heartbeat_db"])
			w := fmt.Sprintf("%s %d %s %v %v %s_%d", url, loc, []string{"region-a", "region-b"}[i], i == 0, want, lab.HeartbeatDB, loc)
			if got != w {
				t.Errorf("%s's config.yaml: %s, want %s", name, got, w)
			}
		}
		if out := l2.MetaSQL(t, fmt.Sprintf("SHOW DATABASES LIKE '%s_%d'", lab.HeartbeatDB, loc)); out == "" {
			t.Errorf("no heartbeat database %s_%d in the MetaDB", lab.HeartbeatDB, loc)
		}
	}
	// Each VIP answers, from its own region's nodes only, each of which
	// loaded that region's cm_url.
	for i, region := range [][]string{r1, r2} {
		var nodes []string
		for _, name := range region {
			nodes = append(nodes, addrs[name])
		}
		regionAnswers(t, []string{l2.VIP, l2.VIP2}[i], []string{l2.CMURL, l2.CMURL2}[i], nodes)
	}

	st := deploy(t, l2, "status.hcl", inv, "-e", "cm_nodes=[]", "-e", "@"+vars)
	expectCode(t, st, 0)
	for _, want := range []string{
		fmt.Sprintf("region-a (cm_location 1, default): %s on %s", l2.CMURL, strings.Join(r1, " ")),
		fmt.Sprintf("region-b (cm_location 2): %s on %s", l2.CMURL2, strings.Join(r2, " ")),
	} {
		if !strings.Contains(st.stdout, want) {
			t.Errorf("status.hcl does not show %q:\n%s", want, st.stdout)
		}
	}
	// vip.hcl: each region's keepalived elects a holder among its own hosts.
	// haproxy holds the regions' cm_url addresses on the controller's bridge,
	// so keepalived gets addresses of its own: the lab's keepalived VIP for
	// region 1, the next one for region 2.
	kvips := []string{l2.KeepalivedVIP, "10.77.0.202"}
	kregions := strings.NewReplacer(l2.CMURL, "http://"+kvips[0]+":8088", l2.CMURL2, "http://"+kvips[1]+":8088").Replace(regions)
	img := l2.Images["keepalived"]
	r := deploy(t, l2, "vip.hcl", inv, "-e", "cm_nodes=[]", "-e", "@"+writeFile(t, "kregions.hcl", kregions),
		"-e", "keepalived_image="+img.Ref, "-e", "keepalived_image_file="+img.Path, "-e", "vip_password=vrrp-S3cret")
	expectCode(t, r, 0)
	for i, region := range [][]string{r1, r2} {
		deadline := time.Now().Add(30 * time.Second)
		for {
			hs := vipHolders(t, l2, kvips[i])
			if len(hs) == 1 && strings.Contains(" "+strings.Join(region, " ")+" ", " "+hs[0]+" ") && keepalivedVIPAnswers(kvips[i]) {
				t.Logf("region %d's VIP %s is on %s", i+1, kvips[i], hs[0])
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("region %d's VIP %s: holders %v after 30 s, want one of %v", i+1, kvips[i], hs, region)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}

	scaleInAcrossRegions(t, l2)
}
