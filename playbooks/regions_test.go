package playbooks_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/omsrun/omsrun/internal/omsconfig"
	"github.com/omsrun/omsrun/internal/playbook"
	"github.com/omsrun/omsrun/inventory"
	"github.com/omsrun/omsrun/modules"
	"github.com/omsrun/omsrun/modules/builtin"
	"github.com/omsrun/omsrun/modules/oms"
)

const twoRegions = `regions = [
  {
    hosts         = "oms1:oms2"
    cm_url        = "http://10.0.0.100:8088"
    cm_location   = 1
    cm_region     = "east"
    cm_is_default = true
  },
  {
    hosts               = "oms3"
    cm_url              = "http://10.0.0.200:8088"
    cm_location         = 2
    cm_region           = "west"
    cm_region_cn        = "West"
    drc_cm_heartbeat_db = "hb_west"
  },
]
`

// TestRegionsConfig: with regions, each node's config.yaml (deploy.hcl's
// render_config arguments) is its region's — VIP, code, name, default,
// nodes, heartbeat database — and every heartbeat database is checked;
// with one element of regions config.yaml names no region, as obd's; without
// regions the single-region values are unchanged.
func TestRegionsConfig(t *testing.T) {
	dir := t.TempDir()
	inv := filepath.Join(dir, "inv.hcl")
	vars := filepath.Join(dir, "vars.hcl")
	os.WriteFile(inv, []byte("group \"oms\" {\n  host \"oms1\" { address = \"10.0.0.11\" }\n  host \"oms2\" { address = \"10.0.0.12\" }\n  host \"oms3\" { address = \"10.0.0.13\" }\n}\n"), 0o600)
	os.WriteFile(vars, []byte(twoRegions), 0o600)
	oneRegion := filepath.Join(dir, "one.hcl")
	os.WriteFile(oneRegion, []byte(`regions = [{ hosts = "oms", cm_url = "10.0.0.100", cm_location = 1, cm_region = "east", cm_region_cn = "East", cm_is_default = true }]`+"\n"), 0o600)
	i, diags := inventory.Load([]string{inv})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	base := []string{"oms_meta_host=10.0.0.5", "oms_meta_user=u", "oms_meta_password=p", "image=oms:x", "image_file=x.tar.gz"}
	for _, tc := range []struct {
		name  string
		extra []string
		want  map[string]string
		dbs   string
	}{
		{"two regions", append(base, "@"+vars), map[string]string{
			"oms1": "http://10.0.0.100:8088 1 east east true [10.0.0.11 10.0.0.12] oms_cm_hb_1",
			"oms2": "http://10.0.0.100:8088 1 east east true [10.0.0.11 10.0.0.12] oms_cm_hb_1",
			"oms3": "http://10.0.0.200:8088 2 west West false [10.0.0.13] hb_west",
		}, "oms_cm_hb_1 hb_west"},
		// One element: obd writes no cm_region or cm_region_cn (K7), though
		// the region has a name; the heartbeat database keeps its suffix.
		{"one element of regions", append(base, "@"+oneRegion), map[string]string{
			"oms1": "10.0.0.100 1   true [10.0.0.11 10.0.0.12 10.0.0.13] oms_cm_hb_1",
			"oms3": "10.0.0.100 1   true [10.0.0.11 10.0.0.12 10.0.0.13] oms_cm_hb_1",
		}, "oms_cm_hb_1"},
		{"one region", append(base, "cm_url=http://10.0.0.9:8088"), map[string]string{
			"oms1": "http://10.0.0.9:8088 100   true [10.0.0.11 10.0.0.12 10.0.0.13] oms_cm_hb",
			"oms3": "http://10.0.0.9:8088 100   true [10.0.0.11 10.0.0.12 10.0.0.13] oms_cm_hb",
		}, "oms_cm_hb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, diags := playbook.Load("deploy.hcl", playbook.Options{Inventory: i, ExtraVars: tc.extra})
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			steps := map[string]*playbook.Step{}
			for _, st := range p.Steps {
				steps[st.Name] = st
			}
			for name, want := range tc.want {
				a := &oms.RenderConfigArgs{}
				if diags := playbook.DecodeStep(p, steps["config.yaml"], playbook.Scope{Host: i.Host(name), Inv: i}, a, nil); diags.HasErrors() {
					t.Fatal(diags.Error())
				}
				c := a.Config()
				got := strings.Join([]string{c.CMURL, itoa(c.CMLocation), c.CMRegion, c.CMRegionCN, btoa(c.CMIsDefault), "[" + strings.Join(c.CMNodes, " ") + "]", c.CMHeartbeatDB}, " ")
				if got != want {
					t.Errorf("%s: %q, want %q", name, got, want)
				}
				if err := (&oms.RenderConfig{}).Validate(a); err != nil {
					t.Errorf("%s: %v", name, err)
				}
				// config.yaml as written names the region exactly when the
				// model has a name (two regions), never as a bare key else.
				text := string(omsconfig.Render(c.Normalized()))
				for _, k := range []string{omsconfig.KeyCMRegion, omsconfig.KeyCMRegionCN} {
					named := c.CMRegion != ""
					if has := strings.Contains(text, "\n"+k+": "); has != named {
						t.Errorf("%s: config.yaml has %s: %v, want %v:\n%s", name, k, has, named, text)
					}
				}
			}
			var dbs []string
			for _, v := range p.Locals["hb_dbs"].AsValueSlice() {
				dbs = append(dbs, v.AsString())
			}
			if got := strings.Join(dbs, " "); got != tc.dbs {
				t.Errorf("heartbeat databases %q, want %q", got, tc.dbs)
			}
		})
	}
}

