package omsconfig

import (
	"strings"
	"testing"
)

// TestValidateRegions: the regions list is refused, naming the element and
// attribute, when two regions share a code, a VIP, a name or a heartbeat
// database, when not exactly one is the default, and together with cm_nodes
// (then about cm_nodes). A lone region needs no name: it is not written.
func TestValidateRegions(t *testing.T) {
	str := func(s string) *string { return &s }
	a := Region{Hosts: "a", CMURL: "http://10.0.0.100:8088", CMLocation: 1, CMRegion: "east", CMIsDefault: true}
	b := Region{Hosts: "b", CMURL: "http://10.0.0.200:8088", CMLocation: 2, CMRegion: "west"}
	for _, tc := range []struct {
		name    string
		regions []Region
		nodes   []string
		want    []string
	}{
		{"good", []Region{a, b}, nil, nil},
		{"none", nil, []string{"10.0.0.1"}, nil},
		{"same code", []Region{a, func() Region { r := b; r.CMLocation = 1; return r }()}, nil,
			[]string{"regions[1].cm_location: 1 is also regions[0]'s", "regions[1].cm_location: the heartbeat database hb_1 is also regions[0]'s"}},
		{"same heartbeat database", []Region{a, func() Region { r := b; r.HeartbeatDB = str("hb_1"); return r }()}, nil,
			[]string{"regions[1].drc_cm_heartbeat_db: the heartbeat database hb_1 is also regions[0]'s"}},
		{"no default", []Region{b, func() Region { r := a; r.CMIsDefault = false; return r }()}, nil,
			[]string{"regions: no region has cm_is_default = true"}},
		{"two defaults", []Region{a, func() Region { r := b; r.CMIsDefault = true; return r }()}, nil,
			[]string{"regions[1].cm_is_default: is true, as regions[0]'s is"}},
		{"same VIP and name, bad code", []Region{a, func() Region { r := b; r.CMURL, r.CMRegion, r.CMLocation = "10.0.0.100", "east", 128; return r }()}, nil,
			[]string{"regions[1].cm_location: 128 is out of range", "regions[1].cm_region: \"east\" is also regions[0]'s", "regions[1].cm_url: \"10.0.0.100\" is also regions[0]'s"}},
		{"with cm_nodes", []Region{a, b}, []string{"10.0.0.1"}, []string{"cm_nodes: [10.0.0.1] is given together with regions, which replace it (with regions, each region's cm_nodes are the addresses of the hosts its hosts pattern names: remove cm_nodes here"}},
		{"one region without a name", []Region{func() Region { r := a; r.CMRegion = ""; return r }()}, nil, nil},
		{"two regions, one without a name", []Region{a, func() Region { r := b; r.CMRegion = ""; return r }()}, nil,
			[]string{"regions[1].cm_region: is empty"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, p := range ValidateRegions(tc.regions, "hb", tc.nodes) {
				got = append(got, p.Error())
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tc.want[i]) {
					t.Errorf("problem %d: %q, want %q…", i, got[i], tc.want[i])
				}
			}
		})
	}
	if p := ValidateRegions([]Region{a, b}, "hb", []string{"10.0.0.1"})[0]; p.Attribute() != TopLevelCMNodesArg {
		t.Errorf("regions with cm_nodes is about %q, want %q: it is reported where cm_nodes was set", p.Attribute(), TopLevelCMNodesArg)
	}
	if got := RegionHeartbeatDB(b, "oms_cm_hb"); got != "oms_cm_hb_2" {
		t.Errorf("derived heartbeat database %q", got)
	}
}
