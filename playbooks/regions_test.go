package playbooks_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/omsrun/omsrun/internal/playbook"
	"github.com/omsrun/omsrun/inventory"
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
// without regions the single-region values are unchanged.
func TestRegionsConfig(t *testing.T) {
	dir := t.TempDir()
	inv := filepath.Join(dir, "inv.hcl")
	vars := filepath.Join(dir, "vars.hcl")
	os.WriteFile(inv, []byte("group \"oms\" {\n  host \"oms1\" { address = \"10.0.0.11\" }\n  host \"oms2\" { address = \"10.0.0.12\" }\n  host \"oms3\" { address = \"10.0.0.13\" }\n}\n"), 0o600)
	os.WriteFile(vars, []byte(twoRegions), 0o600)
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