func itoa(n int) string  { return strconv.Itoa(n) }
func btoa(b bool) string { return strconv.FormatBool(b) }

// TestRegionsWithCMNodesPointsAtCMNodes: regions together with a top-level
// cm_nodes is refused before any connection, at the line where the user set
// cm_nodes (the value regions replace), saying to remove it.
func TestRegionsWithCMNodesPointsAtCMNodes(t *testing.T) {
	dir := t.TempDir()
	inv, regions, vars := filepath.Join(dir, "inv.hcl"), filepath.Join(dir, "regions.hcl"), filepath.Join(dir, "vars.hcl")
	os.WriteFile(inv, []byte("group \"oms\" {\n  host \"oms1\" { address = \"10.0.0.11\" }\n  host \"oms2\" { address = \"10.0.0.12\" }\n  host \"oms3\" { address = \"10.0.0.13\" }\n}\n"), 0o600)
	os.WriteFile(regions, []byte(twoRegions), 0o600)
	// cm_nodes on line 3, as a var file kept from a single-region deployment has it.
	os.WriteFile(vars, []byte("oms_meta_host = \"10.0.0.5\"\noms_meta_user = \"u\"\ncm_nodes = [\"10.0.0.11\", \"10.0.0.12\", \"10.0.0.13\"]\n"), 0o600)
	i, diags := inventory.Load([]string{inv})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	p, diags := playbook.Load("deploy.hcl", playbook.Options{Inventory: i,
		ExtraVars: []string{"@" + vars, "@" + regions, "oms_meta_password=p", "image=oms:x", "image_file=x.tar.gz"}})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	newArgs := func(name string) (any, bool) {
		m, ok := builtin.Lookup(name)
		if !ok {
			return nil, false
		}
		return m.NewArgs(), true
	}
	validate := func(name string, args any) error {
		m, _ := builtin.Lookup(name)
		if v, ok := m.(modules.Validator); ok {
			return v.Validate(args)
		}
		return nil
	}
	var found int
	for _, d := range playbook.Validate(p, i, newArgs, validate) {
		if !strings.Contains(d.Detail, "cm_nodes") && !strings.Contains(d.Detail, "regions") {
			continue // image_file names no file here: not this test's concern
		}
		if !strings.Contains(d.Detail, "given together with regions") {
			t.Errorf("unexpected diagnostic: %s: %s", d.Summary, d.Detail)
			continue
		}
		found++
		if d.Subject == nil || d.Subject.Filename != vars || d.Subject.Start.Line != 3 {
			t.Errorf("the conflict is reported at %v, want %s:3 where cm_nodes is set: %s", d.Subject, vars, d.Detail)
		}
		if !strings.Contains(d.Detail, "remove cm_nodes here") {
			t.Errorf("the diagnostic does not say what to do: %s", d.Detail)
		}
	}
	if found == 0 {
		t.Error("regions together with cm_nodes was not refused")
	}
}

