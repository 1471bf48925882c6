package omsconfig

import (
	"fmt"
	"strings"
)

// Several regions (obd's `regions`, docs/oms-facts.md S5/S6): one OMS
// deployment whose nodes are split into regions, each with its own VIP
// (cm_url), region code (cm_location), name, heartbeat database and node
// list, sharing the MetaDB and the rm and cm databases. Each node's
// config.yaml is its region's. The keys a region sets are the table's rows
// marked Region; RegionAttrs adds the host pattern.

// RegionHostsAttr is the region attribute naming its hosts (an inventory pattern).
const RegionHostsAttr = "hosts"

// Region is one element of the playbooks' `regions` variable. Optional
// attributes are pointers: nil means "derive it" (cm_region_cn from
// cm_region, the heartbeat database from drc_cm_heartbeat_db and cm_location).
type Region struct {
	Hosts       string  `cty:"hosts"`
	CMURL       string  `cty:"cm_url"`
	CMLocation  int     `cty:"cm_location"`
	CMRegion    string  `cty:"cm_region"`
	CMRegionCN  *string `cty:"cm_region_cn"`
	CMIsDefault bool    `cty:"cm_is_default"`
	HeartbeatDB *string `cty:"drc_cm_heartbeat_db"`
}

// RegionAttrs are the attributes a region may have: its hosts and the
// table's Region keys but cm_nodes, which are its hosts' addresses.
var RegionAttrs = func() []string {
	out := []string{RegionHostsAttr}
	for _, k := range RegionKeys {
		if k != KeyCMNodes {
			out = append(out, k)
		}
	}
	return out
}()

// RegionHeartbeatDB is a region's heartbeat database as obd derives it: the
// one it names, else <base>_<cm_location>, base being drc_cm_heartbeat_db
// (or <db_prefix>_cm_hb). The playbooks' local.hb_dbs follow this rule.
func RegionHeartbeatDB(r Region, base string) string {
	if r.HeartbeatDB != nil && *r.HeartbeatDB != "" {
		return *r.HeartbeatDB
	}
	return fmt.Sprintf("%s_%d", base, r.CMLocation)
}

// WritesRegionNames says whether a node's config.yaml names its region
// (cm_region, cm_region_cn) when the regions list has n elements: obd
// writes them only when there are two regions or more (docs/oms-facts.md
// K7). Without regions (n == 0) the top-level variables are written as the
// user set them, as the seed's template allows.
func WritesRegionNames(n int) bool { return n != 1 }

// TopLevelCMNodesArg is render_config's argument holding the cm_nodes given
// outside regions: a problem with it is reported where the user set cm_nodes.
const TopLevelCMNodesArg = "top_level_cm_nodes"

// RegionProblem is one thing wrong with the regions list, tied to the
// element (Index, -1 for the list as a whole) and attribute it is about.
type RegionProblem struct {
	Index   int
	Attr    string
	Summary string
	Hint    string
	// Arg is the render_config argument the problem is about when it is not
	// regions itself (TopLevelCMNodesArg), so the diagnostic points there.
	Arg string
}

// Attribute is the render_config argument the problem is about.
func (p RegionProblem) Attribute() string {
	if p.Arg != "" {
		return p.Arg
	}
	return "regions"
}

// Element names the region and attribute, so the diagnostic points there.
func (p RegionProblem) Element() (int, string) { return p.Index, p.Attr }

func (p RegionProblem) Error() string {
	where := "regions"
	if p.Arg == TopLevelCMNodesArg {
		where = KeyCMNodes
	}
	if p.Index >= 0 {
		where = fmt.Sprintf("regions[%d]", p.Index)
		if p.Attr != "" {
			where += "." + p.Attr
		}
	}
	msg := where + ": " + p.Summary
	if p.Hint != "" {
		msg += " (" + p.Hint + ")"
	}
	return msg
}

// ValidateRegions checks what no single node's config.yaml can show: that
// the regions differ from each other as OMS needs, and that exactly one is
// the default. heartbeatBase is drc_cm_heartbeat_db (or its prefix form);
// topCMNodes is the top-level cm_nodes, which regions replace.
func ValidateRegions(regions []Region, heartbeatBase string, topCMNodes []string) []RegionProblem {
	if len(regions) == 0 {
		return nil
	}
	var ps []RegionProblem
	add := func(i int, attr, summary, hint string) {
		ps = append(ps, RegionProblem{Index: i, Attr: attr, Summary: summary, Hint: hint})
	}
	if len(topCMNodes) > 0 {
		// Reported at cm_nodes, the value that has no place beside regions.
		ps = append(ps, RegionProblem{Index: -1, Arg: TopLevelCMNodesArg,
			Summary: "[" + strings.Join(topCMNodes, ", ") + "] is given together with regions, which replace it",
			Hint:    "with regions, each region's cm_nodes are the addresses of the hosts its hosts pattern names: remove cm_nodes here, or override it with -e cm_nodes=[], and name each region's nodes in its hosts"})
	}
	locs, urls, names, dbs := map[int]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	defaults := []int{}
	for i, r := range regions {
		if r.CMLocation < 0 || r.CMLocation > 127 {
			add(i, KeyCMLocation, fmt.Sprintf("%d is out of range", r.CMLocation), "the region code is an integer from 0 to 127")
		}
		if j, dup := locs[r.CMLocation]; dup {
			add(i, KeyCMLocation, fmt.Sprintf("%d is also regions[%d]'s", r.CMLocation, j), "each region has its own cm_location")
		} else {
			locs[r.CMLocation] = i
		}
		if strings.TrimSpace(r.CMRegion) == "" && WritesRegionNames(len(regions)) {
			add(i, KeyCMRegion, "is empty", "name the region, e.g. cn-hangzhou")
		} else if j, dup := names[r.CMRegion]; dup {
			add(i, KeyCMRegion, fmt.Sprintf("%q is also regions[%d]'s", r.CMRegion, j), "each region has its own name")
		} else {
			names[r.CMRegion] = i
		}
		if u, err := NormalizeCMURL(r.CMURL); err == nil {
			if j, dup := urls[u]; dup {
				add(i, KeyCMURL, fmt.Sprintf("%q is also regions[%d]'s", r.CMURL, j), "each region has its own VIP in front of its own nodes")
			} else {
				urls[u] = i
			}
		}
		db := RegionHeartbeatDB(r, heartbeatBase)
		attr := KeyCMHeartbeatDB
		if r.HeartbeatDB == nil {
			attr = KeyCMLocation
		}
		if j, dup := dbs[db]; dup {
			add(i, attr, fmt.Sprintf("the heartbeat database %s is also regions[%d]'s", db, j), "each region has its own heartbeat database: name another with drc_cm_heartbeat_db")
		} else {
			dbs[db] = i
		}
		if r.CMIsDefault {
			defaults = append(defaults, i)
		}
	}
	switch {
	case len(defaults) == 0:
		add(-1, "", "no region has cm_is_default = true", "mark exactly one region as the default one")
	case len(defaults) > 1:
		for _, i := range defaults[1:] {
			add(i, KeyCMIsDefault, fmt.Sprintf("is true, as regions[%d]'s is", defaults[0]), "exactly one region is the default one")
		}
	}
	return ps
}