// TestScaleInChecksEveryRegionsVIP: after a scale-in with regions, the
// console port is checked through every region's VIP, from the first host
// of each region; without regions once, through cm_url.
func TestScaleInChecksEveryRegionsVIP(t *testing.T) {
	dir := t.TempDir()
	inv, vars := filepath.Join(dir, "inv.hcl"), filepath.Join(dir, "vars.hcl")
	os.WriteFile(inv, []byte("group \"oms\" {\n  host \"oms1\" { address = \"10.0.0.11\" }\n  host \"oms2\" { address = \"10.0.0.12\" }\n  host \"oms3\" { address = \"10.0.0.13\" }\n}\n"), 0o600)
	os.WriteFile(vars, []byte(twoRegions), 0o600)
	base := []string{"oms_meta_host=10.0.0.5", "oms_meta_user=u", "oms_meta_password=p", "image=oms:x", "image_file=x.tar.gz", "remove_node=10.0.0.14"}
	for _, tc := range []struct {
		name    string
		extra   []string
		runOnce bool
		want    map[string]string // host → URL checked from it ("" when skipped)
	}{
		{"two regions", []string{"@" + vars}, false, map[string]string{
			"oms1": "http://10.0.0.100:8089/oms/health", "oms2": "", "oms3": "http://10.0.0.200:8089/oms/health"}},
		{"one region", []string{"cm_url=http://10.0.0.9:8088"}, true, map[string]string{
			"oms1": "http://10.0.0.9:8089/oms/health"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Its own inventory: scale-in.hcl adds the removed node to it.
			i, diags := inventory.Load([]string{inv})
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			p, diags := playbook.Load("scale-in.hcl", playbook.Options{Inventory: i, ExtraVars: append(base, tc.extra...)})
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			var st *playbook.Step
			for _, s := range p.Steps {
				if s.Name == "VIP answers on 8089" {
					st = s
				}
			}
			if st.RunOnce != tc.runOnce {
				t.Errorf("run_once = %v, want %v", st.RunOnce, tc.runOnce)
			}
			for name, want := range tc.want {
				s := playbook.Scope{Host: i.Host(name), Inv: i}
				run, diags := playbook.EvalWhen(p, st, s, nil)
				if diags.HasErrors() {
					t.Fatal(diags.Error())
				}
				got := ""
				if run {
					a := &modules.WaitForArgs{}
					if diags := playbook.DecodeStep(p, st, s, a, nil); diags.HasErrors() {
						t.Fatal(diags.Error())
					}
					got = a.URL
				}
				if got != want {
					t.Errorf("%s checks %q, want %q", name, got, want)
				}
			}
		})
	}
}

// TestRegionWithNoHostLeft: a region still in regions after its last host
// left the inventory is refused when the playbook loads, before any
// connection, at its hosts line, naming the region and the ways out as
// they are: scale-in.hcl refuses a region's last node, so it is offered
// for moving the region, not for dropping it.
func TestRegionWithNoHostLeft(t *testing.T) {
	dir := t.TempDir()
	inv := filepath.Join(dir, "inv.hcl")
	vars := filepath.Join(dir, "vars.hcl")
	os.WriteFile(inv, []byte("group \"oms\" {\n  host \"oms1\" { address = \"10.0.0.11\" }\n  host \"oms2\" { address = \"10.0.0.12\" }\n}\n"), 0o600)
	os.WriteFile(vars, []byte(twoRegions), 0o600)
	i, diags := inventory.Load([]string{inv})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	extra := []string{"oms_meta_host=10.0.0.5", "oms_meta_user=u", "oms_meta_password=p", "image=oms:x", "image_file=x.tar.gz", "@" + vars}
	for _, pb := range []string{"deploy.hcl", "reconfigure.hcl", "scale-in.hcl", "status.hcl"} {
		t.Run(pb, func(t *testing.T) {
			p, diags := playbook.Load(pb, playbook.Options{Inventory: i, ExtraVars: extra})
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			// What validate and every run check before connecting.
			diags = p.HostValueDiags(i)
			got := strings.Join(strings.Fields(diags.Error()), " ")
			for _, want := range []string{
				"vars.hcl:10,27-33: Element with no hosts",
				`regions[1].hosts = "oms3" matches no host or group of the inventory. Region west`,
				"Region west (cm_location 2) has no host left in the inventory.",
				"put them back",
				"then take the old ones out and scale each in (scale-in.hcl -e remove_node=ADDRESS)",
				"remove the region from regions",
				"scale-in.hcl refuses a region's last node",
			} {
				if !strings.Contains(got, want) {
					t.Errorf("no %q in:\n%s", want, diags.Error())
				}
			}
		})
	}
}
